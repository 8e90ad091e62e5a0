"""The core marts computed with Polars: the benchmark's second peer.

Written from the definitions in docs/metrics.md (and "Reference date"), docs/raw-contract.md
and the reference seeds, never from the SQL models, and without calling tooling.pandas_reference:
from that module only its output contract is taken (the `ReferenceMarts` container, the dbt
vars in `Settings`, and the conventions listed at its top: money as `decimal.Decimal` to the
cent, dates and months as `datetime.date`, counts int64, ratios float64 with NaN where the
denominator is 0, nullable scores `Int64`, keys as text). So
`compute_reference(raw_dir)` returns the same five frames, with the same columns and dtypes,
and the benchmark checks them against the marts exactly as it checks the pandas peer
(tooling/bench/compare.py); tests/test_polars_reference.py checks them against the pandas
peer, frame by frame.

How: the raw files are scanned lazily (CSV as text, or typed Parquet); the orders are prepared
and collected first (they are an output and they set the reference date); every other mart
is a lazy plan over the scans and the collected orders, and the four plans are collected
together on the streaming engine (`pl.collect_all`: a scan that several plans share runs
once). Money is exact integer cents throughout (amounts parsed as decimals, converted to EUR
with the integer ratio of each rate and rounded half away from zero); only the outputs become
pandas, at the end.

Readings (the same natural readings as the pandas peer; docs/metrics.md is the authority):
the reference date is `as_of_date` or the latest UTC order date (clean data: no quarantine,
no robust rule); the engagement window is the 90 days ending on the reference date; an e-mail
message is (customer, campaign), delivered / opened / clicked when it has such an event, dated
by its first one; a customer is active at a period end when a completed order on or before
that end is fewer than `churn_window_days` days before it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from orchestration.lib.settings import REPO_ROOT
from tooling.pandas_reference import ReferenceMarts, Settings

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy as np
    import pandas as pd

REFERENCE_DIR = REPO_ROOT / "seeds" / "reference"
ENGINE = "streaming"

TIMESTAMPS = {
    "customers": ("signup_at", "loyalty_joined_at", "consent_updated_at"),
    "orders": ("ordered_at",),
    "sessions": ("started_at",),
    "survey_responses": ("submitted_at",),
    "email_events": ("occurred_at",),
}
COUNTS = {
    "orders": ("item_count",),
    "sessions": ("duration_seconds", "pageviews"),
    "survey_responses": ("score",),
}
AMOUNTS = ("gross_amount", "discount_amount", "shipping_amount")
OPTIONAL_COLUMNS = {
    "sessions": (
        "session_id",
        "anonymous_id",
        "customer_id",
        "started_at",
        "duration_seconds",
        "pageviews",
        "order_id",
    ),
    "survey_responses": ("response_id", "customer_id", "order_id", "submitted_at", "score"),
    "email_events": ("event_id", "customer_id", "campaign_id", "event_type", "occurred_at"),
}
"""The optional raw tables: a missing file is read as an empty table with these columns."""
MESSAGE_EVENTS = ("delivered", "opened", "clicked")


# --- reading ------------------------------------------------------------------------------------


def scan_raw(raw_dir: Path, table: str) -> pl.LazyFrame:
    """One raw table as a lazy scan: text columns, timestamps as UTC instants (microseconds),
    counts Int64. Amounts stay as read (text or Parquet decimals): `_cents` parses them.

    Parquet where present, else CSV (every column as text; an empty field is null)."""
    parquet, csv = raw_dir / f"{table}.parquet", raw_dir / f"{table}.csv"
    if parquet.exists():
        frame = pl.scan_parquet(parquet)
    elif csv.exists():
        frame = pl.scan_csv(csv, infer_schema=False)
    elif table in OPTIONAL_COLUMNS:
        frame = pl.LazyFrame(schema=dict.fromkeys(OPTIONAL_COLUMNS[table], pl.String))
    else:
        raise FileNotFoundError(f"Required raw file missing: {csv} (or {parquet.name}).")
    schema = frame.collect_schema()
    typed = []
    for name, dtype in schema.items():
        if name in TIMESTAMPS[table]:
            typed.append(_utc_instant(pl.col(name), dtype))
        elif name in COUNTS.get(table, ()):
            typed.append(pl.col(name).cast(pl.Int64))
        elif not (table == "orders" and name in AMOUNTS):
            typed.append(pl.col(name).cast(pl.String))
    return frame.with_columns(typed)


def _utc_instant(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """ISO 8601 text with an offset (or a Parquet timestamp) as a UTC instant."""
    if isinstance(dtype, pl.Datetime):
        instant = (
            column.dt.convert_time_zone("UTC")
            if dtype.time_zone
            else column.dt.replace_time_zone("UTC")
        )
        return instant.dt.cast_time_unit("us")
    return column.str.to_datetime(time_unit="us", time_zone="UTC")


def read_reference(reference_dir: Path) -> dict[str, pl.DataFrame]:
    """The reference seeds: EUR per unit as exact integer ratios, RFM segments, age bands."""
    fx = pl.read_csv(reference_dir / "fx_rates.csv", infer_schema=False)
    ratios = [Decimal(rate).as_integer_ratio() for rate in fx["eur_per_unit"]]
    return {
        "fx_rates": pl.DataFrame(
            {
                "currency": fx["currency"],
                "eur_numerator": [numerator for numerator, _ in ratios],
                "eur_denominator": [denominator for _, denominator in ratios],
            },
            schema_overrides={"eur_numerator": pl.Int64, "eur_denominator": pl.Int64},
        ),
        "rfm_segments": pl.read_csv(
            reference_dir / "rfm_segments.csv",
            columns=["recency_score", "frequency_monetary_score", "segment_name"],
            schema_overrides={"recency_score": pl.Int64, "frequency_monetary_score": pl.Int64},
        ),
        "age_bands": pl.read_csv(reference_dir / "age_bands.csv"),
    }


# --- expressions --------------------------------------------------------------------------------


def _cents(amount: str) -> tuple[pl.Expr, pl.Expr]:
    """Exact integer cents of an amount column (text or decimal), and whether it had at most
    two decimals (read to nine, so that a third decimal is seen, not rounded away)."""
    nanos = pl.col(amount).cast(pl.Decimal(38, 9)).to_physical()
    return (nanos // 10**7).cast(pl.Int64), (nanos % 10**7 == 0) | nanos.is_null()


def _eur_cents(cents: pl.Expr) -> pl.Expr:
    """Cents in the order's currency to EUR cents: times the rate's integer ratio, rounded
    half away from zero, in integers."""
    product = cents * pl.col("eur_numerator")
    denominator = pl.col("eur_denominator")
    magnitude = product.abs()
    rounded = magnitude // denominator + (2 * (magnitude % denominator) >= denominator).cast(
        pl.Int64
    )
    return product.sign() * rounded


def _month_number(date: pl.Expr) -> pl.Expr:
    """Months since year 0, for differences between months."""
    return date.dt.year().cast(pl.Int64) * 12 + date.dt.month().cast(pl.Int64) - 1


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    """numerator / denominator; null (NaN in the output) where the denominator is 0."""
    return pl.when(denominator != 0).then(numerator / denominator)


def _mid_rank_score(value: str, higher_is_better: bool) -> pl.Expr:
    """1-5 by mid-rank percentile among the frame's rows (docs/metrics.md, RFM(E)):
    1 + floor(5 (2b + t) / (2n)), b = rows with a worse value, t = rows with the same value."""
    n = pl.len().cast(pl.Int64)
    strictly_lower = pl.col(value).rank("min").cast(pl.Int64) - 1
    lower_or_equal = pl.col(value).rank("max").cast(pl.Int64)
    same = lower_or_equal - strictly_lower
    worse = strictly_lower if higher_is_better else n - lower_or_equal
    return 1 + (5 * (2 * worse + same)) // (2 * n)


def _nps_category(score: pl.Expr, settings: Settings) -> pl.Expr:
    return (
        pl.when(score >= settings.nps_promoter_min_score)
        .then(pl.lit("promoter"))
        .when(score >= settings.nps_passive_min_score)
        .then(pl.lit("passive"))
        .when(score.is_not_null())
        .then(pl.lit("detractor"))
    )


# --- the marts ----------------------------------------------------------------------------------


def prepare_orders(orders: pl.LazyFrame, fx_rates: pl.DataFrame) -> pl.DataFrame:
    """fct_orders' core: EUR cents, revenue, UTC date and month, order sequence numbers;
    sorted by order_id (text). Refuses an amount with more than two decimals."""
    cents = {amount: _cents(amount) for amount in AMOUNTS}
    is_completed = pl.col("status").eq_missing("completed")
    raw_columns = orders.collect_schema().names()
    prepared = (
        orders.join(fx_rates.lazy(), on="currency", how="left")
        .with_columns(
            *(pl.col(amount).cast(pl.Float64) for amount in AMOUNTS),
            *(cents[amount][0].alias(f"{amount}_cents") for amount in AMOUNTS),
            *(cents[amount][1].alias(f"{amount}_is_exact") for amount in AMOUNTS),
        )
        .with_columns(
            *(_eur_cents(pl.col(f"{a}_cents")).alias(f"{a}_eur_cents") for a in AMOUNTS),
            is_completed=is_completed,
            order_date=pl.col("ordered_at").dt.date(),
        )
        .with_columns(
            net_revenue_cents=pl.when(is_completed)
            .then(pl.col("gross_amount_eur_cents") - pl.col("discount_amount_eur_cents"))
            .otherwise(0),
            gross_revenue_cents=pl.when(pl.col("status").is_in(["completed", "returned"]))
            .then(pl.col("gross_amount_eur_cents"))
            .otherwise(0),
            order_month=pl.col("order_date").dt.month_start(),
        )
        .sort("customer_id", "ordered_at", "order_id")
        .with_columns(
            order_number=pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("customer_id"),
            completed_order_number=pl.when(is_completed).then(
                is_completed.cum_sum().over("customer_id").cast(pl.Int64)
            ),
        )
        .sort("order_id")
        .collect(engine=ENGINE)
    )
    for amount in AMOUNTS:
        if not prepared[f"{amount}_is_exact"].all():
            raise ValueError(f"Column {amount!r} has amounts with more than two decimals.")
    unknown = prepared.filter(pl.col("eur_numerator").is_null())["currency"].unique().sort()
    if len(unknown):
        raise ValueError(
            f"Currencies without a rate in fx_rates.csv: {', '.join(map(str, unknown))}."
        )
    return prepared.select(
        *raw_columns,
        *(f"{amount}_eur_cents" for amount in AMOUNTS),
        "is_completed",
        "net_revenue_cents",
        "gross_revenue_cents",
        "order_date",
        "order_month",
        "order_number",
        "completed_order_number",
    )


def stitch_sessions(sessions: pl.LazyFrame) -> pl.LazyFrame:
    """Sessions with `attributed_customer_id` (identity stitching, docs/metrics.md): an
    identified session keeps its customer; an anonymous one goes to the customer with the most
    identified sessions on its cookie, then the smallest customer_id (text)."""
    owners = (
        sessions.filter(pl.col("customer_id").is_not_null() & pl.col("anonymous_id").is_not_null())
        .group_by("anonymous_id", "customer_id")
        .agg(identified_sessions=pl.len())
        .group_by("anonymous_id")
        .agg(
            cookie_owner=pl.col("customer_id")
            .sort_by(["identified_sessions", "customer_id"], descending=[True, False])
            .first()
        )
    )
    return sessions.join(owners, on="anonymous_id", how="left").with_columns(
        attributed_customer_id=pl.coalesce("customer_id", "cookie_owner"),
        session_date=pl.col("started_at").dt.date(),
    )


def email_messages(events: pl.LazyFrame) -> pl.LazyFrame:
    """One row per message (customer x campaign) with a delivered, opened or clicked event:
    the time of its first event of each kind (null: none)."""
    return (
        events.filter(
            pl.col("event_type").is_in(MESSAGE_EVENTS)
            & pl.col("customer_id").is_not_null()
            & pl.col("campaign_id").is_not_null()
        )
        .group_by("customer_id", "campaign_id")
        .agg(
            pl.col("occurred_at")
            .filter(pl.col("event_type") == kind)
            .min()
            .alias(f"first_{kind}_at")
            for kind in MESSAGE_EVENTS
        )
    )


def customer_marts(
    customers: pl.LazyFrame,
    orders: pl.LazyFrame,
    sessions: pl.LazyFrame,
    messages: pl.LazyFrame,
    responses: pl.LazyFrame,
    reference: dict[str, pl.DataFrame],
    reference_date: dt.date,
    settings: Settings,
) -> pl.LazyFrame:
    """One row per customer, in the file's order: dim_customers' order aggregates, RFM(E)
    and the profile, web, e-mail and NPS extras."""
    window_start = reference_date - dt.timedelta(days=settings.engagement_window_days - 1)

    def in_window(date: pl.Expr) -> pl.Expr:
        return date.is_between(window_start, reference_date)

    completed = pl.col("is_completed")
    order_totals = orders.group_by("customer_id").agg(
        orders=pl.len().cast(pl.Int64),
        **{
            f"{status}_orders": (pl.col("status") == status).sum().cast(pl.Int64)
            for status in ("completed", "returned", "cancelled")
        },
        gross_lifetime_revenue_cents=pl.col("gross_revenue_cents").sum(),
        net_lifetime_revenue_cents=pl.col("net_revenue_cents").sum(),
        first_order_date=pl.col("order_date").filter(completed).min(),
        last_order_date=pl.col("order_date").filter(completed).max(),
    )
    web = (
        sessions.filter(pl.col("attributed_customer_id").is_not_null())
        .group_by(customer_id="attributed_customer_id")
        .agg(
            sessions=pl.len().cast(pl.Int64),
            recent_sessions=in_window(pl.col("session_date")).sum(),
        )
    )
    mail = messages.group_by("customer_id").agg(
        *(
            pl.col(f"first_{kind}_at").is_not_null().sum().cast(pl.Int64).alias(f"emails_{kind}")
            for kind in MESSAGE_EVENTS
        ),
        recent_opens=in_window(pl.col("first_opened_at").dt.date()).sum(),
        recent_clicks=in_window(pl.col("first_clicked_at").dt.date()).sum(),
    )
    nps = (
        responses.filter(pl.col("customer_id").is_not_null())
        .group_by("customer_id")
        .agg(
            nps_responses=pl.len().cast(pl.Int64),
            latest_nps_score=pl.col("score").sort_by(["submitted_at", "response_id"]).last(),
        )
    )
    zero_when_missing = [
        "orders",
        "completed_orders",
        "returned_orders",
        "cancelled_orders",
        "gross_lifetime_revenue_cents",
        "net_lifetime_revenue_cents",
        "sessions",
        "recent_sessions",
        "emails_delivered",
        "emails_opened",
        "emails_clicked",
        "recent_opens",
        "recent_clicks",
        "nps_responses",
    ]
    birth = pl.col("birth_date").cast(pl.String).str.to_date("%Y-%m-%d")
    before_birthday = (birth.dt.month() > reference_date.month) | (
        (birth.dt.month() == reference_date.month) & (birth.dt.day() > reference_date.day)
    )
    age = reference_date.year - birth.dt.year() - before_birthday.cast(pl.Int32)
    age_band = pl.lit("unknown")
    for band in reference["age_bands"].iter_rows(named=True):
        age_band = (
            pl.when(age.is_between(band["min_age"], band["max_age"]))
            .then(pl.lit(band["age_band"]))
            .otherwise(age_band)
        )
    n_done, n_returned = pl.col("completed_orders"), pl.col("returned_orders")
    base = (
        customers.select("customer_id", "birth_date", "loyalty_joined_at")
        .join(order_totals, on="customer_id", how="left", maintain_order="left")
        .join(web, on="customer_id", how="left", maintain_order="left")
        .join(mail, on="customer_id", how="left", maintain_order="left")
        .join(nps, on="customer_id", how="left", maintain_order="left")
        .with_columns(pl.col(zero_when_missing).fill_null(0).cast(pl.Int64))
        .with_columns(
            days_since_last_order=(
                pl.lit(reference_date) - pl.col("last_order_date")
            ).dt.total_days(),
            return_rate=_ratio(n_returned, n_done + n_returned),
            average_order_value=_ratio(pl.col("net_lifetime_revenue_cents") / 100, n_done),
            average_days_between_orders=pl.when(n_done >= 2).then(
                (pl.col("last_order_date") - pl.col("first_order_date")).dt.total_days()
                / (n_done - 1)
            ),
            customer_type=pl.when(n_done == 0)
            .then(pl.lit("no purchase"))
            .when(n_done == 1)
            .then(pl.lit("new"))
            .otherwise(pl.lit("returning")),
            is_loyalty_member=(pl.col("loyalty_joined_at").dt.date() <= reference_date).fill_null(
                False
            ),
            age_band=age_band,
            email_open_rate=_ratio(pl.col("emails_opened"), pl.col("emails_delivered")),
            email_click_rate=_ratio(pl.col("emails_clicked"), pl.col("emails_delivered")),
            latest_nps_category=_nps_category(pl.col("latest_nps_score"), settings),
            engagement_points=pl.col("recent_sessions")
            + pl.col("recent_opens")
            + settings.engagement_click_weight * pl.col("recent_clicks"),
        )
    )
    scores = ("recency_score", "frequency_score", "monetary_score")
    scored = (
        base.filter(n_done >= 1)
        .select(
            "customer_id",
            "engagement_points",
            recency_score=_mid_rank_score("days_since_last_order", higher_is_better=False),
            frequency_score=_mid_rank_score("completed_orders", higher_is_better=True),
            monetary_score=_mid_rank_score("net_lifetime_revenue_cents", higher_is_better=True),
            engagement_score=_mid_rank_score("engagement_points", higher_is_better=True),
        )
        .with_columns(
            frequency_monetary_score=(pl.col("frequency_score") + pl.col("monetary_score") + 1)
            // 2,
            rfm_score=pl.concat_str(pl.col(list(scores)).cast(pl.String)),
        )
        .with_columns(
            rfme_score=pl.concat_str("rfm_score", pl.col("engagement_score").cast(pl.String))
        )
        .join(
            reference["rfm_segments"].lazy(),
            on=["recency_score", "frequency_monetary_score"],
            how="left",
        )
    )
    return (
        base.drop("engagement_points")
        .join(scored, on="customer_id", how="left", maintain_order="left")
        .select(
            "customer_id",
            "orders",
            "completed_orders",
            "returned_orders",
            "cancelled_orders",
            "gross_lifetime_revenue_cents",
            "net_lifetime_revenue_cents",
            "first_order_date",
            "last_order_date",
            "days_since_last_order",
            "return_rate",
            "average_order_value",
            "average_days_between_orders",
            "customer_type",
            "is_loyalty_member",
            "age_band",
            "sessions",
            "emails_delivered",
            "email_open_rate",
            "email_click_rate",
            "nps_responses",
            "latest_nps_score",
            "latest_nps_category",
            "recency_score",
            "frequency_score",
            "monetary_score",
            "engagement_score",
            "frequency_monetary_score",
            "engagement_points",
            "rfm_score",
            "rfme_score",
            rfm_segment=pl.col("segment_name").fill_null("No Purchase"),
            gross_lifetime_revenue=pl.col("gross_lifetime_revenue_cents"),
            net_lifetime_revenue=pl.col("net_lifetime_revenue_cents"),
        )
    )


def _is_incomplete(month: pl.Expr, reference_date: dt.date) -> pl.Expr:
    """The month holds the reference date, and the reference date is not its last day."""
    last_day = (reference_date.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    is_month_end = reference_date == last_day - dt.timedelta(days=1)
    return (month == reference_date.replace(day=1)) & pl.lit(not is_month_end)


def nps_monthly(
    responses: pl.LazyFrame, reference_date: dt.date, settings: Settings
) -> pl.LazyFrame:
    """rpt_nps_monthly: every month from the first response's month to the reference month."""
    category = _nps_category(pl.col("score"), settings)
    counts = (
        responses.with_columns(month=pl.col("submitted_at").dt.date().dt.month_start())
        .group_by("month")
        .agg(
            responses=pl.len().cast(pl.Int64),
            promoters=(category == "promoter").sum().cast(pl.Int64),
            passives=(category == "passive").sum().cast(pl.Int64),
            detractors=(category == "detractor").sum().cast(pl.Int64),
        )
    )
    months = counts.select(
        pl.date_ranges(pl.col("month").min(), reference_date.replace(day=1), "1mo")
        .explode()
        .alias("month")
    ).drop_nulls()
    n = pl.col("responses")
    promoter_share, detractor_share = pl.col("promoters") / n, pl.col("detractors") / n
    return (
        months.join(counts, on="month", how="left", maintain_order="left")
        .with_columns(pl.exclude("month").fill_null(0))
        .with_columns(
            nps=_ratio(100 * (pl.col("promoters") - pl.col("detractors")), n),
            nps_margin_of_error_95=pl.when(n > 0).then(
                1.96
                * 100
                * (
                    (promoter_share + detractor_share - (promoter_share - detractor_share) ** 2) / n
                ).sqrt()
            ),
            is_incomplete_month=_is_incomplete(pl.col("month"), reference_date),
        )
    )


def retention_cohorts(orders: pl.LazyFrame, reference_date: dt.date) -> pl.LazyFrame:
    """rpt_retention_cohorts: every cohort and month offset 0 through the reference month."""
    done = orders.filter("is_completed")
    cohorts = done.group_by("customer_id").agg(cohort_month=pl.col("order_month").min())
    cells = (
        done.join(cohorts, on="customer_id")
        .group_by("cohort_month", calendar_month="order_month")
        .agg(
            active_customers=pl.col("customer_id").n_unique().cast(pl.Int64),
            orders=pl.len().cast(pl.Int64),
            net_revenue_cents=pl.col("net_revenue_cents").sum(),
        )
    )
    size = pl.col("cohort_size")
    return (
        cohorts.group_by("cohort_month")
        .agg(cohort_size=pl.len().cast(pl.Int64))
        .with_columns(
            calendar_month=pl.date_ranges("cohort_month", reference_date.replace(day=1), "1mo")
        )
        .explode("calendar_month")
        .drop_nulls("calendar_month")
        .join(cells, on=["cohort_month", "calendar_month"], how="left")
        .with_columns(pl.col("active_customers", "orders", "net_revenue_cents").fill_null(0))
        .sort("cohort_month", "calendar_month")
        .select(
            "cohort_month",
            months_since_first_order=(
                _month_number(pl.col("calendar_month")) - _month_number(pl.col("cohort_month"))
            ).cast(pl.Int32),
            calendar_month="calendar_month",
            cohort_size=size,
            active_customers="active_customers",
            retention_rate=pl.col("active_customers") / size,
            orders="orders",
            net_revenue=pl.col("net_revenue_cents"),
            cumulative_net_revenue_per_customer=pl.col("net_revenue_cents")
            .cum_sum()
            .over("cohort_month")
            / 100
            / size,
            is_incomplete_month=_is_incomplete(pl.col("calendar_month"), reference_date),
            net_revenue_cents="net_revenue_cents",
        )
    )


def customer_activity(
    orders: pl.LazyFrame, months: pl.Series, reference_date: dt.date, churn_window_days: int
) -> pl.LazyFrame:
    """Active, previously active and churned customers at each month's period end (the
    month's last day, or the reference date in the reference month).

    Active at a period end E: a completed order dated within churn_window_days - 1 days on or
    before E. Each customer's last completed order of a month keeps them active from that
    month's period end until the window runs out or their next such order takes over: an
    interval [start, stop) of period indices, disjoint from the customer's other intervals.
    Active customers per period are the running sum of interval starts minus stops; a
    customer churns at a stop that the next interval does not begin at."""
    n = len(months)
    first = _month_number(pl.lit(months[0]))
    reach = pl.col("last_order_date") + pl.duration(days=churn_window_days - 1)
    # period ends on or before `reach`: those of earlier months, and its own month's end if
    # reach is that month's last day (or, in the reference month, on or after the reference date)
    ends_reached = (
        _month_number(reach)
        - first
        + ((reach == reach.dt.month_end()) | (reach >= reference_date)).cast(pl.Int64)
    )
    intervals = (
        orders.filter(pl.col("is_completed") & (pl.col("order_date") <= reference_date))
        .group_by("customer_id", "order_month")
        .agg(last_order_date=pl.col("order_date").max())
        .with_columns(start=_month_number(pl.col("order_month")) - first)
        .sort("customer_id", "start")
        .with_columns(next_start=pl.col("start").shift(-1).over("customer_id").fill_null(n))
        .with_columns(
            stop=pl.max_horizontal(
                pl.min_horizontal(ends_reached, pl.col("next_start"), pl.lit(n)), pl.col("start")
            )
        )
        .filter(pl.col("stop") > pl.col("start"))
    )
    periods = pl.LazyFrame(
        {"period": range(n), "month": months}, schema_overrides={"period": pl.Int64}
    )

    def per_period(frame: pl.LazyFrame, column: str, name: str) -> pl.LazyFrame:
        return frame.group_by(period=column).agg(pl.len().cast(pl.Int64).alias(name))

    churns = intervals.filter((pl.col("stop") < pl.col("next_start")) & (pl.col("stop") < n))
    return (
        periods.join(per_period(intervals, "start", "starts"), on="period", how="left")
        .join(per_period(intervals, "stop", "stops"), on="period", how="left")
        .join(per_period(churns, "stop", "churned_customers"), on="period", how="left")
        .fill_null(0)
        .sort("period")
        .with_columns(active_customers=(pl.col("starts") - pl.col("stops")).cum_sum())
        .select(
            "month",
            "active_customers",
            previously_active_customers=pl.col("active_customers").shift(1, fill_value=0),
            churned_customers="churned_customers",
        )
    )


def kpis_monthly(
    orders: pl.LazyFrame,
    first_month: dt.date,
    sessions: pl.LazyFrame,
    messages: pl.LazyFrame,
    nps: pl.LazyFrame,
    reference_date: dt.date,
    settings: Settings,
) -> pl.LazyFrame:
    """rpt_kpis_monthly: every month from the first order's month to the reference month."""
    months = pl.date_range(first_month, reference_date.replace(day=1), "1mo", eager=True)
    completed, number = pl.col("is_completed"), pl.col("completed_order_number")

    def customers_where(condition: pl.Expr) -> pl.Expr:
        return pl.col("customer_id").filter(condition).drop_nulls().n_unique().cast(pl.Int64)

    sales = orders.group_by(month="order_month").agg(
        net_revenue_cents=pl.col("net_revenue_cents").sum(),
        orders=completed.sum().cast(pl.Int64),
        purchasing_customers=customers_where(completed),
        new_customers=customers_where(number == 1),
        repeat_customers=customers_where(number >= 2),
        returned_orders=(pl.col("status") == "returned").sum().cast(pl.Int64),
    )
    web = (
        sessions.filter(pl.col("session_date").is_not_null())
        .group_by(month=pl.col("session_date").dt.month_start())
        .agg(sessions=pl.len().cast(pl.Int64), pageviews=pl.col("pageviews").sum())
    )
    mail = (
        messages.filter(pl.col("first_delivered_at").is_not_null())
        .group_by(month=pl.col("first_delivered_at").dt.date().dt.month_start())
        .agg(
            emails_delivered=pl.len().cast(pl.Int64),
            emails_opened=pl.col("first_opened_at").is_not_null().sum().cast(pl.Int64),
        )
    )
    counts = [
        "net_revenue_cents",
        "orders",
        "purchasing_customers",
        "new_customers",
        "repeat_customers",
        "returned_orders",
        "sessions",
        "pageviews",
        "emails_delivered",
        "emails_opened",
    ]
    activity = customer_activity(orders, months, reference_date, settings.churn_window_days)
    euros = pl.col("net_revenue_cents") / 100
    return (
        pl.LazyFrame({"month": months})
        .join(sales, on="month", how="left", maintain_order="left")
        .join(web, on="month", how="left", maintain_order="left")
        .join(mail, on="month", how="left", maintain_order="left")
        .with_columns(pl.col(counts).fill_null(0).cast(pl.Int64))
        .join(activity, on="month", how="left", maintain_order="left")
        .join(nps.select("month", "nps"), on="month", how="left", maintain_order="left")
        .with_columns(returning_customers=pl.col("purchasing_customers") - pl.col("new_customers"))
        .select(
            "month",
            *counts,
            "returning_customers",
            average_order_value=_ratio(euros, pl.col("orders")),
            purchase_frequency=_ratio(pl.col("orders"), pl.col("purchasing_customers")),
            repeat_customer_rate=_ratio(pl.col("repeat_customers"), pl.col("purchasing_customers")),
            customer_value=_ratio(euros, pl.col("purchasing_customers")),
            return_rate=_ratio(
                pl.col("returned_orders"), pl.col("orders") + pl.col("returned_orders")
            ),
            active_customers="active_customers",
            previously_active_customers="previously_active_customers",
            churned_customers="churned_customers",
            churn_rate=_ratio(pl.col("churned_customers"), pl.col("previously_active_customers")),
            pageviews_per_session=_ratio(pl.col("pageviews"), pl.col("sessions")),
            newsletter_open_rate=_ratio(pl.col("emails_opened"), pl.col("emails_delivered")),
            nps="nps",
            is_incomplete_month=_is_incomplete(pl.col("month"), reference_date),
            net_revenue=pl.col("net_revenue_cents"),
        )
    )


# --- to pandas ----------------------------------------------------------------------------------

MONEY = {
    "customers": ("gross_lifetime_revenue", "net_lifetime_revenue"),
    "orders": (
        "gross_amount_eur",
        "discount_amount_eur",
        "shipping_amount_eur",
        "net_revenue",
        "gross_revenue",
    ),
    "retention_cohorts": ("net_revenue",),
    "kpis_monthly": ("net_revenue",),
}
"""Columns that hold integer cents in the Polars frames and are Decimal euros in the output."""
NULLABLE_INTEGERS = {
    "customers": (
        "days_since_last_order",
        "latest_nps_score",
        "recency_score",
        "frequency_score",
        "monetary_score",
        "engagement_score",
        "frequency_monetary_score",
        "engagement_points",
    ),
    "orders": ("completed_order_number",),
}
OBJECT_TEXT = {
    "customers": ("age_band", "latest_nps_category", "rfm_score", "rfme_score"),
}
"""Text columns that the pandas contract holds as object (None for null), not as str."""


def _by_code(column: pl.Series, make: Callable[[Any], object]) -> np.ndarray:
    """An object array of `make(value)` per value, each distinct value made once (money and
    dates repeat a lot); None where null."""
    import numpy as np

    distinct = column.drop_nulls().unique().sort()
    made = np.array([*(make(value) for value in distinct), None], dtype=object)
    codes = distinct.search_sorted(column.fill_null(distinct[0] if len(distinct) else 0))
    codes = codes.to_numpy().copy()
    codes[column.is_null().to_numpy()] = len(distinct)
    return made[codes]


def to_pandas(frame: pl.DataFrame, mart: str) -> pd.DataFrame:
    """A Polars mart as the pandas peer's contract has it: Decimal money, datetime.date
    dates, Int64 nullable scores, object text where the contract says so."""
    import pandas as pd

    columns = {}
    for name, column in frame.to_dict().items():
        if name in MONEY.get(mart, ()):
            columns[name] = _by_code(column, lambda cents: Decimal(cents).scaleb(-2))
        elif column.dtype == pl.Date:
            columns[name] = _by_code(column, lambda date: date)
        elif name in NULLABLE_INTEGERS.get(mart, ()):
            columns[name] = column.to_pandas().astype("Int64")
        elif name in OBJECT_TEXT.get(mart, ()):
            columns[name] = (
                column.to_pandas().astype(object).where(column.is_not_null().to_numpy(), None)
            )
        else:
            columns[name] = column.to_pandas()
    return pd.DataFrame(columns)


# --- the whole reference ------------------------------------------------------------------------


def compute_reference(
    raw_dir: Path,
    reference_dir: Path = REFERENCE_DIR,
    as_of_date: dt.date | str | None = None,
    settings: Settings | None = None,
) -> ReferenceMarts:
    """Compute the core marts of the clean raw data set in `raw_dir` with Polars."""
    raw_dir, settings = Path(raw_dir), settings or Settings()
    reference = read_reference(Path(reference_dir))
    orders = prepare_orders(scan_raw(raw_dir, "orders"), reference["fx_rates"])
    reference_date = (
        dt.date.fromisoformat(str(as_of_date)[:10]) if as_of_date else orders["order_date"].max()
    )
    lazy_orders = orders.lazy()
    sessions = stitch_sessions(scan_raw(raw_dir, "sessions"))
    messages = email_messages(scan_raw(raw_dir, "email_events"))
    responses = scan_raw(raw_dir, "survey_responses")
    nps = nps_monthly(responses, reference_date, settings)
    customers, nps, cohorts, kpis = pl.collect_all(
        [
            customer_marts(
                scan_raw(raw_dir, "customers"),
                lazy_orders,
                sessions,
                messages,
                responses,
                reference,
                reference_date,
                settings,
            ),
            nps,
            retention_cohorts(lazy_orders, reference_date),
            kpis_monthly(
                lazy_orders,
                orders["order_month"].min(),
                sessions,
                messages,
                nps,
                reference_date,
                settings,
            ),
        ],
        engine=ENGINE,
    )
    orders_out = orders.with_columns(
        **{f"{amount}_eur": pl.col(f"{amount}_eur_cents") for amount in AMOUNTS},
        net_revenue=pl.col("net_revenue_cents"),
        gross_revenue=pl.col("gross_revenue_cents"),
    )
    return ReferenceMarts(
        reference_date=reference_date,
        customers=to_pandas(customers, "customers"),
        orders=to_pandas(orders_out, "orders"),
        nps_monthly=to_pandas(nps, "nps_monthly"),
        retention_cohorts=to_pandas(cohorts, "retention_cohorts"),
        kpis_monthly=to_pandas(kpis, "kpis_monthly"),
        settings=settings,
    )
