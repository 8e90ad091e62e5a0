"""The MetricFlow semantic layer validates and answers the same numbers as the marts."""

from __future__ import annotations

import csv
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import BIN, REPO, DbtResult


def run_mf(args: list[str], build: DbtResult) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "CUSTOMER_ANALYTICS_DB": str(build.database),
        "DBT_PROFILES_DIR": str(REPO),
        "DBT_TARGET_PATH": str(build.database.parent / "target"),
        "DBT_LOG_PATH": str(build.database.parent / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    return subprocess.run(
        [str(BIN / "mf"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_mf_validate_configs_passes(seed_build: DbtResult) -> None:
    result = run_mf(["validate-configs"], seed_build)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "ERRORS: 0" in result.stdout
    assert "Breaking issues" not in result.stdout


def test_mf_query_equals_the_monthly_kpi_mart(seed_build: DbtResult, tmp_path: Path) -> None:
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
