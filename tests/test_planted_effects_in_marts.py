"""The generator's planted effects are visible in the marts.

The generator (docs/generator.md, "Planted effects") plants behaviour whose size is known in
advance. If the marts count orders, convert money, attribute customers or flag loyalty/referral
wrongly, these effects shrink, grow or vanish, so finding them in `marts.dim_customers` and
`marts.fct_orders` checks the marts against an independent truth.

One shop of `CUSTOMERS` customers is generated and built once per session (conftest.PLANTED).
Tolerances are about four standard deviations of each measure at this size, measured over ten
generator seeds (loyalty AOV ratio 1.108-1.155, referred value ratio 1.09-1.20, repeat ladder
ratio 1.88-1.96, top-20 % revenue share 0.806-0.818), so the test is stable yet fails if an
effect is lost.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import PLANTED, DbtResult, GeneratedBuild

pytestmark = pytest.mark.build

CUSTOMERS = PLANTED["customers"]


@pytest.fixture(scope="module")
def build(planted_build: GeneratedBuild) -> DbtResult:
    return planted_build.build


@pytest.fixture(scope="module")
def customers(build: DbtResult) -> pd.DataFrame:
    rows = build.query(
        """
        select customer_key, is_loyalty_member, is_referred, completed_orders,
               cast(net_lifetime_revenue as double)
        from marts.dim_customers
        """
    )
    columns = ["customer_key", "is_loyalty_member", "is_referred", "completed_orders", "net"]
    return pd.DataFrame(rows, columns=columns)


def test_the_shop_is_big_enough(customers: pd.DataFrame) -> None:
    assert len(customers) == CUSTOMERS
    assert customers["is_referred"].sum() > 1000
    assert customers["is_loyalty_member"].sum() > 3000


def test_loyalty_members_have_a_higher_average_order_value(build: DbtResult) -> None:
    """Members' orders are worth 1.13 x (net of discount): AOV ratio 1.13 +- 0.06."""
    rows = build.query(
        """
        select customers.is_loyalty_member,
               sum(orders.net_revenue) / count(*) as average_order_value
        from marts.fct_orders as orders
        inner join marts.dim_customers as customers
            on orders.customer_key = customers.customer_key
        where orders.is_completed
        group by customers.is_loyalty_member
        """
    )
    aov = {member: float(value) for member, value in rows}
    ratio = aov[True] / aov[False]
    assert 1.07 <= ratio <= 1.19, f"member / non-member AOV {ratio:.3f}; want 1.13 +- 0.06"


def test_referred_customers_are_worth_more(customers: pd.DataFrame) -> None:
    """Referred customers: about +16 % lifetime net revenue (all customers, incl. non-buyers)."""
    mean = customers.groupby("is_referred")["net"].mean()
    ratio = mean[True] / mean[False]
    assert 1.04 <= ratio <= 1.28, f"referred / other lifetime value {ratio:.3f}; want 1.16 +- 0.12"


def test_repeat_ladder(customers: pd.DataFrame) -> None:
    """P(3rd | 2nd) is about twice P(2nd | 1st) (completed orders)."""
    n = customers["completed_orders"]
    p21 = (n >= 2).sum() / (n >= 1).sum()
    p32 = (n >= 3).sum() / (n >= 2).sum()
    assert 0.25 <= p21 <= 0.45, f"P(2nd | 1st) = {p21:.3f}; want about 0.3-0.4"
    assert 1.6 <= p32 / p21 <= 2.4, (
        f"P(3rd|2nd) / P(2nd|1st) = {p32:.3f} / {p21:.3f}; want 2 +- 0.4"
    )


def test_pareto(customers: pd.DataFrame) -> None:
    """The top 20 % of purchasing customers bring about 80 % of net revenue."""
    revenue = customers.loc[customers["completed_orders"] > 0, "net"].sort_values(ascending=False)
    top = math.ceil(0.2 * len(revenue))
    share = revenue.iloc[:top].sum() / revenue.sum()
    assert 0.72 <= share <= 0.88, f"top-20 % share of net revenue {share:.3f}; want 0.80 +- 0.08"
