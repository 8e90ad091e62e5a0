"""Planted data-quality defects (`--defects RATE`) and their manifest.

Each row of a table is hit with probability RATE; a hit row gets exactly one defect, whose kind
is drawn uniformly from the kinds that apply to the table, and whose column is drawn uniformly
from the kind's columns. Duplicates add a second row right after the original. Every defect is
listed in the manifest (table_name, key, defect, column_name).
"""

from __future__ import annotations

import numpy as np

from . import _vocab as vocab
from ._calendar import DAY
from ._tables import ID_COLUMN, SCHEMAS, Frame

DEFECT_KINDS = (
    "unparseable_value",
    "invalid_enum",
    "out_of_range",
    "negative_amount",
    "future_timestamp",
    "duplicate_conflicting",
    "exact_duplicate",
    "unknown_customer",
    "missing_key",
)
MANIFEST_COLUMNS = ("table_name", "key", "defect", "column_name")

# Per table: defect kind -> candidate columns ("" = the whole row).
APPLICABLE: dict[str, dict[str, tuple[str, ...]]] = {
    "customers": {
        "unparseable_value": ("birth_date", "signup_at", "referred_by_customer_id"),
        "invalid_enum": ("acquisition_channel", "country_code"),
        "future_timestamp": ("signup_at", "consent_updated_at"),
        "duplicate_conflicting": ("marketing_consent", "acquisition_channel"),
        "exact_duplicate": ("",),
        "missing_key": ("customer_id",),
    },
    "orders": {
        "unparseable_value": ("ordered_at", "gross_amount", "item_count"),
        "invalid_enum": ("status", "sales_channel", "currency"),
        "out_of_range": ("item_count",),
        "negative_amount": ("gross_amount", "discount_amount", "shipping_amount"),
        "future_timestamp": ("ordered_at",),
        "duplicate_conflicting": ("status", "gross_amount"),
        "exact_duplicate": ("",),
        "unknown_customer": ("customer_id",),
        "missing_key": ("order_id",),
    },
    "sessions": {
        "unparseable_value": ("started_at", "duration_seconds", "pageviews"),
        "invalid_enum": ("device", "traffic_source"),
        "out_of_range": ("duration_seconds", "pageviews"),
        "future_timestamp": ("started_at",),
        "duplicate_conflicting": ("pageviews", "device"),
        "exact_duplicate": ("",),
        "unknown_customer": ("customer_id",),
        "missing_key": ("session_id",),
    },
    "survey_responses": {
        "unparseable_value": ("submitted_at", "score"),
        "invalid_enum": ("survey_channel",),
        "out_of_range": ("score",),
        "future_timestamp": ("submitted_at",),
        "duplicate_conflicting": ("score",),
        "exact_duplicate": ("",),
        "unknown_customer": ("customer_id",),
        "missing_key": ("response_id",),
    },
    "email_events": {
        "unparseable_value": ("occurred_at",),
        "invalid_enum": ("event_type",),
        "future_timestamp": ("occurred_at",),
        "duplicate_conflicting": ("event_type",),
        "exact_duplicate": ("",),
        "unknown_customer": ("customer_id",),
        "missing_key": ("event_id",),
    },
}
_DUPLICATES = ("duplicate_conflicting", "exact_duplicate")
_KIND = {c.name: c.kind for cols in SCHEMAS.values() for c in cols}
_BAD_TEXT = {
    "ts": vocab.BAD_TIMESTAMPS,
    "date": vocab.BAD_DATES,
    "amount": vocab.BAD_AMOUNTS,
    "int": vocab.BAD_INTEGERS,
}
YEAR = 365.25 * DAY


def plant(
    frame: Frame,
    rng: np.random.Generator,
    rate: float,
    n_customers: int,
    window_end: int,
    vocab_sizes: dict[str, int],
) -> tuple[Frame, list[tuple[str, str, str, str]]]:
    """Plant defects into about `rate` of the frame's rows; return the frame and manifest rows."""
    table = frame.table
    kinds = APPLICABLE[table]
    kind_names = list(kinds)
    n = len(frame)
    hit = np.flatnonzero(rng.random(n) < rate)
    if len(hit) == 0:
        return frame, []
    kind_idx = rng.integers(0, len(kind_names), len(hit))
    col_pick = rng.random(len(hit))

    # Insert duplicate rows right after their originals.
    is_dup = np.zeros(n, dtype=np.int64)
    dup_kinds = [kind_names.index(k) for k in _DUPLICATES if k in kinds]
    is_dup[hit[np.isin(kind_idx, dup_kinds)]] = 1
    new_pos = np.arange(n) + np.concatenate([[0], np.cumsum(is_dup)[:-1]])
    frame = frame.take(np.repeat(np.arange(n), 1 + is_dup))
    id_col = ID_COLUMN[table]
    ids = frame.values[id_col]
    overrides: dict[str, tuple[list[int], list[str]]] = {}
    manifest = []

    for k, name in enumerate(kind_names):
        sel = kind_idx == k
        rows = new_pos[hit[sel]]
        cols = kinds[name]
        which = (col_pick[sel] * len(cols)).astype(np.int64)
        for j, col in enumerate(cols):
            r = rows[which == j]
            if len(r) == 0:
                continue
            if name == "duplicate_conflicting":
                _conflict(frame, col, r + 1, rng, vocab_sizes)
            elif name not in ("exact_duplicate", "missing_key"):
                _damage(frame, name, col, r, rng, (n_customers, window_end), vocab_sizes, overrides)
            keys = [""] * len(r) if name == "missing_key" else [str(x) for x in ids[r]]
            if name == "missing_key":
                frame.valid[id_col][r] = False
            manifest.extend((table, key, name, col) for key in keys)
    frame.overrides = {c: (np.asarray(p, dtype=np.int64), t) for c, (p, t) in overrides.items()}
    return frame, manifest


def _damage(
    frame: Frame,
    kind: str,
    col: str,
    rows: np.ndarray,
    rng: np.random.Generator,
    limits: tuple[int, int],
    sizes: dict[str, int],
    overrides: dict[str, tuple[list[int], list[str]]],
) -> None:
    n_customers, window_end = limits
    values, valid = frame.values[col], frame.valid[col]
    m = len(rows)
    if kind == "unparseable_value":
        pool = _BAD_TEXT[_KIND[col]]
        pos, texts = overrides.setdefault(col, ([], []))
        pos.extend(rows.tolist())
        texts.extend(pool[i] for i in rng.integers(0, len(pool), m))
        valid[rows] = False
    elif kind == "invalid_enum":
        bad = vocab.BAD_ENUMS[col]
        extra = frame.extra.setdefault(col, [])
        base = sizes[col]
        if not extra:
            extra.extend(bad)
        values[rows] = base + rng.integers(0, len(bad), m)
        valid[rows] = True
    elif kind == "out_of_range":
        if col == "score":
            values[rows] = np.where(rng.random(m) < 0.5, 11, -1)
        elif col == "duration_seconds":
            values[rows] = -rng.integers(1, 600, m)
        else:  # pageviews, item_count
            values[rows] = 0
        valid[rows] = True
    elif kind == "negative_amount":
        cur = values[rows]
        values[rows] = np.where(cur > 0, -cur, -rng.integers(100, 5000, m))
        valid[rows] = True
    elif kind == "future_timestamp":
        values[rows] = window_end + (rng.uniform(2.0, 8.0, m) * YEAR).astype(np.int64)
        valid[rows] = True
    elif kind == "unknown_customer":
        values[rows] = n_customers + 1 + rng.integers(0, max(1000, 10 * n_customers), m)
        valid[rows] = True
    else:  # pragma: no cover - guarded by APPLICABLE
        raise ValueError(kind)


def _conflict(
    frame: Frame, col: str, rows: np.ndarray, rng: np.random.Generator, sizes: dict[str, int]
) -> None:
    """Give the duplicate rows another valid value in `col`."""
    values, valid = frame.values[col], frame.valid[col]
    m = len(rows)
    kind = _KIND[col]
    if kind == "bool":
        values[rows] = 1 - values[rows]
    elif kind == "enum":
        size = sizes[col]
        values[rows] = (values[rows] + rng.integers(1, size, m)) % size
    elif col == "score":
        values[rows] = (values[rows] + rng.integers(1, 11, m)) % 11
    elif kind == "amount":
        values[rows] = values[rows] + rng.integers(100, 5000, m)
    else:  # counts
        values[rows] = values[rows] + rng.integers(1, 6, m)
    valid[rows] = True
