"""Per-chunk simulation: every customer's life in the shop, vectorised over a chunk of customers.

A chunk is a contiguous range of customer ids (ids follow signup order). Each chunk draws from
its own random streams, derived from the seed with `numpy.random.SeedSequence`, so a chunk's
output depends only on (seed, chunk index, customer range, window).

Output tables are dicts of numpy arrays, sorted by (`_ts`, `_gk`): `_ts` is the row's instant
(epoch seconds) and `_gk` a tie-break key unique across the whole run (chunk << 40 | position).
Orders carry `_local`, their position in the chunk's order table; sessions and survey responses
reference orders by that position in `_order` (-1 for none). Nullable integers use -1.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from . import _vocab as vocab
from ._calendar import DAY, HOUR, ZONE_BERLIN, ZONE_LONDON, Timeline
from ._params import Params

Columns = dict[str, np.ndarray]

NULL = -1
GK_SHIFT = 40

# Global name and city tables: one flat list, addressed through per-pool offsets.
FIRST_NAMES = [name for first, _ in vocab.NAME_POOLS for name in first]
LAST_NAMES = [name for _, last in vocab.NAME_POOLS for name in last]
_FIRST_SIZE = np.array([len(first) for first, _ in vocab.NAME_POOLS])
_LAST_SIZE = np.array([len(last) for _, last in vocab.NAME_POOLS])
_FIRST_OFF = np.concatenate([[0], np.cumsum(_FIRST_SIZE)[:-1]])
_LAST_OFF = np.concatenate([[0], np.cumsum(_LAST_SIZE)[:-1]])
CITY_NAMES = [city for country in vocab.COUNTRIES for city, _ in vocab.CITIES[country]]
_CITY_CUM = [
    np.cumsum([w for _, w in vocab.CITIES[c]]) / sum(w for _, w in vocab.CITIES[c])
    for c in vocab.COUNTRIES
]
_CITY_OFF = np.concatenate([[0], np.cumsum([len(vocab.CITIES[c]) for c in vocab.COUNTRIES])])
_COUNTRY_POOL = np.array([vocab.COUNTRY_POOL[c] for c in vocab.COUNTRIES])
_COUNTRY_CURRENCY = np.array([vocab.COUNTRY_CURRENCY.get(c, 0) for c in vocab.COUNTRIES])
_GB = vocab.COUNTRIES.index("GB")
_COMMENT_KEYS = sorted(vocab.COMMENTS)
COMMENTS = [text for key in _COMMENT_KEYS for text in vocab.COMMENTS[key]]
_COMMENT_SIZE = [len(vocab.COMMENTS[key]) for key in _COMMENT_KEYS]
# (band, language) -> (offset into COMMENTS, number of comments)
_COMMENT_OFF = dict(
    zip(
        _COMMENT_KEYS,
        zip(np.cumsum([0, *_COMMENT_SIZE[:-1]]).tolist(), _COMMENT_SIZE, strict=True),
        strict=True,
    )
)

_MOBILE = vocab.DEVICES.index("mobile")
_TABLET = vocab.DEVICES.index("tablet")
_EMAIL_SRC = vocab.CHANNELS.index("email")
_SALE_PAGE = vocab.LANDING_PAGES.index("/sale")
_ACCOUNT_PAGE = vocab.LANDING_PAGES.index("/account")
_EV = {name: code for code, name in enumerate(vocab.EVENT_TYPES)}
_SEND_SPREAD = 5400  # a campaign goes out over 90 minutes


def stream(seed: int, *key: int) -> np.random.Generator:
    """An independent random generator for a (seed, key...) pair."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def grouped_cumsum(x: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Cumulative sums restarting at each group (groups are consecutive runs of `counts`)."""
    if len(x) == 0:
        return x.astype(np.float64)
    cs = np.cumsum(x)
    sizes = counts[counts > 0]
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return cs - np.repeat(cs[starts] - x[starts], sizes)


def _rank_within(group: np.ndarray) -> np.ndarray:
    """0-based position of each row within its run of equal consecutive `group` values."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    new = np.ones(n, dtype=bool)
    new[1:] = group[1:] != group[:-1]
    start_pos = np.maximum.accumulate(np.where(new, np.arange(n), 0))
    return np.arange(n) - start_pos


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijection on uint64 (distinct inputs give distinct cookies)."""
    z = x.astype(np.uint64)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@dataclass(frozen=True)
class Context:
    """Everything a chunk needs besides its customer range."""

    seed: int
    params: Params
    timeline: Timeline
    signups: np.ndarray  # signup instant of every customer, ascending (index = id - 1)
    campaign_ts: np.ndarray  # send instant per campaign, ascending
    campaign_is_newsletter: np.ndarray
    hour_online_cum: np.ndarray
    hour_store_cum: np.ndarray
    cookie_key: int


def build_context(seed: int, n_customers: int, timeline: Timeline, params: Params) -> Context:
    """Draw the global signup times and build the campaign calendar."""
    rng = stream(seed, 0)
    g = params.signup_growth
    u = rng.random(n_customers)
    x = u if g == 1 else (-1.0 + np.sqrt(1.0 + (g * g - 1.0) * u)) / (g - 1.0)
    raw = timeline.unwarp(x * timeline.warped_end)
    cum = _cum(params.hour_online)
    signups = _retime(timeline, rng, raw, cum, np.full(n_customers, timeline.t0), timeline.t1)
    signups.sort()
    c_ts, c_news = campaign_calendar(timeline)
    key = int(stream(seed, 3).integers(0, 2**63, dtype=np.int64))
    return Context(
        seed=seed,
        params=params,
        timeline=timeline,
        signups=signups,
        campaign_ts=c_ts,
        campaign_is_newsletter=c_news,
        hour_online_cum=cum,
        hour_store_cum=_cum(params.hour_store),
        cookie_key=key,
    )


def campaign_calendar(tl: Timeline) -> tuple[np.ndarray, np.ndarray]:
    """Send instants of all campaigns in the window (and whether each is a newsletter)."""
    ts, news = [], []
    for day_idx in range(tl.n_days):
        date = tl.start.toordinal() + day_idx
        d = dt.date.fromordinal(date)
        theme_day = vocab.CAMPAIGN_THEMES[d.month][1]
        if theme_day == 0:  # Black Friday: the day after the fourth Thursday
            first = d.replace(day=1)
            theme_day = 1 + (3 - first.weekday()) % 7 + 21 + 1
        for day, hour, is_news in ((vocab.NEWSLETTER_DAY, 9, True), (theme_day, 10, False)):
            if d.day == day:
                t = int(tl.day_starts[day_idx]) + hour * HOUR
                if tl.t0 <= t < tl.t1 - 6 * HOUR:
                    ts.append(t)
                    news.append(is_news)
    order = np.argsort(ts, kind="stable")
    return np.asarray(ts, dtype=np.int64)[order], np.asarray(news, dtype=bool)[order]


def campaign_ids(tl: Timeline) -> list[str]:
    """Campaign id text (`2024-03-spring-sale`, `2024-03-newsletter`) in calendar order."""
    ts, news = campaign_calendar(tl)
    out = []
    for t, is_news in zip(ts.tolist(), news.tolist(), strict=True):
        d = dt.date.fromordinal(tl.start.toordinal() + int(tl.day_index(np.array([t]))[0]))
        name = "newsletter" if is_news else vocab.CAMPAIGN_THEMES[d.month][0]
        out.append(f"{d.year:04d}-{d.month:02d}-{name}")
    return out


def _cum(weights: tuple[float, ...]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    return np.cumsum(w) / w.sum()


def _retime(
    tl: Timeline,
    rng: np.random.Generator,
    t: np.ndarray,
    hour_cum: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray | int,
) -> np.ndarray:
    """Keep each instant's local day but draw its time of day from an hour profile.

    Falls back to the original instant when the new one would leave [lo, hi).
    """
    n = len(t)
    hour = np.searchsorted(hour_cum, rng.random(n), side="right")
    sec = np.minimum(hour, 23) * HOUR + rng.integers(0, HOUR, n)
    day = tl.day_index(t.astype(np.int64))
    new = tl.at_local_time(day, sec)
    keep = (new >= lo) & (new < hi)
    fallback = np.clip(np.floor(t).astype(np.int64), lo, np.asarray(hi) - 1)
    return np.where(keep, new, fallback).astype(np.int64)


def _uniform_instants(
    tl: Timeline, rng: np.random.Generator, lo: np.ndarray, hi: np.ndarray, hour_cum: np.ndarray
) -> np.ndarray:
    """One instant per row, uniform on the seasonal clock within [lo, hi), online hour profile."""
    ulo, uhi = tl.warp(lo), tl.warp(hi)
    raw = tl.unwarp(ulo + rng.random(len(lo)) * (uhi - ulo))
    raw = np.minimum(np.maximum(raw, lo), np.asarray(hi) - 1)
    return _retime(tl, rng, raw, hour_cum, lo, hi)


def _choice(rng: np.random.Generator, p: tuple[float, ...] | np.ndarray, n: int) -> np.ndarray:
    cum = np.cumsum(np.asarray(p, dtype=np.float64))
    return np.minimum(np.searchsorted(cum / cum[-1], rng.random(n), side="right"), len(cum) - 1)


def _sort_table(cols: Columns) -> Columns:
    order = np.lexsort((cols["_gk"], cols["_ts"]))
    return {k: v[order] for k, v in cols.items()}


def simulate_chunk(ctx: Context, chunk: int, lo: int, hi: int) -> dict[str, Columns]:
    """Simulate customers `lo+1 .. hi` (ids) and all their activity."""
    cust, latent = _customers(ctx, chunk, lo, hi)
    orders, per_customer = _orders(ctx, chunk, cust, latent)
    emails, clicks = _emails(ctx, chunk, cust, latent)
    sessions = _sessions(ctx, chunk, cust, latent, orders, per_customer, clicks)
    surveys = _surveys(ctx, chunk, cust, latent, orders, per_customer)
    return {
        "customers": cust,
        "orders": orders,
        "sessions": sessions,
        "survey_responses": surveys,
        "email_events": emails,
    }


# --- customers ----------------------------------------------------------------------------------


def _customers(ctx: Context, chunk: int, lo: int, hi: int) -> tuple[Columns, Columns]:
    P, tl = ctx.params, ctx.timeline
    rng = stream(ctx.seed, 1, chunk, 0)
    n = hi - lo
    ids = np.arange(lo + 1, hi + 1, dtype=np.int64)
    s = ctx.signups[lo:hi]

    country = _choice(rng, vocab.COUNTRY_P, n)
    pool = _COUNTRY_POOL[country]
    first_pool = np.where((country != _GB) & (rng.random(n) < 0.12), 1, pool)
    first = _FIRST_OFF[first_pool] + (rng.random(n) * _FIRST_SIZE[first_pool]).astype(np.int64)
    last = _LAST_OFF[pool] + (rng.random(n) * _LAST_SIZE[pool]).astype(np.int64)
    domain = _choice(rng, vocab.EMAIL_DOMAIN_P, n)
    city = np.empty(n, dtype=np.int64)
    u_city = rng.random(n)
    for k in range(len(vocab.COUNTRIES)):
        m = country == k
        city[m] = _CITY_OFF[k] + np.searchsorted(_CITY_CUM[k], u_city[m], side="right")
    age_days = (np.clip(rng.normal(41.0, 13.0, n), 18.0, 85.0) * 365.25).astype(np.int64)
    birth = s // DAY - age_days
    birth[rng.random(n) < 0.10] = NULL

    channel = _choice(rng, vocab.ACQUISITION_P, n)
    earlier = np.searchsorted(ctx.signups, s, side="left")  # customers who signed up before
    channel[(channel == vocab.REFERRAL) & (earlier == 0)] = vocab.CHANNELS.index("direct")
    referred = channel == vocab.REFERRAL
    referrer = np.where(referred, 1 + (rng.random(n) * earlier).astype(np.int64), NULL)

    member = rng.random(n) < P.loyalty_share
    quick = rng.random(n) < 0.4
    delay = np.where(quick, rng.integers(0, 600, n), rng.exponential(120.0 * DAY, n))
    joined = (s + delay).astype(np.int64)
    late = joined >= tl.t1
    joined[late] = s[late] + (rng.random(late.sum()) * (tl.t1 - s[late])).astype(np.int64)
    joined = np.where(quick, joined, _retime(tl, rng, joined, ctx.hour_online_cum, s, tl.t1))
    joined[~member] = NULL

    # Consent window [consent_from, consent_until): mail only inside it.
    consenting = rng.random(n) < P.consent_share
    later_optin = consenting & (rng.random(n) < 0.25)
    c_from = np.where(later_optin, s + rng.exponential(90.0 * DAY, n), s).astype(np.int64)
    c_from[c_from >= tl.t1] = s[c_from >= tl.t1]
    c_from = np.where(c_from > s, _retime(tl, rng, c_from, ctx.hour_online_cum, s, tl.t1), s)
    opted_out = ~consenting & (rng.random(n) < 0.30)
    c_until = np.where(consenting, tl.t1, s).astype(np.int64)
    out_t = (s + rng.exponential(200.0 * DAY, n)).astype(np.int64)
    out_t = np.where(
        out_t < tl.t1, _retime(tl, rng, out_t, ctx.hour_online_cum, s + 1, tl.t1), out_t
    )
    ok_out = opted_out & (out_t < tl.t1)
    c_until[ok_out] = out_t[ok_out]
    updated = np.where(consenting, c_from, np.where(ok_out, out_t, s))

    lam = np.minimum(rng.gamma(P.rate_shape_r, 1.0 / P.rate_alpha, n), P.rate_cap)
    lam = np.where(referred, lam * P.referral_rate_mult, lam)
    p = np.clip(rng.beta(P.dropout_a, P.dropout_b, n), 1e-6, 1.0)
    p = np.where(referred, p * P.referral_dropout_mult, p)
    mean_rate = P.rate_shape_r / P.rate_alpha
    engagement = (lam / mean_rate) ** P.engagement_rate_power * rng.lognormal(
        0.0, P.engagement_sigma, n
    )
    logit_p = np.log(p) - np.log1p(-np.minimum(p, 1 - 1e-9))
    satisfaction = np.clip(-0.45 * logit_p, -2.5, 2.5) + rng.normal(0.0, 0.5, n)
    open_logit = P.open_logit_base + P.open_logit_engagement * np.log(engagement)
    open_rate = 1.0 / (1.0 + np.exp(-(open_logit + rng.normal(0.0, 0.7, n))))

    cust = {
        "customer_id": ids,
        "_first": first,
        "_last": last,
        "_domain": domain,
        "birth_date": birth,
        "country_code": country,
        "_city": city,
        "signup_at": s,
        "acquisition_channel": channel,
        "referred_by_customer_id": referrer,
        "loyalty_joined_at": joined,
        "marketing_consent": consenting.astype(np.int8),
        "consent_updated_at": updated.astype(np.int64),
    }
    latent = {
        "lam": lam,
        "p": p,
        "referred": referred,
        "member": member,
        "never": rng.random(n) < P.never_buy,
        "value": rng.normal(0.0, P.value_sigma_customer, n),
        "engagement": engagement,
        "satisfaction": satisfaction,
        "open_rate": open_rate,
        "bad_address": rng.random(n) < P.bad_address_share,
        "c_from": c_from,
        "c_until": c_until,
        "store_affine": rng.random(n) < P.store_affine_share,
        "app_pref": rng.beta(*P.app_beta, n),
        "device": _choice(rng, (0.42, 0.48, 0.10), n),
        "cookies": 1 + (rng.random(n) < 0.35),
        "currency": _COUNTRY_CURRENCY[country],
        "gb": country == _GB,
        "english": (pool == 1) | (rng.random(n) < 0.1),
    }
    return cust, latent


# --- orders -------------------------------------------------------------------------------------


def _orders(ctx: Context, chunk: int, cust: Columns, lat: Columns) -> tuple[Columns, Columns]:
    P, tl = ctx.params, ctx.timeline
    rng = stream(ctx.seed, 1, chunk, 1)
    s = cust["signup_at"]
    n = len(s)

    # First order: in the signup session, or after a wait on the seasonal clock.
    in_session = rng.random(n) < P.first_in_session
    u_first = tl.warp(s) + rng.exponential(P.first_wait_days, n)
    late = np.minimum(tl.unwarp(u_first), tl.t1 + DAY)
    session_t = s + rng.integers(120, 2400, n)
    t_first_raw = np.where(in_session, session_t, late)
    has_first = ~lat["never"] & (t_first_raw < tl.t1)

    # Repeat purchases: Poisson(lambda) on the seasonal clock while alive; after every purchase
    # the customer drops out with probability p. With M Poisson points left in the window and
    # N ~ Geometric(p) purchases in a lifetime, the customer makes K = min(N - 1, M) repeats at
    # the first K order statistics of M uniform points (exponential spacings).
    u0 = tl.warp(np.minimum(t_first_raw, tl.t1))
    span = np.maximum(tl.warped_end - u0, 0.0)
    lifetime = rng.geometric(lat["p"])
    m_points = np.where(has_first, rng.poisson(lat["lam"] * span), 0)
    k_rep = np.where(has_first, np.minimum(lifetime - 1, m_points), 0)
    owner_rep = np.repeat(np.arange(n), k_rep)
    spacing = grouped_cumsum(rng.exponential(1.0, int(k_rep.sum())), k_rep)
    last_idx = np.cumsum(k_rep) - 1
    total = np.zeros(n)
    has_rep = k_rep > 0
    total[has_rep] = spacing[last_idx[has_rep]] + rng.gamma((m_points - k_rep + 1)[has_rep])
    u_rep = u0[owner_rep] + span[owner_rep] * spacing / total[owner_rep]
    t_rep = tl.unwarp(u_rep)

    owner = np.concatenate([np.flatnonzero(has_first), owner_rep])
    t_raw = np.concatenate([t_first_raw[has_first], t_rep])
    exact = np.concatenate([in_session[has_first], np.zeros(len(t_rep), dtype=bool)])
    m = len(owner)

    # Sales channel, then time of day (store orders during opening hours, never on Sundays).
    p_store = np.where(lat["store_affine"][owner], P.store_p_affine, P.store_p_other)
    u_ch = rng.random(m)
    channel = np.where(u_ch < p_store, 2, 0)
    app = (channel == 0) & (rng.random(m) < lat["app_pref"][owner])
    channel[app] = 1
    channel[exact] = np.where(lat["app_pref"][owner[exact]] > 0.5, 1, 0)
    lo = s[owner] + 120
    online_t = _retime(tl, rng, t_raw, ctx.hour_online_cum, lo, tl.t1)
    day = tl.day_index(np.floor(t_raw).astype(np.int64))
    day = np.where((tl.weekday[day] == 6) & (day > 0), day - 1, day)
    store_sec = (np.searchsorted(ctx.hour_store_cum, rng.random(m), side="right")) * HOUR
    store_t = tl.at_local_time(day, np.minimum(store_sec, 23 * HOUR) + rng.integers(0, HOUR, m))
    store_ok = (store_t >= lo) & (store_t < tl.t1)
    channel[(channel == 2) & ~store_ok] = 0
    t = np.where(channel == 2, store_t, online_t)
    t = np.where(exact, np.floor(t_raw).astype(np.int64), t)

    # Per-customer order sequence (needed for gaps and first-order facts).
    seq_order = np.lexsort((t, owner))
    owner, t, channel = owner[seq_order], t[seq_order], channel[seq_order]
    rank = _rank_within(owner)
    prev_gap = np.full(m, np.inf)
    prev_gap[rank > 0] = (t[1:] - t[:-1])[rank[1:] > 0]

    status = _choice(rng, P.status_p, m)
    cur = lat["currency"][owner]
    fx = 1.0 / np.asarray(P.eur_per_unit)[cur]  # units of the order currency per EUR
    mult = np.where(lat["member"][owner], P.loyalty_value_mult, 1.0)
    mult = mult * np.where(lat["referred"][owner], P.referral_value_mult, 1.0)
    net_eur = np.exp(P.value_mu + lat["value"][owner] + rng.normal(0.0, P.value_sigma_order, m))
    net = net_eur * mult * fx
    items = 1 + rng.poisson(np.maximum(net_eur / 35.0 - 0.6, 0.05))
    u_d = rng.random(m)
    voucher = (u_d >= P.discount_none) & (u_d < P.discount_none + P.discount_voucher)
    pct = u_d >= P.discount_none + P.discount_voucher
    rate = np.where(pct, rng.choice(np.array([0.10, 0.15, 0.20, 0.25]), m), 0.0)
    voucher_cents = np.where(rng.random(m) < 0.5, 500, 1000)  # 5 or 10 in the order currency
    gross_target = np.where(voucher, net + voucher_cents / 100.0, net / (1.0 - rate))
    unit = np.floor(gross_target / items).astype(np.int64)
    unit_cents = np.maximum(unit * 100 - 100 + rng.choice(np.array([90, 95, 99]), m), 190)
    gross = unit_cents * items
    discount = np.where(voucher, voucher_cents.astype(np.int64), np.rint(gross * rate))
    discount = np.minimum(discount.astype(np.int64), gross)
    free = np.asarray(P.free_shipping_cents)[cur]
    shipping = np.where((channel == 2) | (gross >= free), 0, np.asarray(P.shipping_cents)[cur])

    zone = np.where(lat["gb"][owner], ZONE_LONDON, ZONE_BERLIN).astype(np.int8)
    cols = {
        "_ts": t,
        "_owner": owner,
        "_rank": rank,
        "_prev_gap": prev_gap,
        "customer_id": cust["customer_id"][owner],
        "_zone": zone,
        "status": status,
        "sales_channel": channel,
        "currency": cur,
        "gross_amount": gross,
        "discount_amount": discount,
        "shipping_amount": shipping.astype(np.int64),
        "item_count": items.astype(np.int64),
    }
    order = np.lexsort((rank, owner, t))
    cols = {k: v[order] for k, v in cols.items()}
    cols["_local"] = np.arange(m, dtype=np.int64)
    cols["_gk"] = (np.int64(chunk) << GK_SHIFT) | cols["_local"]
    per_customer = {
        "n_orders": np.bincount(cols["_owner"], minlength=n),
        "last_order": _group_max(cols["_owner"], cols["_ts"], n),
    }
    return cols, per_customer


def _group_max(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, NULL, dtype=np.int64)
    np.maximum.at(out, group, values)
    return out


# --- e-mail -------------------------------------------------------------------------------------


def _emails(ctx: Context, chunk: int, cust: Columns, lat: Columns) -> tuple[Columns, Columns]:
    P, tl = ctx.params, ctx.timeline
    rng = stream(ctx.seed, 1, chunk, 2)
    n = len(cust["customer_id"])
    ct = ctx.campaign_ts
    share = np.where(ctx.campaign_is_newsletter, P.newsletter_share, P.theme_share)
    # Eligible: inside the consent window for the whole send-out (5400 s) and signed up.
    eligible = (lat["c_from"][:, None] <= ct[None, :]) & (
        ct[None, :] + _SEND_SPREAD < lat["c_until"][:, None]
    )
    eligible &= cust["signup_at"][:, None] <= ct[None, :]
    chosen = eligible & (rng.random((n, len(ct)), dtype=np.float32) < share[None, :])
    who, camp = np.nonzero(chosen)  # row-major: per customer, campaigns in time order
    k = len(who)

    sent = ct[camp] + rng.integers(0, _SEND_SPREAD, k)
    bounce_p = np.where(lat["bad_address"][who], 0.9, 0.01)
    bounced = rng.random(k) < bounce_p
    delivered_t = sent + 1 + rng.exponential(20.0, k).astype(np.int64)
    opened = ~bounced & (rng.random(k) < lat["open_rate"][who])
    opened_t = delivered_t + 60 + rng.exponential(6.0 * HOUR, k).astype(np.int64)
    clicked = opened & (rng.random(k) < P.click_p)
    clicked_t = opened_t + 5 + rng.exponential(120.0, k).astype(np.int64)
    unsub = ~bounced & (rng.random(k) < P.unsubscribe_p)
    unsub_t = np.where(opened, opened_t, delivered_t) + 30 + rng.exponential(1800.0, k)
    unsub_t = unsub_t.astype(np.int64)
    # Events after the window are not observed (and nothing follows them).
    opened &= opened_t < tl.t1
    clicked &= opened & (clicked_t < tl.t1)
    unsub &= unsub_t < tl.t1
    # After the first unsubscribe a customer gets no more mail.
    pos = np.arange(k)
    first_unsub = np.full(n, k, dtype=np.int64)
    np.minimum.at(first_unsub, who[unsub], pos[unsub])
    keep = pos <= first_unsub[who]
    unsub &= keep

    gone = first_unsub < k
    idx = np.flatnonzero(gone)
    cust["marketing_consent"][idx] = 0
    cust["consent_updated_at"][idx] = unsub_t[first_unsub[idx]]

    parts = [
        (keep, sent, _EV["sent"], 0),
        (keep & ~bounced, delivered_t, _EV["delivered"], 1),
        (keep & bounced, delivered_t, _EV["bounced"], 1),
        (keep & opened, opened_t, _EV["opened"], 2),
        (keep & clicked, clicked_t, _EV["clicked"], 3),
        (unsub, unsub_t, _EV["unsubscribed"], 4),
    ]
    ts, owner, cmp, etype, gk = [], [], [], [], []
    for mask, when, code, slot in parts:
        sel = np.flatnonzero(mask)
        ts.append(when[sel])
        owner.append(who[sel])
        cmp.append(camp[sel])
        etype.append(np.full(len(sel), code, dtype=np.int64))
        gk.append((np.int64(chunk) << GK_SHIFT) | (sel * 8 + slot))
    owner_all = np.concatenate(owner)
    cols = _sort_table(
        {
            "_ts": np.concatenate(ts),
            "_gk": np.concatenate(gk),
            "customer_id": cust["customer_id"][owner_all],
            "campaign_id": np.concatenate(cmp),
            "event_type": np.concatenate(etype),
        }
    )
    click_sel = np.flatnonzero(keep & clicked)
    clicks = {"owner": who[click_sel], "ts": clicked_t[click_sel]}
    return cols, clicks


# --- sessions -----------------------------------------------------------------------------------


def _sessions(
    ctx: Context,
    chunk: int,
    cust: Columns,
    lat: Columns,
    orders: Columns,
    per_customer: Columns,
    clicks: Columns,
) -> Columns:
    P, tl = ctx.params, ctx.timeline
    rng = stream(ctx.seed, 1, chunk, 3)
    s = cust["signup_at"]
    n = len(s)
    eng = lat["engagement"]

    # 1. Sessions in which an online order was placed (started up to 2 h before the order).
    online = np.flatnonzero(
        (orders["sales_channel"] != 2) & (rng.random(len(orders["_ts"])) < P.order_session_p)
    )
    o_owner = orders["_owner"][online]
    o_t = orders["_ts"][online]
    lead = np.minimum(60 + rng.gamma(2.0, 600.0, len(online)), 7140).astype(np.int64)
    start1 = np.maximum(o_t - lead, s[o_owner])
    dur1 = (o_t - start1) + 30 + rng.exponential(240.0, len(online)).astype(np.int64)
    pv1 = 2 + rng.poisson(3.0 * eng[o_owner])
    is_app = orders["sales_channel"][online] == 1
    dev1 = np.where(
        is_app,
        np.where(rng.random(len(online)) < 0.85, _MOBILE, _TABLET),
        _device(rng, lat["device"][o_owner]),
    )
    first_order = orders["_rank"][online] == 0
    src1 = _traffic(rng, cust["acquisition_channel"][o_owner], 0.3)
    src1[first_order] = cust["acquisition_channel"][o_owner[first_order]]
    group1 = (o_owner, start1, dur1, pv1, dev1, src1, orders["_local"][online])

    # 2. Browsing sessions while the customer is around.
    n_browse = rng.poisson(P.browse_per_order * per_customer["n_orders"] + P.browse_base)
    b_owner = np.repeat(np.arange(n), n_browse)
    last = per_customer["last_order"]
    until = np.where(last >= 0, last + int(P.browse_tail_days * DAY), s + 90 * DAY)
    until = np.minimum(until, tl.t1)
    start2 = _uniform_instants(tl, rng, s[b_owner], until[b_owner], ctx.hour_online_cum)
    pv2 = 1 + rng.poisson(2.2 * eng[b_owner])
    dur2 = _duration(rng, pv2, eng[b_owner])
    group2 = (
        b_owner,
        start2,
        dur2,
        pv2,
        _device(rng, lat["device"][b_owner]),
        _traffic(rng, cust["acquisition_channel"][b_owner], 0.2),
        np.full(len(b_owner), NULL),
    )

    # 3. Sessions opened from e-mail clicks.
    c_owner = clicks["owner"]
    start3 = clicks["ts"] + rng.integers(2, 40, len(c_owner))
    ok3 = start3 < tl.t1
    c_owner, start3 = c_owner[ok3], start3[ok3]
    pv3 = 1 + rng.poisson(2.5 * eng[c_owner])
    group3 = (
        c_owner,
        start3,
        _duration(rng, pv3, eng[c_owner]),
        pv3,
        _device(rng, lat["device"][c_owner]),
        np.full(len(c_owner), _EMAIL_SRC),
        np.full(len(c_owner), NULL),
    )

    # 4. Anonymous visits before signup with the customer's (later identified) cookie.
    n_pre = rng.poisson(P.pre_signup_sessions, n)
    p_owner = np.repeat(np.arange(n), n_pre)
    pre_lo = np.maximum(s[p_owner] - 21 * DAY, tl.t0)
    ok4 = pre_lo < s[p_owner]
    p_owner, pre_lo = p_owner[ok4], pre_lo[ok4]
    start4 = _uniform_instants(tl, rng, pre_lo, s[p_owner], ctx.hour_online_cum)
    pv4 = 1 + rng.poisson(1.8 * eng[p_owner])
    group4 = (
        p_owner,
        start4,
        _duration(rng, pv4, eng[p_owner]),
        pv4,
        _device(rng, lat["device"][p_owner]),
        _traffic(rng, cust["acquisition_channel"][p_owner], 0.5),
        np.full(len(p_owner), NULL),
    )

    groups = [group1, group2, group3, group4]
    owner = np.concatenate([g[0] for g in groups])
    start = np.concatenate([g[1] for g in groups])
    m_known = len(owner)
    kind = np.concatenate([np.full(len(g[0]), i) for i, g in enumerate(groups)])
    device = np.concatenate([g[4] for g in groups])
    logged_out = ((kind == 1) | (kind == 2)) & (rng.random(m_known) < P.logged_out_p)
    logged_out |= kind == 3
    customer = np.where(logged_out, NULL, cust["customer_id"][owner])
    second = (lat["cookies"][owner] == 2) & (device != lat["device"][owner])
    cookie_in = 2 * cust["customer_id"][owner] + second
    landing = _choice(rng, vocab.LANDING_P, m_known)
    landing[kind == 2] = np.where(
        rng.random((kind == 2).sum()) < 0.5, _SALE_PAGE, landing[kind == 2]
    )
    landing[logged_out & (landing == _ACCOUNT_PAGE)] = 0  # the home page

    # 5. Visitors who never identify.
    v = rng.poisson(P.anonymous_visitors * n)
    n_v = 1 + rng.poisson(0.4, v)
    v_owner = np.repeat(np.arange(v), n_v)
    v_start = _uniform_instants(
        tl,
        rng,
        np.full(len(v_owner), tl.t0),
        np.full(len(v_owner), tl.t1),
        ctx.hour_online_cum,
    )
    v_pv = 1 + rng.poisson(1.2, len(v_owner))
    v_cookie_in = (np.int64(1) << 62) | (np.int64(chunk) << 32) | v_owner

    cols = {
        "_ts": np.concatenate([start, v_start]),
        "anonymous_id": _mix64(
            np.concatenate([cookie_in, v_cookie_in]).astype(np.uint64) ^ np.uint64(ctx.cookie_key)
        ).view(np.int64),
        "customer_id": np.concatenate([customer, np.full(len(v_owner), NULL)]),
        "duration_seconds": np.concatenate(
            [np.concatenate([g[2] for g in groups]), _duration(rng, v_pv, np.ones(len(v_pv)))]
        ),
        "pageviews": np.concatenate([np.concatenate([g[3] for g in groups]), v_pv]),
        "traffic_source": np.concatenate(
            [np.concatenate([g[5] for g in groups]), _choice(rng, vocab.TRAFFIC_P, len(v_owner))]
        ),
        "device": np.concatenate([device, _choice(rng, (0.35, 0.55, 0.10), len(v_owner))]),
        "landing_page": np.concatenate([landing, _choice(rng, vocab.LANDING_P, len(v_owner))]),
        "_order": np.concatenate(
            [np.concatenate([g[6] for g in groups]), np.full(len(v_owner), NULL)]
        ),
    }
    total = len(cols["_ts"])
    cols["_gk"] = (np.int64(chunk) << GK_SHIFT) | np.arange(total, dtype=np.int64)
    for key in ("duration_seconds", "pageviews", "traffic_source", "device", "landing_page"):
        cols[key] = cols[key].astype(np.int64)
    return _sort_table(cols)


def _device(rng: np.random.Generator, primary: np.ndarray) -> np.ndarray:
    other = _choice(rng, (0.35, 0.5, 0.15), len(primary))
    return np.where(rng.random(len(primary)) < 0.7, primary, other)


def _traffic(rng: np.random.Generator, acquisition: np.ndarray, own_share: float) -> np.ndarray:
    general = _choice(rng, vocab.TRAFFIC_P, len(acquisition))
    return np.where(rng.random(len(acquisition)) < own_share, acquisition, general)


def _duration(rng: np.random.Generator, pageviews: np.ndarray, eng: np.ndarray) -> np.ndarray:
    per_page = 25.0 + 35.0 * np.sqrt(eng)
    dur = rng.gamma(np.maximum(pageviews - 1, 0) + 0.5, per_page)
    bounce = (pageviews == 1) & (rng.random(len(pageviews)) < 0.5)
    return np.where(bounce, 0, dur).astype(np.int64)


# --- surveys ------------------------------------------------------------------------------------


def _surveys(
    ctx: Context,
    chunk: int,
    cust: Columns,
    lat: Columns,
    orders: Columns,
    per_customer: Columns,
) -> Columns:
    P, tl = ctx.params, ctx.timeline
    rng = stream(ctx.seed, 1, chunk, 4)
    n = len(cust["customer_id"])
    sat = lat["satisfaction"]

    # Post-purchase surveys about completed and returned orders.
    returned = orders["status"] == 1
    eligible = (orders["status"] <= 1) & (rng.random(len(returned)) < P.survey_p)
    sel = np.flatnonzero(eligible)
    wait = np.where(
        returned[sel],
        8 * DAY + rng.exponential(4.0 * DAY, len(sel)),
        1.5 * DAY + rng.exponential(3.0 * DAY, len(sel)),
    ).astype(np.int64)
    t1 = orders["_ts"][sel] + wait
    ok = t1 < tl.t1
    sel, t1 = sel[ok], t1[ok]
    owner1 = orders["_owner"][sel]
    long_gap = orders["_prev_gap"][sel] > P.long_gap_days * DAY
    latent1 = (
        P.score_base
        + P.score_satisfaction * sat[owner1]
        + rng.normal(0.0, P.score_noise, len(sel))
        - P.score_returned * returned[sel]
        - P.score_long_gap * long_gap
    )
    ch1 = _choice(rng, (0.65, 0.15, 0.20), len(sel))

    # Relationship surveys (no order).
    s = cust["signup_at"]
    lo = s + 30 * DAY
    rel = np.flatnonzero((rng.random(n) < P.relationship_p) & (lo < tl.t1))
    t2 = _uniform_instants(tl, rng, lo[rel], np.full(len(rel), tl.t1), ctx.hour_online_cum)
    latent2 = (
        P.score_base
        - 0.4
        + P.score_satisfaction * sat[rel]
        + rng.normal(0.0, P.score_noise, len(rel))
    )
    ch2 = _choice(rng, (0.5, 0.3, 0.2), len(rel))

    # Anonymous web-intercept responses.
    n_known = len(sel) + len(rel)
    n_anon = rng.binomial(n_known, P.anonymous_share / (1.0 - P.anonymous_share)) if n_known else 0
    t3 = _uniform_instants(
        tl, rng, np.full(n_anon, tl.t0), np.full(n_anon, tl.t1), ctx.hour_online_cum
    )
    latent3 = (
        P.score_base - 0.6 + rng.normal(0.0, np.hypot(P.score_noise, P.score_satisfaction), n_anon)
    )

    score = np.clip(np.rint(np.concatenate([latent1, latent2, latent3])), 0, 10).astype(np.int64)
    total = len(score)
    band = np.where(score <= 6, 0, np.where(score <= 8, 1, 2))
    owners = np.concatenate([owner1, rel])
    english = np.concatenate([lat["english"][owners], rng.random(n_anon) < 0.2])
    has_comment = rng.random(total) < np.array([0.6, 0.3, 0.4])[band]
    comment = np.full(total, NULL, dtype=np.int64)
    u = rng.random(total)
    for (b, lang), (off, size) in _COMMENT_OFF.items():
        m = has_comment & (band == b) & (english == (lang == "en"))
        comment[m] = off + (u[m] * size).astype(np.int64)

    cols = {
        "_ts": np.concatenate([t1, t2, t3]).astype(np.int64),
        "customer_id": np.concatenate(
            [cust["customer_id"][owners], np.full(n_anon, NULL, dtype=np.int64)]
        ),
        "_order": np.concatenate(
            [orders["_local"][sel], np.full(len(rel) + n_anon, NULL, dtype=np.int64)]
        ),
        "score": score,
        "comment": comment,
        "survey_channel": np.concatenate([ch1, ch2, np.full(n_anon, 1)]).astype(np.int64),
    }
    cols["_gk"] = (np.int64(chunk) << GK_SHIFT) | np.arange(total, dtype=np.int64)
    return _sort_table(cols)
