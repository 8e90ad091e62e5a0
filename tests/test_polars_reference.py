"""The Polars peer equals the pandas peer: every column of every frame, on a tiny generated shop.

`tooling.polars_reference` and `tooling.pandas_reference` are two implementations of the same
definitions (docs/metrics.md) that share no code but their output contract; the benchmark
checks both against dbt's marts (tests/test_bench.py). Here, without dbt, the Polars frames
must equal the pandas frames cell for cell, with the same columns in the same order and the
same dtypes: exact for counts, dates, text and money (Decimal), 1e-9 relative for ratios. The
shop is read from CSV (the smoke benchmark's format) and from Parquet (the M/L/XL format).
"""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tooling import pandas_reference, polars_reference
from tooling.generator import GeneratorConfig, generate

pytestmark = pytest.mark.unit

FRAMES = ("customers", "orders", "nps_monthly", "retention_cohorts", "kpis_monthly")


@pytest.fixture(scope="module", params=["csv", "parquet"])
def shop(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 customers, seed 3 (`customer-analytics generate --customers 60 --seed 3`)."""
    out = tmp_path_factory.mktemp(f"shop-{request.param}")
    generate(GeneratorConfig(customers=60, seed=3, fmt=request.param), out)
    return out


def _same(a: object, b: object) -> bool:
    """Both missing (None, NaN, NA, NaT alike), or ratios 1e-9 relative, or equal values of
    the same type (a date is not a Timestamp, a Decimal not a float)."""
    if pd.isna(a) or pd.isna(b):
        return bool(pd.isna(a) and pd.isna(b))
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return type(a) is type(b) and a == b


def frame_differences(name: str, polars: pd.DataFrame, pandas: pd.DataFrame) -> list[str]:
    """Where two frames differ: columns, row count, dtypes, cells (a few per column)."""
    if list(polars.columns) != list(pandas.columns):
        return [f"{name}: columns {list(polars.columns)} in Polars, {list(pandas.columns)}"]
    if len(polars) != len(pandas):
        return [f"{name}: {len(polars)} rows in Polars, {len(pandas)} in pandas"]
    differences = []
    for column in pandas.columns:
        if str(polars[column].dtype) != str(pandas[column].dtype):
            differences.append(
                f"{name}.{column}: dtype {polars[column].dtype} in Polars, "
                f"{pandas[column].dtype} in pandas"
            )
        pairs = zip(polars[column].tolist(), pandas[column].tolist(), strict=True)
        rows = [(row, a, b) for row, (a, b) in enumerate(pairs) if not _same(a, b)]
        differences += [
            f"{name}.{column} row {row}: Polars {a!r}, pandas {b!r}" for row, a, b in rows[:3]
        ]
    return differences


def test_the_polars_peer_equals_the_pandas_peer(shop: Path) -> None:
    expected = pandas_reference.compute_reference(shop)
    actual = polars_reference.compute_reference(shop)
    assert actual.reference_date == expected.reference_date
    differences = [
        difference
        for name in FRAMES
        for difference in frame_differences(name, getattr(actual, name), getattr(expected, name))
    ]
    assert not differences, "\n".join(differences[:30])
    # not vacuous: the shop has scored customers, churn and an incomplete reference month
    assert actual.customers["recency_score"].notna().sum() > 20
    assert (actual.kpis_monthly["churned_customers"] > 0).any()
    assert actual.kpis_monthly["is_incomplete_month"].iloc[-1]


def test_the_comparison_sees_one_changed_cell(shop: Path) -> None:
    """frame_differences is not vacuous: one euro more in one order is reported."""
    reference = polars_reference.compute_reference(shop)
    changed = reference.orders.copy()
    changed.loc[5, "net_revenue"] += 1  # a Decimal plus one euro
    differences = frame_differences("orders", changed, reference.orders)
    assert differences == [
        f"orders.net_revenue row 5: Polars {changed.loc[5, 'net_revenue']!r}, "
        f"pandas {reference.orders.loc[5, 'net_revenue']!r}"
    ]


def test_an_amount_with_three_decimals_is_refused(tmp_path: Path) -> None:
    """Money is exact cents: an amount that is not is an error naming the column, not rounded."""
    generate(GeneratorConfig(customers=20, seed=3), tmp_path)
    orders = pd.read_csv(tmp_path / "orders.csv", dtype=str, keep_default_na=False)
    orders.loc[0, "discount_amount"] = "1.005"
    orders.to_csv(tmp_path / "orders.csv", index=False)
    with pytest.raises(ValueError, match="'discount_amount' has amounts with more than two"):
        polars_reference.compute_reference(tmp_path)


def test_a_currency_without_a_rate_is_refused(tmp_path: Path) -> None:
    generate(GeneratorConfig(customers=20, seed=3), tmp_path)
    orders = pd.read_csv(tmp_path / "orders.csv", dtype=str, keep_default_na=False)
    orders.loc[0, "currency"] = "XTS"  # ISO 4217's code for testing
    orders.to_csv(tmp_path / "orders.csv", index=False)
    with pytest.raises(ValueError, match=r"Currencies without a rate in fx_rates\.csv: XTS\."):
        polars_reference.compute_reference(tmp_path)


def test_a_missing_optional_file_is_an_empty_table(shop: Path, tmp_path: Path) -> None:
    """Without the e-mail export both peers still agree (no messages: rates are NaN)."""
    for path in shop.iterdir():
        if not path.name.startswith("email_events"):
            shutil.copy(path, tmp_path / path.name)
    expected = pandas_reference.compute_reference(tmp_path)
    actual = polars_reference.compute_reference(tmp_path)
    for name in FRAMES:
        assert not frame_differences(name, getattr(actual, name), getattr(expected, name))
    assert actual.customers["email_open_rate"].isna().all()
