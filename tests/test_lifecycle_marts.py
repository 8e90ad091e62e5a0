"""The lifecycle and value marts against reference implementations and planted effects.

The shop is conftest.PLANTED (20,000 generated customers, built once per session). Each mart is
recomputed here with pandas from `fct_orders` and `dim_customers`' profile columns (upstream of
the marts under test), following the rules in docs/lifecycle.md, and compared customer by
customer or row by row. The generator's planted effects (docs/generator.md) must be recovered:
inside the reported 95 % intervals for the programme effects, within stated tolerances for the
ladder and the revenue concentration.
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pandas as pd
import pytest
from conftest import DbtResult, GeneratedBuild, pseudonym

from orchestration.lib.relations import ACTIVATION_SCHEMA, mart, staging_model

pytestmark = pytest.mark.build

# The dbt defaults (dbt_project.yml vars), as documented in docs/lifecycle.md.
CHURN_DAYS = 180
NEW_DAYS = 90
LOYAL_MIN_ORDERS = 3
TOP_VALUE_SHARE = 0.1
GAP_RATIO = 1.5
TREND_MONTHS = 6
MIN_CHANGE = 0.2
MIN_TENURE_DAYS = 365
HIGH_VALUE_SHARE = 0.2  # audience_high_value_share
DUE_WINDOW_DAYS = 7
Z_95 = 1.959964

# The generator's planted effects (docs/generator.md, "Planted effects"; tooling/generator).
PLANTED_LOYALTY_AOV_RATIO = 1.13  # loyalty_value_mult
PLANTED_REFERRAL_VALUE_RATIO = 1.16  # about +16 % lifetime net revenue
PLANTED_REFERRAL_CHURN_RATIO = 0.82  # about -18 % churn


@pytest.fixture(scope="module")
def build(planted_build: GeneratedBuild) -> DbtResult:
    return planted_build.build


def frame(build: DbtResult, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(build.database), read_only=True) as con:
        return con.execute(sql).df()


@pytest.fixture(scope="module")
def reference_date(build: DbtResult) -> pd.Timestamp:
    (value,) = build.query(
        f"select reference_date from {staging_model('stg_shop__reference_date')}"
    )[0]
    return pd.Timestamp(value)


@pytest.fixture(scope="module")
def orders(build: DbtResult) -> pd.DataFrame:
    """Accepted orders, in each customer's order (ordered_at, order_id)."""
    out = frame(
        build,
        f"""
        select order_id, customer_key, ordered_at, order_date, status,
               cast(net_revenue as double) as net_revenue
        from {mart("fct_orders")}
        """,
    )
    out["order_date"] = pd.to_datetime(out["order_date"])
    out["month_index"] = out["order_date"].dt.year * 12 + out["order_date"].dt.month - 1
    return out.sort_values(["customer_key", "ordered_at", "order_id"]).reset_index(drop=True)


@pytest.fixture(scope="module")
def completed(orders: pd.DataFrame) -> pd.DataFrame:
    """Completed orders with the days since the customer's previous completed order."""
    done = orders[orders["status"] == "completed"].copy()
    done["gap_days"] = done.groupby("customer_key")["order_date"].diff().dt.days
    done["number"] = done.groupby("customer_key").cumcount() + 1
    return done


@pytest.fixture(scope="module")
def profiles(build: DbtResult) -> pd.DataFrame:
    out = frame(
        build,
        f"""
        select customer_key, signup_date, acquisition_channel, is_loyalty_member, is_referred
        from {mart("dim_customers")}
        """,
    )
    out["signup_date"] = pd.to_datetime(out["signup_date"])
    return out.set_index("customer_key")


def population_median_interval(completed: pd.DataFrame) -> float:
    return float(completed.loc[completed["number"] == 2, "gap_days"].median())


# --- replenishment ------------------------------------------------------------------------------


def test_replenishment_in_dim_customers_matches_a_reference(
    build: DbtResult, completed: pd.DataFrame, reference_date: pd.Timestamp
) -> None:
    population = population_median_interval(completed)
    own = completed.dropna(subset=["gap_days"]).groupby("customer_key")["gap_days"].median()
    last = completed.groupby("customer_key")["order_date"].max()
    expected = pd.DataFrame({"last": last, "own": own.reindex(last.index)})
    expected["interval"] = expected["own"].fillna(population)
    expected["source"] = np.where(expected["own"].notna(), "own", "population")
    # SQL round(): half away from zero
    days = np.floor(expected["interval"] + 0.5).astype(int)
    expected["next"] = expected["last"] + pd.to_timedelta(days, unit="D")
    expected["until"] = (expected["next"] - reference_date).dt.days
    since = (reference_date - expected["last"]).dt.days
    expected["status"] = np.select(
        [
            since >= CHURN_DAYS,
            expected["until"] > DUE_WINDOW_DAYS,
            expected["until"] >= -DUE_WINDOW_DAYS,
        ],
        ["churned", "upcoming", "due"],
        "overdue",
    )

    actual = frame(
        build,
        f"""
        select customer_key, expected_reorder_interval_days, reorder_interval_source,
               expected_next_order_date, days_until_reorder_due, replenishment_status,
               is_replenishment_due
        from {mart("dim_customers")}
        """,
    ).set_index("customer_key")
    buyers = actual.loc[expected.index]
    assert (buyers["reorder_interval_source"] == expected["source"]).all()
    np.testing.assert_allclose(buyers["expected_reorder_interval_days"], expected["interval"])
    assert (pd.to_datetime(buyers["expected_next_order_date"]) == expected["next"]).all()
    assert (buyers["days_until_reorder_due"] == expected["until"]).all()
    mismatched = buyers.index[buyers["replenishment_status"] != expected["status"]]
    assert mismatched.empty, f"{len(mismatched)} customers differ, e.g. {list(mismatched[:5])}"
    assert (buyers["is_replenishment_due"] == expected["status"].isin(["due", "overdue"])).all()
    others = actual.drop(index=expected.index)
    assert (others["replenishment_status"] == "no purchase").all()
    assert not others["is_replenishment_due"].any()
    # every status occurs in a shop this size, so each rule above was exercised
    assert set(expected["status"]) == {"churned", "upcoming", "due", "overdue"}

    # the list sizes: every status, and only customers who may be contacted as contactable
    everyone = frame(
        build,
        "select customer_key, has_marketing_consent, has_unsubscribed"
        f" from {mart('dim_customers')}",
    ).set_index("customer_key")
    status = pd.concat([expected["status"], others["replenishment_status"]])
    contactable = everyone["has_marketing_consent"] & ~everyone["has_unsubscribed"]
    lists = frame(build, f"select * from {mart('rpt_replenishment_lists')}").set_index(
        "replenishment_status"
    )
    for name, row in lists.iterrows():
        members = status.index[status == name]
        assert row["customers"] == len(members), name
        assert row["contactable_customers"] == contactable.loc[members].sum(), name
    assert lists["customers"].sum() == len(actual)


# --- lifecycle ----------------------------------------------------------------------------------


def lifecycle_reference(
    orders: pd.DataFrame,
    completed: pd.DataFrame,
    profiles: pd.DataFrame,
    reference_date: pd.Timestamp,
    month: pd.Timestamp,
) -> pd.Series:
    """Every customer's stage at the end of `month` (docs/lifecycle.md), by customer_key."""
    m = month.year * 12 + month.month - 1
    period_end = min(month + pd.offsets.MonthEnd(0), reference_date)
    cohort = completed.groupby("customer_key")["month_index"].min()
    signup = profiles["signup_date"].dt.year * 12 + profiles["signup_date"].dt.month - 1
    start = pd.concat([signup, cohort.reindex(signup.index)], axis=1).min(axis=1)
    present = start.index[start <= m]

    done = completed[completed["month_index"] <= m]
    count = done.groupby("customer_key").size()
    first = done.groupby("customer_key")["order_date"].min()
    last = done.groupby("customer_key")["order_date"].max()
    reactivations = done[done["gap_days"] >= CHURN_DAYS].groupby("customer_key")["order_date"].max()
    net_to_date = done.groupby("customer_key")["net_revenue"].sum()

    def window_sum(frame: pd.DataFrame, low: int, high: int, column: str | None) -> pd.Series:
        rows = frame[(frame["month_index"] >= low) & (frame["month_index"] <= high)]
        grouped = rows.groupby("customer_key")
        return (grouped.size() if column is None else grouped[column].sum()).reindex(
            count.index, fill_value=0
        )

    returned = orders[orders["status"] == "returned"].copy()
    returned = returned[returned["month_index"] >= cohort.reindex(returned["customer_key"]).values]
    recent, previous = (m - TREND_MONTHS + 1, m), (m - 2 * TREND_MONTHS + 1, m - TREND_MONTHS)
    orders_r, orders_p = window_sum(done, *recent, None), window_sum(done, *previous, None)
    net_r, net_p = (
        window_sum(done, *recent, "net_revenue"),
        window_sum(done, *previous, "net_revenue"),
    )
    ret_r, ret_p = window_sum(returned, *recent, None), window_sum(returned, *previous, None)
    last_12 = window_sum(done, m - 11, m, None)

    population = population_median_interval(completed)
    typical = ((last - first).dt.days / (count - 1)).clip(lower=1.0).where(count >= 2, population)
    since_last = (period_end - last).dt.days
    gap = since_last / typical > GAP_RATIO
    frequency = orders_r < orders_p * (1 - MIN_CHANGE)
    with np.errstate(divide="ignore", invalid="ignore"):
        basket = (
            (orders_r > 0)
            & (orders_p > 0)
            & ((net_r / orders_r) < (net_p / orders_p) * (1 - MIN_CHANGE))
        )
        share_r, share_p = ret_r / (orders_r + ret_r), ret_p / (orders_p + ret_p)
    returns = (orders_r + ret_r > 0) & (orders_p + ret_p > 0) & (share_r > share_p + MIN_CHANGE)
    trends = frequency.astype(int) + basket.astype(int) + returns.astype(int)
    # cume_dist over the customers with a completed order by this month, highest value first
    ranked = net_to_date.reindex(cohort.index[cohort <= m])
    top = (ranked.rank(method="max", ascending=False) / len(ranked)) <= TOP_VALUE_SHARE
    top = top.reindex(count.index, fill_value=False)

    stage = pd.Series("active", index=count.index)
    stage[(last_12 >= LOYAL_MIN_ORDERS) | top] = "loyal"
    stage[gap | (trends >= 2)] = "lapsing"
    reactivated = (period_end - reactivations.reindex(count.index)).dt.days < NEW_DAYS
    stage[reactivated] = "reactivated"
    stage[(period_end - first).dt.days < NEW_DAYS] = "new"
    stage[since_last >= CHURN_DAYS] = "churned"
    return stage.reindex(present, fill_value="prospect")


@pytest.mark.parametrize("months_back", [0, 12])
def test_lifecycle_stages_match_a_reference(
    build: DbtResult,
    orders: pd.DataFrame,
    completed: pd.DataFrame,
    profiles: pd.DataFrame,
    reference_date: pd.Timestamp,
    months_back: int,
) -> None:
    month = reference_date.to_period("M").to_timestamp() - pd.DateOffset(months=months_back)
    expected = lifecycle_reference(orders, completed, profiles, reference_date, month)
    actual = frame(
        build,
        f"""
        select customer_key, lifecycle_stage from {mart("rpt_customer_lifecycle")}
        where month = date '{month.date()}'
        """,
    ).set_index("customer_key")["lifecycle_stage"]
    assert sorted(actual.index) == sorted(expected.index)
    differ = actual.index[actual != expected.reindex(actual.index)]
    assert differ.empty, f"{len(differ)} of {len(actual)} customers differ, e.g. " + ", ".join(
        f"{c}: {actual[c]} vs {expected[c]}" for c in differ[:5]
    )
    # a shop this size has customers in every stage at the reference month
    if months_back == 0:
        assert set(actual) == {
            "prospect", "new", "active", "loyal", "lapsing", "churned", "reactivated"
        }  # fmt: skip


def test_transitions_count_every_customer_month_once(build: DbtResult) -> None:
    lifecycle = frame(
        build,
        f"""
        select customer_key, month, lifecycle_stage, cast(net_revenue as double) as net_revenue
        from {mart("rpt_customer_lifecycle")}
        """,
    ).sort_values(["customer_key", "month"])
    lifecycle["from_stage"] = (
        lifecycle.groupby("customer_key")["lifecycle_stage"].shift().fillna("signup")
    )
    expected = lifecycle.groupby(["month", "from_stage", "lifecycle_stage"]).agg(
        customers=("customer_key", "size"), net_revenue=("net_revenue", "sum")
    )
    actual = frame(
        build,
        f"""
        select month, from_stage, to_stage as lifecycle_stage, customers,
               cast(net_revenue as double) as net_revenue
        from {mart("rpt_lifecycle_transitions")}
        """,
    ).set_index(["month", "from_stage", "lifecycle_stage"])
    actual = actual.loc[expected.index]
    assert (
        len(actual)
        == len(expected)
        == len(frame(build, f"select 1 from {mart('rpt_lifecycle_transitions')}"))
    )
    assert (actual["customers"] == expected["customers"]).all()
    np.testing.assert_allclose(actual["net_revenue"], expected["net_revenue"], atol=0.005)


# --- repeat-purchase ladder -------------------------------------------------------------------


def test_win_back_audience_matches_a_reference(
    planted_build: GeneratedBuild,
    build: DbtResult,
    orders: pd.DataFrame,
    completed: pd.DataFrame,
    profiles: pd.DataFrame,
    reference_date: pd.Timestamp,
) -> None:
    """audience_win_back (docs/privacy.md#audiences): at risk (RFM At Risk or Cannot Lose Them,
    or lapsing at the latest month end, from the reference above, not from the lifecycle mart),
    lifetime revenue in the top 20 % of the customers with a completed order (no CLV fit in this
    build), contactable with an email address in the CRM file."""
    customers = frame(
        build,
        f"""
        select customer_key, rfm_segment, completed_orders, is_contactable,
               cast(net_lifetime_revenue as double) as net_lifetime_revenue
        from {mart("dim_customers")}
        """,
    ).set_index("customer_key")
    month = reference_date.to_period("M").to_timestamp()
    stages = lifecycle_reference(orders, completed, profiles, reference_date, month)
    buyers = customers.loc[customers["completed_orders"] > 0, "net_lifetime_revenue"]
    percentile = (buyers.rank(method="min") - 1) / (len(buyers) - 1)
    raw = planted_build.raw
    crm = (
        pd.read_csv(raw / "customers.csv", dtype=str, keep_default_na=False)
        if (raw / "customers.csv").exists()
        else pd.read_parquet(raw / "customers.parquet").astype(str)
    )
    with_email = {pseudonym(i) for i in crm.loc[crm["email"].str.strip() != "", "customer_id"]}
    at_risk = customers["rfm_segment"].isin(["At Risk", "Cannot Lose Them"]) | (
        stages.reindex(customers.index) == "lapsing"
    )
    expected = customers.index[
        at_risk
        & (percentile.reindex(customers.index) >= 1 - HIGH_VALUE_SHARE - 1e-12)
        & customers["is_contactable"].astype(bool)
        & customers.index.isin(list(with_email))
    ]
    actual = frame(
        build,
        f"""
        select customer_key, lifecycle_stage, value_basis, value_percentile
        from {ACTIVATION_SCHEMA}.audience_win_back
        """,
    ).set_index("customer_key")
    assert sorted(actual.index) == sorted(expected)
    assert set(actual["value_basis"]) == {"lifetime revenue"}
    np.testing.assert_allclose(
        actual["value_percentile"].astype(float), percentile.reindex(actual.index), atol=1e-9
    )
    assert (actual["lifecycle_stage"] == stages.reindex(actual.index)).all()
    # the latest month decides: some members are lapsing now and were not a month before, and
    # some customers lapsing a month before (at risk by that alone) are left out now
    before = lifecycle_reference(
        orders, completed, profiles, reference_date, month - pd.DateOffset(months=1)
    )
    lapsing_now = set(stages.index[stages == "lapsing"])
    lapsing_before = set(before.index[before == "lapsing"])
    assert (lapsing_now - lapsing_before) & set(actual.index)
    eligible = set(
        customers.index[
            ~customers["rfm_segment"].isin(["At Risk", "Cannot Lose Them"])
            & (percentile.reindex(customers.index) >= 1 - HIGH_VALUE_SHARE)
            & customers["is_contactable"].astype(bool)
            & customers.index.isin(list(with_email))
        ]
    )
    left_out = (lapsing_before - lapsing_now) & eligible
    assert left_out
    assert not left_out & set(actual.index)
    assert 50 <= len(actual) < len(customers) // 10


def test_repeat_ladder_matches_a_reference_and_the_planted_ratios(
    build: DbtResult, completed: pd.DataFrame, profiles: pd.DataFrame
) -> None:
    counts = completed.groupby("customer_key").size()
    channel = profiles.loc[counts.index, "acquisition_channel"]
    segments = {("overall", "all customers"): counts}
    for name, group in counts.groupby(channel):
        segments[("acquisition_channel", name)] = group
    expected = {
        (dimension, value, n): ((group >= n).sum(), (group >= n + 1).sum())
        for (dimension, value), group in segments.items()
        for n in range(1, 11)
    }
    rows = build.query(
        f"""
        select dimension, dimension_value, order_number, customers_with_order,
               customers_with_next_order, next_order_probability
        from {mart("rpt_repeat_purchase_ladder")}
        """
    )
    actual = {(d, v, n): (w, x) for d, v, n, w, x, _ in rows}
    assert actual == expected
    probability = {(d, v, n): p for d, v, n, _, _, p in rows}
    p21 = probability[("overall", "all customers", 1)]
    p32 = probability[("overall", "all customers", 2)]
    # docs/generator.md: P(2nd | 1st) about 0.34, P(3rd | 2nd) about twice that
    assert 0.25 <= p21 <= 0.45, f"P(2nd | 1st) = {p21:.3f}; want 0.34 +- 0.09"
    assert 1.6 <= p32 / p21 <= 2.4, f"P(3rd|2nd) / P(2nd|1st) = {p32 / p21:.3f}; want 2 +- 0.4"


# --- revenue concentration ----------------------------------------------------------------------


def test_revenue_concentration_matches_a_reference_and_the_planted_pareto(
    build: DbtResult, completed: pd.DataFrame
) -> None:
    periods = {"all time": completed}
    for year, group in completed.groupby(completed["order_date"].dt.year):
        periods[str(year)] = group
    expected = {}
    for period, group in periods.items():
        revenue = group.groupby("customer_key")["net_revenue"].sum().round(2)
        revenue = revenue[revenue > 0].reset_index()
        revenue = revenue.sort_values(["net_revenue", "customer_key"], ascending=[False, True])
        for percent in (1, 5, 10, 20, 50):
            top = math.ceil(len(revenue) * percent / 100)
            expected[(period, percent)] = (
                len(revenue),
                top,
                revenue["net_revenue"].iloc[:top].sum() / revenue["net_revenue"].sum(),
            )
    rows = build.query(
        f"""
        select period, top_percent, customers, top_customers, top_revenue_share
        from {mart("rpt_revenue_concentration")}
        """
    )
    actual = {(p, t): (c, k, s) for p, t, c, k, s in rows}
    assert actual.keys() == expected.keys()
    for key, (customers, top, share) in expected.items():
        assert actual[key][:2] == (customers, top), key
        assert actual[key][2] == pytest.approx(share, rel=1e-9), key
    # docs/generator.md: the top 20 % bring about 80 % (0.806-0.818 over ten seeds)
    top_20 = actual[("all time", 20)][2]
    assert 0.77 <= top_20 <= 0.85, f"top-20 % share {top_20:.3f}; want 0.81 +- 0.04"


# --- programme effects --------------------------------------------------------------------------


def stratified_comparison(outcome: pd.Series, member: pd.Series, stratum: pd.Series) -> dict:
    """Cohort-stratified difference and ratio of means with 95 % intervals (docs/lifecycle.md)."""
    data = pd.DataFrame({"y": outcome, "g": member, "s": stratum}).dropna(subset=["y"])
    stats = data.groupby(["s", "g"])["y"].agg(["count", "mean", "var"]).unstack("g")
    stats = stats[(stats[("count", True)] >= 2) & (stats[("count", False)] >= 2)]
    n_t, n_c = stats[("count", True)], stats[("count", False)]
    weight = (n_t + n_c) / (n_t + n_c).sum()
    t = (weight * stats[("mean", True)]).sum()
    c = (weight * stats[("mean", False)]).sum()
    var_t = (weight**2 * stats[("var", True)] / n_t).sum()
    var_c = (weight**2 * stats[("var", False)] / n_c).sum()
    se_log = math.sqrt(var_t / t**2 + var_c / c**2)
    return {
        "strata": len(stats),
        "programme_customers": int(n_t.sum()),
        "comparison_customers": int(n_c.sum()),
        "programme_value": t,
        "comparison_value": c,
        "difference": t - c,
        "difference_ci_lower_95": t - c - Z_95 * math.sqrt(var_t + var_c),
        "difference_ci_upper_95": t - c + Z_95 * math.sqrt(var_t + var_c),
        "ratio": t / c,
        "ratio_ci_lower_95": t / c * math.exp(-Z_95 * se_log),
        "ratio_ci_upper_95": t / c * math.exp(Z_95 * se_log),
    }


@pytest.fixture(scope="module")
def programme_effects(build: DbtResult) -> pd.DataFrame:
    return frame(build, f"select * from {mart('rpt_programme_effects')}").set_index(
        ["programme", "metric"]
    )


def test_programme_effects_match_a_reference(
    programme_effects: pd.DataFrame,
    completed: pd.DataFrame,
    profiles: pd.DataFrame,
    reference_date: pd.Timestamp,
) -> None:
    per_customer = completed.groupby("customer_key").agg(
        orders=("order_id", "size"),
        net=("net_revenue", "sum"),
        first=("order_date", "min"),
        last=("order_date", "max"),
    )
    second = completed[completed["number"] == 2].set_index("customer_key")["order_date"]
    c = profiles.join(per_customer)
    c["net"] = c["net"].fillna(0.0)
    tenure = (reference_date - c["first"]).dt.days
    tenured = tenure >= MIN_TENURE_DAYS
    outcomes = {
        "average_order_value": c["net"] / c["orders"],
        "purchase_frequency": (c["orders"] * 365.0 / tenure).where(tenured),
        "retention_12_months": ((second.reindex(c.index) - c["first"]).dt.days <= 365)
        .astype(float)
        .where(tenured),
        "net_lifetime_revenue": c["net"],
        "churn_rate": ((reference_date - c["last"]).dt.days >= CHURN_DAYS)
        .astype(float)
        .where(tenured),
    }
    cohort = c["signup_date"].dt.to_period("M")
    programmes = {
        "loyalty": ("is_loyalty_member", ["average_order_value", "purchase_frequency",
                                          "retention_12_months", "net_lifetime_revenue"]),
        "referral": ("is_referred", ["net_lifetime_revenue", "churn_rate"]),
    }  # fmt: skip
    expected_keys = []
    for programme, (flag, metrics) in programmes.items():
        for metric in metrics:
            expected_keys.append((programme, metric))
            expected = stratified_comparison(outcomes[metric], c[flag], cohort)
            actual = programme_effects.loc[(programme, metric)]
            for column, value in expected.items():
                # the mart sums outcomes rounded to 6 decimals (exact decimal sums, so that
                # every build is identical): values agree to 1e-6 absolute, or 1e-7 relative
                assert actual[column] == pytest.approx(value, rel=1e-7, abs=1e-6), (
                    programme,
                    metric,
                    column,
                )
    assert sorted(programme_effects.index) == sorted(expected_keys)


def test_programme_effects_recover_the_planted_effects(programme_effects: pd.DataFrame) -> None:
    def interval(programme: str, metric: str) -> tuple[float, float]:
        row = programme_effects.loc[(programme, metric)]
        return row["ratio_ci_lower_95"], row["ratio_ci_upper_95"]

    low, high = interval("loyalty", "average_order_value")
    assert low <= PLANTED_LOYALTY_AOV_RATIO <= high and low > 1, (low, high)
    # membership is drawn independently of buying behaviour: no frequency or retention effect
    for metric in ("purchase_frequency", "retention_12_months"):
        low, high = interval("loyalty", metric)
        assert low <= 1 <= high, (metric, low, high)
    low, high = interval("referral", "net_lifetime_revenue")
    assert low <= PLANTED_REFERRAL_VALUE_RATIO <= high and low > 1, (low, high)
    low, high = interval("referral", "churn_rate")
    assert low <= PLANTED_REFERRAL_CHURN_RATIO <= high and high < 1, (low, high)
