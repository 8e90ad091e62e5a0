"""The Great Expectations suites as blocking Dagster asset checks, one check per suite.

A raw suite checks its raw table right after landing: an ERROR stops dbt and everything after
it. A mart suite checks its mart after dbt: an ERROR (e.g. an empty mart: "at least one row")
stops the publish step, so nothing that failed is ever served and the last good publication
stays. WARN results are reported and the run goes on. Each result is also recorded in the
quality folder with this run's id: the publish step of the same run requires a passing record
of every suite (orchestration/lib/publish_guard.py). The check's severity is the suite's, as
in `customer-analytics validate`; its metadata holds counts, rules, keys and aggregate measures,
never a row's values.

The checks of one layer run in one step (a multi-asset check); its suites are validated in
parallel, one process per core.
"""

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from orchestration.lib.quality.suites import CLV_SUITES, SUITES, asset_key_path

if TYPE_CHECKING:
    from orchestration.lib.quality.validate import SuiteOutcome


def check_key(suite_name: str) -> dg.AssetCheckKey:
    """The key of suite `suite_name`'s check: `gx_<suite>` on the table it is named after."""
    return dg.AssetCheckKey(dg.AssetKey(asset_key_path(suite_name)), f"gx_{suite_name}")


def spec(suite_name: str) -> dg.AssetCheckSpec:
    key = check_key(suite_name)
    return dg.AssetCheckSpec(
        name=key.name,
        asset=key.asset_key,
        description=f"Great Expectations suite {suite_name}: {SUITES[suite_name].__doc__}",
        blocking=True,
    )


def result(
    context: dg.AssetCheckExecutionContext | dg.AssetExecutionContext,
    suite_name: str,
    outcome: "SuiteOutcome",
    warehouse: WarehouseResource,
) -> dg.AssetCheckResult:
    from orchestration.lib.quality.report import write_reports

    quality_dir = Path(warehouse.quality_dir or Path(warehouse.database).parent / "quality")
    exports_dir = Path(warehouse.exports_dir) if warehouse.exports_dir else None
    # the record names this run: its publish step accepts it although later steps of the
    # run (dbt after the raw suites, the CLV step after the mart suites) rewrite the file
    page = write_reports(
        outcome, quality_dir, exports_dir, Path(warehouse.database), context.run.run_id
    )
    for message in outcome.messages():
        log = context.log.error if message.startswith("[ERROR]") else context.log.warning
        log(message)
    key = check_key(suite_name)
    counts = outcome.counts()
    return dg.AssetCheckResult(
        asset_key=key.asset_key,
        check_name=key.name,
        passed=outcome.passed,
        severity=(
            dg.AssetCheckSeverity.ERROR
            if outcome.severity == "error"
            else dg.AssetCheckSeverity.WARN
        ),
        description=outcome.summary()[:2000],
        metadata={
            "report": dg.MetadataValue.path(str(page)),
            "report_index": dg.MetadataValue.path(str(quality_dir / "index.html")),
            "rows": dg.MetadataValue.int(outcome.rows),
            "batches": outcome.batches,
            "rules_passed": counts["passed"],
            "failed_rules": counts["failed"],
            "rules_skipped": counts["skipped"],
            "skipped": dg.MetadataValue.md(
                "\n".join(
                    f"- {len(rules)} skipped: {reason}"
                    for reason, rules in outcome.skip_reasons().items()
                )
                or "none"
            ),
            "failures": dg.MetadataValue.md(
                "\n".join(f"- {message}" for message in outcome.messages()) or "none"
            ),
            "measures": dg.MetadataValue.json(
                {name: value for name, value in outcome.measures.items() if value is not None}
            ),
            "baseline": outcome.baseline_note or "not compared",
        },
    )


def build_layer_checks(name: str, suite_names: list[str], description: str):
    """One step that runs the selected suites of a layer, one check result per suite."""

    @dg.multi_asset_check(
        specs=[spec(suite_name) for suite_name in suite_names],
        name=name,
        description=description,
        can_subset=True,
    )
    def layer_checks(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> Iterator[dg.AssetCheckResult]:
        from orchestration.lib.quality.validate import run_suites

        selected = context.selected_asset_check_keys
        names = [name for name in suite_names if check_key(name) in selected]
        serving = Path(warehouse.serving_database) if warehouse.serving_database else None
        outcomes = run_suites(names, Path(warehouse.database), serving)
        for suite_name, outcome in zip(names, outcomes, strict=True):
            yield result(context, suite_name, outcome, warehouse)

    return layer_checks


RAW_SUITES = [name for name in SUITES if name.startswith("raw_")]
MART_SUITES = [name for name in SUITES if not name.startswith("raw_") and name not in CLV_SUITES]
"""The mart suites checked right after dbt; the CLV suites run in the CLV asset, after the CLV
step wrote their tables (orchestration/defs/clv/assets.py)."""


@dg.definitions
def defs() -> dg.Definitions:
    """Blocking checks: the raw suites after landing, the mart suites after dbt."""
    return dg.Definitions(
        asset_checks=[
            build_layer_checks(
                "gx_raw_suites",
                RAW_SUITES,
                "Great Expectations on the landed raw tables (before dbt).",
            ),
            build_layer_checks(
                "gx_mart_suites",
                MART_SUITES,
                "Great Expectations on the marts (before publish).",
            ),
        ]
    )
