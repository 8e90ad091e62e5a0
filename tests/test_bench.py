"""The benchmark's smoke run: the bench on a tiny generated shop runs end to end, writes its
JSON and Markdown, its pandas and Polars peers and engine floor reproduce dbt's marts, its I/O
floor reads every raw row, and its incremental run lands the appended day. The smoke run
takes the steps a change to the models or the peers can break; the test at the end (slow
tier, docs/testing.md) runs the bench's default steps, the Dagster, GX, CLV and daily ones
included, and checks that the daily and incremental runs give the marts of a full build. No
timing is asserted (speed is measured by `make bench`, not tested)."""

from __future__ import annotations

import csv
import json
import pickle
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, REPO

from tooling.bench.compare import compare_with_marts, marts_that_differ
from tooling.bench.steps import DEFAULT

pytestmark = pytest.mark.e2e

WORK = REPO / "warehouse" / "bench" / "c250"


SMOKE_STEPS = ("generate", "dbt", "floor", "pandas", "polars", "io_floor", "incremental")
"""The steps of the smoke run in `make test`: the default steps but dagster, gx and clv (their
own modules test them), daily and full (the last test, and test_partitioned_landing.py's
shop landed day by day)."""


def run_bench(out: Path, steps: tuple[str, ...] | None = None) -> dict:
    """`customer-analytics bench --customers 250` (with `--steps` when given), as a user runs
    it; its JSON."""
    command = [str(BIN / "customer-analytics"), "bench", "--customers", "250", "--out", str(out)]
    done = subprocess.run(
        command + (["--steps", ",".join(steps)] if steps else []),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    return json.loads((out / "250_customers.json").read_text())


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    """The smoke run's JSON and out folder."""
    out = tmp_path_factory.mktemp("bench")
    return run_bench(out, SMOKE_STEPS), out


def test_the_bench_runs_end_to_end_on_a_tiny_shop(bench: tuple[dict, Path]) -> None:
    result, out = bench
    steps = {step["name"]: step for step in result["steps"]}
    assert list(steps) == list(SMOKE_STEPS)
    assert all(
        step["ok"] and step["seconds"] > 0 and step["peak_rss_mb"] > 0 for step in steps.values()
    )
    assert steps["floor"]["note"] == "every mart equal to dbt's"
    assert result["pandas_equals_marts"] is True and result["pandas_mismatches"] == []
    assert result["polars_equals_marts"] is True and result["polars_mismatches"] == []
    assert steps["polars"]["note"] == "results equal the marts"
    assert result["machine"]["cores"] >= 1 and result["raw_rows"]["orders"] > 250
    ratios = result["ratios"]
    assert ratios["dbt build / engine floor (models + tests)"] == (
        steps["dbt"]["seconds"] / steps["floor"]["seconds"]
    )
    # the incremental run landed the held-back last day, appended to the whole-table files:
    # every row of the complete files is in the raw tables now, a few of them new
    assert steps["incremental"]["note"].startswith("after appending 2025-12-31 (")
    assert "; models " in steps["incremental"]["note"]
    assert 0 < steps["incremental"]["rows"] < result["raw_rows"]["sessions"] / 100
    complete = {path.stem: _csv_shape(path)[0] for path in (WORK / "raw-complete").glob("*.csv")}
    with duckdb.connect(str(WORK / "build.duckdb"), read_only=True) as con:
        landed = {
            table: con.execute(f"select count(*) from raw.{table}").fetchone()[0]
            for table in complete
        }
    assert landed == complete
    assert sum(complete.values()) == sum(result["raw_rows"].values()) + steps["incremental"]["rows"]
    # and it wrote the run_results its note summarises (the last dbt run of the smoke run)
    _test_seconds_noted(steps["incremental"])
    assert ratios["polars / dbt build"] == steps["polars"]["seconds"] / steps["dbt"]["seconds"]
    assert ratios["dbt build / I/O floor"] == (
        steps["dbt"]["seconds"] / steps["io_floor"]["seconds"]
    )
    # the incremental run starts as a next day does: partial parsing, on the manifest
    # prepared beforehand; the dbt step parses the whole project
    assert _build_parses(WORK / "logs") == ["full parse", "partial parse"]
    markdown = (out / "250_customers.md").read_text()
    assert "| dbt |" in markdown and "pandas results equal the marts: yes." in markdown
    assert "polars results equal the marts: yes." in markdown


def _test_seconds_noted(step: dict) -> None:
    """The step's note gives the data tests' time of the run_results.json the last dbt run
    wrote."""
    run_results = json.loads((WORK / "target" / "run_results.json").read_text())
    test_seconds = sum(
        node["execution_time"]
        for node in run_results["results"]
        if node["unique_id"].startswith("test.")
    )
    assert f"data tests {test_seconds:.1f} s" in step["note"]


def _build_parses(logs: Path) -> list[str]:
    """How each `dbt build` logged in dbt's debug log in folder `logs` (every dbt run of the
    bench writes to it, in order; dbt.log.1 … hold the older lines) parsed the project: "full
    parse" or "partial parse". The other commands (`dbt parse`, `dbt compile` of the floor)
    are left out."""
    rotated = sorted(logs.glob("dbt.log.*"), key=lambda path: -int(path.suffix[1:]))
    text = "".join(path.read_text() for path in [*rotated, logs / "dbt.log"])
    parses: list[str] = []
    for invocation in text.split("running dbt with arguments")[1:]:
        arguments = invocation.split("\n", 1)[0]
        if "'invocation_command': 'dbt build" not in arguments:
            continue
        partial = "Partial parsing enabled" in invocation
        parses.append("partial parse" if partial else "full parse")
    return parses


def _csv_shape(path: Path) -> tuple[int, int]:
    """Data records and columns of a CSV file, read by Python's csv module (a quoted comment
    may hold a line break, so lines are not records)."""
    with path.open(newline="", encoding="utf-8") as file:
        header, *records = csv.reader(file)
    return len(records), len(header)


def test_the_io_floor_reads_every_raw_row(bench: tuple[dict, Path]) -> None:
    """The I/O floor read the raw files that every step before the incremental one read: the
    generated files (raw-complete) less the last day, held back until the incremental step."""
    result, _ = bench
    steps = {step["name"]: step for step in result["steps"]}
    shapes = [_csv_shape(path) for path in sorted((WORK / "raw-complete").glob("*.csv"))]
    generated, columns = sum(rows for rows, _ in shapes), sum(width for _, width in shapes)
    held_back = steps["incremental"]["rows"]
    assert steps["io_floor"]["ok"] and len(shapes) == 5 and held_back > 0
    assert steps["io_floor"]["rows"] == generated - held_back == sum(result["raw_rows"].values())
    assert steps["io_floor"]["note"].startswith(f"{columns} columns of 5 files read as text (")


def test_the_comparisons_catch_a_single_wrong_cell(
    bench: tuple[dict, Path], tmp_path: Path
) -> None:
    """The bench's equality checks are not vacuous: one changed cell is reported."""
    build = WORK / "floor" / "build.duckdb"  # dbt's marts before the incremental step's new day
    changed = tmp_path / "build.duckdb"
    shutil.copy(build, changed)
    with duckdb.connect(str(changed)) as con:
        con.execute(
            "update marts.rpt_kpis_monthly set orders = orders + 1"
            " where month = (select max(month) from marts.rpt_kpis_monthly)"
        )
    mismatches = compare_with_marts(WORK / "pandas_reference.pickle", changed)
    assert len(mismatches) == 1 and "rpt_kpis_monthly.orders" in mismatches[0]
    mismatches = compare_with_marts(WORK / "polars_reference.pickle", changed, peer="polars")
    assert len(mismatches) == 1 and "rpt_kpis_monthly.orders" in mismatches[0]
    assert ", polars " in mismatches[0]
    assert marts_that_differ(build, changed) == ["rpt_kpis_monthly"]
    reference = pickle.loads((WORK / "pandas_reference.pickle").read_bytes())
    assert len(reference.kpis_monthly) > 12


@pytest.mark.slow
def test_the_default_steps_run_on_a_tiny_shop(tmp_path: Path) -> None:
    """The bench without `--steps` runs every default step, the Dagster, GX, CLV, daily and
    full ones too: Dagster's job gives dbt's marts, the CLV step fits the shop, and the daily
    run (the last day landed as day partitions) and the incremental run (appended) give the
    marts of a full build. (It writes the work folder the tests above read, so it comes
    last.)"""
    result = run_bench(tmp_path)
    steps = {step["name"]: step for step in result["steps"]}
    assert tuple(steps) == DEFAULT
    assert all(step["ok"] for step in steps.values())
    assert steps["dagster"]["note"].endswith("every mart equal to dbt's")
    assert steps["clv"]["note"].startswith("fitted")
    ratios = result["ratios"]
    assert ratios["Dagster / dbt build"] == steps["dagster"]["seconds"] / steps["dbt"]["seconds"]
    assert result["pandas_equals_marts"] is True and result["polars_equals_marts"] is True
    assert (
        "; every mart equal to the incremental and the daily runs'; models "
        in (steps["full"]["note"])
    )
    # the daily run landed the last day as one new partition file per event table, beside the
    # whole-table files it did not read again
    assert steps["daily"]["note"].startswith("2025-12-31 landed as day partitions (")
    with duckdb.connect(str(WORK / "daily" / "build.duckdb"), read_only=True) as con:
        last_loads = dict(
            con.execute(
                "select table_name, files_read from staging.raw_loads"
                " qualify load_id = max(load_id) over (partition by table_name)"
            ).fetchall()
        )
    # the CRM export is read again only when the last day changed it (a sign-up that day)
    crm_changed = (WORK / "daily" / "kept-customers.csv").read_bytes() != (
        WORK / "raw-complete" / "customers.csv"
    ).read_bytes()
    assert last_loads == {
        "customers": int(crm_changed), "orders": 1, "sessions": 1, "survey_responses": 1,
        "email_events": 1,
    }  # fmt: skip
    assert not (WORK / "raw" / "orders").exists()  # the landing was put back
    _test_seconds_noted(steps["full"])  # the full step is the last dbt run
    assert ratios["incremental / full dbt build"] == (
        steps["incremental"]["seconds"] / steps["full"]["seconds"]
    )
    assert ratios["daily (day partitions) / full dbt build"] == (
        steps["daily"]["seconds"] / steps["full"]["seconds"]
    )
    # the daily and incremental runs start as a next day does: partial parsing, on the
    # manifest prepared beforehand; the dbt and full builds parse the whole project
    parses = _build_parses(WORK / "logs")
    assert parses[0] == "full parse"  # the dbt step
    assert parses[-3:] == ["partial parse", "partial parse", "full parse"]
