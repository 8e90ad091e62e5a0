"""The planted behavioural effects are real: recovered from the raw CSV files with pandas.

Every measure below is computed from the generated files alone, the way an analyst would (no
generator internals). Targets and tolerances are those documented in docs/generator.md.

Scale: 150,000 customers (generated in ~8 s, read in ~4 s, once per session). The noisiest
measure is the referred/other lifetime-value ratio (revenue per customer is heavy-tailed by
design, for the Pareto effect): its standard deviation over 30 seeds was 0.056 at 20,000
customers, i.e. ~0.02 here, so its tolerance 1.08-1.24 is about four standard deviations wide.
At 20,000 customers it would fail for about one seed in seven.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from tooling.generator import GeneratorConfig, generate

pytestmark = pytest.mark.unit

SCALE = 150_000
SEED = 7
END = dt.date(2025, 12, 31)
# The project's reference rates (EUR per unit, seeds/reference/fx_rates.csv) to compare money.
EUR_PER = {"EUR": 1.0, "GBP": 1.17, "CHF": 1.05}


def load(raw: Path) -> dict[str, pd.DataFrame]:
    """Read the five raw CSV files; timestamps become UTC instants, the money net revenue."""
    ts_cols = {
        "customers": ["signup_at", "loyalty_joined_at", "consent_updated_at"],
        "orders": ["ordered_at"],
        "sessions": ["started_at"],
        "survey_responses": ["submitted_at"],
        "email_events": ["occurred_at"],
    }
    out = {}
    for table, cols in ts_cols.items():
        arrow = pacsv.read_csv(
            raw / f"{table}.csv",
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in cols},
                null_values=[""],
                strings_can_be_null=True,
            ),
        )
        df = arrow.to_pandas(types_mapper={pa.int64(): pd.Int64Dtype()}.get)
        for col in cols:
            df[col] = pd.to_datetime(df[col], utc=True, format="ISO8601")
        out[table] = df
    orders = out["orders"]
    orders["net_eur"] = (orders["gross_amount"] - orders["discount_amount"]) * orders[
        "currency"
    ].map(EUR_PER)
    orders["local_date"] = pd.to_datetime(
        orders["ordered_at"].dt.tz_convert("Europe/Berlin").dt.date
    )
    return out


@pytest.fixture(scope="session")
def raw(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("effects")
    generate(GeneratorConfig(customers=SCALE, seed=SEED), out)
    return load(out)


def _completed(raw: dict[str, pd.DataFrame]) -> pd.DataFrame:
    orders = raw["orders"]
    return orders[orders["status"] == "completed"]


# --- measures -----------------------------------------------------------------------------------


def repeat_ladder(raw: dict[str, pd.DataFrame]) -> tuple[float, float]:
    """P(>=2 | >=1) and P(>=3 | >=2) completed orders."""
    n = _completed(raw).groupby("customer_id").size()
    return (n >= 2).sum() / (n >= 1).sum(), (n >= 3).sum() / (n >= 2).sum()


def pareto_share(raw: dict[str, pd.DataFrame]) -> float:
    """Share of net revenue from the top 20 % of purchasing customers."""
    revenue = _completed(raw).groupby("customer_id")["net_eur"].sum().sort_values(ascending=False)
    top = int(np.ceil(0.2 * len(revenue)))
    return revenue.iloc[:top].sum() / revenue.sum()


def loyalty_aov_ratio(raw: dict[str, pd.DataFrame]) -> float:
    """Mean net value per completed order, loyalty members over non-members."""
    done = _completed(raw)
    members = set(
        raw["customers"].loc[raw["customers"]["loyalty_joined_at"].notna(), "customer_id"]
    )
    is_member = done["customer_id"].isin(members)
    return done.loc[is_member, "net_eur"].mean() / done.loc[~is_member, "net_eur"].mean()


def referral_ratios(raw: dict[str, pd.DataFrame]) -> tuple[float, float]:
    """Referred / non-referred: mean lifetime net revenue, and churn.

    Churn: among customers whose first completed order is at least 365 days before the end, the
    share without a completed order in the last 180 days.
    """
    customers = raw["customers"].set_index("customer_id")
    referred = customers["acquisition_channel"] == "referral"
    done = _completed(raw)
    revenue = done.groupby("customer_id")["net_eur"].sum().reindex(customers.index, fill_value=0)
    value_ratio = revenue[referred].mean() / revenue[~referred].mean()

    end = pd.Timestamp(END + dt.timedelta(days=1), tz="Europe/Berlin")
    first = done.groupby("customer_id")["ordered_at"].min()
    last = done.groupby("customer_id")["ordered_at"].max()
    cohort = first[first <= end - pd.Timedelta(days=365)].index
    churned = last[cohort] < end - pd.Timedelta(days=180)
    ref = referred[cohort]
    return value_ratio, churned[ref].mean() / churned[~ref].mean()


def nps_effects(raw: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Detractor shares by experience, and later purchases of promoters vs detractors."""
    orders = raw["orders"].sort_values(["customer_id", "ordered_at", "order_id"])
    orders["prev_at"] = orders.groupby("customer_id")["ordered_at"].shift()
    resp = raw["survey_responses"].merge(
        orders[["order_id", "status", "ordered_at", "prev_at"]], on="order_id", how="left"
    )
    detractor = resp["score"] <= 6
    about = resp["order_id"].notna()
    returned = about & (resp["status"] == "returned")
    completed = about & (resp["status"] == "completed")
    long_gap = completed & ((resp["ordered_at"] - resp["prev_at"]) > pd.Timedelta(days=180))
    short_gap = completed & ~long_gap
    # Completed orders each respondent placed after responding.
    done = _completed(raw)[["customer_id", "ordered_at"]]
    known = resp[resp["customer_id"].notna()][
        ["response_id", "customer_id", "submitted_at", "score"]
    ]
    pairs = known.merge(done, on="customer_id", how="left")
    later = (pairs["ordered_at"] > pairs["submitted_at"]).groupby(pairs["response_id"]).sum()
    known = known.set_index("response_id").assign(later=later)
    return {
        "detractor_returned": detractor[returned].mean(),
        "detractor_completed": detractor[completed].mean(),
        "detractor_long_gap": detractor[long_gap].mean(),
        "detractor_short_gap": detractor[short_gap].mean(),
        "later_promoters": known.loc[known["score"] >= 9, "later"].mean(),
        "later_detractors": known.loc[known["score"] <= 6, "later"].mean(),
    }


def session_before_order_share(raw: dict[str, pd.DataFrame]) -> tuple[float, int]:
    """Share of web/app orders with their session started within 2 h before; store sessions."""
    orders = raw["orders"]
    sessions = raw["sessions"].dropna(subset=["order_id"])
    linked = orders.merge(sessions[["order_id", "started_at"]], on="order_id", how="left")
    lead = linked["ordered_at"] - linked["started_at"]
    ok = (lead >= pd.Timedelta(0)) & (lead <= pd.Timedelta(hours=2))
    online = linked["sales_channel"].isin(["web", "app"])
    has = ok.groupby(linked["order_id"]).any()
    online_ids = linked.loc[online, "order_id"].unique()
    store_ids = orders.loc[orders["sales_channel"] == "store", "order_id"]
    return has[online_ids].mean(), int(sessions["order_id"].isin(store_ids).sum())


def engagement_ratios(raw: dict[str, pd.DataFrame]) -> tuple[float, float]:
    """Mean order count: top vs bottom quartile of pageviews/session; openers vs non-openers."""
    orders_per = raw["orders"].groupby("customer_id").size()
    ids = raw["customers"]["customer_id"]
    n_orders = orders_per.reindex(ids, fill_value=0)
    known = raw["sessions"].dropna(subset=["customer_id"])
    pv = known.groupby("customer_id")["pageviews"].mean()
    q1, q3 = pv.quantile([0.25, 0.75])
    top = n_orders[pv[pv >= q3].index].mean()
    bottom = n_orders[pv[pv <= q1].index].mean()

    events = raw["email_events"]
    openers = set(events.loc[events["event_type"] == "opened", "customer_id"])
    customers = raw["customers"]
    consenting = customers.loc[customers["marketing_consent"], "customer_id"]
    opened = n_orders[list(openers)].mean()
    never = n_orders[consenting[~consenting.isin(openers)]].mean()
    return top / bottom, opened / never


def seasonality(raw: dict[str, pd.DataFrame]) -> dict[str, float]:
    """Orders per local day: Nov-Dec vs Jan-Oct and vs Sep-Oct; busiest vs quietest weekday."""
    orders = raw["orders"]
    days = pd.date_range(orders["local_date"].min(), END, freq="D")
    daily = orders.groupby("local_date").size().reindex(days, fill_value=0)
    month = daily.index.month
    # Weekday pattern of online orders (stores close on Sundays, which flattens the total).
    online = orders[orders["sales_channel"] != "store"].groupby("local_date").size()
    online = online.reindex(days, fill_value=0)
    weekday = online.groupby(online.index.day_of_week).mean()
    return {
        "q4_vs_rest": daily[month >= 11].mean() / daily[month <= 10].mean(),
        "q4_vs_sep_oct": daily[month >= 11].mean() / daily[(month >= 9) & (month <= 10)].mean(),
        "weekday_max_min": weekday.max() / weekday.min(),
    }


# --- tests --------------------------------------------------------------------------------------


def test_repeat_ladder(raw: dict[str, pd.DataFrame]) -> None:
    p21, p32 = repeat_ladder(raw)
    assert 1.6 <= p32 / p21 <= 2.4, f"P(3rd|2nd)/P(2nd|1st) = {p32:.3f}/{p21:.3f}; want 2 +- 0.4"
    assert 0.25 <= p21 <= 0.45, f"P(2nd|1st) = {p21:.3f}; want about 0.3-0.4"


def test_pareto(raw: dict[str, pd.DataFrame]) -> None:
    share = pareto_share(raw)
    assert 0.72 <= share <= 0.88, f"top-20% revenue share {share:.3f}; want 0.80 (0.72-0.88)"


def test_loyalty_members_spend_more_per_order(raw: dict[str, pd.DataFrame]) -> None:
    ratio = loyalty_aov_ratio(raw)
    assert 1.09 <= ratio <= 1.17, f"member/non-member AOV {ratio:.3f}; want 1.13 (1.09-1.17)"


def test_referred_customers_are_worth_more_and_churn_less(raw: dict[str, pd.DataFrame]) -> None:
    value, churn = referral_ratios(raw)
    assert 1.08 <= value <= 1.24, (
        f"referred/other lifetime value {value:.3f}; want 1.16 (1.08-1.24)"
    )
    assert 0.72 <= churn <= 0.92, f"referred/other churn {churn:.3f}; want 0.82 (0.72-0.92)"


def test_nps_depends_on_experience_and_predicts_purchases(raw: dict[str, pd.DataFrame]) -> None:
    m = nps_effects(raw)
    ret = m["detractor_returned"] / m["detractor_completed"]
    gap = m["detractor_long_gap"] / m["detractor_short_gap"]
    later = m["later_promoters"] / m["later_detractors"]
    assert ret >= 2.0, f"detractor share returned/completed {ret:.2f}; want >= 2 ({m})"
    assert gap >= 1.5, f"detractor share long/short gap {gap:.2f}; want >= 1.5 ({m})"
    assert later >= 1.3, f"later orders promoters/detractors {later:.2f}; want >= 1.3 ({m})"


def test_sessions_precede_online_orders(raw: dict[str, pd.DataFrame]) -> None:
    share, store_sessions = session_before_order_share(raw)
    assert share >= 0.70, f"web/app orders with a session <= 2 h before: {share:.3f}; want >= 0.70"
    assert store_sessions == 0, f"{store_sessions} sessions reference store orders; want 0"


def test_engaged_visitors_buy_more(raw: dict[str, pd.DataFrame]) -> None:
    pageviews, opens = engagement_ratios(raw)
    assert pageviews >= 1.2, f"orders top/bottom pageview quartile {pageviews:.2f}; want >= 1.2"
    assert opens >= 1.2, f"orders openers/consenting non-openers {opens:.2f}; want >= 1.2"


def test_weekly_and_q4_seasonality(raw: dict[str, pd.DataFrame]) -> None:
    s = seasonality(raw)
    assert s["q4_vs_rest"] >= 1.3, (
        f"Nov-Dec/Jan-Oct daily orders {s['q4_vs_rest']:.2f}; want >= 1.3"
    )
    assert 1.3 <= s["q4_vs_sep_oct"] <= 1.8, (
        f"Nov-Dec/Sep-Oct daily orders {s['q4_vs_sep_oct']:.2f}; want about 1.5 (1.3-1.8)"
    )
    assert s["weekday_max_min"] >= 1.25, (
        f"busiest/quietest weekday (online) {s['weekday_max_min']:.2f}; want 1.39 (>= 1.25)"
    )


def test_volumes_and_shares(raw: dict[str, pd.DataFrame]) -> None:
    customers, orders = raw["customers"], raw["orders"]
    n = len(customers)
    per_customer = (
        orders.groupby("customer_id").size().reindex(customers["customer_id"], fill_value=0)
    )
    never = (per_customer == 0).mean()
    status = orders["status"].value_counts(normalize=True)
    sessions = raw["sessions"]
    known_cookie = sessions.groupby("anonymous_id")["customer_id"].transform("count") > 0
    logged_out = sessions.loc[known_cookie, "customer_id"].isna().mean()
    members = customers["loyalty_joined_at"].notna().mean()
    checks = {
        "orders per customer (4-10)": (len(orders) / n, 4, 10),
        "never ordered (0.15-0.20)": (never, 0.15, 0.20),
        "completed (0.83-0.87)": (status["completed"], 0.83, 0.87),
        "returned (0.07-0.11)": (status["returned"], 0.07, 0.11),
        "cancelled (0.04-0.08)": (status["cancelled"], 0.04, 0.08),
        "loyalty members (0.25-0.35)": (members, 0.25, 0.35),
        "survey responses per customer (0.5-1)": (len(raw["survey_responses"]) / n, 0.5, 1.0),
        "anonymous responses (0.03-0.07)": (
            raw["survey_responses"]["customer_id"].isna().mean(),
            0.03,
            0.07,
        ),
        "email events per customer (15-25)": (len(raw["email_events"]) / n, 15, 25),
        "customer sessions per order (2.5-3.5)": (known_cookie.sum() / len(orders), 2.5, 3.5),
        "logged-out share of known cookies (0.30-0.40)": (logged_out, 0.30, 0.40),
    }
    bad = {k: round(v, 3) for k, (v, lo, hi) in checks.items() if not lo <= v <= hi}
    assert not bad, f"out of range: {bad}"
