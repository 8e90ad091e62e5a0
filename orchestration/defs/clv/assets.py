"""The CLV fit as a Dagster asset, between the dbt build and the publish step."""

import dagster as dg

from orchestration.defs.quality.checks import result, spec
from orchestration.defs.resources import TRANSIENT_RETRY_POLICY, WAREHOUSE_POOL, WarehouseResource
from orchestration.lib.quality.suites import CLV_SUITES

CLV_FIT_KEY = dg.AssetKey(["clv", "customer_clv_fit"])
"""The asset of the CLV step; the publish step depends on it."""

CLV_CHECK_NAME = "clv_fitted"


@dg.asset(
    key=CLV_FIT_KEY,
    deps=[
        dg.AssetKey(["intermediate", "int_customers_clv_summarised"]),
        dg.AssetKey(["marts", "customer_clv_predictions"]),
        dg.AssetKey(["marts", "clv_model_parameters"]),
        dg.AssetKey(["marts", "rpt_clv_holdout"]),
        dg.AssetKey(["marts", "clv_fit_status"]),
    ],
    group_name="clv",
    kinds={"python", "duckdb"},
    pool=WAREHOUSE_POOL,
    retry_policy=TRANSIENT_RETRY_POLICY,
    check_specs=[
        dg.AssetCheckSpec(
            CLV_CHECK_NAME,
            asset=CLV_FIT_KEY,
            description=(
                "The CLV models were fitted: enough customers and repeat buyers, and the "
                "optimiser converged. When it fails (ERROR) the CLV marts stay empty, "
                "the mart clv_fit_status says why, and the other marts are still published."
            ),
        ),
        # the Great Expectations suites of the tables this step writes (blocking: predictions
        # that break them are never published)
        *(spec(suite_name) for suite_name in CLV_SUITES),
    ],
)
def customer_clv_fit(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Fit BG/NBD and Gamma-Gamma (pymc-marketing, maximum likelihood) on the CLV inputs of
    this build, fit them again up to the holdout cut-off, and fill marts.customer_clv_predictions,
    marts.clv_model_parameters, marts.rpt_clv_holdout and marts.clv_fit_status (docs/clv.md).
    A shop too small to fit, or a fit that does not converge, writes no numbers: the check
    clv_fitted fails with the reason and the other marts are published, flagged."""
    from pathlib import Path

    from orchestration.lib.clv_tables import ClvBuildError, run_clv
    from orchestration.lib.settings import SettingError, Settings

    try:
        rate = Settings.from_env().clv_discount_rate
    except SettingError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    try:
        outcome = run_clv(Path(warehouse.database), rate, context.log.info)
    except ClvBuildError as exc:
        raise dg.Failure(description=str(exc)) from None
    if not outcome.fitted:
        context.log.error(outcome.message)
    from orchestration.lib.quality.validate import run_suites

    serving = Path(warehouse.serving_database) if warehouse.serving_database else None
    suites = list(CLV_SUITES)
    suite_results = [
        result(context, name, suite_outcome, warehouse)
        for name, suite_outcome in zip(
            suites, run_suites(suites, Path(warehouse.database), serving), strict=True
        )
    ]
    metadata = {
        "status": outcome.status,
        "reference_date": outcome.reference_date,
        "customers": outcome.customers,
        "repeat_customers": outcome.repeat_customers,
        "fit_seconds": round(outcome.fit_seconds, 2),
        **{name: round(value, 6) for name, value in outcome.parameters.items()},
    }
    return dg.MaterializeResult(
        metadata=metadata,
        check_results=[
            dg.AssetCheckResult(
                check_name=CLV_CHECK_NAME,
                passed=outcome.fitted,
                severity=dg.AssetCheckSeverity.ERROR,
                description=outcome.message,
                metadata={"status": outcome.status},
            ),
            *suite_results,
        ],
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[customer_clv_fit])
