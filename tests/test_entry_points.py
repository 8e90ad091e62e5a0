"""One warehouse file driven by every entry point, in every order (issue: one loading path).

The entry points: `make build`, `dbt build --vars '{raw_data_path: …}'`, the Dagster job run
with `dagster job execute`, and a run launched through a running Dagster webserver (with its
daemon). They read two generated shops of similar size (so that the quality suites' volume
rules hold) from different directories, so a run often follows a run of another source. Two
sequences (trails, each on a warehouse of its own, run side by side) together cover every
ordered pair A → B of distinct entry points once, and each starts on an empty warehouse. After
each run: it succeeded; the build file's marts equal those of a clean `dbt build` of that run's
input; the served marts changed exactly when the run publishes (make build and the Dagster
job), and then equal the build's.

The webservers are real (with their daemons): trail A's also shows the asset graph, the
schedule and the sensors over GraphQL, and trail B's first launch is two runs at once, which
queue on the one-writer pool (one starts only after the other ended) and both succeed.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, REPO, mart_tables, once, reference_build, run_clv
from dagster_servers import DagsterServer, launch, repository, running_dagster, wait_for

from orchestration.lib.serving import PUBLIC_SCHEMA

pytestmark = pytest.mark.e2e

SHOPS = {"S1": 11, "S2": 12}
"""Two generated shops (name -> generator seed), 250 customers each."""

INPUT = {"make": "S1", "dbt": "S2", "cli": "S1", "web": "S2"}
"""The shop each entry point reads; the webserver's landing directory is fixed at its start."""

TRAILS = {
    "trail-a": ["make", "dbt", "cli", "web", "make", "cli", "dbt"],
    "trail-b": ["dbt", "web", "cli", "make", "web", "dbt", "make"],
}
"""Two sequences, each on a warehouse of its own (they run side by side on two workers):
together they hold every ordered pair of distinct entry points once."""

LAUNCHED_AT_ONCE = {("trail-b", 1): 2}
"""(trail, step index) -> runs launched at once through the webserver (else one)."""


def test_the_trails_hold_every_ordered_pair_once() -> None:
    pairs = [pair for trail in TRAILS.values() for pair in itertools.pairwise(trail)]
    every = set(itertools.permutations(INPUT, 2))
    assert sorted(pairs) == sorted(every), set(every) - set(pairs)
    for (trail, index), runs in LAUNCHED_AT_ONCE.items():
        assert TRAILS[trail][index] == "web" and runs > 1


def assert_graph_schedule_and_sensors(server: DagsterServer) -> None:
    """The webserver shows the asset graph, the daily schedule and the two sensors."""
    nodes = server.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"]
    keys = {"/".join(node["assetKey"]["path"]) for node in nodes}
    assert {"raw/customers", "marts/dim_customers", "marts/rpt_kpis_monthly"} <= keys
    assert len(keys) >= 40
    repo = repository(server)
    (schedule,) = repo["schedules"]
    assert (schedule["name"], schedule["cronSchedule"], schedule["executionTimezone"]) == (
        "daily_refresh_schedule",
        "0 6 * * *",
        "Europe/Berlin",
    )
    assert {sensor["name"] for sensor in repo["sensors"]} == {
        "landing_directory_sensor",
        "run_failure_summary",
    }


def served_build_id(serving: Path) -> str | None:
    """The build id of the served publication (None before the first)."""
    if not serving.exists():
        return None
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(f"select max(build_id) from {PUBLIC_SCHEMA}.publication").fetchone()[0]


def generated_shop(factory: pytest.TempPathFactory, name: str) -> Path:
    """A shop of SHOPS and, beside it, a clean `dbt build` of it and a copy after the CLV step
    (the references): made once for both trails."""

    def make(out: Path) -> None:
        subprocess.run(
            [
                str(BIN / "customer-analytics"),
                "generate",
                "--customers",
                "250",
                "--seed",
                str(SHOPS[name]),
                "--start",
                "2024-01-01",
                "--end",
                "2025-06-30",
                "--out",
                str(out / "raw"),
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        reference_build(out / "clean.duckdb", {"raw_data_path": str(out / "raw")})
        # and as make build and the Dagster job leave it: with the CLV step after dbt
        shutil.copy(out / "clean.duckdb", out / "fitted.duckdb")
        fitted = run_clv(out / "fitted.duckdb")
        assert fitted.returncode == 0, fitted.stderr[-3000:]

    return once(factory, f"entry-points-{name}", make)


# One class per trail: pytest-xdist (--dist=loadscope) runs each class on a worker of its own.
@pytest.mark.slow
class TestTrailA:
    def test_every_entry_point_after_every_other_on_one_warehouse(
        self, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        run_trail("trail-a", tmp_path, tmp_path_factory)


@pytest.mark.slow
class TestTrailB:
    def test_every_entry_point_after_every_other_on_one_warehouse(
        self, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
    ) -> None:
        run_trail("trail-b", tmp_path, tmp_path_factory)


def run_trail(trail: str, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Run TRAILS[trail] on a new warehouse, checking after each run (see the module doc)."""
    shops, expected = {}, {}
    # the trails start together: each makes one shop while the other makes the other
    for name in sorted(SHOPS, reverse=trail == "trail-b"):
        made = generated_shop(tmp_path_factory, name)
        shops[name] = made / "raw"
        # dbt alone leaves the CLV marts empty; make build and the Dagster runs fit them
        expected[name] = {
            "dbt": mart_tables(made / "clean.duckdb"),
            "fitted": mart_tables(made / "fitted.duckdb"),
        }
        assert expected[name]["dbt"]["dim_customers"], name
        assert expected[name]["fitted"]["customer_clv_predictions"], name

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
        if trail == "trail-a":
            assert_graph_schedule_and_sensors(server)

        def web() -> str:
            launched = [launch(server) for _ in range(LAUNCHED_AT_ONCE.get((trail, len(done)), 1))]
            runs = [wait_for(server, run_id) for run_id in launched]
            assert [run["status"] for run in runs] == ["SUCCESS"] * len(runs), runs
            # one writer at a time: a run starts only after the one before it has ended
            spans = sorted((run["startTime"], run["endTime"]) for run in runs)
            for (_, ended), (started, _) in itertools.pairwise(spans):
                assert started >= ended, f"runs overlapped: {spans}"
            return runs[-1]["status"]

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
        for step in TRAILS[trail]:
            before = served_build_id(serving)
            started = time.monotonic()
            entry_points[step]()
            print(f"{trail} step {len(done) + 1} {step}: {time.monotonic() - started:.1f} s")
            done.append(step)
            built = mart_tables(database)
            reference = expected[INPUT[step]]["dbt" if step == "dbt" else "fitted"]
            mismatched = [name for name, rows in reference.items() if built.get(name) != rows]
            assert not mismatched, f"after {' → '.join(done)}: marts differ: {mismatched}"
            assert set(built) == set(reference)
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
        assert done == TRAILS[trail]
