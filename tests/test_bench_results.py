"""The benchmark's ratios, on hand-worked step times (no benchmark is run)."""

from __future__ import annotations

import pytest

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
