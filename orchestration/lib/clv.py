"""Predicted customer lifetime value: BG/NBD and Gamma-Gamma by maximum likelihood (pure helpers).

`fit` estimates the BG/NBD model of repeat purchasing (Fader, Hardie & Lee 2005, "Counting your
customers the easy way") and the Gamma-Gamma model of spend per purchase (Fader, Hardie & Lee
2005, "RFM and CLV: using iso-value curves"; Fader & Hardie 2013, "The Gamma-Gamma model of
monetary value") with pymc-marketing's CLV models, as maximum likelihood: flat priors and
`fit(method="map")` (the library's default priors move BG/NBD's a and b by 11-14 %).

`predict` evaluates the closed-form formulas of the papers at the point estimates in numpy/scipy
(deterministic, about two seconds per million customers). `holdout_report` compares predicted
with actual repeat purchases after a calibration cut-off, and `parameters_table` turns a fit
into rows for a table.

Inputs are one row per customer (frequency = number of repeat purchase days, recency_days and
t_days in days since the first purchase); the models are fitted in weeks (`TIME_UNIT`), the unit
of the paper, so that alpha is comparable with the published 4.414 for CDNOW.

pymc-marketing (pymc, pytensor) is imported inside `fit`: importing this module stays cheap. A fit
of a small shop runs without compiling C code (`_FAST_COMPILE_UP_TO`); a larger one compiles
pytensor's C code for its number of customers (10-50 s the first time, cached under ~/.pytensor).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

TIME_UNIT = "week"
"""Time unit of the fit: recency and T in days are divided by `DAYS_PER_TIME_UNIT`."""

DAYS_PER_TIME_UNIT = 7.0
DAYS_PER_MONTH = 365.25 / 12
"""A CLV month: 30.4375 days."""

CLV_MONTHS = 12
BG_NBD_PARAMETERS = ("r", "alpha", "a", "b")
GAMMA_GAMMA_PARAMETERS = ("p", "q", "v")
FREQUENCY_BUCKETS = ("0", "1", "2", "3", "4", "5", "6", "7+")
"""Calibration frequency buckets of `holdout_report` (then a final 'all' row)."""

INPUT_COLUMNS = ("customer_id", "frequency", "recency_days", "t_days", "monetary_value")

_OPTIMIZER_OPTIONS = {"ftol": 1e-13, "gtol": 1e-9}
"""scipy L-BFGS-B options for pymc's find_MAP: tighter than the defaults (which stop up to
0.01 % short of the maximum); the curvature check below decides whether the result is trusted."""

_MAX_NEWTON_STEP = 1e-4
"""Converged when one Newton step from the estimate would move no log-parameter by more than
this (every parameter is then within 0.01 % of the maximum of the likelihood)."""

_HESSIAN_STEP = 1e-5
"""Central-difference step (in log-parameter space) for the Hessian of the log-likelihood."""

_FAST_COMPILE_UP_TO = 20_000
"""Shops of at most this many customers are fitted in pytensor's FAST_COMPILE mode (numpy, no C
code compiled); larger ones in its default mode (C code). pymc-marketing puts the customers' data
into the model as constants, so the C code is specific to a number of customers: in the default
mode every new shop size compiles again and grows the cache under ~/.pytensor that each fit reads
when it starts. Where the threshold comes from: docs/performance.md, "CLV without compiling"."""


class ClvFitError(Exception):
    """A CLV fit that cannot be made or trusted: inputs that break the models' assumptions, too few
    customers or repeat buyers, or an optimiser that did not reach a maximum of the likelihood.

    The message is one sentence saying what is wrong and what to do; it names columns and counts,
    never customers.
    """


@dataclass(frozen=True)
class ClvFit:
    """Maximum-likelihood estimates of BG/NBD and Gamma-Gamma.

    `bg_nbd` holds r, alpha, a, b (alpha in `TIME_UNIT`s); `gamma_gamma` holds p, q, v (p and q
    have no unit, v is in the currency of monetary_value). The log-likelihoods are the maximised
    full log-likelihoods summed over customers, no constant dropped: BG/NBD with recency and T in
    weeks (CDNOW: -9582.43, as published), Gamma-Gamma over the customers it was fitted on (the
    density of their mean spend; the same value as lifetimes' GammaGammaFitter). `fit` only
    returns converged fits (it raises `ClvFitError` otherwise); the flags record that for stored
    parameter tables.
    """

    bg_nbd: dict[str, float]
    gamma_gamma: dict[str, float]
    bg_nbd_log_likelihood: float
    gamma_gamma_log_likelihood: float
    bg_nbd_converged: bool
    gamma_gamma_converged: bool
    customers: int
    repeat_customers: int


@dataclass(frozen=True)
class _Inputs:
    """Validated inputs as float arrays, times in `TIME_UNIT`s."""

    customer_id: pd.Series
    frequency: np.ndarray
    recency: np.ndarray
    age: np.ndarray
    monetary_value: np.ndarray

    @property
    def spenders(self) -> np.ndarray:
        """Repeat buyers with a positive mean spend: the Gamma-Gamma population."""
        with np.errstate(invalid="ignore"):
            return (
                (self.frequency > 0) & np.isfinite(self.monetary_value) & (self.monetary_value > 0)
            )


@dataclass(frozen=True)
class _Maximum:
    estimates: dict[str, float]
    log_likelihood: float
    converged: bool


def fit(
    inputs: pd.DataFrame, *, min_customers: int = 100, min_repeat_customers: int = 20
) -> ClvFit:
    """Fit BG/NBD on all customers and Gamma-Gamma on the repeat buyers with a positive spend.

    `inputs` has one row per customer with the columns customer_id, frequency (repeat purchase
    days), recency_days (first to last purchase day), t_days (first purchase to the end of the
    calibration period) and monetary_value (mean net value of the repeat purchase days; NaN or
    None for frequency 0). Raises `ClvFitError` for invalid inputs, fewer than `min_customers`
    customers or `min_repeat_customers` repeat buyers, an optimiser that did not converge, or an
    estimate that is not finite and positive (or a Gamma-Gamma q <= 1: no finite mean spend).
    """
    data = _validated(inputs)
    customers = len(data.frequency)
    repeat_customers = int((data.frequency > 0).sum())
    if customers < min_customers:
        raise ClvFitError(
            f"the CLV models need at least {min_customers} customers with a completed order and "
            f"this shop has {customers}: they are fitted once there are more (a longer history "
            "or a larger export)."
        )
    if repeat_customers < min_repeat_customers:
        raise ClvFitError(
            f"the CLV models need at least {min_repeat_customers} repeat buyers (purchases on two "
            f"or more days) and this shop has {repeat_customers} of {customers} customers: they "
            "are fitted once there are more (a longer history or a larger export)."
        )

    import pytensor

    mode = "FAST_COMPILE" if customers <= _FAST_COMPILE_UP_TO else pytensor.config.mode
    with pytensor.config.change_flags(mode=mode):
        return _fit_models(data, customers, repeat_customers, min_repeat_customers)


def _fit_models(
    data: _Inputs, customers: int, repeat_customers: int, min_repeat_customers: int
) -> ClvFit:
    spenders = data.spenders
    bg_nbd = _maximise(
        "BetaGeoModel",
        pd.DataFrame(
            {
                "customer_id": np.arange(customers),
                "frequency": data.frequency,
                "recency": data.recency,
                "T": data.age,
            }
        ),
        BG_NBD_PARAMETERS,
    )
    _check(bg_nbd, "BG/NBD")
    if int(spenders.sum()) < max(min_repeat_customers, 1):
        raise ClvFitError(
            f"The Gamma-Gamma fit needs at least {max(min_repeat_customers, 1)} repeat buyers "
            f"with a positive monetary_value but got {int(spenders.sum())}: check that "
            "monetary_value holds the mean net value of the repeat purchase days."
        )
    gamma_gamma = _maximise(
        "GammaGammaModel",
        pd.DataFrame(
            {
                "customer_id": np.arange(int(spenders.sum())),
                "frequency": data.frequency[spenders],
                "monetary_value": data.monetary_value[spenders],
            }
        ),
        GAMMA_GAMMA_PARAMETERS,
    )
    _check(gamma_gamma, "Gamma-Gamma")
    if gamma_gamma.estimates["q"] <= 1:
        raise ClvFitError(
            f"The Gamma-Gamma fit gives q = {gamma_gamma.estimates['q']:.3g} <= 1, so the mean "
            "order value is infinite: check monetary_value for extreme values (e.g. unconverted "
            "currencies or bulk orders) before predicting CLV."
        )
    return ClvFit(
        bg_nbd=bg_nbd.estimates,
        gamma_gamma=gamma_gamma.estimates,
        bg_nbd_log_likelihood=bg_nbd.log_likelihood,
        gamma_gamma_log_likelihood=gamma_gamma.log_likelihood,
        bg_nbd_converged=bg_nbd.converged,
        gamma_gamma_converged=gamma_gamma.converged,
        customers=customers,
        repeat_customers=repeat_customers,
    )


def predict(fit: ClvFit, inputs: pd.DataFrame, *, annual_discount_rate: float) -> pd.DataFrame:
    """One row per input customer, in input order: customer_id, expected_purchases_90_days,
    expected_purchases_365_days, probability_alive, expected_order_value, clv_12_months.

    Expected purchases are the BG/NBD conditional expectation E[X(t) | x, t_x, T] (FHL 2005,
    eq. 10), P(alive) as in Fader, Hardie & Lee (2008, note 021). expected_order_value is the
    Gamma-Gamma conditional expected mean spend (Fader & Hardie 2013, eq. 5) for repeat buyers
    with a positive monetary_value and the population mean p * v / (q - 1) for everyone else.
    clv_12_months sums, over months m = 1..12 of 30.4375 days, the expected purchases in month m
    times expected_order_value, discounted by (1 + monthly rate)^m with monthly rate
    (1 + annual_discount_rate)^(1/12) - 1.
    """
    if not np.isfinite(annual_discount_rate) or annual_discount_rate < 0:
        raise ClvFitError(
            f"annual_discount_rate must be a finite rate >= 0 (e.g. 0.1 for 10 %), got "
            f"{annual_discount_rate!r}."
        )
    data = _validated(inputs)
    alive = _probability_alive(fit.bg_nbd, data)
    order_value = _expected_order_value(fit.gamma_gamma, data)
    monthly_rate = (1 + annual_discount_rate) ** (1 / CLV_MONTHS) - 1
    clv = np.zeros(len(data.frequency))
    previous = np.zeros(len(data.frequency))
    for month in range(1, CLV_MONTHS + 1):
        cumulative = _expected_purchases(
            fit.bg_nbd, data, month * DAYS_PER_MONTH / DAYS_PER_TIME_UNIT, alive
        )
        clv += (cumulative - previous) / (1 + monthly_rate) ** month
        previous = cumulative
    return pd.DataFrame(
        {
            "customer_id": data.customer_id.to_numpy(),
            "expected_purchases_90_days": _expected_purchases(
                fit.bg_nbd, data, 90 / DAYS_PER_TIME_UNIT, alive
            ),
            "expected_purchases_365_days": _expected_purchases(
                fit.bg_nbd, data, 365 / DAYS_PER_TIME_UNIT, alive
            ),
            "probability_alive": alive,
            "expected_order_value": order_value,
            "clv_12_months": clv * order_value,
        }
    )


def holdout_report(
    calibration: pd.DataFrame, holdout_purchases: pd.Series, holdout_days: int, fit: ClvFit
) -> pd.DataFrame:
    """Actual against predicted repeat purchases in a holdout period, per calibration frequency.

    `calibration` has the columns of `fit`'s inputs as of the cut-off (the fit is usually made
    on it). `holdout_purchases` holds each customer's actual purchase days in the `holdout_days`
    after the cut-off and is indexed by customer_id: customers missing from its index made no
    purchase; index values that are not calibration customers (acquired in the holdout) are
    ignored. Returns one row per bucket '0'..'6', '7+' (customers 0 and NaN means when a bucket
    is empty) and a final 'all' row: frequency_bucket, bucket_order, customers,
    actual_purchases_mean, predicted_purchases_mean, error (predicted - actual) and
    relative_error (error / actual; NaN when actual is 0).
    """
    if not np.isfinite(holdout_days) or holdout_days <= 0:
        raise ClvFitError(f"holdout_days must be a positive number of days, got {holdout_days!r}.")
    data = _validated(calibration)
    if not isinstance(holdout_purchases, pd.Series):
        raise ClvFitError("holdout_purchases must be a pandas Series indexed by customer_id.")
    if holdout_purchases.index.has_duplicates:
        raise ClvFitError(
            "holdout_purchases has duplicate customer_id index values: give one value per customer."
        )
    matched = data.customer_id.isin(holdout_purchases.index)
    if not matched.any() and len(holdout_purchases) and data.customer_id.size:
        raise ClvFitError(
            "No index value of holdout_purchases is a calibration customer_id: index the holdout "
            "purchases by customer_id (same type as the calibration column)."
        )
    actual = _float_array(
        holdout_purchases.reindex(data.customer_id.to_numpy()), "holdout_purchases"
    )
    actual = np.where(np.isnan(actual), 0.0, actual)
    if not np.isfinite(actual).all() or (actual < 0).any():
        raise ClvFitError(
            "holdout_purchases must hold finite counts >= 0 of purchase days in the holdout."
        )
    predicted = _expected_purchases(
        fit.bg_nbd,
        data,
        holdout_days / DAYS_PER_TIME_UNIT,
        _probability_alive(fit.bg_nbd, data),
    )
    bucket = np.minimum(data.frequency, len(FREQUENCY_BUCKETS) - 1).astype(int)
    rows = [
        _report_row(label, order, actual[bucket == order], predicted[bucket == order])
        for order, label in enumerate(FREQUENCY_BUCKETS)
    ]
    rows.append(_report_row("all", len(FREQUENCY_BUCKETS), actual, predicted))
    return pd.DataFrame(rows)


def parameters_table(fit: ClvFit) -> pd.DataFrame:
    """One row per parameter: model ('bg_nbd' / 'gamma_gamma'), parameter, estimate, time_unit,
    log_likelihood, converged.

    time_unit is `TIME_UNIT` for BG/NBD (alpha is a time scale; r, a, b have no unit) and None
    for Gamma-Gamma, whose parameters involve no time (v is in the currency of monetary_value).
    """
    rows: list[dict[str, Any]] = [
        {
            "model": "bg_nbd",
            "parameter": name,
            "estimate": fit.bg_nbd[name],
            "time_unit": TIME_UNIT,
            "log_likelihood": fit.bg_nbd_log_likelihood,
            "converged": fit.bg_nbd_converged,
        }
        for name in BG_NBD_PARAMETERS
    ]
    rows += [
        {
            "model": "gamma_gamma",
            "parameter": name,
            "estimate": fit.gamma_gamma[name],
            "time_unit": None,
            "log_likelihood": fit.gamma_gamma_log_likelihood,
            "converged": fit.gamma_gamma_converged,
        }
        for name in GAMMA_GAMMA_PARAMETERS
    ]
    return pd.DataFrame(rows)


def _float_array(column: pd.Series, name: str) -> np.ndarray:
    try:
        return column.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        raise ClvFitError(
            f"The CLV input column {name} is not numeric: cast it to a number before the fit."
        ) from None


def _validated(inputs: pd.DataFrame) -> _Inputs:
    """The inputs as float arrays in `TIME_UNIT`s, or ClvFitError naming the broken rule."""
    if not isinstance(inputs, pd.DataFrame):
        raise ClvFitError("The CLV inputs must be a pandas DataFrame, one row per customer.")
    missing = [column for column in INPUT_COLUMNS if column not in inputs.columns]
    if missing:
        raise ClvFitError(
            f"The CLV inputs lack the column(s) {', '.join(missing)}: give "
            f"{', '.join(INPUT_COLUMNS)}, one row per customer."
        )
    customer_id = inputs["customer_id"]
    if customer_id.isna().any():
        raise ClvFitError(
            f"{int(customer_id.isna().sum())} CLV input rows have no customer_id: drop or fix them."
        )
    if customer_id.duplicated().any():
        raise ClvFitError(
            f"{int(customer_id.duplicated().sum())} customer_id values occur more than once in the "
            "CLV inputs: give one row per customer."
        )
    frequency = _float_array(inputs["frequency"], "frequency")
    recency_days = _float_array(inputs["recency_days"], "recency_days")
    t_days = _float_array(inputs["t_days"], "t_days")
    monetary_value = _float_array(inputs["monetary_value"], "monetary_value")
    for name, values in (
        ("frequency", frequency),
        ("recency_days", recency_days),
        ("t_days", t_days),
    ):
        bad = int((~np.isfinite(values) | (values < 0)).sum())
        if bad:
            raise ClvFitError(
                f"{bad} customers have a missing, infinite or negative {name}: fix the customer "
                "summary before the CLV fit."
            )
    if (frequency != np.round(frequency)).any():
        raise ClvFitError(
            "frequency must be a whole number of repeat purchase days: fix the customer summary."
        )
    if (recency_days > t_days).any():
        raise ClvFitError(
            f"{int((recency_days > t_days).sum())} customers have recency_days greater than "
            "t_days: both count days from the first purchase, recency to the last purchase and "
            "t_days to the end of the calibration period."
        )
    if ((frequency == 0) & (recency_days != 0)).any():
        raise ClvFitError(
            f"{int(((frequency == 0) & (recency_days != 0)).sum())} customers without repeat "
            "purchases (frequency 0) have recency_days other than 0: recency_days must be 0 for "
            "them."
        )
    return _Inputs(
        customer_id=customer_id.reset_index(drop=True),
        frequency=frequency,
        recency=recency_days / DAYS_PER_TIME_UNIT,
        age=t_days / DAYS_PER_TIME_UNIT,
        monetary_value=monetary_value,
    )


def _maximise(model_name: str, data: pd.DataFrame, names: tuple[str, ...]) -> _Maximum:
    """Maximum likelihood with pymc-marketing: flat priors on every parameter, `fit("map")`.

    With HalfFlat priors (log-density 0) and find_MAP's jacobian=False, the MAP is the MLE. The
    optimiser's own status is not exposed by `fit(method="map")`, so convergence is checked here:
    the Hessian of the log-likelihood (central differences of pytensor's exact gradient, in
    log-parameter space) must be negative definite and one Newton step must be negligible.
    """
    import pymc_marketing.clv as pymc_clv
    from pymc_extras.prior import Prior

    model = getattr(pymc_clv, model_name)(model_config={name: Prior("HalfFlat") for name in names})
    model.fit(data, method="map", progressbar=False, options=_OPTIMIZER_OPTIONS)
    estimates = {name: float(model.fit_result[name].values.item()) for name in names}
    if not all(np.isfinite(value) and value > 0 for value in estimates.values()):
        return _Maximum(estimates, float("nan"), converged=False)

    pm_model = model.model
    value_vars = pm_model.continuous_value_vars
    order = [pm_model.values_to_rvs[value].name for value in value_vars]
    if sorted(order) != sorted(names) or not all(
        value.name == f"{name}_log__" for value, name in zip(value_vars, order, strict=True)
    ):
        raise RuntimeError(f"unexpected free variables of {model_name}: {value_vars}")
    log_likelihood = pm_model.compile_logp(jacobian=False)
    gradient = pm_model.compile_dlogp(jacobian=False)

    def point(log_params: np.ndarray) -> dict[str, np.ndarray]:
        return {value.name: np.asarray(x) for value, x in zip(value_vars, log_params, strict=True)}

    def score(log_params: np.ndarray) -> np.ndarray:
        return np.asarray(gradient(point(log_params)), dtype="float64")

    at = np.log([estimates[name] for name in order])
    slope = score(at)
    hessian = np.empty((len(at), len(at)))
    for i in range(len(at)):
        shift = np.zeros(len(at))
        shift[i] = _HESSIAN_STEP
        hessian[:, i] = (score(at + shift) - score(at - shift)) / (2 * _HESSIAN_STEP)
    hessian = (hessian + hessian.T) / 2
    value = float(log_likelihood(point(at)))
    converged = bool(np.isfinite(value) and np.isfinite(slope).all() and np.isfinite(hessian).all())
    if converged:
        converged = bool(np.linalg.eigvalsh(hessian).max() < 0)
    if converged:
        newton_step = np.linalg.solve(hessian, slope)
        converged = bool(np.abs(newton_step).max() <= _MAX_NEWTON_STEP)
    return _Maximum(estimates, value, converged)


def _check(maximum: _Maximum, model: str) -> None:
    if not all(np.isfinite(value) and value > 0 for value in maximum.estimates.values()):
        raise ClvFitError(
            f"The {model} fit gave a parameter that is not finite and positive: check the "
            "customer summary for implausible values, or use a longer calibration period."
        )
    if not maximum.converged:
        raise ClvFitError(
            f"The {model} fit did not converge to a maximum of the likelihood: check that "
            "frequency counts repeat purchase days and recency_days and t_days are in days, or "
            "use a longer calibration period with more repeat buyers."
        )


def _probability_alive(params: dict[str, float], data: _Inputs) -> np.ndarray:
    """P(alive | x, t_x, T): 1 for x = 0, else 1 / (1 + a / (b + x - 1) * ((alpha + T) /
    (alpha + t_x))^(r + x)), computed as expit of a log for large x."""
    from scipy.special import expit

    r, alpha, a, b = (params[name] for name in BG_NBD_PARAMETERS)
    x = data.frequency
    log_odds_dead = (r + x) * np.log((alpha + data.age) / (alpha + data.recency)) + np.log(
        a / (b + np.maximum(x, 1) - 1)
    )
    return np.where(x == 0, 1.0, expit(-log_odds_dead))


def _expected_purchases(
    params: dict[str, float], data: _Inputs, t: float, alive: np.ndarray
) -> np.ndarray:
    """E[X(t) | x, t_x, T] of FHL 2005 eq. (10), t in `TIME_UNIT`s.

    Eq. (10) is P(alive) * (a + b + x - 1) / (a - 1) * [1 - ((alpha + T) / (alpha + T + t))^(r + x)
    * 2F1(r + x, b + x; a + b + x - 1; z)] with z = t / (alpha + T + t). Euler's transformation
    2F1(A, B; C; z) = (1 - z)^(C - A - B) 2F1(C - A, C - B; C; z) turns the bracket into
    1 - (1 - z)^(a - 1) * 2F1(a + b - 1 - r, a - 1; a + b + x - 1; z), whose arguments do not grow
    with x (no overflow of the power or of 2F1 for frequent buyers).
    """
    from scipy.special import hyp2f1

    r, alpha, a, b = (params[name] for name in BG_NBD_PARAMETERS)
    x = data.frequency
    z = t / (alpha + data.age + t)
    bracket = 1 - (1 - z) ** (a - 1) * hyp2f1(a + b - 1 - r, a - 1, a + b + x - 1, z)
    return alive * (a + b + x - 1) / (a - 1) * bracket


def _expected_order_value(params: dict[str, float], data: _Inputs) -> np.ndarray:
    """Gamma-Gamma E[Z | x, mean spend] = (1 - w) * p v / (q - 1) + w * mean spend with
    w = p x / (p x + q - 1) for repeat buyers with a positive spend; p v / (q - 1) otherwise."""
    p, q, v = (params[name] for name in GAMMA_GAMMA_PARAMETERS)
    population_mean = p * v / (q - 1)
    x = data.frequency
    weight = p * x / (p * x + q - 1)
    conditional = (1 - weight) * population_mean + weight * data.monetary_value
    return np.where(data.spenders, conditional, population_mean)


def _report_row(label: str, order: int, actual: np.ndarray, predicted: np.ndarray) -> dict:
    actual_mean = float(actual.mean()) if actual.size else float("nan")
    predicted_mean = float(predicted.mean()) if predicted.size else float("nan")
    error = predicted_mean - actual_mean
    return {
        "frequency_bucket": label,
        "bucket_order": order,
        "customers": int(actual.size),
        "actual_purchases_mean": actual_mean,
        "predicted_purchases_mean": predicted_mean,
        "error": error,
        "relative_error": error / actual_mean if actual_mean else float("nan"),
    }
