"""The CLV fit (orchestration/lib/clv.py) against the BG/NBD paper and lifetimes.

Data: the CDNOW sample of Fader, Hardie & Lee (2005) shipped with lifetimes (2,357 customers),
calibration to 1997-09-30, holdout 1997-10-01..1998-06-30 (39 weeks). References computed
independently of the code under test: the published BG/NBD estimates and log-likelihood,
lifetimes' own maximum-likelihood fitters and its prediction formulas (the original form of
eq. 10; the code under test uses Euler's transformation), and a month-by-month CLV loop here.

`build` tier: the first fit in a process compiles pytensor code (10-50 s on a cold cache).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from orchestration.lib import clv

with warnings.catch_warnings():
    # lifetimes 0.11 sets a pandas option that pandas 3 deprecates
    warnings.simplefilter("ignore")
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.datasets import load_dataset
    from lifetimes.utils import calibration_and_holdout_data

pytestmark = pytest.mark.build

PUBLISHED_BG_NBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
"""Fader, Hardie & Lee (2005), CDNOW, weeks."""
PUBLISHED_LOG_LIKELIHOOD = -9582.4
HOLDOUT_DAYS = 273
ANNUAL_DISCOUNT_RATE = 0.10


@dataclass(frozen=True)
class Cdnow:
    inputs: pd.DataFrame
    holdout_purchases: pd.Series
    fit: clv.ClvFit


@pytest.fixture(scope="module")
def cdnow() -> Cdnow:
    transactions = load_dataset("CDNOW_sample.txt", header=None, sep=r"\s+")
    transactions.columns = ["customer_id", "customer_index", "date", "quantity", "amount"]
    transactions["date"] = pd.to_datetime(transactions["date"].astype(str), format="%Y%m%d")
    summary = calibration_and_holdout_data(
        transactions,
        "customer_id",
        "date",
        calibration_period_end="1997-09-30",
        observation_period_end="1998-06-30",
        freq="D",
        monetary_value_col="amount",
    )
    assert len(summary) == 2357
    assert (summary["duration_holdout"] == HOLDOUT_DAYS).all()
    customer_id = summary.index.astype(str)
    inputs = pd.DataFrame(
        {
            "customer_id": customer_id,
            "frequency": summary["frequency_cal"].astype(int).to_numpy(),
            "recency_days": summary["recency_cal"].to_numpy(),
            "t_days": summary["T_cal"].to_numpy(),
            "monetary_value": summary["monetary_value_cal"]
            .where(summary["frequency_cal"] > 0)
            .to_numpy(),
        }
    )
    holdout = pd.Series(summary["frequency_holdout"].to_numpy(), index=customer_id)
    return Cdnow(inputs, holdout, clv.fit(inputs))


def _lifetimes_bg_nbd(params: dict[str, float]) -> BetaGeoFitter:
    fitter = BetaGeoFitter()
    fitter.params_ = pd.Series({name: params[name] for name in ("r", "alpha", "a", "b")})
    return fitter


def _lifetimes_gamma_gamma(params: dict[str, float]) -> GammaGammaFitter:
    fitter = GammaGammaFitter()
    fitter.params_ = pd.Series({name: params[name] for name in ("p", "q", "v")})
    return fitter


def _weeks(days: pd.Series | np.ndarray | float) -> np.ndarray:
    return np.asarray(days, dtype=float) / 7


def test_bg_nbd_reproduces_the_published_cdnow_estimates(cdnow: Cdnow) -> None:
    fit = cdnow.fit
    assert fit.customers == 2357
    assert fit.repeat_customers == int((cdnow.inputs["frequency"] > 0).sum())
    for name, published in PUBLISHED_BG_NBD.items():
        assert fit.bg_nbd[name] == pytest.approx(published, rel=0.01), name
    assert fit.bg_nbd_log_likelihood == pytest.approx(PUBLISHED_LOG_LIKELIHOOD, abs=0.05)
    assert fit.bg_nbd_converged and fit.gamma_gamma_converged

    # lifetimes' own MLE on the same summary: the flat-prior MAP is the same maximum
    reference = BetaGeoFitter().fit(
        cdnow.inputs["frequency"],
        _weeks(cdnow.inputs["recency_days"]),
        _weeks(cdnow.inputs["t_days"]),
    )
    for name in ("r", "alpha", "a", "b"):
        assert fit.bg_nbd[name] == pytest.approx(reference.params_[name], rel=1e-4), name


def test_gamma_gamma_matches_the_lifetimes_mle(cdnow: Cdnow) -> None:
    repeat = cdnow.inputs[cdnow.inputs["frequency"] > 0]
    reference = GammaGammaFitter(penalizer_coef=0.0).fit(
        repeat["frequency"], repeat["monetary_value"]
    )
    for name in ("p", "q", "v"):
        assert cdnow.fit.gamma_gamma[name] == pytest.approx(reference.params_[name], rel=0.01)
        assert cdnow.fit.gamma_gamma[name] == pytest.approx(reference.params_[name], rel=1e-4)
    # lifetimes minimises the mean negative log-likelihood
    reference_log_likelihood = -reference._negative_log_likelihood_ * len(repeat)
    assert cdnow.fit.gamma_gamma_log_likelihood == pytest.approx(reference_log_likelihood, rel=1e-9)


def test_fit_does_not_depend_on_the_row_order(cdnow: Cdnow) -> None:
    shuffled = cdnow.inputs.sample(frac=1.0, random_state=7)
    again = clv.fit(shuffled)
    for name, value in {**cdnow.fit.bg_nbd, **cdnow.fit.gamma_gamma}.items():
        assert again.bg_nbd.get(name, again.gamma_gamma.get(name)) == pytest.approx(value, rel=1e-6)


def _with_extremes(inputs: pd.DataFrame) -> pd.DataFrame:
    """CDNOW plus customers the data lacks: very frequent, long silent, and brand new."""
    extremes = pd.DataFrame(
        {
            "customer_id": ["frequent", "frequent_silent", "new", "one_repeat_today"],
            "frequency": [60, 60, 0, 1],
            "recency_days": [270.0, 20.0, 0.0, 5.0],
            "t_days": [272.0, 272.0, 0.0, 5.0],
            "monetary_value": [30.0, 30.0, None, 12.5],
        }
    )
    return pd.concat([inputs, extremes], ignore_index=True)


def test_predict_matches_lifetimes_at_the_same_parameters(cdnow: Cdnow) -> None:
    inputs = _with_extremes(cdnow.inputs)
    predicted = clv.predict(cdnow.fit, inputs, annual_discount_rate=ANNUAL_DISCOUNT_RATE)
    assert list(predicted.columns) == [
        "customer_id",
        "expected_purchases_90_days",
        "expected_purchases_365_days",
        "probability_alive",
        "expected_order_value",
        "clv_12_months",
    ]
    assert predicted["customer_id"].tolist() == inputs["customer_id"].tolist()

    bg_nbd = _lifetimes_bg_nbd(cdnow.fit.bg_nbd)
    x = inputs["frequency"].to_numpy()
    t_x = _weeks(inputs["recency_days"])
    age = _weeks(inputs["t_days"])

    def expected(days: float) -> np.ndarray:
        return bg_nbd.conditional_expected_number_of_purchases_up_to_time(_weeks(days), x, t_x, age)

    np.testing.assert_allclose(predicted["expected_purchases_90_days"], expected(90), rtol=1e-9)
    np.testing.assert_allclose(predicted["expected_purchases_365_days"], expected(365), rtol=1e-9)
    np.testing.assert_allclose(
        predicted["probability_alive"],
        bg_nbd.conditional_probability_alive(x, t_x, age),
        rtol=1e-9,
    )

    gamma_gamma = _lifetimes_gamma_gamma(cdnow.fit.gamma_gamma)
    p, q, v = (cdnow.fit.gamma_gamma[name] for name in ("p", "q", "v"))
    repeat = (inputs["frequency"] > 0).to_numpy()
    order_value = np.full(len(inputs), p * v / (q - 1))
    order_value[repeat] = gamma_gamma.conditional_expected_average_profit(
        inputs["frequency"][repeat], inputs["monetary_value"][repeat]
    )
    np.testing.assert_allclose(predicted["expected_order_value"], order_value, rtol=1e-12)

    monthly_rate = (1 + ANNUAL_DISCOUNT_RATE) ** (1 / 12) - 1
    reference_clv = np.zeros(len(inputs))
    for month in range(1, 13):
        in_month = expected(month * 30.4375) - expected((month - 1) * 30.4375)
        reference_clv += in_month * order_value / (1 + monthly_rate) ** month
    np.testing.assert_allclose(predicted["clv_12_months"], reference_clv, rtol=1e-9)

    # sanity of the extremes: a long-silent frequent buyer is almost surely gone
    by_id = predicted.set_index("customer_id")
    assert by_id.loc["frequent", "probability_alive"] > 0.9
    assert by_id.loc["frequent_silent", "probability_alive"] < 1e-6
    assert by_id.loc["new", "probability_alive"] == 1.0


def test_predict_is_deterministic_and_row_wise(cdnow: Cdnow) -> None:
    inputs = cdnow.inputs
    full = clv.predict(cdnow.fit, inputs, annual_discount_rate=ANNUAL_DISCOUNT_RATE)
    part = clv.predict(cdnow.fit, inputs.iloc[::-7], annual_discount_rate=ANNUAL_DISCOUNT_RATE)
    pd.testing.assert_frame_equal(
        part.reset_index(drop=True), full.iloc[::-7].reset_index(drop=True), check_exact=True
    )


def test_too_few_customers_raise_a_clear_error(cdnow: Cdnow) -> None:
    with pytest.raises(
        clv.ClvFitError,
        match=r"at least 100 customers with a completed order and this shop has 10: .*export",
    ):
        clv.fit(cdnow.inputs.head(10))


def test_no_repeat_buyers_raise_a_clear_error(cdnow: Cdnow) -> None:
    nobody_repeats = cdnow.inputs[cdnow.inputs["frequency"] == 0]
    assert len(nobody_repeats) > 100
    with pytest.raises(clv.ClvFitError, match=r"at least 20 repeat buyers .* this shop has 0 of "):
        clv.fit(nobody_repeats)


def test_an_unidentified_likelihood_is_not_reported_as_converged(cdnow: Cdnow) -> None:
    """Without the thresholds, a population without repeat buyers leaves a and b unidentified
    (the likelihood is flat in them): the curvature check must refuse the result."""
    nobody_repeats = cdnow.inputs[cdnow.inputs["frequency"] == 0]
    with pytest.raises(clv.ClvFitError, match=r"^The BG/NBD fit (did not converge|gave)"):
        clv.fit(nobody_repeats, min_repeat_customers=0)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda df: df.drop(columns="t_days"), r"lack the column\(s\) t_days"),
        (lambda df: df.assign(recency_days=df["t_days"] + 1), r"recency_days greater than t_days"),
        (lambda df: df.assign(frequency=df["frequency"] + 0.5), r"whole number"),
        (lambda df: df.assign(customer_id="same"), r"occur more than once"),
        (lambda df: df.assign(t_days=-1.0), r"negative t_days"),
        (
            lambda df: df.assign(recency_days=df["recency_days"].where(df["frequency"] > 0, 1.0)),
            r"frequency 0\) have recency_days other than 0",
        ),
    ],
)
def test_invalid_inputs_raise_one_clear_sentence(cdnow: Cdnow, change, message: str) -> None:
    with pytest.raises(clv.ClvFitError, match=message) as raised:
        clv.fit(change(cdnow.inputs.head(200)))
    text = str(raised.value)
    assert text.count(". ") == 0 and text.endswith(".")
    assert not any(customer in text for customer in cdnow.inputs["customer_id"].head(200))


def test_holdout_report_against_lifetimes_and_the_actual_purchases(cdnow: Cdnow) -> None:
    report = clv.holdout_report(cdnow.inputs, cdnow.holdout_purchases, HOLDOUT_DAYS, cdnow.fit)
    assert report["frequency_bucket"].tolist() == [*clv.FREQUENCY_BUCKETS, "all"]
    assert report["bucket_order"].tolist() == list(range(9))

    bg_nbd = _lifetimes_bg_nbd(cdnow.fit.bg_nbd)
    inputs = cdnow.inputs
    reference = pd.DataFrame(
        {
            "bucket": np.minimum(inputs["frequency"], 7),
            "actual": cdnow.holdout_purchases.loc[inputs["customer_id"]].to_numpy(),
            "predicted": bg_nbd.conditional_expected_number_of_purchases_up_to_time(
                _weeks(HOLDOUT_DAYS),
                inputs["frequency"].to_numpy(),
                _weeks(inputs["recency_days"]),
                _weeks(inputs["t_days"]),
            ),
        }
    )
    by_bucket = reference.groupby("bucket").agg(
        customers=("actual", "size"), actual=("actual", "mean"), predicted=("predicted", "mean")
    )
    buckets = report.iloc[:8].set_index("bucket_order")
    assert buckets["customers"].tolist() == by_bucket["customers"].tolist()
    np.testing.assert_allclose(buckets["actual_purchases_mean"], by_bucket["actual"], rtol=1e-12)
    np.testing.assert_allclose(
        buckets["predicted_purchases_mean"], by_bucket["predicted"], rtol=1e-9
    )
    np.testing.assert_allclose(
        buckets["error"], by_bucket["predicted"] - by_bucket["actual"], rtol=1e-9, atol=1e-12
    )

    total = report.iloc[-1]
    assert total["customers"] == 2357
    assert total["actual_purchases_mean"] == pytest.approx(reference["actual"].mean(), rel=1e-12)
    assert total["predicted_purchases_mean"] == pytest.approx(
        reference["predicted"].mean(), rel=1e-9
    )
    # observed: -12.1 % (1,653 predicted against 1,882 actual purchase days in 39 weeks; the
    # under-prediction is lifetimes' too, see above, and largest in the buckets 1 and 2: -25 %)
    assert abs(total["relative_error"]) < 0.15


def test_holdout_report_refuses_holdout_purchases_not_indexed_by_customer(cdnow: Cdnow) -> None:
    by_row = cdnow.holdout_purchases.reset_index(drop=True)
    with pytest.raises(clv.ClvFitError, match=r"index the holdout purchases by customer_id"):
        clv.holdout_report(cdnow.inputs, by_row, HOLDOUT_DAYS, cdnow.fit)


def test_parameters_table(cdnow: Cdnow) -> None:
    table = clv.parameters_table(cdnow.fit)
    assert table.columns.tolist() == [
        "model",
        "parameter",
        "estimate",
        "time_unit",
        "log_likelihood",
        "converged",
    ]
    assert table["parameter"].tolist() == ["r", "alpha", "a", "b", "p", "q", "v"]
    estimates = dict(zip(table["parameter"], table["estimate"], strict=True))
    assert estimates == {**cdnow.fit.bg_nbd, **cdnow.fit.gamma_gamma}
    assert table["time_unit"].tolist()[:4] == ["week"] * 4
    assert table["time_unit"].isna().tolist()[4:] == [True] * 3
    assert table.groupby("model")["log_likelihood"].first().to_dict() == {
        "bg_nbd": cdnow.fit.bg_nbd_log_likelihood,
        "gamma_gamma": cdnow.fit.gamma_gamma_log_likelihood,
    }
