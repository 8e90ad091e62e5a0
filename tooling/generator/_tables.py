"""Output tables: column contracts, row frames, and their CSV and Parquet encodings."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from . import _vocab as vocab
from ._calendar import ZONE_BERLIN, ZONE_UTC, format_dates, format_timestamps
from ._simulate import CITY_NAMES, COMMENTS, FIRST_NAMES, LAST_NAMES, NULL, Columns

# Column kinds: int, amount (int64 cents), ts (epoch seconds), date (epoch days), bool,
# enum (codes into a vocabulary), text (a ready pyarrow string array).
PARQUET_TYPES = {
    "int": pa.int64(),
    "amount": pa.decimal128(12, 2),
    "ts": pa.timestamp("us", tz="UTC"),
    "date": pa.date32(),
    "bool": pa.bool_(),
    "enum": pa.string(),
    "text": pa.string(),
}


@dataclass(frozen=True)
class Column:
    """One output column: name, kind and (for enums) the name of its vocabulary."""

    name: str
    kind: str
    vocab: str | None = None


def _c(name: str, kind: str, vocab_name: str | None = None) -> Column:
    return Column(name, kind, vocab_name)


SCHEMAS: dict[str, tuple[Column, ...]] = {
    "customers": (
        _c("customer_id", "int"),
        _c("email", "text"),
        _c("first_name", "enum", "first_name"),
        _c("last_name", "enum", "last_name"),
        _c("birth_date", "date"),
        _c("country_code", "enum", "country_code"),
        _c("city", "enum", "city"),
        _c("signup_at", "ts"),
        _c("acquisition_channel", "enum", "channel"),
        _c("referred_by_customer_id", "int"),
        _c("loyalty_joined_at", "ts"),
        _c("marketing_consent", "bool"),
        _c("consent_updated_at", "ts"),
    ),
    "orders": (
        _c("order_id", "int"),
        _c("customer_id", "int"),
        _c("ordered_at", "ts"),
        _c("status", "enum", "status"),
        _c("sales_channel", "enum", "sales_channel"),
        _c("currency", "enum", "currency"),
        _c("gross_amount", "amount"),
        _c("discount_amount", "amount"),
        _c("shipping_amount", "amount"),
        _c("item_count", "int"),
    ),
    "sessions": (
        _c("session_id", "int"),
        _c("anonymous_id", "text"),
        _c("customer_id", "int"),
        _c("started_at", "ts"),
        _c("duration_seconds", "int"),
        _c("pageviews", "int"),
        _c("traffic_source", "enum", "channel"),
        _c("device", "enum", "device"),
        _c("landing_page", "enum", "landing_page"),
        _c("order_id", "int"),
    ),
    "survey_responses": (
        _c("response_id", "int"),
        _c("customer_id", "int"),
        _c("order_id", "int"),
        _c("submitted_at", "ts"),
        _c("score", "int"),
        _c("comment", "enum", "comment"),
        _c("survey_channel", "enum", "survey_channel"),
    ),
    "email_events": (
        _c("event_id", "int"),
        _c("customer_id", "int"),
        _c("campaign_id", "enum", "campaign"),
        _c("event_type", "enum", "event_type"),
        _c("occurred_at", "ts"),
    ),
}
TABLES = tuple(SCHEMAS)
ID_COLUMN = {name: cols[0].name for name, cols in SCHEMAS.items()}


def parquet_schema(table: str) -> pa.Schema:
    """Arrow schema of a table's Parquet file."""
    return pa.schema([pa.field(c.name, PARQUET_TYPES[c.kind]) for c in SCHEMAS[table]])


def vocabularies(campaigns: list[str]) -> dict[str, tuple[str, ...]]:
    """All enum vocabularies (the campaign list depends on the window)."""
    return {
        "first_name": tuple(FIRST_NAMES),
        "last_name": tuple(LAST_NAMES),
        "country_code": vocab.COUNTRIES,
        "city": tuple(CITY_NAMES),
        "channel": vocab.CHANNELS,
        "status": vocab.STATUSES,
        "sales_channel": vocab.SALES_CHANNELS,
        "currency": vocab.CURRENCIES,
        "device": vocab.DEVICES,
        "landing_page": vocab.LANDING_PAGES,
        "comment": tuple(COMMENTS),
        "survey_channel": vocab.SURVEY_CHANNELS,
        "event_type": vocab.EVENT_TYPES,
        "campaign": tuple(campaigns),
    }


@dataclass
class Frame:
    """Rows of one output table in typed form, plus raw-text overrides used by CSV only.

    `values` holds numpy arrays (text columns: pyarrow arrays); `valid` is False for NULL.
    Enum codes at or beyond the vocabulary size index `extra[column]` (planted invalid values).
    `overrides[column] = (row positions, texts)` replaces the CSV text of unparseable cells
    (their typed value is NULL).
    """

    table: str
    values: dict[str, np.ndarray | pa.Array]
    valid: dict[str, np.ndarray]
    zone: np.ndarray | int
    extra: dict[str, list[str]] = field(default_factory=dict)
    overrides: dict[str, tuple[np.ndarray, list[str]]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.valid[ID_COLUMN[self.table]])

    def take(self, index: np.ndarray) -> Frame:
        """Rows at `index` (overrides must not exist yet)."""
        assert not self.overrides
        values = {
            k: (v.take(pa.array(index)) if isinstance(v, pa.Array) else v[index])
            for k, v in self.values.items()
        }
        zone = self.zone if np.isscalar(self.zone) else self.zone[index]
        return Frame(
            self.table,
            values,
            {k: v[index] for k, v in self.valid.items()},
            zone,
            {k: list(v) for k, v in self.extra.items()},
        )


def _hex16(values: np.ndarray) -> pa.StringArray:
    """16 lowercase hex digits of each int64 (read as uint64)."""
    u = values.view(np.uint64)
    shifts = np.arange(60, -4, -4, dtype=np.uint64)
    nibbles = ((u[:, None] >> shifts[None, :]) & np.uint64(15)).astype(np.uint8)
    chars = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[nibbles]
    offsets = np.arange(len(u) + 1, dtype=np.int32) * 16
    return pa.StringArray.from_buffers(
        len(u), pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars).tobytes())
    )


_FIRST_ASCII = pa.array([vocab.email_local_part(x) for x in FIRST_NAMES])
_LAST_ASCII = pa.array([vocab.email_local_part(x) for x in LAST_NAMES])
_DOMAINS = pa.array([f"@{d}" for d in vocab.EMAIL_DOMAINS])


def customers_frame(cols: Columns) -> Frame:
    """Frame of a chunk of customers."""
    ids = cols["customer_id"]
    local = pc.binary_join_element_wise(
        _FIRST_ASCII.take(pa.array(cols["_first"])),
        _LAST_ASCII.take(pa.array(cols["_last"])),
        pc.cast(pa.array(ids), pa.string()),
        ".",
    )
    email = pc.binary_join_element_wise(local, _DOMAINS.take(pa.array(cols["_domain"])), "")
    values = {
        "customer_id": ids,
        "email": email,
        "first_name": cols["_first"],
        "last_name": cols["_last"],
        "birth_date": cols["birth_date"],
        "country_code": cols["country_code"],
        "city": cols["_city"],
        "signup_at": cols["signup_at"],
        "acquisition_channel": cols["acquisition_channel"],
        "referred_by_customer_id": cols["referred_by_customer_id"],
        "loyalty_joined_at": cols["loyalty_joined_at"],
        "marketing_consent": cols["marketing_consent"],
        "consent_updated_at": cols["consent_updated_at"],
    }
    return _frame("customers", values, ZONE_BERLIN)


def orders_frame(cols: Columns, ids: np.ndarray) -> Frame:
    """Frame of sorted orders with their final ids."""
    values = {"order_id": ids, "ordered_at": cols["_ts"]}
    for c in SCHEMAS["orders"][1:]:
        values.setdefault(c.name, cols.get(c.name))
    return _frame("orders", values, cols["_zone"])


def sessions_frame(cols: Columns, ids: np.ndarray, order_ids: np.ndarray) -> Frame:
    """Frame of sorted sessions with their final ids and order ids."""
    values = {
        "session_id": ids,
        "anonymous_id": _hex16(cols["anonymous_id"]),
        "customer_id": cols["customer_id"],
        "started_at": cols["_ts"],
        "duration_seconds": cols["duration_seconds"],
        "pageviews": cols["pageviews"],
        "traffic_source": cols["traffic_source"],
        "device": cols["device"],
        "landing_page": cols["landing_page"],
        "order_id": order_ids,
    }
    return _frame("sessions", values, ZONE_BERLIN)


def surveys_frame(cols: Columns, ids: np.ndarray, order_ids: np.ndarray) -> Frame:
    """Frame of sorted survey responses with their final ids and order ids."""
    values = {
        "response_id": ids,
        "customer_id": cols["customer_id"],
        "order_id": order_ids,
        "submitted_at": cols["_ts"],
        "score": cols["score"],
        "comment": cols["comment"],
        "survey_channel": cols["survey_channel"],
    }
    return _frame("survey_responses", values, ZONE_BERLIN)


def emails_frame(cols: Columns, ids: np.ndarray) -> Frame:
    """Frame of sorted e-mail events with their final ids."""
    values = {
        "event_id": ids,
        "customer_id": cols["customer_id"],
        "campaign_id": cols["campaign_id"],
        "event_type": cols["event_type"],
        "occurred_at": cols["_ts"],
    }
    return _frame("email_events", values, ZONE_UTC)


def _frame(table: str, values: dict[str, np.ndarray | pa.Array], zone: np.ndarray | int) -> Frame:
    valid = {}
    out: dict[str, np.ndarray | pa.Array] = {}
    for c in SCHEMAS[table]:
        v = values[c.name]
        if isinstance(v, pa.Array):
            out[c.name] = v
            valid[c.name] = np.ones(len(v), dtype=bool)
        else:
            v = np.ascontiguousarray(v, dtype=np.int64)
            out[c.name] = v
            valid[c.name] = v != NULL
    return Frame(table, out, valid, zone)


# --- encodings ----------------------------------------------------------------------------------


def _quote(text: str) -> str:
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


class Encoder:
    """Turns frames into CSV bytes and Arrow tables (vocabularies are converted once)."""

    def __init__(self, vocabs: dict[str, tuple[str, ...]]) -> None:
        self.vocabs = vocabs
        self._plain = {k: pa.array(v, pa.string()) for k, v in vocabs.items()}
        self._quoted = {k: pa.array([_quote(x) for x in v], pa.string()) for k, v in vocabs.items()}

    def _enum(self, frame: Frame, col: Column, quoted: bool) -> pa.Array:
        assert col.vocab is not None
        base = (self._quoted if quoted else self._plain)[col.vocab]
        extra = frame.extra.get(col.name)
        if extra:
            more = [_quote(x) if quoted else x for x in extra]
            base = pa.concat_arrays([base, pa.array(more, pa.string())])
        codes = pa.array(frame.values[col.name], mask=~frame.valid[col.name])
        return base.take(codes)

    def arrow(self, frame: Frame) -> pa.Table:
        """Typed Arrow table (the Parquet content) of a frame."""
        arrays = []
        for col in SCHEMAS[frame.table]:
            v, ok = frame.values[col.name], frame.valid[col.name]
            mask = None if ok.all() else ~ok
            if col.kind == "int":
                arrays.append(pa.array(v, pa.int64(), mask=mask))
            elif col.kind == "amount":
                arrays.append(_decimal(v, ok))
            elif col.kind == "ts":
                arrays.append(pa.array(v * 1_000_000, PARQUET_TYPES["ts"], mask=mask))
            elif col.kind == "date":
                arrays.append(pa.array(v.astype(np.int32), pa.date32(), mask=mask))
            elif col.kind == "bool":
                arrays.append(pa.array(v.astype(bool), pa.bool_(), mask=mask))
            elif col.kind == "enum":
                arrays.append(self._enum(frame, col, quoted=False))
            else:
                arrays.append(v)
        return pa.Table.from_arrays(arrays, schema=parquet_schema(frame.table))

    def csv(self, frame: Frame) -> bytes:
        """CSV rows (no header) of a frame: minimal quoting, NULL as an empty field, LF."""
        texts = []
        for col in SCHEMAS[frame.table]:
            v, ok = frame.values[col.name], frame.valid[col.name]
            if col.kind == "int":
                arr = pc.cast(pa.array(v, pa.int64(), mask=~ok), pa.string())
            elif col.kind == "amount":
                arr = pc.cast(_decimal(v, ok), pa.string())
            elif col.kind == "ts":
                arr = _null_where(format_timestamps(v, frame.zone), ok)
            elif col.kind == "date":
                arr = _null_where(format_dates(v), ok)
            elif col.kind == "bool":
                arr = pa.array(["false", "true"]).take(pa.array(v, mask=~ok))
            elif col.kind == "enum":
                arr = self._enum(frame, col, quoted=True)
            else:
                arr = v
            if col.name in frame.overrides:
                pos, raw = frame.overrides[col.name]
                mask = np.zeros(len(ok), dtype=bool)
                mask[pos] = True
                order = np.argsort(pos, kind="stable")
                arr = pc.replace_with_mask(
                    arr.cast(pa.string()), pa.array(mask), pa.array([_quote(raw[i]) for i in order])
                )
            texts.append(arr)
        line = pc.binary_join_element_wise(
            *texts, ",", null_handling="replace", null_replacement=""
        )
        line = pc.binary_join_element_wise(line, "", "\n")
        return _string_bytes(line)


def csv_header(table: str) -> bytes:
    """Header line of a table's CSV file."""
    return (",".join(c.name for c in SCHEMAS[table]) + "\n").encode()


def _null_where(arr: pa.Array, ok: np.ndarray) -> pa.Array:
    if ok.all():
        return arr
    return pc.if_else(pa.array(ok), arr, pa.scalar(None, pa.string()))


def _decimal(cents: np.ndarray, ok: np.ndarray) -> pa.Array:
    words = np.empty(2 * len(cents), dtype=np.int64)
    words[0::2] = cents
    words[1::2] = np.where(cents < 0, -1, 0)
    validity = None if ok.all() else pa.array(ok).buffers()[1]
    return pa.Array.from_buffers(
        PARQUET_TYPES["amount"], len(cents), [validity, pa.py_buffer(words.tobytes())]
    )


def _string_bytes(arr: pa.Array) -> bytes:
    if isinstance(arr, pa.ChunkedArray):
        return b"".join(_string_bytes(c) for c in arr.chunks)
    if len(arr) == 0:
        return b""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[
        arr.offset : arr.offset + len(arr) + 1
    ]
    return arr.buffers()[2].to_pybytes()[offsets[0] : offsets[-1]]
