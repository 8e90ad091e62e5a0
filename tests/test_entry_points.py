"""One warehouse file driven by every entry point, in every order (issue: one loading path).

The entry points: `make build`, `dbt build --vars '{raw_data_path: …}'`, the Dagster job run
with `dagster job execute`, and a run launched through a running Dagster webserver (with its
daemon). They read two generated shops of similar size (so that the quality suites' volume
rules hold) from different directories, so a run often follows a run of another source. One
sequence covers every ordered pair A → B of distinct entry points once (an Eulerian circuit of
the complete graph on four nodes). After each run: it succeeded; the build file's marts equal
those of a clean `dbt build` of that run's input; the served marts changed exactly when the
run publishes (make build and the Dagster job), and then equal the build's.
"""

from __future__ import annotations

import itertools
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import duckdb
from conftest import BIN, REPO, mart_tables, run_dbt
from dagster_servers import launch, running_dagster, wait_for

from orchestration.lib.serving import PUBLIC_SCHEMA

SHOPS = {"S1": 11, "S2": 12}
"""Two generated shops (name -> generator seed), 250 customers each."""

INPUT = {"make": "S1", "dbt": "S2", "cli": "S1", "web": "S2"}
"""The shop each entry point reads; the webserver's landing directory is fixed at its start."""

CIRCUIT = ["make", "dbt", "cli", "web", "make", "cli", "dbt", "web", "cli", "make", "web", "dbt"]
"""Runs in order, then back to the first: every ordered pair of distinct entry points once."""


def served_build_id(serving: Path) -> str | None:
    """The build id of the served publication (None before the first)."""
    if not serving.exists():
        return None
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(f"select max(build_id) from {PUBLIC_SCHEMA}.publication").fetchone()[0]


def test_every_entry_point_after_every_other_on_one_warehouse(tmp_path: Path) -> None:
    shops = {}
    for name, seed in SHOPS.items():
        out = tmp_path / "shops" / name
        subprocess.run(
            [
                str(BIN / "customer-analytics"),
                "generate",
                "--customers",
                "250",
                "--seed",
                str(seed),
                "--start",
                "2024-01-01",
                "--end",
                "2025-06-30",
                "--out",
                str(out),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        shops[name] = out

    # the reference: a clean dbt build of each input on its own file
    expected = {}
    for name, raw in shops.items():
        clean = run_dbt(["build"], tmp_path / f"clean-{name}.duckdb", {"raw_data_path": str(raw)})
        assert clean.returncode == 0, clean.output[-3000:]
        expected[name] = mart_tables(clean.database)
        assert expected[name]["dim_customers"], name

    work = tmp_path / "site"
    work.mkdir()
    database = work / "warehouse.duckdb"
    serving = work / "serving" / "served.duckdb"
    env = {
        **os.environ,
        "CUSTOMER_ANALYTICS_DB": str(database),
        "CUSTOMER_ANALYTICS_SERVING_DB": str(serving),
        "CUSTOMER_ANALYTICS_EXPORTS_DIR": str(work / "exports"),
        "CUSTOMER_ANALYTICS_QUALITY_DIR": str(work / "quality"),
        "DAGSTER_HOME": str(work / "home"),
        "CUSTOMER_ANALYTICS_AUTOMATION": "off",
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }

    def command(args: list[str], landing: Path | None = None) -> Callable[[], str]:
        def run() -> str:
            extra = {"CUSTOMER_ANALYTICS_LANDING_DIR": str(landing)} if landing else {}
            done = subprocess.run(
                args,
                cwd=REPO,
                env={**env, **extra},
                capture_output=True,
                text=True,
                timeout=1200,
                check=False,
            )
            output = done.stdout + done.stderr
            assert done.returncode == 0, (args, output[-5000:])
            return output

        return run

    with running_dagster(work, {"CUSTOMER_ANALYTICS_LANDING_DIR": str(shops[INPUT["web"]])}) as (
        server
    ):
        assert server.database == database

        def web() -> str:
            run = wait_for(server, launch(server))
            assert run["status"] == "SUCCESS", run
            return run["status"]

        entry_points: dict[str, Callable[[], str]] = {
            "make": command(["make", "--no-print-directory", "build"], shops[INPUT["make"]]),
            "dbt": command(
                [
                    str(BIN / "dbt"),
                    "build",
                    "--vars",
                    f'{{raw_data_path: "{shops[INPUT["dbt"]]}"}}',
                ],
            ),
            "cli": command(
                [
                    str(BIN / "dagster"),
                    "job",
                    "execute",
                    "-m",
                    "orchestration.definitions",
                    "-j",
                    "daily_refresh",
                ],
                shops[INPUT["cli"]],
            ),
            "web": web,
        }
        publishes = {"make", "cli", "web"}
        done = []
        for step in [*CIRCUIT, CIRCUIT[0]]:
            before = served_build_id(serving)
            entry_points[step]()
            done.append(step)
            built = mart_tables(database)
            mismatched = [
                name for name, rows in expected[INPUT[step]].items() if built.get(name) != rows
            ]
            assert not mismatched, f"after {' → '.join(done)}: marts differ: {mismatched}"
            assert set(built) == set(expected[INPUT[step]])
            after = served_build_id(serving)
            if step in publishes:
                assert after != before, f"{step} did not publish"
                served = {
                    name: rows for name, rows in mart_tables(serving).items() if name in built
                }
                assert served == {name: built[name] for name in served}, step
                assert "dim_customers" in served
            else:
                assert after == before, f"{step} must not change the served marts"
        pairs = set(itertools.pairwise(done))
        assert len(pairs) == 12, pairs  # every ordered pair of distinct entry points
