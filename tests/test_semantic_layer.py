"""The MetricFlow semantic layer validates and answers the same numbers as the marts."""

from __future__ import annotations

import csv
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import BIN, REPO, DbtResult


@pytest.fixture(scope="module")
def mf_project(seed_build: DbtResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder for `mf`, parsed against the seed build.

    mf always reads <cwd>/target/semantic_manifest.json, so it gets a folder of its own whose
    project files are links to the repository's and whose target/ is its own.
    """
    project = tmp_path_factory.mktemp("mf_project")
    for name in ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "data-tests"):
        (project / name).symlink_to(REPO / name)
    parsed = subprocess.run(
        [str(BIN / "dbt"), "parse"],
        cwd=project,
        env=mf_env(seed_build, project),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert parsed.returncode == 0, parsed.stdout[-3000:]
    return project


def mf_env(build: DbtResult, project: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DBT_TARGET_PATH", "DBT_PROJECT_DIR", "DBT_LOG_PATH")
    }
    env.update(
        CUSTOMER_ANALYTICS_DB=str(build.database),
        DBT_PROFILES_DIR=str(project),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
    )
    return env


def run_mf(args: list[str], build: DbtResult, project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "mf"), *args],
        cwd=project,
        env=mf_env(build, project),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_mf_validate_configs_passes(seed_build: DbtResult, mf_project: Path) -> None:
    result = run_mf(["validate-configs"], seed_build, mf_project)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "ERRORS: 0" in result.stdout
    assert "Breaking issues" not in result.stdout


def test_mf_query_equals_the_monthly_kpi_mart(
    seed_build: DbtResult, mf_project: Path, tmp_path: Path
) -> None:
    out = tmp_path / "kpis.csv"
    result = run_mf(
        [
            "query",
            "--metrics",
            "revenue,orders,average_order_value,repeat_customer_rate,nps,churn_rate",
            "--group-by",
            "metric_time__month",
            "--order",
            "metric_time__month",
            "--csv",
            str(out),
        ],
        seed_build,
        mf_project,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with out.open() as handle:
        rows = {row["metric_time__month"][:10]: row for row in csv.DictReader(handle)}
    mart = seed_build.query(
        "select cast(month as varchar), net_revenue, orders, average_order_value,"
        " repeat_customer_rate, nps, churn_rate from marts.rpt_kpis_monthly where orders > 0"
    )
    assert len(mart) >= 30
    for month, revenue, orders, aov, repeat_rate, nps, churn_rate in mart:
        row = rows[month]
        assert Decimal(row["revenue"]).quantize(Decimal("0.01")) == revenue, month
        assert int(row["orders"]) == orders, month
        assert float(row["average_order_value"]) == pytest.approx(aov, rel=1e-9)
        assert float(row["repeat_customer_rate"]) == pytest.approx(repeat_rate, rel=1e-9)
        if nps is not None:
            assert float(row["nps"]) == pytest.approx(nps, rel=1e-9, abs=1e-9)
        if churn_rate is not None:
            assert float(row["churn_rate"]) == pytest.approx(churn_rate, rel=1e-9, abs=1e-12)
