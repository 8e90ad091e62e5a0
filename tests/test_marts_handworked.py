"""The marts on a tiny hand-made shop, against values worked out by hand.

`tests/fixtures/handworked/` holds five customers, 15 orders from June 2024 to January 2025,
12 web sessions, 6 NPS responses and 21 e-mail events, built with `as_of_date: 2025-01-20` (a
Monday in the middle of a month; the latest order is on 2025-01-19). Every expected value below
is written literally, with its arithmetic in a comment. The same expectations are checked on
the dbt marts and on the pandas reference (`tooling.pandas_reference`), so this file
also guards the reference that tests/test_marts_reference.py relies on. The marts name a
customer by customer_key, never the CRM id: the expectations, worked out per CRM id, are keyed
by conftest.pseudonym (an HMAC computed here), and so are the reference's rows.

The shop (UTC dates; "c" = completed, "r" = returned, "x" = cancelled; amounts gross/discount):

- 1 Anna, DE, loyalty member (EUR): o1 07-05 c 100.00/10.00, o2 09-12 c 60.00,
  o3 11-29 r 80.00, o4 12-15 c 50.50/5.50, o5 2025-01-10 c 30.00
- 2 Ben, CH, referred by 1 (CHF): o6 06-01 c 10.10, o7 07-24 c 40.00, o8 12-20 x 20.00
- 3 Clara, GB (GBP): o9 07-20 c 25.00/2.50, o10 2025-01-05 c 40.00, o11 2025-01-15 r 20.00
- 4 David, DE (EUR): o12 2025-01-01T00:30+01:00 = 2024-12-31 UTC c 70.00,
  o13 2025-01-18 c 20.00
- 5 Eva, DE (EUR): o14 12-12 x 35.00, o15 2025-01-19 r 15.00: never completes an order

fx_rates: CHF 1.05, GBP 1.17. Cookies: `ck-anna` (customer 1 twice, then anonymous),
`ck-shared` (customer 2 once, customer 3 twice, then anonymous), `ck-tie` (customers 3 and 4
once each, then anonymous), `ck-ben` (customer 2), `ck-stranger` (anonymous only).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from conftest import FIXTURES, pseudonym, run_dbt, with_customer_keys

from tooling.pandas_reference import compute_reference

pytestmark = pytest.mark.build

RAW = FIXTURES / "handworked"
AS_OF = "2025-01-20"
D = dt.date


class Marts:
    """Rows of the marts, from dbt or from the pandas reference, as plain dicts."""

    def __init__(self, tables: dict[str, list[dict]], reference_date: dt.date) -> None:
        self.tables = tables
        self.reference_date = reference_date

    def rows(self, relation: str) -> list[dict]:
        return self.tables[relation]

    def row(self, relation: str, **key: object) -> dict:
        found = [r for r in self.tables[relation] if all(r[k] == v for k, v in key.items())]
        assert len(found) == 1, f"{relation}: {len(found)} rows with {key}"
        return found[0]


def _from_dbt(tmp_path_factory: pytest.TempPathFactory) -> Marts:
    work = tmp_path_factory.mktemp("handworked")
    build = run_dbt(
        ["build"],
        work / "warehouse.duckdb",
        {"raw_data_path": str(RAW), "as_of_date": AS_OF},
        work,
    )
    assert build.returncode == 0, build.output[-5000:]
    tables = {}
    for relation in (
        "marts.dim_customers",
        "marts.fct_orders",
        "marts.rpt_nps_monthly",
        "marts.rpt_retention_cohorts",
        "marts.rpt_kpis_monthly",
    ):
        columns = [c[0] for c in build.query(f"describe {relation}")]
        tables[relation] = [
            dict(zip(columns, row, strict=True)) for row in build.query(f"select * from {relation}")
        ]
    [(reference_date,)] = build.query("select reference_date from staging.stg_shop__reference_date")
    return Marts(tables, reference_date)


def _plain(value: object) -> object:
    """A pandas cell as DuckDB would return it: None for nulls, numpy scalars unwrapped."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value.item() if isinstance(value, np.generic) else value


def _from_pandas() -> Marts:
    ref = compute_reference(RAW, as_of_date=AS_OF)

    def records(df: pd.DataFrame) -> list[dict]:
        return [{k: _plain(v) for k, v in r.items()} for r in df.to_dict("records")]

    return Marts(
        {
            "marts.dim_customers": records(with_customer_keys(ref.customers)),
            "marts.fct_orders": records(with_customer_keys(ref.orders)),
            "marts.rpt_nps_monthly": records(ref.nps_monthly),
            "marts.rpt_retention_cohorts": records(ref.retention_cohorts),
            "marts.rpt_kpis_monthly": records(ref.kpis_monthly),
        },
        ref.reference_date,
    )


@pytest.fixture(scope="module", params=["dbt", "pandas"])
def marts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Marts:
    if request.param == "dbt":
        return _from_dbt(tmp_path_factory)
    return _from_pandas()


def by_key(by_customer_id: dict[str, object]) -> dict[str, object]:
    """Values worked out per CRM customer id ("1" .. "5"), keyed by the customer_key the marts
    name those customers by (conftest.pseudonym)."""
    return {pseudonym(customer_id): value for customer_id, value in by_customer_id.items()}


def approx(value: float) -> object:
    return pytest.approx(value, rel=1e-9)


def test_reference_date_is_the_var(marts: Marts) -> None:
    assert marts.reference_date == D(2025, 1, 20)  # as_of_date, not the latest order (01-19)


def test_order_amounts_in_eur(marts: Marts) -> None:
    o6 = marts.row("marts.fct_orders", order_id="6")
    # CHF 10.10 x 1.05 = 10.605 -> 10.61 half away from zero (half-even would give 10.60).
    assert o6["gross_amount_eur"] == Decimal("10.61")
    assert o6["net_revenue"] == Decimal("10.61")
    o9 = marts.row("marts.fct_orders", order_id="9")
    assert o9["gross_amount_eur"] == Decimal("29.25")  # GBP 25.00 x 1.17
    assert o9["discount_amount_eur"] == Decimal("2.93")  # GBP 2.50 x 1.17 = 2.925 -> 2.93
    assert o9["shipping_amount_eur"] == Decimal("4.67")  # GBP 3.99 x 1.17 = 4.6683 -> 4.67
    # Net from the converted amounts: 29.25 - 2.93 = 26.32 (not (25.00 - 2.50) x 1.17 = 26.325
    # -> 26.33).
    assert o9["net_revenue"] == Decimal("26.32")
    o3 = marts.row("marts.fct_orders", order_id="3")  # returned: gross revenue only
    assert (o3["gross_revenue"], o3["net_revenue"]) == (Decimal("80.00"), Decimal("0.00"))
    o8 = marts.row("marts.fct_orders", order_id="8")  # cancelled: nothing
    assert (o8["gross_revenue"], o8["net_revenue"]) == (Decimal("0.00"), Decimal("0.00"))
    o12 = marts.row("marts.fct_orders", order_id="12")
    # 2025-01-01T00:30+01:00 is 2024-12-31 23:30 UTC: a December order.
    assert (o12["order_date"], o12["order_month"]) == (D(2024, 12, 31), D(2024, 12, 1))


def test_order_sequence(marts: Marts) -> None:
    # Customer 1: o1 c, o2 c, o3 r, o4 c, o5 c in time order.
    expected = {"1": (1, 1), "2": (2, 2), "3": (3, None), "4": (4, 3), "5": (5, 4)}
    for order_id, numbers in expected.items():
        row = marts.row("marts.fct_orders", order_id=order_id)
        assert (row["order_number"], row["completed_order_number"]) == numbers, order_id


def test_customer_order_aggregates(marts: Marts) -> None:
    c1 = marts.row("marts.dim_customers", customer_key=pseudonym("1"))
    assert (c1["completed_orders"], c1["returned_orders"], c1["cancelled_orders"]) == (4, 1, 0)
    # Gross: completed + returned = 100.00 + 60.00 + 80.00 + 50.50 + 30.00 = 320.50.
    assert c1["gross_lifetime_revenue"] == Decimal("320.50")
    # Net: (100.00 - 10.00) + 60.00 + (50.50 - 5.50) + 30.00 = 90 + 60 + 45 + 30 = 225.00.
    assert c1["net_lifetime_revenue"] == Decimal("225.00")
    assert c1["average_order_value"] == approx(56.25)  # 225.00 / 4
    assert c1["return_rate"] == approx(0.2)  # 1 / (4 + 1)
    assert (c1["first_order_date"], c1["last_order_date"]) == (D(2024, 7, 5), D(2025, 1, 10))
    assert c1["days_since_last_order"] == 10  # 2025-01-20 - 2025-01-10
    # 2024-07-05 .. 2025-01-10 = 26 + 31 + 30 + 31 + 30 + 31 + 10 = 189 days / (4 - 1) = 63.
    assert c1["average_days_between_orders"] == approx(63.0)
    assert c1["customer_type"] == "returning"

    c2 = marts.row("marts.dim_customers", customer_key=pseudonym("2"))
    assert (c2["completed_orders"], c2["returned_orders"], c2["cancelled_orders"]) == (2, 0, 1)
    # CHF 10.10 -> 10.61 and CHF 40.00 -> 42.00; the cancelled CHF 20.00 counts nowhere.
    assert c2["gross_lifetime_revenue"] == Decimal("52.61")
    assert c2["net_lifetime_revenue"] == Decimal("52.61")
    assert c2["average_order_value"] == approx(26.305)  # 52.61 / 2
    # 2024-07-24 .. 2025-01-20 = 7 + 31 + 30 + 31 + 30 + 31 + 20 = 180 days.
    assert c2["days_since_last_order"] == 180
    assert c2["average_days_between_orders"] == approx(53.0)  # 06-01 .. 07-24 = 29 + 24 days

    c3 = marts.row("marts.dim_customers", customer_key=pseudonym("3"))
    # Gross: 29.25 + 46.80 (GBP 40 x 1.17) + 23.40 (returned GBP 20 x 1.17) = 99.45.
    assert c3["gross_lifetime_revenue"] == Decimal("99.45")
    assert c3["net_lifetime_revenue"] == Decimal("73.12")  # 26.32 + 46.80
    assert c3["average_order_value"] == approx(36.56)  # 73.12 / 2
    assert c3["return_rate"] == approx(1 / 3)  # 1 / (2 + 1)
    assert c3["days_since_last_order"] == 15  # 2025-01-20 - 2025-01-05

    c4 = marts.row("marts.dim_customers", customer_key=pseudonym("4"))
    assert c4["first_order_date"] == D(2024, 12, 31)  # the UTC date of o12
    assert c4["net_lifetime_revenue"] == Decimal("90.00")  # 70.00 + 20.00
    assert c4["average_days_between_orders"] == approx(18.0)  # 12-31 .. 01-18

    c5 = marts.row("marts.dim_customers", customer_key=pseudonym("5"))
    assert (c5["completed_orders"], c5["returned_orders"], c5["cancelled_orders"]) == (0, 1, 1)
    assert c5["gross_lifetime_revenue"] == Decimal("15.00")  # the returned order
    assert c5["net_lifetime_revenue"] == Decimal("0.00")
    assert c5["average_order_value"] is None  # no completed order
    assert (c5["first_order_date"], c5["days_since_last_order"]) == (None, None)
    assert c5["return_rate"] == approx(1.0)  # 1 / (0 + 1)
    assert c5["customer_type"] == "no purchase"


def test_customer_profile(marts: Marts) -> None:
    bands = {r["customer_key"]: r["age_band"] for r in marts.rows("marts.dim_customers")}
    # 1990-05-10 -> 34; none; 1980-01-21 -> 44 (45 only the day after the reference date);
    # 2001-12-24 -> 23; 1970-07-01 -> 54.
    assert bands == by_key({"1": "25-34", "2": "unknown", "3": "35-44", "4": "18-24", "5": "45-54"})
    loyal = {r["customer_key"]: r["is_loyalty_member"] for r in marts.rows("marts.dim_customers")}
    assert loyal == by_key({"1": True, "2": False, "3": False, "4": False, "5": False})


def test_sessions_are_stitched(marts: Marts) -> None:
    sessions = {r["customer_key"]: r["sessions"] for r in marts.rows("marts.dim_customers")}
    # 1: two identified on ck-anna + the anonymous one there.
    # 2: ck-shared once + ck-ben once (ck-shared's anonymous session goes to 3, who has two).
    # 3: ck-shared twice + its anonymous one, ck-tie once + its anonymous one (tie 1:1 with
    #    customer 4, resolved to the smaller customer_id '3').
    # 4: ck-tie once. 5: none. ck-stranger's session stays anonymous.
    assert sessions == by_key({"1": 3, "2": 2, "3": 5, "4": 1, "5": 0})


def test_email_and_nps_per_customer(marts: Marts) -> None:
    c1 = marts.row("marts.dim_customers", customer_key=pseudonym("1"))
    # Two messages delivered (Dec, Jan); Dec opened twice and clicked: unique per message.
    assert c1["emails_delivered"] == 2
    assert (c1["email_open_rate"], c1["email_click_rate"]) == (approx(0.5), approx(0.5))
    c2 = marts.row("marts.dim_customers", customer_key=pseudonym("2"))
    # Responses 8 (Oct) and 0 (Dec 21): the latest is 0, a detractor.
    assert (c2["nps_responses"], c2["latest_nps_score"]) == (2, 0)
    assert c2["latest_nps_category"] == "detractor"
    c5 = marts.row("marts.dim_customers", customer_key=pseudonym("5"))
    assert c5["emails_delivered"] == 0  # sent but bounced


def test_rfm_scores_and_segments(marts: Marts) -> None:
    # Scored: customers 1-4 (5 has no completed order), n = 4, score = 1 + floor(5(2b+t)/8).
    # Recency days: 1: 10, 2: 180, 3: 15, 4: 2 -> worse (more days) b = 2, 0, 1, 3 -> t = 1:
    #   1: 1 + floor(25/8) = 4; 2: 1 + floor(5/8) = 1; 3: 1 + floor(15/8) = 2; 4: 1 + 35//8 = 5.
    # Frequency: 4, 2, 2, 2 -> 1: b = 3, t = 1 -> 5; 2, 3, 4: b = 0, t = 3 -> 1 + 15//8 = 2.
    # Monetary: 225.00, 52.61, 73.12, 90.00 -> b = 3, 0, 1, 2 -> 5, 1, 2, 4.
    # Engagement points in 2024-10-23 .. 2025-01-20 (sessions + opens + 2 x clicks):
    #   1: 3 sessions + 1 open + 2 x 1 click = 6; 2: 1 open (Jan; the ck-ben session on 10-22 is
    #   one day too early) = 1; 3: 4 sessions (not the July one) = 4; 4: 1 session + 1 open = 2
    #   -> b = 3, 0, 2, 1 -> 5, 1, 4, 2.
    # FM = floor((F + M + 1) / 2): 1: 5; 2: floor(4/2) = 2; 3: floor(5/2) = 2; 4: floor(7/2) = 3.
    # Segments (R, FM): (4, 5) Champions, (1, 2) Lost, (2, 2) Hibernating,
    #   (5, 3) Potential Loyalists.
    expected = {
        "1": (4, 5, 5, 5, "455", "4555", "Champions"),
        "2": (1, 2, 1, 1, "121", "1211", "Lost"),
        "3": (2, 2, 2, 4, "222", "2224", "Hibernating"),
        "4": (5, 2, 4, 2, "524", "5242", "Potential Loyalists"),
        "5": (None, None, None, None, None, None, "No Purchase"),
    }
    columns = [
        "recency_score",
        "frequency_score",
        "monetary_score",
        "engagement_score",
        "rfm_score",
        "rfme_score",
        "rfm_segment",
    ]
    actual = {
        r["customer_key"]: tuple(r[c] for c in columns) for r in marts.rows("marts.dim_customers")
    }
    assert actual == by_key(expected)


def test_nps_monthly(marts: Marts) -> None:
    rows = {r["month"]: r for r in marts.rows("marts.rpt_nps_monthly")}
    # From the first response month (October) to the reference month, November kept empty.
    assert sorted(rows) == [D(2024, 10, 1), D(2024, 11, 1), D(2024, 12, 1), D(2025, 1, 1)]
    oct_, nov, dec, jan = (rows[m] for m in sorted(rows))
    assert (oct_["responses"], oct_["passives"], oct_["nps"]) == (1, 1, 0.0)  # one 8
    assert (nov["responses"], nov["nps"], nov["nps_margin_of_error_95"]) == (0, None, None)
    # December: 10, 9, 7, 0 (one of them anonymous) -> 2 promoters, 1 passive, 1 detractor:
    # NPS = 100 x (2 - 1) / 4 = 25.0.
    assert (dec["promoters"], dec["passives"], dec["detractors"]) == (2, 1, 1)
    assert dec["nps"] == approx(25.0)
    # p = 0.5, d = 0.25: 196 x sqrt((0.75 - 0.25^2) / 4) = 196 x sqrt(0.171875) = 81.2573...
    assert dec["nps_margin_of_error_95"] == approx(81.2573073637073)
    # January: one 6 -> -100; p = 0, d = 1: 196 x sqrt((1 - 1) / 1) = 0.
    assert (jan["nps"], jan["nps_margin_of_error_95"]) == (approx(-100.0), approx(0.0))
    assert [r["is_incomplete_month"] for r in (oct_, nov, dec, jan)] == [False] * 3 + [True]


def test_retention_cohorts(marts: Marts) -> None:
    cells = {
        (r["cohort_month"], r["months_since_first_order"]): r
        for r in marts.rows("marts.rpt_retention_cohorts")
    }
    # Cohorts: 2024-06 {2} (8 offsets to January), 2024-07 {1, 3} (7), 2024-12 {4} (2).
    assert len(cells) == 8 + 7 + 2
    july = D(2024, 7, 1)
    m0 = cells[(july, 0)]
    assert (m0["cohort_size"], m0["active_customers"], m0["retention_rate"]) == (2, 2, 1.0)
    assert m0["net_revenue"] == Decimal("116.32")  # o1 90.00 + o9 26.32
    # Offset 2 (September): only customer 1 (o2) -> 1 / 2.
    assert cells[(july, 2)]["retention_rate"] == approx(0.5)
    # Offset 4 (November): customer 1's order was returned -> nobody active.
    assert cells[(july, 4)]["active_customers"] == 0
    # Offset 6 (January 2025): o5 and o10 -> both; 30.00 + 46.80 = 76.80.
    m6 = cells[(july, 6)]
    assert (m6["active_customers"], m6["orders"], m6["net_revenue"]) == (2, 2, Decimal("76.80"))
    # Cumulative: (116.32 + 60.00 + 45.00 + 76.80) / 2 = 298.12 / 2 = 149.06.
    assert m6["cumulative_net_revenue_per_customer"] == approx(149.06)
    assert m6["is_incomplete_month"] is True
    # Customer 4's cohort is December (o12 is a December order in UTC).
    dec = cells[(D(2024, 12, 1), 0)]
    assert (dec["cohort_size"], dec["net_revenue"]) == (1, Decimal("70.00"))


def test_kpis_monthly(marts: Marts) -> None:
    rows = {r["month"]: r for r in marts.rows("marts.rpt_kpis_monthly")}
    # From the first order month (June 2024, o6) through January 2025.
    assert sorted(rows) == [D(2024, m, 1) for m in range(6, 13)] + [D(2025, 1, 1)]

    jul = rows[D(2024, 7, 1)]
    assert jul["net_revenue"] == Decimal("158.32")  # o1 90.00 + o7 42.00 + o9 26.32
    assert (jul["purchasing_customers"], jul["new_customers"], jul["repeat_customers"]) == (
        3,
        2,  # customers 1 and 3 (customer 2 started in June)
        1,  # o7 is customer 2's 2nd completed order
    )
    assert jul["average_order_value"] == approx(158.32 / 3)

    nov = rows[D(2024, 11, 1)]
    # Only the returned o3: no revenue, return rate 1 / (0 + 1), AOV undefined.
    assert (nov["orders"], nov["returned_orders"], nov["return_rate"]) == (0, 1, 1.0)
    assert nov["average_order_value"] is None

    dec = rows[D(2024, 12, 1)]
    assert dec["net_revenue"] == Decimal("115.00")  # o4 45.00 + o12 70.00 (UTC Dec 31)
    assert (dec["orders"], dec["purchasing_customers"]) == (2, 2)
    assert (dec["new_customers"], dec["returning_customers"]) == (1, 1)  # 4 new, 1 returning
    assert dec["repeat_customer_rate"] == approx(0.5)  # o4 is 1's 3rd: 1 / 2
    # Active at 12-31: 1 (12-15), 2 (07-24: 160 days), 3 (07-20: 164 days), 4 (12-31) = 4;
    # at 11-30: 1, 2, 3 = 3; nobody churned.
    assert (dec["active_customers"], dec["previously_active_customers"]) == (4, 3)
    assert (dec["churned_customers"], dec["churn_rate"]) == (0, 0.0)
    # Sessions 12-01, 12-15, 12-31 (22:10 UTC): pageviews 2 + 5 + 7 = 14 -> 14 / 3.
    assert (dec["sessions"], dec["pageviews_per_session"]) == (3, approx(14 / 3))
    # December newsletter delivered to 1-4, opened by 1 and 4 -> 2 / 4.
    assert (dec["emails_delivered"], dec["emails_opened"]) == (4, 2)
    assert dec["newsletter_open_rate"] == approx(0.5)
    assert dec["nps"] == approx(25.0)
    assert dec["is_incomplete_month"] is False

    jan = rows[D(2025, 1, 1)]
    assert jan["net_revenue"] == Decimal("96.80")  # o5 30.00 + o10 46.80 + o13 20.00
    assert (jan["orders"], jan["new_customers"], jan["repeat_customers"]) == (3, 0, 3)
    assert jan["customer_value"] == approx(96.80 / 3)
    assert jan["return_rate"] == approx(0.4)  # o11, o15 returned: 2 / (3 + 2)
    # Period end = reference date 2025-01-20: customer 2's last completed order (07-24) is
    # exactly 180 days before, not fewer -> inactive; 1, 3, 4 active.
    assert (jan["active_customers"], jan["previously_active_customers"]) == (3, 4)
    assert (jan["churned_customers"], jan["churn_rate"]) == (1, approx(0.25))  # 1 / 4
    # Six sessions (01-02, 01-05, 01-10, 01-12, 01-14, 01-16): 1 + 6 + 4 + 1 + 2 + 1 = 15.
    assert (jan["sessions"], jan["pageviews_per_session"]) == (6, approx(2.5))
    # January newsletter delivered to 1, 2, 3 (5 bounced); opened by 2 -> 1 / 3.
    assert jan["newsletter_open_rate"] == approx(1 / 3)
    assert jan["nps"] == approx(-100.0)
    assert jan["is_incomplete_month"] is True
