"""The CLV step end to end: export → dbt build → customer-analytics clv → the CLV marts.

- CDNOW, the data of the BG/NBD paper (Fader, Hardie & Lee 2005; the sample `lifetimes` ships,
  2,357 customers), exported as a shop's customers and orders files and loaded through bring
  your own data with as_of_date 1997-09-30 (the paper's calibration end; the later orders are
  quarantined as future). The SQL inputs must equal lifetimes' own summary of the transactions,
  BG/NBD must land within 1 % of the published estimates, Gamma-Gamma within 1 % of lifetimes'
  maximum-likelihood fit on the same input.
- The generated shop (conftest.PLANTED): the holdout report tracks what happened.
- A shop too small to fit: the step fails with a clear message and writes no numbers; the
  other marts are published, flagged by clv_fit_status; the Dagster asset reports it as a
  failed check.
"""

from __future__ import annotations

import shutil
import subprocess
import warnings
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import BIN, DbtResult, GeneratedBuild, pseudonym, run_clv, run_dbt, run_validate

from orchestration.lib.relations import intermediate_model, mart

with warnings.catch_warnings():
    # lifetimes 0.11 sets a pandas option that pandas 3 deprecates
    warnings.simplefilter("ignore")
    from lifetimes import GammaGammaFitter
    from lifetimes.datasets import load_dataset
    from lifetimes.utils import summary_data_from_transaction_data

pytestmark = pytest.mark.build

PUBLISHED_BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
"""Fader, Hardie & Lee (2005), CDNOW calibration to 1997-09-30, time in weeks."""
CALIBRATION_END = "1997-09-30"
HOLDOUT_TOLERANCE = 0.15
"""Generated shop: |predicted / actual - 1| of the mean holdout purchases over all customers
(measured -0.077 on conftest.PLANTED, 11,893 calibration customers, 180 holdout days)."""


def frame(database: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).df()


# --- CDNOW through bring-your-own-data --------------------------------------------------------


@pytest.fixture(scope="module")
def cdnow_transactions() -> pd.DataFrame:
    transactions = load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+")
    transactions.columns = ["customer_id", "customer_index", "date", "quantity", "amount"]
    transactions["date"] = pd.to_datetime(transactions["date"].astype(str), format="%Y%m%d")
    return transactions


@pytest.fixture(scope="module")
def cdnow_build(tmp_path_factory: pytest.TempPathFactory, cdnow_transactions) -> DbtResult:
    """The CDNOW sample as a shop's export (every order, amounts as EUR), built with
    as_of_date 1997-09-30, then `customer-analytics clv`."""
    work = tmp_path_factory.mktemp("cdnow")
    landing = work / "landing"
    landing.mkdir()
    first = cdnow_transactions.groupby("customer_id")["date"].min()
    pd.DataFrame(
        {
            "customer_id": first.index,
            "email": [f"kunde{c}@example.com" for c in first.index],
            "first_name": "Kim",
            "last_name": "Muster",
            "country_code": "US",
            "signup_at": first.dt.strftime("%Y-%m-%dT08:00:00Z").to_numpy(),
            "acquisition_channel": "direct",
            "marketing_consent": "false",
        }
    ).to_csv(landing / "customers.csv", index=False)
    orders = cdnow_transactions.reset_index(drop=True)
    pd.DataFrame(
        {
            "order_id": orders.index + 1,
            "customer_id": orders["customer_id"],
            "ordered_at": orders["date"].dt.strftime("%Y-%m-%dT12:00:00Z"),
            "status": "completed",
            "sales_channel": "web",
            "currency": "EUR",
            "gross_amount": orders["amount"].map("{:.2f}".format),
            "discount_amount": "0.00",
            "shipping_amount": "0.00",
            "item_count": orders["quantity"].clip(lower=1),
        }
    ).to_csv(landing / "orders.csv", index=False)
    vars_ = {
        "raw_data_path": str(landing),
        "as_of_date": CALIBRATION_END,
        "earliest_valid_date": "1997-01-01",
    }
    built = run_dbt(["build"], work / "warehouse.duckdb", vars_, work)
    assert built.returncode == 0, built.output[-5000:]
    done = run_clv(built.database)
    assert done.returncode == 0, done.stderr[-3000:]
    return built


def test_cdnow_inputs_equal_lifetimes_summary(
    cdnow_build: DbtResult, cdnow_transactions: pd.DataFrame
) -> None:
    expected = summary_data_from_transaction_data(
        cdnow_transactions,
        "customer_id",
        "date",
        monetary_value_col="amount",
        observation_period_end=CALIBRATION_END,
        freq="D",
    )
    actual = frame(
        cdnow_build.database,
        f"select customer_id, frequency, recency_days, t_days, monetary_value "
        f"from {intermediate_model('int_customers_clv_summarised')}",
    )
    actual = actual.set_index(actual["customer_id"].astype(int)).sort_index()
    assert len(actual) == len(expected) == 2357
    expected = expected.loc[actual.index]
    assert (actual["frequency"] == expected["frequency"]).all()
    assert (actual["recency_days"] == expected["recency"]).all()
    assert (actual["t_days"] == expected["T"]).all()
    repeat = expected["frequency"] > 0
    pd.testing.assert_series_equal(
        actual.loc[repeat, "monetary_value"],
        expected.loc[repeat, "monetary_value"],
        check_names=False,
        rtol=1e-9,
    )
    assert actual.loc[~repeat, "monetary_value"].isna().all()


def test_cdnow_bg_nbd_reproduces_the_paper(cdnow_build: DbtResult) -> None:
    parameters = frame(cdnow_build.database, f"select * from {mart('clv_model_parameters')}")
    bg_nbd = parameters[parameters["model"] == "bg_nbd"].set_index("parameter")
    assert set(bg_nbd.index) == set(PUBLISHED_BG_NBD)
    for name, published in PUBLISHED_BG_NBD.items():
        assert bg_nbd.loc[name, "estimate"] == pytest.approx(published, rel=0.01), name
    assert (bg_nbd["time_unit"] == "week").all()
    assert bg_nbd["converged"].all()


def test_cdnow_gamma_gamma_equals_lifetimes_maximum_likelihood(
    cdnow_build: DbtResult, cdnow_transactions: pd.DataFrame
) -> None:
    inputs = frame(
        cdnow_build.database,
        "select frequency, monetary_value"
        f" from {intermediate_model('int_customers_clv_summarised')}"
        " where frequency > 0 and monetary_value > 0",
    )
    reference = GammaGammaFitter(penalizer_coef=0.0)
    reference.fit(inputs["frequency"], inputs["monetary_value"])
    parameters = frame(cdnow_build.database, f"select * from {mart('clv_model_parameters')}")
    gamma_gamma = parameters[parameters["model"] == "gamma_gamma"].set_index("parameter")
    for name in ("p", "q", "v"):
        assert gamma_gamma.loc[name, "estimate"] == pytest.approx(
            reference.params_[name], rel=0.01
        ), name
    status = frame(cdnow_build.database, f"select * from {mart('clv_fit_status')}")
    assert status.loc[0, "fit_status"] == "fitted"
    assert str(status.loc[0, "reference_date"])[:10] == CALIBRATION_END
    predictions = frame(cdnow_build.database, f"select * from {mart('customer_clv_predictions')}")
    assert len(predictions) == 2357
    # one prediction per CDNOW customer, named by its pseudonym as in every mart
    assert set(predictions["customer_key"]) == {
        pseudonym(str(customer_id)) for customer_id in cdnow_transactions["customer_id"].unique()
    }
    assert predictions["probability_alive"].between(0, 1).all()
    assert (predictions["clv_12_months"] >= 0).all()


# --- the generated shop: the holdout ------------------------------------------------------------


def test_the_holdout_tracks_the_generated_shop(
    planted_build: GeneratedBuild, tmp_path: Path
) -> None:
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(planted_build.build.database, database)
    done = run_clv(database)
    assert done.returncode == 0, done.stderr[-3000:]
    holdout = frame(database, f"select * from {mart('rpt_clv_holdout')}").set_index(
        "frequency_bucket"
    )
    inputs = frame(
        database,
        f"select frequency_calibration, holdout_purchases "
        f"from {intermediate_model('int_customers_clv_summarised')} where is_in_calibration",
    )
    # the actuals are what the customers did (counted here from the inputs)
    overall = holdout.loc["all"]
    assert overall["customers"] == len(inputs)
    assert overall["actual_purchases_mean"] == pytest.approx(inputs["holdout_purchases"].mean())
    zero = inputs[inputs["frequency_calibration"] == 0]
    assert holdout.loc["0", "customers"] == len(zero)
    assert holdout.loc["0", "actual_purchases_mean"] == pytest.approx(
        zero["holdout_purchases"].mean()
    )
    relative = overall["predicted_purchases_mean"] / overall["actual_purchases_mean"] - 1
    assert abs(relative) <= HOLDOUT_TOLERANCE, f"holdout: predicted / actual - 1 = {relative:.3f}"
    # more past purchases predict more future ones
    predicted = holdout.sort_values("bucket_order")["predicted_purchases_mean"].iloc[:-1]
    assert predicted.is_monotonic_increasing, predicted.to_dict()

    # the CLV distribution by segment, recomputed from the predictions and the segments
    joined = frame(
        database,
        f"select segments.rfm_segment, predictions.clv_12_months"
        f" from {mart('customer_clv_predictions')} as predictions"
        f" inner join {mart('dim_customers')} as segments using (customer_key)",
    )
    grouped = joined.groupby("rfm_segment")["clv_12_months"]
    by_segment = frame(database, f"select * from {mart('rpt_clv_by_segment')}").set_index(
        "rfm_segment"
    )
    assert sorted(by_segment.index) == sorted(grouped.groups)
    for segment, values in grouped:
        row = by_segment.loc[segment]
        assert row["customers"] == len(values)
        assert row["total_clv_12_months"] == pytest.approx(values.sum(), rel=1e-9)
        assert row["median_clv_12_months"] == pytest.approx(values.median(), rel=1e-9)
        assert row["p90_clv_12_months"] == pytest.approx(
            sorted(values)[0] if len(values) == 1 else values.quantile(0.9), rel=1e-9
        )
    champions = by_segment.loc["Champions", "mean_clv_12_months"]
    assert champions == by_segment["mean_clv_12_months"].max()  # the best customers, worth most


# --- too small to fit ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def small_shop(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    """A shop of 60 customers: too few to fit (fewer than 100 with an order)."""
    work = tmp_path_factory.mktemp("small_shop")
    generated = subprocess.run(
        [
            str(BIN / "customer-analytics"),
            "generate",
            "--customers=60",
            "--seed=5",
            "--out",
            str(work / "raw"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert generated.returncode == 0, generated.stderr[-3000:]
    built = run_dbt(
        ["build"], work / "warehouse.duckdb", {"raw_data_path": str(work / "raw")}, work
    )
    assert built.returncode == 0, built.output[-5000:]
    return built


def test_a_shop_too_small_fails_clearly_and_the_rest_is_published_flagged(
    small_shop: DbtResult, tmp_path: Path
) -> None:
    from orchestration.lib.publish import publish

    database = tmp_path / "warehouse.duckdb"
    shutil.copy(small_shop.database, database)
    done = run_clv(database)
    assert done.returncode == 1, done.stderr
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("customer-analytics clv: error: CLV not fitted:")
    assert "customers" in message and "published" in message
    status = frame(database, f"select fit_status, message from {mart('clv_fit_status')}")
    assert status.loc[0, "fit_status"] == "failed"
    for table in ("customer_clv_predictions", "clv_model_parameters", "rpt_clv_holdout"):
        assert frame(database, f"select count(*) as n from {mart(table)}").loc[0, "n"] == 0

    # the rest passes every suite (the CLV suites expect the empty tables of a failed fit)
    validated = run_validate(database)
    assert validated.returncode == 0, validated.stdout[-3000:]
    served = tmp_path / "serving" / "served.duckdb"
    publish(database, served, tmp_path / "exports", "small-1", reference_date="2025-12-31")
    served_status = frame(served, f"select fit_status from {mart('clv_fit_status')}")
    assert served_status.loc[0, "fit_status"] == "failed"
    assert frame(served, f"select count(*) as n from {mart('dim_customers')}").loc[0, "n"] == 60


def test_publish_refuses_a_fitted_build_whose_predictions_are_missing(
    small_shop: DbtResult, tmp_path: Path
) -> None:
    """The empty CLV marts are allowed only while the status says they were not fitted."""
    from orchestration.lib.publish import EmptyMartError, publish

    database = tmp_path / "warehouse.duckdb"
    shutil.copy(small_shop.database, database)
    with duckdb.connect(str(database)) as con:
        con.execute(f"update {mart('clv_fit_status')} set fit_status = 'fitted'")
    with pytest.raises(EmptyMartError, match="customer_clv_predictions"):
        publish(database, tmp_path / "served.duckdb", tmp_path / "exports", "x", "2025-12-31")


def test_the_dagster_asset_reports_a_failed_fit_as_a_failed_check(
    small_shop: DbtResult, tmp_path: Path
) -> None:
    import dagster as dg

    from orchestration.defs.clv.assets import CLV_CHECK_NAME, customer_clv_fit
    from orchestration.defs.resources import WarehouseResource

    database = tmp_path / "warehouse.duckdb"
    shutil.copy(small_shop.database, database)
    result = dg.materialize(
        [customer_clv_fit],
        resources={
            "warehouse": WarehouseResource(database=str(database), landing_dir=str(tmp_path))
        },
        raise_on_error=False,
    )
    assert result.success  # the rest of the run (publish) goes on
    evaluations = {e.check_name: e for e in result.get_asset_check_evaluations()}
    evaluation = evaluations[CLV_CHECK_NAME]
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert "CLV not fitted" in (evaluation.description or "")
    # the CLV tables' suites ran on what the step wrote: empty, as expected, so they pass
    assert evaluations["gx_customer_clv_predictions"].passed
    assert not evaluations["gx_clv_fit_status"].passed  # a warning: the fit failed
    assert evaluations["gx_clv_fit_status"].severity == dg.AssetCheckSeverity.WARN
    (materialization,) = result.asset_materializations_for_node("clv__customer_clv_fit")
    assert materialization.metadata["status"].value == "failed"


# --- the command before and beside the other entry points ----------------------------------


def test_clv_before_any_build_says_what_to_do(tmp_path: Path) -> None:
    done = run_clv(tmp_path / "nothing-built.duckdb")
    assert done.returncode == 2
    assert done.stderr.strip().endswith("run make build (or dbt build) first.")
    assert not (tmp_path / "nothing-built.duckdb").exists()  # nothing created


def test_clv_on_a_file_without_the_clv_marts_says_what_to_do(tmp_path: Path) -> None:
    database = tmp_path / "older.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create schema marts; create table marts.dim_customers (customer_key varchar)")
    done = run_clv(database)
    assert done.returncode == 2
    assert "has no marts.clv_fit_status: run dbt build (or make build) first" in done.stderr


def test_clv_while_another_process_writes_the_file_fails_cleanly(
    small_shop: DbtResult, tmp_path: Path
) -> None:
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(small_shop.database, database)
    with duckdb.connect(str(database)):  # a writer holds DuckDB's lock (as dbt does)
        done = run_clv(database)
    assert done.returncode == 2
    assert "is in use by another process" in done.stderr
    assert "Traceback" not in done.stderr
    # nothing was written: the file still says what dbt wrote
    status = frame(database, f"select fit_status from {mart('clv_fit_status')}")
    assert status.loc[0, "fit_status"] == "not fitted"
