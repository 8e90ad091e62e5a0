"""The core marts equal an independent pandas implementation of the README's definitions.

`tooling.pandas_reference` computes `rpt_nps_monthly`, `rpt_retention_cohorts`,
`rpt_kpis_monthly`, the RFM(E) scores and segments and the order aggregates of `dim_customers`
from the raw CSV files with pandas, written from docs/metrics.md and the reference seeds only (never
from the SQL). Here every cell of those marts is compared with it: counts, dates, labels and
money exactly (money to the cent, as Decimal), ratios to 1e-9 relative.

Two data sets: (a) the shipped seeds (the session-wide `seed_build`) and (b) a freshly generated
shop with another seed and a window ending mid-month, so that the reference month is incomplete
and the last churn period ends on the reference date rather than a month end.

The reference names customers by their CRM customer_id, the marts by customer_key: the
reference's rows are compared under conftest.pseudonym(customer_id), an HMAC computed here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, DbtResult, GeneratedBuild, with_customer_keys

from tooling.pandas_reference import ReferenceMarts, compute_reference, read_raw, stitch_sessions

pytestmark = pytest.mark.build

NPS_MONTHLY = [
    "responses",
    "promoters",
    "passives",
    "detractors",
    "nps",
    "nps_margin_of_error_95",
    "is_incomplete_month",
]
RETENTION = [
    "calendar_month",
    "cohort_size",
    "active_customers",
    "retention_rate",
    "orders",
    "net_revenue",
    "cumulative_net_revenue_per_customer",
    "is_incomplete_month",
]
KPIS = [
    "net_revenue",
    "orders",
    "purchasing_customers",
    "new_customers",
    "returning_customers",
    "repeat_customers",
    "average_order_value",
    "purchase_frequency",
    "repeat_customer_rate",
    "customer_value",
    "returned_orders",
    "return_rate",
    "active_customers",
    "previously_active_customers",
    "churned_customers",
    "churn_rate",
    "sessions",
    "pageviews_per_session",
    "emails_delivered",
    "emails_opened",
    "newsletter_open_rate",
    "nps",
    "is_incomplete_month",
]
CUSTOMER_ORDERS = [
    "orders",
    "completed_orders",
    "returned_orders",
    "cancelled_orders",
    "gross_lifetime_revenue",
    "net_lifetime_revenue",
    "average_order_value",
    "first_order_date",
    "last_order_date",
    "days_since_last_order",
    "return_rate",
    "average_days_between_orders",
    "customer_type",
]
CUSTOMER_RFM = [
    "recency_score",
    "frequency_score",
    "monetary_score",
    "engagement_score",
    "rfm_score",
    "rfme_score",
    "rfm_segment",
]
CUSTOMER_OTHER = [
    "is_loyalty_member",
    "age_band",
    "sessions",
    "emails_delivered",
    "email_open_rate",
    "email_click_rate",
    "nps_responses",
    "latest_nps_score",
    "latest_nps_category",
]
ORDERS = [
    "customer_key",
    "order_date",
    "order_month",
    "status",
    "gross_amount_eur",
    "discount_amount_eur",
    "shipping_amount_eur",
    "gross_revenue",
    "net_revenue",
    "order_number",
    "completed_order_number",
]


@dataclass
class Case:
    """One data set: the dbt build and the pandas reference of the same raw files."""

    name: str
    build: DbtResult
    reference: ReferenceMarts
    raw: Path

    @property
    def customers(self) -> pd.DataFrame:
        """The reference's customers keyed as the marts name them (customer_key)."""
        return with_customer_keys(self.reference.customers)

    @property
    def orders(self) -> pd.DataFrame:
        """The reference's orders with the customer_key the marts carry."""
        return with_customer_keys(self.reference.orders)


# --- comparison ---------------------------------------------------------------------------------


def _plain(value: object) -> object:
    """A cell as a plain Python value: None for every kind of null, numpy scalars unwrapped."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, np.generic):
        return _plain(value.item())
    return value


def _same(mart: object, ref: object) -> bool:
    """Exact equality, except floats (ratios): 1e-9 relative."""
    mart, ref = _plain(mart), _plain(ref)
    if mart is None or ref is None:
        return mart is None and ref is None
    if isinstance(mart, float) or isinstance(ref, float):
        if isinstance(mart, Decimal) or isinstance(ref, Decimal):
            return False  # money must be exact: never compared as floats
        return math.isclose(mart, ref, rel_tol=1e-9, abs_tol=1e-12)
    return type(mart) is type(ref) and mart == ref


def assert_mart_equals_reference(
    build: DbtResult, relation: str, reference: pd.DataFrame, key: list[str], columns: list[str]
) -> None:
    """Every row (by key) and listed column of the mart equals the reference."""
    rows = build.query(f"select {', '.join(key + columns)} from {relation}")
    mart = pd.DataFrame(rows, columns=key + columns, dtype=object)
    ref = reference[key + columns].astype(object)
    for col in key:
        mart[col], ref[col] = mart[col].map(_plain), ref[col].map(_plain)
    assert not mart.duplicated(key).any(), f"{relation}: duplicate keys {key}"
    merged = mart.merge(ref, on=key, how="outer", suffixes=("_mart", "_ref"), indicator=True)
    only = merged[merged["_merge"] != "both"]
    assert only.empty, (
        f"{relation}: {len(only)} keys in only one side (left = mart, right = reference):\n"
        f"{only[[*key, '_merge']].head(10).to_string()}"
    )
    problems = []
    for col in columns:
        pairs = zip(merged[f"{col}_mart"], merged[f"{col}_ref"], strict=True)
        bad = merged[[not _same(m, r) for m, r in pairs]]
        if len(bad):
            examples = bad[[*key, f"{col}_mart", f"{col}_ref"]].head(5).to_dict("records")
            problems.append(f"  {col}: {len(bad)} of {len(merged)} rows differ, e.g. {examples}")
    assert not problems, f"{relation} differs from the pandas reference:\n" + "\n".join(problems)


# --- data sets ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def generated_case(generated_build: GeneratedBuild) -> Case:
    """A generated shop (another seed, window ending mid-month) built with dbt."""
    return Case(
        "generated",
        generated_build.build,
        compute_reference(generated_build.raw),
        generated_build.raw,
    )


@pytest.fixture(scope="module")
def seed_case(seed_build: DbtResult) -> Case:
    """The shipped seeds, built once for the session."""
    return Case(
        "seeds", seed_build, compute_reference(REPO / "data" / "raw"), REPO / "data" / "raw"
    )


@pytest.fixture(params=["seed_case", "generated_case"])
def case(request: pytest.FixtureRequest) -> Case:
    return request.getfixturevalue(request.param)


# --- tests --------------------------------------------------------------------------------------


def test_reference_date_is_the_latest_order_date(case: Case) -> None:
    [(reference_date,)] = case.build.query(
        "select reference_date from staging.stg_shop__reference_date"
    )
    assert reference_date == case.reference.reference_date


def test_nps_monthly(case: Case) -> None:
    assert_mart_equals_reference(
        case.build, "marts.rpt_nps_monthly", case.reference.nps_monthly, ["month"], NPS_MONTHLY
    )


def test_retention_cohorts(case: Case) -> None:
    assert_mart_equals_reference(
        case.build,
        "marts.rpt_retention_cohorts",
        case.reference.retention_cohorts,
        ["cohort_month", "months_since_first_order"],
        RETENTION,
    )


def test_kpis_monthly(case: Case) -> None:
    assert_mart_equals_reference(
        case.build, "marts.rpt_kpis_monthly", case.reference.kpis_monthly, ["month"], KPIS
    )


def test_customer_order_aggregates(case: Case) -> None:
    assert_mart_equals_reference(
        case.build,
        "marts.dim_customers",
        case.customers,
        ["customer_key"],
        CUSTOMER_ORDERS,
    )


def test_rfm_scores_and_segments(case: Case) -> None:
    assert_mart_equals_reference(
        case.build, "marts.dim_customers", case.customers, ["customer_key"], CUSTOMER_RFM
    )


def test_customer_profile_web_email_and_nps(case: Case) -> None:
    assert_mart_equals_reference(
        case.build,
        "marts.dim_customers",
        case.customers,
        ["customer_key"],
        CUSTOMER_OTHER,
    )


def test_orders_in_eur_and_sequenced(case: Case) -> None:
    assert_mart_equals_reference(case.build, "marts.fct_orders", case.orders, ["order_id"], ORDERS)


def test_web_session_flags_of_customers_and_orders(case: Case) -> None:
    """dim_customers.is_returning_visitor (stitched sessions on two or more dates) and
    fct_orders.has_web_session (a stitched session recorded the order), from the raw sessions
    stitched by the reference; both flags are planted either way in each data set."""
    sessions = stitch_sessions(read_raw(case.raw)["sessions"])
    session_days = sessions.groupby("attributed_customer_id")["session_date"].nunique()
    customers = case.reference.customers[["customer_id"]].copy()
    customers["is_returning_visitor"] = (
        customers["customer_id"].map(session_days).fillna(0).astype("int64") > 1
    )
    assert customers["is_returning_visitor"].nunique() == 2, case.name
    assert_mart_equals_reference(
        case.build,
        "marts.dim_customers",
        with_customer_keys(customers),
        ["customer_key"],
        ["is_returning_visitor"],
    )
    orders = case.reference.orders[["order_id", "customer_id"]].copy()
    orders["has_web_session"] = orders["order_id"].isin(sessions["order_id"].dropna())
    assert orders["has_web_session"].nunique() == 2, case.name
    assert_mart_equals_reference(
        case.build,
        "marts.fct_orders",
        with_customer_keys(orders),
        ["order_id"],
        ["has_web_session"],
    )


def test_the_data_sets_exercise_the_tricky_definitions(case: Case) -> None:
    """The comparisons above are not vacuous: each data set holds the cases that tell readings
    of the definitions apart (so a mart that rounds half-even, or scores ties apart, fails)."""
    orders = case.reference.orders
    customers = case.reference.customers
    rates = pd.read_csv(REPO / "seeds" / "reference" / "fx_rates.csv", dtype=str)
    rate = dict(zip(rates["currency"], rates["eur_per_unit"].map(Decimal), strict=True))
    foreign = orders[orders["currency"] != "EUR"]
    exact_eur = [
        Decimal(f"{amount:.2f}") * rate[currency]
        for amount, currency in zip(foreign["gross_amount"], foreign["currency"], strict=True)
    ]
    half_cents = sum((value * 100) % 1 == Decimal("0.5") for value in exact_eur)
    assert half_cents >= 5, f"only {half_cents} gross amounts convert to exactly half a cent"
    scored = customers[customers["completed_orders"] > 0]
    assert scored["completed_orders"].duplicated().sum() > 100, "no ties in frequency"
    assert scored["rfm_segment"].nunique() >= 8, "too few RFM segments populated"
    kpis = case.reference.kpis_monthly
    assert (kpis["churned_customers"] > 0).sum() >= 10, "too few months with churn"
    local_dates = orders["ordered_at"].dt.tz_convert("Europe/Berlin").dt.date
    assert (local_dates != orders["order_date"]).any(), "no order whose UTC date is the day before"
    if case.name == "generated":
        assert kpis["is_incomplete_month"].iloc[-1], "the reference month should be incomplete"
