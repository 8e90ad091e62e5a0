"""The benchmark's ratios, on hand-worked step times, and its work folder's lock (no
benchmark is run)."""

from __future__ import annotations

import fcntl
import shutil
import subprocess

import pytest
from conftest import BIN, REPO

from tooling.bench.results import Result, Step

pytestmark = pytest.mark.unit


def _result(*steps: tuple[str, float]) -> Result:
    return Result(
        scale="L",
        customers=1,
        machine={},
        raw_rows={},
        steps=[Step(name, seconds, peak_rss_mb=1.0) for name, seconds in steps],
    )


def test_the_daily_run_is_measured_against_the_full_build_or_else_the_dbt_step() -> None:
    """`--steps generate,dbt,daily` (no full step) still reports the daily ratio, against the
    dbt step's build; with a full step, against that."""
    daily = "daily (day partitions) / full dbt build"
    assert _result(("dbt", 320.0), ("daily", 80.0)).ratios()[daily] == 0.25
    with_full = _result(("dbt", 320.0), ("daily", 80.0), ("incremental", 90.0), ("full", 400.0))
    assert with_full.ratios()[daily] == 0.2
    assert with_full.ratios()["incremental / full dbt build"] == 0.225
    assert _result(("dbt", 320.0)).ratios()[daily] is None  # no daily step, no ratio
    failed = _result(("dbt", 320.0), ("daily", 80.0))
    failed.steps[1].ok = False
    assert failed.ratios()[daily] is None


def test_a_second_run_on_a_busy_work_folder_stops_naming_it_and_leaves_it_alone() -> None:
    """Two runs of one customer count share a work folder: while one holds it (its lock, here
    taken by the test), `customer-analytics bench` stops at once with exit code 2, names the
    folder and what to do, and empties nothing."""
    work = REPO / "warehouse" / "bench" / "c3"
    work.mkdir(parents=True, exist_ok=True)
    planted = work / "a-running-bench-file"
    planted.write_text("in use\n", encoding="utf-8")
    try:
        with (work.parent / ".c3.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            done = subprocess.run(
                [str(BIN / "customer-analytics"), "bench", "--customers", "3", "--steps",
                 "generate", "--out", str(work.parent / "c3-out")],
                capture_output=True, text=True, timeout=300, check=False,
            )  # fmt: skip
        assert done.returncode == 2, done.stdout + done.stderr
        assert f"another benchmark run is using the work folder {work}" in done.stderr
        assert "wait for it to finish" in done.stderr
        assert planted.read_text(encoding="utf-8") == "in use\n"
        assert not (work.parent / "c3-out").exists()
    finally:
        for folder in (work, work.parent / "c3-out"):
            shutil.rmtree(folder, ignore_errors=True)
