"""The CLV step: fit BG/NBD and Gamma-Gamma on a build file and write the CLV tables.

dbt builds the CLV tables empty (models/marts/clv/) and `clv_fit_status` as 'not fitted', so
a build never carries the predictions of an earlier one. This step reads the CLV inputs
(int_customers_clv_summarised), fits the models (orchestration.lib.clv), fits them again on the
data up to the holdout cut-off for rpt_clv_holdout, and writes every table in one transaction.
A shop too small to fit, or a fit that does not converge, writes no numbers: the status becomes
'failed' with the reason, and the other marts can still be published (flagged by the status).
Used by `customer-analytics clv` (and so `make build`) and by the Dagster asset
clv/customer_clv_fit. Messages never hold a customer's data.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from orchestration.lib.relations import intermediate_model, mart

if TYPE_CHECKING:
    import pandas as pd

CLV_INPUTS = "int_customers_clv_summarised"
CUSTOMER_KEYS = "int_customers_pseudonymised"
"""CRM key -> customer_key: the CLV tables, like every mart, name customers by the pseudonym."""
PREDICTIONS = "customer_clv_predictions"
PARAMETERS = "clv_model_parameters"
HOLDOUT = "rpt_clv_holdout"
BY_SEGMENT = "rpt_clv_by_segment"
STATUS = "clv_fit_status"
CLV_TABLES = (PREDICTIONS, PARAMETERS, HOLDOUT, BY_SEGMENT)
"""The marts the CLV step fills; empty unless clv_fit_status.fit_status starts with 'fitted'."""

_CALIBRATION = {
    "frequency_calibration": "frequency",
    "recency_days_calibration": "recency_days",
    "t_days_calibration": "t_days",
    "monetary_value_calibration": "monetary_value",
}


class ClvBuildError(RuntimeError):
    """The build file cannot take the CLV step (missing, not built, busy): nothing written."""


@dataclass(frozen=True)
class ClvOutcome:
    """What one CLV step did."""

    status: str
    message: str
    customers: int
    repeat_customers: int
    reference_date: str
    parameters: dict[str, float] = field(default_factory=dict)
    fit_seconds: float = 0.0

    @property
    def fitted(self) -> bool:
        return self.status.startswith("fitted")


def _status_row(con: duckdb.DuckDBPyConnection, database: Path) -> tuple:
    try:
        row = con.execute(
            f"select reference_date, holdout_days, customers, repeat_customers from {mart(STATUS)}"
        ).fetchone()
    except duckdb.CatalogException:
        row = None
    if row is None:
        raise ClvBuildError(
            f"{database} has no {mart(STATUS)}: run dbt build (or make build) first, then "
            "customer-analytics clv."
        )
    return row


def run_clv(
    database: Path,
    annual_discount_rate: float,
    progress: Callable[[str], None] = lambda message: None,
) -> ClvOutcome:
    """Fit the CLV models on `database` (a built file) and write the CLV tables into it."""
    from orchestration.lib import clv

    if not database.exists():
        raise ClvBuildError(f"no build file {database}: run make build (or dbt build) first.")
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            reference_date, holdout_days, customers, repeaters = _status_row(con, database)
            # the CLV library's id column is customer_id: here it holds the pseudonym
            inputs = con.execute(
                "select customer_keys.customer_key as customer_id, inputs.* exclude (customer_id)"
                f" from {intermediate_model(CLV_INPUTS)} as inputs"
                f" inner join {intermediate_model(CUSTOMER_KEYS)} as customer_keys"
                " on inputs.customer_id = customer_keys.customer_id"
                " order by customer_keys.customer_key"
            ).df()
            segments = con.execute(
                f"select customer_key as customer_id, rfm_segment from {mart('dim_customers')}"
            ).df()
    except duckdb.IOException as exc:
        raise ClvBuildError(
            f"{database} is in use by another process (a dbt build or a Dagster run): run "
            f"customer-analytics clv again when it has finished ({type(exc).__name__})."
        ) from None
    reference = str(reference_date)
    progress(
        f"fitting BG/NBD and Gamma-Gamma on {customers:,} customers ({repeaters:,} repeat "
        f"buyers), reference date {reference}"
    )
    started = time.perf_counter()
    try:
        full = clv.fit(inputs[list(clv.INPUT_COLUMNS)])
    except clv.ClvFitError as exc:
        message = f"CLV not fitted: {exc}"
        _write(database, {}, "failed", message, None)
        return ClvOutcome("failed", message, customers, repeaters, reference)
    predictions = clv.predict(full, inputs, annual_discount_rate=annual_discount_rate)
    segment_table = by_segment(predictions, segments)
    predictions = predictions.rename(columns={"customer_id": "customer_key"})
    predictions.insert(1, "reference_date", reference_date)
    parameters = clv.parameters_table(full)
    progress(f"fitted in {time.perf_counter() - started:.1f} s; fitting the holdout calibration")

    calibrated = inputs[inputs["is_in_calibration"]]
    calibration = calibrated[["customer_id", *_CALIBRATION]].rename(columns=_CALIBRATION)
    try:
        calibration_fit = clv.fit(calibration)
        holdout = clv.holdout_report(
            calibration,
            calibrated.set_index("customer_id")["holdout_purchases"],
            int(holdout_days),
            calibration_fit,
        )
        status = "fitted"
        message = (
            f"Fitted on {customers:,} customers ({repeaters:,} repeat buyers); holdout: "
            f"{len(calibration):,} customers fitted up to {holdout_days} days before the "
            "reference date."
        )
    except clv.ClvFitError as exc:
        holdout = None
        status = "fitted without holdout"
        message = (
            f"Fitted on {customers:,} customers ({repeaters:,} repeat buyers); no holdout "
            f"report: the data up to {holdout_days} days before the reference date is too "
            f"little to fit ({exc}) Lower dbt var clv_holdout_days to get one."
        )
    seconds = time.perf_counter() - started
    tables = {
        PREDICTIONS: predictions,
        PARAMETERS: parameters,
        HOLDOUT: holdout,
        BY_SEGMENT: segment_table,
    }
    _write(database, tables, status, message, annual_discount_rate)
    estimates = {
        f"{model}.{name}": float(value)
        for model, name, value in parameters[["model", "parameter", "estimate"]].itertuples(
            index=False
        )
    }
    return ClvOutcome(status, message, customers, repeaters, reference, estimates, seconds)


def by_segment(predictions: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """rpt_clv_by_segment: the distribution of clv_12_months per current RFM segment
    (pandas, so that sums do not depend on DuckDB's thread order)."""
    import pandas as pd

    joined = predictions.merge(segments, on="customer_id", how="inner", validate="one_to_one")
    joined = joined.sort_values("customer_id", kind="stable")
    grouped = joined.groupby("rfm_segment", sort=True)
    clv_values = grouped["clv_12_months"]
    out = pd.DataFrame(
        {
            "customers": grouped.size(),
            "total_clv_12_months": clv_values.sum(),
            "mean_clv_12_months": clv_values.mean(),
            "p10_clv_12_months": clv_values.quantile(0.10),
            "p25_clv_12_months": clv_values.quantile(0.25),
            "median_clv_12_months": clv_values.quantile(0.50),
            "p75_clv_12_months": clv_values.quantile(0.75),
            "p90_clv_12_months": clv_values.quantile(0.90),
            "mean_probability_alive": grouped["probability_alive"].mean(),
        }
    )
    return out.reset_index()


def _write(
    database: Path,
    tables: dict[str, pd.DataFrame | None],
    status: str,
    message: str,
    annual_discount_rate: float | None,
) -> None:
    """Replace the rows of every CLV table (those not in `tables` emptied) and set the status,
    in one transaction."""
    try:
        with duckdb.connect(str(database)) as con:
            con.execute("begin transaction")
            for name in CLV_TABLES:
                con.execute(f"delete from {mart(name)}")
                frame = tables.get(name)
                if frame is not None and len(frame):
                    con.register("clv_frame", frame)
                    con.execute(f"insert into {mart(name)} by name select * from clv_frame")
                    con.unregister("clv_frame")
            con.execute(
                f"update {mart(STATUS)} set fit_status = ?, message = ?, annual_discount_rate = ?",
                [status, message, annual_discount_rate],
            )
            con.execute("commit")
    except duckdb.IOException as exc:
        raise ClvBuildError(
            f"{database} is in use by another process (a dbt build or a Dagster run): run "
            f"customer-analytics clv again when it has finished ({type(exc).__name__})."
        ) from None


def fitted_status(con: duckdb.DuckDBPyConnection, schema_prefix: str = "") -> str | None:
    """clv_fit_status.fit_status of a connection's file (None without the table); `schema_prefix`
    names an attached database, e.g. 'build.'."""
    try:
        row = con.execute(f"select fit_status from {schema_prefix}{mart(STATUS)}").fetchone()
    except duckdb.CatalogException:
        return None
    return row[0] if row else None
