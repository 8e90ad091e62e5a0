"""Behavioural parameters of the synthetic shop (the planted effects live here).

Every number that shapes a planted effect is a field of `Params`; the docstring of
`orchestration.lib.generator` explains what each does and what the tests measure.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Params:
    """Parameters of the generating process. Rates are per "average day" of the warped clock."""

    # --- seasonality --------------------------------------------------------------------------
    # Weekday factors Monday..Sunday (orders, sessions, signups, surveys).
    weekday_factor: tuple[float, ...] = (1.10, 1.02, 0.98, 0.97, 0.90, 0.85, 1.18)
    # Daily-rate multiplier of November and December relative to January..October.
    q4_factor: float = 1.5
    # Signup density grows linearly (on the warped clock) from 1 at the start to this at the end.
    signup_growth: float = 1.6
    # Local hour-of-day weights 00..23 for online activity and for store purchases.
    hour_online: tuple[float, ...] = (
        0.6, 0.35, 0.2, 0.15, 0.15, 0.25, 0.6, 1.2, 1.8, 2.2, 2.4, 2.6,
        2.9, 2.7, 2.5, 2.5, 2.6, 2.8, 3.2, 3.8, 4.0, 3.6, 2.6, 1.4,
    )  # fmt: skip
    hour_store: tuple[float, ...] = (
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1.0, 1.4,
        1.8, 1.6, 1.5, 1.6, 1.9, 2.2, 2.0, 1.2, 0, 0, 0, 0,
    )  # fmt: skip

    # --- buy till you die (orders) ------------------------------------------------------------
    never_buy: float = 0.14  # share of signups that never order
    first_in_session: float = 0.50  # share of first orders placed minutes after signup
    first_wait_days: float = 40.0  # otherwise: exponential wait (warped days)
    rate_shape_r: float = 1.0  # purchase rate lambda ~ Gamma(r, rate alpha) per warped day
    rate_alpha: float = 6.0
    rate_cap: float = 0.25  # at most one order every 4 days on average (no absurd whales)
    dropout_a: float = 0.45  # dropout after each purchase p ~ Beta(a, b)
    dropout_b: float = 0.22
    # Referred customers drop out much less but buy less often, with slightly smaller baskets.
    referral_dropout_mult: float = 0.20
    referral_rate_mult: float = 0.27
    referral_value_mult: float = 0.96

    # --- orders -------------------------------------------------------------------------------
    status_p: tuple[float, float, float] = (0.85, 0.09, 0.06)  # completed, returned, cancelled
    store_affine_share: float = 0.15  # customers who also shop in stores
    store_p_affine: float = 0.55  # P(store) per order for them ...
    store_p_other: float = 0.03  # ... and for everyone else
    app_beta: tuple[float, float] = (1.2, 2.0)  # customer's P(app | online) ~ Beta
    # Net order value in EUR = exp(mu + sigma_c z_customer + sigma_o z_order) x multipliers.
    value_mu: float = 3.85
    value_sigma_customer: float = 0.25
    value_sigma_order: float = 0.45
    loyalty_share: float = 0.30
    loyalty_value_mult: float = 1.13
    # EUR per unit of EUR, GBP, CHF (the project's reference rates, seeds/reference/fx_rates.csv).
    eur_per_unit: tuple[float, float, float] = (1.0, 1.17, 1.05)
    free_shipping_cents: tuple[int, int, int] = (5000, 4500, 6000)
    shipping_cents: tuple[int, int, int] = (495, 399, 790)
    discount_none: float = 0.60  # share of orders without discount
    discount_voucher: float = 0.10  # share with a fixed voucher; the rest get a percentage

    # --- sessions -----------------------------------------------------------------------------
    order_session_p: float = 0.88  # web/app orders with a linked session
    browse_per_order: float = 1.8  # browsing sessions ~ Poisson(this x orders + base)
    browse_base: float = 1.5
    browse_tail_days: float = 120.0  # browsing continues this long after the last order
    logged_out_p: float = 0.42  # browsing sessions of known cookies without login
    pre_signup_sessions: float = 0.7  # Poisson mean of anonymous visits before signup
    anonymous_visitors: float = 0.9  # never-identified visitors per customer
    engagement_rate_power: float = 0.35  # engagement = (lambda / mean)^power x noise
    engagement_sigma: float = 0.35

    # --- e-mail -------------------------------------------------------------------------------
    consent_share: float = 0.62
    newsletter_share: float = 0.50  # share of eligible customers in each campaign audience
    theme_share: float = 0.42
    open_logit_base: float = -1.2
    open_logit_engagement: float = 1.0
    click_p: float = 0.20
    unsubscribe_p: float = 0.006
    bad_address_share: float = 0.02

    # --- surveys (NPS) ------------------------------------------------------------------------
    survey_p: float = 0.12  # completed/returned orders that get a post-purchase response
    relationship_p: float = 0.12  # customers with one relationship survey response
    anonymous_share: float = 0.05  # responses without customer
    score_base: float = 8.1
    score_satisfaction: float = 1.3  # x satisfaction (low dropout -> satisfied)
    score_noise: float = 1.4
    score_returned: float = 3.8  # penalty for a returned order
    score_long_gap: float = 2.8  # penalty when the previous order was > 180 days earlier
    long_gap_days: float = 180.0
