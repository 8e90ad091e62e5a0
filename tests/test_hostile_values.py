"""Hostile values (issue 16, "No value can stop a build"): a catalogue, planted row by row.

For every contract type (integer, amount, timestamp, date, boolean, enum, key) the catalogue
below lists at least 30 hostile strings, each with the reason code staging must give it,
written by hand from the raw data contract (docs/raw-contract.md, "Quarantine"), not
derived from the models. A few controls per type (reason None) must be accepted, with the typed
value written next to them. Each string is appended as one row, every other column valid and
the key unique, to the hand-worked shop (tests/fixtures/handworked, all rows good); ONE
`dbt build` reads the lot. The build must succeed, every planted row must be quarantined with
exactly its reason and column (or accepted with exactly its value), every original row must
still be accepted, and the balance read = accepted + quarantined + collapsed must hold.

A second build reads a small German export (decimal commas, thousands dots, `%d.%m.%Y %H:%M`
in Europe/Berlin, `%d.%m.%Y` dates) and checks values against ones computed here with
`zoneinfo` and `Decimal`, including the DST rule of docs/raw-contract.md ("Local time and
daylight saving"): a local time in the spring gap is read with the offset before the change
(Python fold=0), one in the repeated autumn hour is the second occurrence (fold=1).

Both builds set rejection_alarm_min_rows out of reach: most planted rows of a type fail for the
same column and reason on purpose, which the mass-rejection alarm (a wrong export setting, not
bad rows) would otherwise stop.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import pytest
from conftest import FIXTURES, DbtResult, run_dbt

pytestmark = pytest.mark.build

AS_OF = "2025-01-20"  # future_timestamp from 2025-01-22 00:00 UTC (end of day + 1 day)
KEEP_EVENTS = {"event_retention_days": 36500}
"""No retention: the boundary dates (2000-01-01) are about parsing, not about ageing out."""
NO_ALARM = {"rejection_alarm_min_rows": 1_000_000_000}
UTC = dt.UTC
BERLIN = ZoneInfo("Europe/Berlin")

UNPARSEABLE = "unparseable_value"
RANGE = "out_of_range"
ENUM = "invalid_enum"
INVALID = "invalid_value"
ACCEPTED = None

# table -> (quarantine source_table, staging relation, key column)
TABLES = {
    "customers": ("crm.customers", "staging.stg_crm__customers", "customer_id"),
    "orders": ("shop.orders", "staging.stg_shop__orders", "order_id"),
    "sessions": ("web_analytics.sessions", "staging.stg_web_analytics__sessions", "session_id"),
    "survey_responses": (
        "nps.survey_responses",
        "staging.stg_nps__survey_responses",
        "response_id",
    ),
    "email_events": ("email.email_events", "staging.stg_email__email_events", "event_id"),
}
TYPED_COLUMN = {"marketing_consent": "has_marketing_consent", "comment": "comment_text"}

# A valid row per table; the key is filled in per planted row.
TEMPLATES = {
    "customers": {
        "customer_id": "",
        "email": "hostile@example.com",
        "first_name": "Hostile",
        "last_name": "Value",
        "birth_date": "1980-01-01",
        "country_code": "DE",
        "city": "Berlin",
        "signup_at": "2024-06-01T10:00:00+02:00",  # 2024-06-01 08:00 UTC
        "acquisition_channel": "direct",
        "referred_by_customer_id": "",
        "loyalty_joined_at": "",
        "marketing_consent": "true",
        "consent_updated_at": "",
    },
    "orders": {
        "order_id": "",
        "customer_id": "1",
        "ordered_at": "2024-12-01T10:00:00+01:00",
        "status": "completed",
        "sales_channel": "web",
        "currency": "EUR",
        "gross_amount": "10.00",
        "discount_amount": "0.00",
        "shipping_amount": "0.00",
        "item_count": "1",
    },
    "sessions": {
        "session_id": "",
        "anonymous_id": "ck-hostile",
        "customer_id": "",
        "started_at": "2024-12-01T10:00:00+01:00",
        "duration_seconds": "60",
        "pageviews": "2",
        "traffic_source": "direct",
        "device": "desktop",
        "landing_page": "/",
        "order_id": "",
    },
    "survey_responses": {
        "response_id": "",
        "customer_id": "",
        "order_id": "",
        "submitted_at": "2024-12-01T10:00:00+01:00",
        "score": "8",
        "comment": "",
        "survey_channel": "web",
    },
    "email_events": {
        "event_id": "",
        "customer_id": "1",
        "campaign_id": "hostile",
        "event_type": "sent",
        "occurred_at": "2024-12-01T10:00:00Z",
    },
}

# What DuckDB's trim() strips (Unicode space separators; not tab, line breaks or U+200B).
TRIMMED = " \u00a0\u1680" + "".join(map(chr, range(0x2000, 0x200B))) + "\u202f\u205f\u3000"


@dataclass(frozen=True)
class Case:
    """One catalogue entry: `text` in `table.column`; the reason it must get (None: accepted)."""

    kind: str
    text: str
    reason: str | None
    table: str
    column: str
    value: object = None  # accepted: the typed value staging must hold
    others: tuple[tuple[str, str], ...] = ()  # other columns of the row, still valid

    @property
    def in_key_column(self) -> bool:
        return self.column == TABLES[self.table][2]


def cases(kind: str, table: str, column: str, entries: list[tuple]) -> list[Case]:
    """Catalogue entries (text, reason[, value[, others]]) for one target column."""
    return [Case(kind, entry[0], entry[1], table, column, *entry[2:]) for entry in entries]


# --- integer: an optional sign and ASCII digits, within BIGINT ------------------------------
INTEGERS = [
    *cases(
        "integer",
        "survey_responses",
        "score",
        [
            ("6.5", UNPARSEABLE),  # the NPS score: a cast rounds it to 7
            ("7.0", UNPARSEABLE),
            ("1e1", UNPARSEABLE),
            ("1E1", UNPARSEABLE),
            ("0x10", UNPARSEABLE),
            ("0XA", UNPARSEABLE),
            ("0b101", UNPARSEABLE),
            ("0o7", UNPARSEABLE),
            ("1_0", UNPARSEABLE),
            ("1 0", UNPARSEABLE),
            ("1,0", UNPARSEABLE),
            ("1.000", UNPARSEABLE),
            ("1'000", UNPARSEABLE),
            ("٣", UNPARSEABLE),  # Arabic-Indic three
            ("３", UNPARSEABLE),  # fullwidth three
            ("²", UNPARSEABLE),
            ("½", UNPARSEABLE),
            ("++5", UNPARSEABLE),
            ("+-5", UNPARSEABLE),
            ("--5", UNPARSEABLE),
            ("5-", UNPARSEABLE),
            ("(5)", UNPARSEABLE),
            ("5%", UNPARSEABLE),
            ("$5", UNPARSEABLE),
            ("5.", UNPARSEABLE),
            (".5", UNPARSEABLE),
            ("1/2", UNPARSEABLE),
            ("five", UNPARSEABLE),
            ("NaN", UNPARSEABLE),
            ("inf", UNPARSEABLE),
            ("Infinity", UNPARSEABLE),
            ("-", UNPARSEABLE),
            ("+", UNPARSEABLE),
            ("true", UNPARSEABLE),
            ("5\t", UNPARSEABLE),
            ("\t5", UNPARSEABLE),
            ("5\n", UNPARSEABLE),
            ("5\x00", UNPARSEABLE),
            ("\u200b5", UNPARSEABLE),  # zero-width space: not trimmed
            ("9223372036854775808", UNPARSEABLE),  # BIGINT max + 1
            ("-9223372036854775809", UNPARSEABLE),
            ("99999999999999999999999", UNPARSEABLE),
            ("11", RANGE),
            ("-1", RANGE),
            ("9223372036854775807", RANGE),  # a BIGINT, but no score
            ("+5", ACCEPTED, 5),
            ("007", ACCEPTED, 7),
            ("-0", ACCEPTED, 0),
            (" 8 ", ACCEPTED, 8),
            ("\u00a09", ACCEPTED, 9),  # no-break space: trimmed
        ],
    ),
    Case("integer", "2147483648", RANGE, "sessions", "pageviews"),  # beyond max_count_value
    Case("integer", "9223372036854775807", RANGE, "sessions", "duration_seconds"),
    Case("integer", "1.5", UNPARSEABLE, "sessions", "duration_seconds"),
    Case("integer", "2147483647", ACCEPTED, "sessions", "pageviews", 2147483647),
    Case("integer", "0", RANGE, "orders", "item_count"),
    Case("integer", "2.0", UNPARSEABLE, "orders", "item_count"),
    Case("integer", "1e3", UNPARSEABLE, "orders", "item_count"),
]

# --- amount: decimal point (the default notation), at most two decimals ---------------------
AMOUNTS = [
    *cases(
        "amount",
        "orders",
        "gross_amount",
        [
            ("10.005", UNPARSEABLE),
            ("10.5.0", UNPARSEABLE),
            ("10..00", UNPARSEABLE),
            ("1e3", UNPARSEABLE),
            ("1E-2", UNPARSEABLE),
            ("0x10", UNPARSEABLE),
            ("1_000.00", UNPARSEABLE),
            ("1 000.00", UNPARSEABLE),
            ("1\u00a0000.00", UNPARSEABLE),
            ("1,000.00", UNPARSEABLE),  # no thousands separator configured
            ("1'000.00", UNPARSEABLE),
            ("10,50", UNPARSEABLE),  # a decimal comma in the default notation
            ("€10.00", UNPARSEABLE),
            ("10.00€", UNPARSEABLE),
            ("10.00 EUR", UNPARSEABLE),
            ("EUR 10", UNPARSEABLE),
            ("$10", UNPARSEABLE),
            ("10.00-", UNPARSEABLE),
            ("(10.00)", UNPARSEABLE),
            ("+-10", UNPARSEABLE),
            (".50", UNPARSEABLE),
            ("10.", UNPARSEABLE),
            ("10 .00", UNPARSEABLE),
            ("١٠.٠٠", UNPARSEABLE),
            ("１０.００", UNPARSEABLE),
            ("NaN", UNPARSEABLE),
            ("Infinity", UNPARSEABLE),
            ("-inf", UNPARSEABLE),
            ("ten", UNPARSEABLE),
            ("10.00\t", UNPARSEABLE),
            ("10\x00", UNPARSEABLE),
            ("12345678901234567.00", UNPARSEABLE),  # beyond decimal(18, 2)
            ("99999999999999999999", UNPARSEABLE),
            ("-10.00", "negative_amount"),
            # fits decimal(18, 2), but not once converted at GBP 1.17 / CHF 1.05
            ("9999999999999999.99", RANGE, None, (("currency", "GBP"),)),
            ("9600000000000000.00", RANGE, None, (("currency", "CHF"),)),
            ("10", ACCEPTED, Decimal("10.00")),
            ("10.5", ACCEPTED, Decimal("10.50")),
            ("+0.99", ACCEPTED, Decimal("0.99")),
            ("0", ACCEPTED, Decimal("0.00")),
            # var max_amount_eur (default 1,000,000,000): at most that in EUR is accepted
            ("850000000.00", ACCEPTED, Decimal("850000000.00"), (("currency", "GBP"),)),
            ("1000000000.00", ACCEPTED, Decimal("1000000000.00")),
            ("1000000000.01", RANGE),
        ],
    ),
    Case(
        "amount",
        "9999999999999999.99",
        RANGE,
        "orders",
        "shipping_amount",
        None,
        (("currency", "GBP"),),
    ),
    Case(
        "amount",
        "9999999999999999.99",
        RANGE,
        "orders",
        "discount_amount",
        None,
        (("currency", "GBP"), ("gross_amount", "1.00")),
    ),
    Case("amount", "5.001", UNPARSEABLE, "orders", "discount_amount"),
    Case("amount", "4,95", UNPARSEABLE, "orders", "shipping_amount"),
]

# --- timestamp: ISO 8601, offset at most ±14:00, not before earliest_valid_date -------------
TIMESTAMPS = [
    *cases(
        "timestamp",
        "email_events",
        "occurred_at",
        [
            ("infinity", UNPARSEABLE),
            ("-infinity", UNPARSEABLE),
            ("epoch", UNPARSEABLE),
            ("now", UNPARSEABLE),
            ("today", UNPARSEABLE),
            ("tomorrow", UNPARSEABLE),
            ("yesterday", UNPARSEABLE),
            ("allballs", UNPARSEABLE),
            ("NaT", UNPARSEABLE),
            ("null", UNPARSEABLE),
            ("2024-12-01T10:00:00+14:30", UNPARSEABLE),
            ("2024-12-01T10:00:00-15:00", UNPARSEABLE),
            ("2024-12-01T10:00:00+99:00", UNPARSEABLE),
            ("2024-12-01T10:00:00+1400:", UNPARSEABLE),
            ("2024-12-01T10:00:00+05:60", UNPARSEABLE),
            ("2024-12-01T10:00:00+5:00", UNPARSEABLE),
            ("2024-12-01T10:00:00 +01:00", UNPARSEABLE),
            ("2024-12-01T10:00:00 Europe/Berlin", UNPARSEABLE),
            ("2024-12-01T10:00:00 BC", UNPARSEABLE),
            ("2024-12-01 10:00:00 (BC)", UNPARSEABLE),
            ("-2024-12-01T10:00:00Z", UNPARSEABLE),
            ("+2024-12-01T10:00:00Z", UNPARSEABLE),
            ("12024-12-01T10:00:00Z", UNPARSEABLE),  # five-digit year
            ("2024-12-01", UNPARSEABLE),  # a date, no time
            ("2024-12-01T24:00:00Z", UNPARSEABLE),
            ("2024-12-31T23:59:60Z", UNPARSEABLE),  # leap second
            ("2024-02-30T10:00:00Z", UNPARSEABLE),
            ("2023-02-29T10:00:00Z", UNPARSEABLE),
            ("2024-13-01T10:00:00Z", UNPARSEABLE),
            ("2024-12-01T10:60:00Z", UNPARSEABLE),
            ("2024-12-01T10Z", UNPARSEABLE),
            ("2024-12-01T10:00:00ZZ", UNPARSEABLE),
            ("2024-12-01T10:00:00.1234567890Z", UNPARSEABLE),  # ten fraction digits
            ("2024-12-01T10:00:00,5Z", UNPARSEABLE),
            ("2024-W48-7T10:00:00Z", UNPARSEABLE),
            ("2024-336T10:00:00Z", UNPARSEABLE),
            ("20241201T100000Z", UNPARSEABLE),
            ("01.12.2024 10:00", UNPARSEABLE),  # German, but the setting says ISO
            ("12/01/2024 10:00", UNPARSEABLE),
            ("1733047200", UNPARSEABLE),  # Unix seconds
            ("2024-12-01\t10:00:00Z", UNPARSEABLE),
            ("2024-12-01T10:00:00Z\n", UNPARSEABLE),
            ("2024-12-01T10:00:00\x00", UNPARSEABLE),
            ("２０２４-12-01T10:00:00Z", UNPARSEABLE),
            ("0001-01-01T00:00:00Z", RANGE),  # year 1
            ("0000-01-01T00:00:00Z", RANGE),  # year 0 = 1 BC in ISO 8601
            ("1970-01-01T00:00:00Z", RANGE),
            ("1999-12-31T23:59:59Z", RANGE),
            ("2000-01-01T00:30:00+01:00", RANGE),  # 1999-12-31 23:30 UTC
            ("9999-12-31T23:59:59-14:00", "future_timestamp"),
            ("2025-01-22T00:00:00Z", "future_timestamp"),
            ("2000-01-01T00:00:00Z", ACCEPTED, dt.datetime(2000, 1, 1)),
            ("2025-01-21T23:59:59Z", ACCEPTED, dt.datetime(2025, 1, 21, 23, 59, 59)),
            ("2024-12-01 10:00", ACCEPTED, dt.datetime(2024, 12, 1, 10, 0)),  # no offset: UTC
            ("2024-12-01T10:00+05:30", ACCEPTED, dt.datetime(2024, 12, 1, 4, 30)),
            ("2024-12-01T10:00:00+0530", ACCEPTED, dt.datetime(2024, 12, 1, 4, 30)),
            ("2024-12-01T10:00:00+14", ACCEPTED, dt.datetime(2024, 11, 30, 20, 0)),
            ("2024-12-01T10:00:00-14:00", ACCEPTED, dt.datetime(2024, 12, 2, 0, 0)),
            (
                "2024-12-01T10:00:00.123456789Z",
                ACCEPTED,
                dt.datetime(2024, 12, 1, 10, 0, 0, 123456),
            ),
        ],
    ),
    Case("timestamp", "epoch", UNPARSEABLE, "orders", "ordered_at"),
    Case("timestamp", "0001-01-01T00:00:00+00:00", RANGE, "orders", "ordered_at"),
    Case("timestamp", "infinity", UNPARSEABLE, "customers", "signup_at"),
    Case("timestamp", "1900-01-01T00:00:00Z", RANGE, "customers", "loyalty_joined_at"),
    Case("timestamp", "-infinity", UNPARSEABLE, "sessions", "started_at"),
    Case("timestamp", "2024-12-01T10:00:00+15:00", UNPARSEABLE, "survey_responses", "submitted_at"),
]

# --- date (customers.birth_date): YYYY-MM-DD, 1900-01-01 up to signup and reference date ----
DATES = cases(
    "date",
    "customers",
    "birth_date",
    [
        ("1990-02-30", UNPARSEABLE),
        ("1990-13-01", UNPARSEABLE),
        ("1990-00-10", UNPARSEABLE),
        ("1990-01-00", UNPARSEABLE),
        ("1991-02-29", UNPARSEABLE),
        ("90-01-01", UNPARSEABLE),
        ("1990-1-1", UNPARSEABLE),
        ("01.01.1990", UNPARSEABLE),
        ("01/01/1990", UNPARSEABLE),
        ("1990/01/01", UNPARSEABLE),
        ("19900101", UNPARSEABLE),
        ("1990-01-01T00:00:00", UNPARSEABLE),
        ("1990-01-01 00:00", UNPARSEABLE),
        ("1990-01-01Z", UNPARSEABLE),
        ("1990-01-01 BC", UNPARSEABLE),
        ("1990-01-01 (BC)", UNPARSEABLE),
        ("-1990-01-01", UNPARSEABLE),
        ("+1990-01-01", UNPARSEABLE),
        ("11990-01-01", UNPARSEABLE),
        ("1990-W01-1", UNPARSEABLE),
        ("1990-001", UNPARSEABLE),
        ("infinity", UNPARSEABLE),
        ("-infinity", UNPARSEABLE),
        ("epoch", UNPARSEABLE),
        ("today", UNPARSEABLE),
        ("yesterday", UNPARSEABLE),
        ("unknown", UNPARSEABLE),
        ("n/a", UNPARSEABLE),
        ("1990-01-01\t", UNPARSEABLE),
        ("\x001990-01-01", UNPARSEABLE),
        ("１９９０-01-01", UNPARSEABLE),
        ("1990‐01‐01", UNPARSEABLE),  # U+2010 hyphens
        ("1990–01–01", UNPARSEABLE),  # en dashes
        ("0001-01-01", RANGE),
        ("0000-01-01", RANGE),
        ("1899-12-31", RANGE),
        ("2024-06-02", RANGE),  # after signup (2024-06-01)
        ("2025-01-21", RANGE),  # after the reference date too
        ("1900-01-01", ACCEPTED, dt.date(1900, 1, 1)),
        ("2024-06-01", ACCEPTED, dt.date(2024, 6, 1)),  # the signup date itself
        ("", ACCEPTED, None),  # empty: no birth date
    ],
)

# --- boolean (customers.marketing_consent) --------------------------------------------------
BOOLEANS = cases(
    "boolean",
    "customers",
    "marketing_consent",
    [
        ("TRUE\t", UNPARSEABLE),
        ("\ttrue", UNPARSEABLE),
        ("true\n", UNPARSEABLE),
        ("true\r", UNPARSEABLE),
        ("true\x00", UNPARSEABLE),
        ("ｔｒｕｅ", UNPARSEABLE),  # fullwidth
        ("ＹＥＳ", UNPARSEABLE),
        ("Ｔ", UNPARSEABLE),
        ("уes", UNPARSEABLE),  # Cyrillic у
        ("yеs", UNPARSEABLE),  # Cyrillic е
        ("trüe", UNPARSEABLE),
        ("\u200btrue", UNPARSEABLE),
        ("true\u00ad", UNPARSEABLE),  # soft hyphen
        ("T R U E", UNPARSEABLE),
        ('"true"', UNPARSEABLE),
        ("tru", UNPARSEABLE),
        ("truee", UNPARSEABLE),
        ("on", UNPARSEABLE),
        ("off", UNPARSEABLE),
        ("2", UNPARSEABLE),
        ("-1", UNPARSEABLE),
        ("1.0", UNPARSEABLE),
        ("0.0", UNPARSEABLE),
        ("١", UNPARSEABLE),
        ("ja", UNPARSEABLE),
        ("nein", UNPARSEABLE),
        ("oui", UNPARSEABLE),
        ("null", UNPARSEABLE),
        ("none", UNPARSEABLE),
        ("yes please", UNPARSEABLE),
        ("true/false", UNPARSEABLE),
        ("✓", UNPARSEABLE),
        ("x", UNPARSEABLE),
        ("+", UNPARSEABLE),
        ("TRUE", ACCEPTED, True),
        (" Yes ", ACCEPTED, True),
        ("f", ACCEPTED, False),
        ("0", ACCEPTED, False),
        ("\u00a0no\u3000", ACCEPTED, False),  # Unicode spaces are trimmed
    ],
)

# --- enum: sessions.device and one of each other enum column --------------------------------
ENUMS = [
    *cases(
        "enum",
        "sessions",
        "device",
        [
            ("desktop\t", ENUM),
            ("DESKTOP\n", ENUM),
            ("tablet\r", ENUM),
            ("desktop\x00", ENUM),
            ("desk top", ENUM),
            ("desk-top", ENUM),
            ("ｄｅｓｋｔｏｐ", ENUM),
            ("dеsktop", ENUM),  # Cyrillic е
            ("móbile", ENUM),
            ("Mobile\u0301", ENUM),  # combining accent
            ("\u200bmobile", ENUM),
            ("mobile\u00ad", ENUM),
            ("tablet\u2028", ENUM),  # line separator: not trimmed
            ("smartphone", ENUM),
            ("phone", ENUM),
            ("pc", ENUM),
            ("Desktop PC", ENUM),
            ("mobile,tablet", ENUM),
            ("desktop;", ENUM),
            ("desktops", ENUM),
            ("mobil", ENUM),
            ("tab", ENUM),
            ("null", ENUM),
            ("none", ENUM),
            ("unknown", ENUM),
            ("'desktop'", ENUM),
            ('"desktop"', ENUM),
            ("desktop' or '1'='1", ENUM),
            ("*", ENUM),
            ("%", ENUM),
            ("0", ENUM),
            (" Tablet ", ACCEPTED, "tablet"),
            ("MOBILE", ACCEPTED, "mobile"),
            # lower() folds the Kelvin sign to 'k' (Unicode case mapping): the canonical value
            ("DES\u212aTOP", ACCEPTED, "desktop"),
        ],
    ),
    Case("enum", "complete", ENUM, "orders", "status"),
    Case("enum", "web\t", ENUM, "orders", "sales_channel"),
    Case("enum", "EURO", ENUM, "orders", "currency"),
    Case("enum", "eur\x00", ENUM, "orders", "currency"),
    Case("enum", "organic search", ENUM, "sessions", "traffic_source"),
    Case("enum", "e-mail", ENUM, "survey_responses", "survey_channel"),
    Case("enum", "open", ENUM, "email_events", "event_type"),
    Case("enum", "organic-search", ENUM, "customers", "acquisition_channel"),
    Case("enum", "UK", ENUM, "customers", "country_code"),
    Case("enum", "D\x00E", ENUM, "customers", "country_code"),
]

# --- key: at most 255 characters, no control character --------------------------------------
KEYS = [
    *cases(
        "key",
        "customers",
        "customer_id",
        [
            ("c\t1", INVALID),
            ("c\n1", INVALID),
            ("c\r1", INVALID),
            ("c\x001", INVALID),
            ("c\x7f1", INVALID),  # DEL
            ("c\x851", INVALID),  # NEL, a C1 control
            ("c\x9f1", INVALID),
            ("c\x1b[31m1", INVALID),  # an ANSI colour escape
            ("\x0c1", INVALID),
            ("\x0b1", INVALID),
            ("1\x08", INVALID),
            ("1\t", INVALID),  # a trailing tab is not trimmed
            ("k" * 256, INVALID),
            ("k" * 1000, INVALID),
            ("\u00a0", "missing_key"),  # only a no-break space
            ("k" * 255, ACCEPTED),
            ("ü-ß-✓-客户", ACCEPTED),
            ("z\u200bz", ACCEPTED),  # a zero-width space is a format character, not a control
            ("\u00a0c-nbsp\u2003", ACCEPTED),  # trimmed to c-nbsp
        ],
    ),
    Case("key", "1\x1f", INVALID, "customers", "referred_by_customer_id"),
    Case("key", "o\t1", INVALID, "orders", "order_id"),
    Case("key", "o" * 300, INVALID, "orders", "order_id"),
    Case("key", "\u3000", "missing_key", "orders", "order_id"),
    Case("key", "1\t", INVALID, "orders", "customer_id"),
    Case("key", "1\x00", INVALID, "orders", "customer_id"),
    Case("key", "\x001", INVALID, "orders", "customer_id"),
    Case("key", "x" * 256, INVALID, "orders", "customer_id"),
    Case("key", "\u2003", "missing_value", "orders", "customer_id"),
    Case("key", "s\x85", INVALID, "sessions", "session_id"),
    Case("key", "s\x1f1", INVALID, "sessions", "session_id"),
    Case("key", "ck\nx", INVALID, "sessions", "anonymous_id"),
    Case("key", "ck\x03", INVALID, "sessions", "anonymous_id"),
    Case("key", "1\r", INVALID, "sessions", "customer_id"),
    Case("key", "4\x00", INVALID, "sessions", "order_id"),
    Case("key", "r\x07", INVALID, "survey_responses", "response_id"),
    Case("key", "2\t", INVALID, "survey_responses", "customer_id"),
    Case("key", "4\n", INVALID, "survey_responses", "order_id"),
    Case("key", "e\x02", INVALID, "email_events", "event_id"),
    Case("key", "e\r\n", INVALID, "email_events", "event_id"),
    Case("key", " ", "missing_key", "email_events", "event_id"),
    Case("key", "1\x7f", INVALID, "email_events", "customer_id"),
    Case("key", "camp\x01", INVALID, "email_events", "campaign_id"),
    Case("key", "c" * 256, INVALID, "email_events", "campaign_id"),
]

CATALOGUE = INTEGERS + AMOUNTS + TIMESTAMPS + DATES + BOOLEANS + ENUMS + KEYS
KINDS = ("integer", "amount", "timestamp", "date", "boolean", "enum", "key")


@dataclass(frozen=True)
class Planted:
    """A catalogue entry as a raw row: its table and key as staging will see them."""

    case: Case
    table: str
    key: str | None  # the cleaned key; None when the key is blank (missing_key)


def plant(raw: Path) -> list[Planted]:
    """Append every catalogue entry as one row to its table's file in `raw`."""
    planted: list[Planted] = []
    rows: dict[str, list[list[str]]] = {table: [] for table in TABLES}
    for index, case in enumerate(CATALOGUE):
        key_column = TABLES[case.table][2]
        row = dict(TEMPLATES[case.table])
        row[key_column] = f"hv-{case.kind}-{index:03d}"
        row.update(case.others)
        row[case.column] = case.text
        key = row[key_column].strip(TRIMMED) or None
        planted.append(Planted(case, case.table, key))
        rows[case.table].append([row[column] for column in TEMPLATES[case.table]])
    for table, table_rows in rows.items():
        path = raw / f"{table}.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
        assert header == list(TEMPLATES[table]), table
        with path.open("a", encoding="utf-8", newline="") as handle:
            # every field quoted, so that tabs, CR, LF and NUL stay inside their field
            csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(table_rows)
    return planted


def count_data_rows(path: Path) -> int:
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


@dataclass
class HostileBuild:
    build: DbtResult
    planted: list[Planted]
    original_keys: dict[str, set[str]]
    original_rows: dict[str, int]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory: pytest.TempPathFactory) -> HostileBuild:
    """The hand-worked shop with the whole catalogue appended, built once."""
    work = tmp_path_factory.mktemp("hostile")
    raw = work / "raw"
    shutil.copytree(FIXTURES / "handworked", raw)
    original_keys = {}
    original_rows = {}
    for table, (_, _, key_column) in TABLES.items():
        with (raw / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
            original_keys[table] = {row[key_column] for row in csv.DictReader(handle)}
        original_rows[table] = count_data_rows(raw / f"{table}.csv")
    planted = plant(raw)
    build = run_dbt(
        ["build"],
        work / "warehouse.duckdb",
        {"raw_data_path": str(raw), "as_of_date": AS_OF, **NO_ALARM, **KEEP_EVENTS},
        work,
    )
    return HostileBuild(build, planted, original_keys, original_rows)


def query(build: DbtResult, sql: str, params: list | None = None) -> list[tuple]:
    with duckdb.connect(str(build.database), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_catalogue_has_thirty_hostile_strings_per_contract_type() -> None:
    rejected = Counter(case.kind for case in CATALOGUE if case.reason is not None)
    assert set(rejected) == set(KINDS)
    assert min(rejected.values()) >= 30, rejected


def test_the_build_succeeds(hostile: HostileBuild) -> None:
    assert hostile.build.returncode == 0, hostile.build.output[-5000:]


def test_each_hostile_row_is_quarantined_with_its_reason_and_column(
    hostile: HostileBuild,
) -> None:
    assert hostile.build.returncode == 0, hostile.build.output[-5000:]
    quarantined = Counter(
        query(
            hostile.build,
            "select source_table, source_key, rejection_reason, rejection_column"
            " from staging.stg_quarantine__rejected_rows",
        )
    )
    expected = Counter(
        (TABLES[p.table][0], p.key, p.case.reason, p.case.column)
        for p in hostile.planted
        if p.case.reason is not None
    )
    # every difference, named by its catalogue entry, not just the first
    missing = expected - quarantined
    unexpected = quarantined - expected
    by_key = {(TABLES[p.table][0], p.key): p.case for p in hostile.planted}
    report = [f"expected {row[2]} on {row[3]}, for {by_key.get(row[:2])!r}" for row in missing] + [
        f"got {row[2]} on {row[3]}, for {by_key.get(row[:2])!r}" for row in unexpected
    ]
    assert not report, "\n".join(report)


def test_controls_are_accepted_with_their_typed_values(hostile: HostileBuild) -> None:
    assert hostile.build.returncode == 0, hostile.build.output[-5000:]
    problems = []
    for p in hostile.planted:
        if p.case.reason is not None:
            continue
        _, relation, key_column = TABLES[p.table]
        column = TYPED_COLUMN.get(p.case.column, p.case.column)
        rows = query(
            hostile.build,
            f"select {column} from {relation} where {key_column} = ?",
            [p.key],
        )
        if rows != [(p.case.value if not p.case.in_key_column else p.key,)]:
            problems.append(f"{p.case!r}: staging holds {rows}")
    assert not problems, "\n".join(problems)


def test_every_original_row_is_still_accepted(hostile: HostileBuild) -> None:
    assert hostile.build.returncode == 0, hostile.build.output[-5000:]
    for table, (_, relation, key_column) in TABLES.items():
        keys = {row[0] for row in query(hostile.build, f"select {key_column} from {relation}")}
        assert hostile.original_keys[table] <= keys, table


def test_balance_read_equals_accepted_plus_quarantined_plus_collapsed(
    hostile: HostileBuild,
) -> None:
    assert hostile.build.returncode == 0, hostile.build.output[-5000:]
    report = {
        row[0]: row[1:]
        for row in query(
            hostile.build,
            "select source_table, rows_read, rows_accepted, rows_quarantined,"
            " rows_collapsed_duplicates from marts.rpt_data_quality",
        )
    }
    for table, (source_table, _, _) in TABLES.items():
        planted = [p for p in hostile.planted if p.table == table]
        rejected = sum(1 for p in planted if p.case.reason is not None)
        read = hostile.original_rows[table] + len(planted)
        accepted = hostile.original_rows[table] + len(planted) - rejected
        assert report[source_table] == (read, accepted, rejected, 0), source_table
        rows_read, rows_accepted, rows_quarantined, rows_collapsed = report[source_table]
        assert rows_read == rows_accepted + rows_quarantined + rows_collapsed


# ---------------------------------------------------------------------------------------------
# German notation: decimal commas, thousands dots, DD.MM.YYYY HH:MM in Europe/Berlin

GERMAN_FORMAT = {
    "delimiter": ";",
    "decimal_separator": ",",
    "thousands_separator": ".",
    "timestamp_format": "%d.%m.%Y %H:%M",
    "date_format": "%d.%m.%Y",
    "timezone": "Europe/Berlin",
}


def berlin(year: int, month: int, day: int, hour: int, minute: int, fold: int = 0) -> dt.datetime:
    """A Berlin wall-clock time as naive UTC, computed with zoneinfo (independent of DuckDB)."""
    local = dt.datetime(year, month, day, hour, minute, tzinfo=BERLIN, fold=fold)
    return local.astimezone(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class GermanOrder:
    """One order of the German export; `outcome` is its UTC time, or (column, reason)."""

    ordered_at: str
    gross: str
    outcome: dt.datetime | tuple[str, str]
    currency: str = "EUR"
    discount: str = "0,00"
    shipping: str = "0,00"


def bad(column: str, reason: str = UNPARSEABLE) -> tuple[str, str]:
    return (column, reason)


GERMAN_ORDERS = {
    "o-summer": GermanOrder("01.07.2024 02:30", "1.234,56", berlin(2024, 7, 1, 2, 30),
                            discount="0,5", shipping="4,95"),
    "o-winter": GermanOrder("31.12.2024 23:05", "1234,5", berlin(2024, 12, 31, 23, 5),
                            discount="0"),
    # 02:30 on 31 March 2024 does not exist in Berlin: read with the offset before the change
    "o-gap": GermanOrder("31.03.2024 02:30", "10,00", berlin(2024, 3, 31, 2, 30)),
    # 02:30 on 27 October 2024 happens twice: the second one (CET, after the change)
    "o-repeat": GermanOrder("27.10.2024 02:30", "10,00", berlin(2024, 10, 27, 2, 30, fold=1)),
    "o-short": GermanOrder("1.3.2024 9:05", "1.234.567,89", berlin(2024, 3, 1, 9, 5),
                           currency="GBP"),
    "o-iso-amount": GermanOrder("01.07.2024 10:00", "1.5", bad("gross_amount")),
    "o-point-decimal": GermanOrder("01.07.2024 10:00", "12.50", bad("gross_amount")),
    "o-iso-thousands": GermanOrder("01.07.2024 10:00", "1,234.56", bad("gross_amount")),
    "o-bad-group": GermanOrder("01.07.2024 10:00", "1.23,00", bad("gross_amount")),
    "o-3-decimals": GermanOrder("01.07.2024 10:00", "12,345", bad("gross_amount")),
    "o-iso-shipping": GermanOrder("01.07.2024 10:00", "10,00", bad("shipping_amount"),
                                  shipping="4.95"),
    "o-iso-time": GermanOrder("2024-07-01T10:00:00Z", "10,00", bad("ordered_at")),
    "o-seconds": GermanOrder("01.07.2024 10:00:00", "10,00", bad("ordered_at")),
    "o-31-april": GermanOrder("31.04.2024 10:00", "10,00", bad("ordered_at")),
    "o-short-year": GermanOrder("01.07.24 10:00", "10,00", bad("ordered_at")),
    # 00:30 on 1 January 2000 in Berlin is 1999-12-31 23:30 UTC: before earliest_valid_date
    "o-early": GermanOrder("01.01.2000 00:30", "10,00", bad("ordered_at", RANGE)),
}  # fmt: skip
FX = {"EUR": Decimal("1"), "GBP": Decimal("1.17")}

# customer_id -> (birth_date, signup_at, expected birth date or (column, reason))
GERMAN_CUSTOMERS = {
    "g1": ("10.05.1990", "01.03.2024 10:00", dt.date(1990, 5, 10)),
    "g2": ("1990-05-10", "01.03.2024 10:00", bad("birth_date")),
    "g3": ("29.02.1991", "01.03.2024 10:00", bad("birth_date")),
    "g4": ("31.12.1899", "01.03.2024 10:00", bad("birth_date", RANGE)),
    "g5": ("", "2024-03-01T10:00:00Z", bad("signup_at")),
}


def write_german_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """Semicolons and CRLF, as Excel writes them."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=";", lineterminator="\r\n")
        writer.writerow(header)
        writer.writerows(rows)


def german_amount(text: str) -> Decimal:
    """A German amount as a Decimal, by plain text substitution."""
    return Decimal(text.replace(".", "").replace(",", ".")).quantize(Decimal("0.01"))


@pytest.fixture(scope="module")
def german(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    work = tmp_path_factory.mktemp("german")
    raw = work / "raw"
    raw.mkdir()
    write_german_csv(
        raw / "customers.csv",
        ["customer_id", "email", "first_name", "last_name", "birth_date", "country_code",
         "signup_at", "acquisition_channel", "marketing_consent"],
        [[key, f"{key}@example.de", "Jörg", "Weiß", birth_date, "DE", signup_at, "direct", "1"]
         for key, (birth_date, signup_at, _) in GERMAN_CUSTOMERS.items()],
    )  # fmt: skip
    write_german_csv(
        raw / "orders.csv",
        ["order_id", "customer_id", "ordered_at", "status", "sales_channel", "currency",
         "gross_amount", "discount_amount", "shipping_amount", "item_count"],
        [[key, "g1", order.ordered_at, "completed", "web", order.currency, order.gross,
          order.discount, order.shipping, "1"] for key, order in GERMAN_ORDERS.items()],
    )  # fmt: skip
    build = run_dbt(
        ["build"],
        work / "warehouse.duckdb",
        {
            "raw_data_path": str(raw),
            "as_of_date": AS_OF,
            "raw_format": GERMAN_FORMAT,
            **NO_ALARM,
            **KEEP_EVENTS,
        },
        work,
    )
    assert build.returncode == 0, build.output[-5000:]
    return build


def test_german_notation_parses_to_independently_computed_values(german: DbtResult) -> None:
    orders = {
        row[0]: row[1:]
        for row in query(
            german,
            "select order_id, ordered_at, gross_amount, discount_amount, shipping_amount,"
            " gross_amount_eur from staging.stg_shop__orders",
        )
    }
    expected = {}
    for key, order in GERMAN_ORDERS.items():
        if isinstance(order.outcome, dt.datetime):
            gross = german_amount(order.gross)
            expected[key] = (
                order.outcome,
                gross,
                german_amount(order.discount),
                german_amount(order.shipping),
                (gross * FX[order.currency]).quantize(Decimal("0.01")),
            )
    assert orders == expected
    # the spot values, written out: the computation above is not the only witness
    assert orders["o-summer"][:4] == (
        dt.datetime(2024, 7, 1, 0, 30),
        Decimal("1234.56"),
        Decimal("0.50"),
        Decimal("4.95"),
    )
    assert orders["o-winter"][:2] == (dt.datetime(2024, 12, 31, 22, 5), Decimal("1234.50"))
    assert orders["o-gap"][0] == dt.datetime(2024, 3, 31, 1, 30)  # = 03:30 CEST
    assert orders["o-repeat"][0] == dt.datetime(2024, 10, 27, 1, 30)  # 02:30 CET
    assert orders["o-short"][0] == dt.datetime(2024, 3, 1, 8, 5)
    assert orders["o-short"][4] == Decimal("1444444.43")  # 1,234,567.89 × 1.17

    customers = query(
        german, "select customer_id, birth_date, signup_at from staging.stg_crm__customers"
    )
    assert customers == [("g1", dt.date(1990, 5, 10), dt.datetime(2024, 3, 1, 9, 0))]


def test_german_notation_rejects_the_other_notation(german: DbtResult) -> None:
    quarantined = set(
        query(
            german,
            "select source_key, rejection_column, rejection_reason"
            " from staging.stg_quarantine__rejected_rows",
        )
    )
    expected = {
        (key, *order.outcome)
        for key, order in GERMAN_ORDERS.items()
        if isinstance(order.outcome, tuple)
    } | {
        (key, *outcome)
        for key, (*_, outcome) in GERMAN_CUSTOMERS.items()
        if isinstance(outcome, tuple)
    }
    assert quarantined == expected
