"""Synthetic raw data for customer-analytics: a European fashion shop with planted effects.

`generate(GeneratorConfig(...), out_dir)` writes five raw tables as CSV or Parquet:
`customers` (CRM export), `orders` (shop), `sessions` (web analytics), `survey_responses`
(NPS tool) and `email_events` (e-mail service). The output depends only on (seed, customers,
start, end, defects): the same arguments give the same bytes on any machine. The raw data
contract (columns, formats) is documented in docs/generator.md.

How it works
------------
Customers are simulated in chunks of 50,000 with per-chunk random streams derived from the seed
(`numpy.random.SeedSequence(seed, spawn_key=...)`); every step is vectorised over a chunk.
Tables are then merged in time order in ~30-day buckets, ids are assigned in (timestamp,
tie-break) order, and rows are written incrementally; memory stays bounded at any size.

Behaviour runs on a seasonal "business clock": each local (Europe/Berlin) day advances the
clock by its weight, weekday factor x Q4 factor, normalised to mean 1. A Poisson process on
that clock has exactly the planted seasonality. Times of day come from an hour-of-day profile
(stores: opening hours, closed on Sundays).

Planted effects (parameters are fields of `Params`; defaults in brackets)
-------------------------------------------------------------------------
1. Buy till you die (BG/NBD-style). Each customer has a purchase rate
   lambda ~ Gamma(shape `rate_shape_r` [1.0], rate `rate_alpha` [7.0]) per clock day, capped at
   `rate_cap` [0.25], and a dropout probability p ~ Beta(`dropout_a` [0.45], `dropout_b` [0.18]).
   `never_buy` [0.14] of signups never order; the first order comes in the signup session
   (`first_in_session` [0.5]) or after an exponential wait (`first_wait_days` [40]). Repeat
   orders are a Poisson(lambda) process on the clock; after every order the customer dies
   with probability p. (Drawn exactly: K = min(N - 1, M) repeats with N ~ Geometric(p) and
   M ~ Poisson(lambda x remaining clock), placed at the first K of M uniform order statistics.)
2. Seasonality: weekday factors Mon..Sun `weekday_factor` [1.10 1.02 0.98 0.97 0.90 0.85 1.18];
   November and December run at `q4_factor` [1.5] x the daily rate of the other months.
   Signups follow the same clock with linear growth to `signup_growth` [1.6] x by the end.
3. Repeat ladder (emerges from 1): P(3rd | 2nd) is about twice P(2nd | 1st) (~0.72 vs ~0.34),
   because customers with a low p survive their first orders.
4. Pareto (emerges from 1 and the order values): the top 20 % of purchasing customers bring
   ~80 % of net revenue. Net value per order (EUR) = exp(`value_mu` [3.85] + customer effect
   N(0, `value_sigma_customer` [0.25]) + order effect N(0, `value_sigma_order` [0.45])).
5. Loyalty: `loyalty_share` [0.30] of customers are members; their orders are worth
   `loyalty_value_mult` [1.13] x (net of discount).
6. Referral: referred customers (acquisition_channel = referral) drop out far less
   (p x `referral_dropout_mult` [0.20]) but buy less often (lambda x `referral_rate_mult`
   [0.27]) with smaller baskets (x `referral_value_mult` [0.91]); net effect about +16 %
   lifetime net revenue and -18 % churn (no completed order in the last 180 days, among
   customers whose first completed order is at least 365 days before the end).
7. NPS: post-purchase responses (`survey_p` [0.12] of completed/returned orders) score
   round(`score_base` [8.1] + `score_satisfaction` [1.3] x satisfaction + N(0, `score_noise`
   [1.4]) - `score_returned` [3.8] if the order was returned - `score_long_gap` [2.8] if the
   previous order was more than `long_gap_days` [180] days earlier), clipped to 0..10.
   Satisfaction is -0.45 logit(p) (+ noise), so promoters are the customers who keep buying.
   `relationship_p` [0.12] of customers answer a relationship survey (no order) and
   `anonymous_share` [0.05] of responses are anonymous.
8. Sessions precede orders: `order_session_p` [0.88] of web/app orders have a session with
   their order_id that starts 1-119 minutes before the order; store orders have none.
   Browsing sessions ~ Poisson(`browse_per_order` [1.8] x orders + `browse_base` [1.5]),
   `logged_out_p` [0.42] of them without login but with the customer's cookie, plus visits
   before signup (`pre_signup_sessions` [0.7]) and visitors who never identify
   (`anonymous_visitors` [0.9] per customer).
9. Engagement: engagement = (lambda / mean lambda)^`engagement_rate_power` [0.35] x
   lognormal(`engagement_sigma` [0.35]) drives pageviews, session length and the e-mail open
   rate (logit = `open_logit_base` [-1.2] + `open_logit_engagement` [1.0] x log engagement), so
   engaged visitors and e-mail openers buy more.
10. E-mail: two campaigns a month (a newsletter on the 5th and a themed one, e.g.
    `2024-11-black-friday`) to `newsletter_share` [0.5] / `theme_share` [0.42] of customers
    inside their consent window; bounces, opens, clicks (`click_p` [0.2]) and unsubscribes
    (`unsubscribe_p` [0.006]; no mail afterwards, consent set to false at that instant).

Defects (`defects` = RATE > 0) are planted after the clean data is fixed: the clean rows are
identical with and without defects. See `_defects.py` for the kinds per table.
"""

from ._defects import DEFECT_KINDS
from ._params import Params
from ._pipeline import (
    CHUNK_SIZE,
    MANIFEST_FILE,
    ConfigError,
    GeneratorConfig,
    generate,
    output_files,
)
from ._tables import SCHEMAS, TABLES

__all__ = [
    "CHUNK_SIZE",
    "DEFECT_KINDS",
    "MANIFEST_FILE",
    "SCHEMAS",
    "TABLES",
    "ConfigError",
    "GeneratorConfig",
    "Params",
    "generate",
    "output_files",
]
