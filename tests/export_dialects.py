"""Rewrite generated raw CSV files as a German Excel / shop-system export would look.

The generator writes the raw data contract's reference dialect: UTF-8, comma delimiter, LF line
ends, ISO 8601 timestamps with a UTC offset, amounts with a decimal point. A German shop's
export of the same data (Excel "CSV (Trennzeichen-getrennt)", a shop system's download) looks
different: semicolons, decimal commas, `DD.MM.YYYY HH:MM` in Europe/Berlin local time without
an offset or seconds, Windows-1252, CRLF line ends, German column headers.

`write_german_excel_export` writes that second version; the dialect test builds both and
compares the marts. The German format is coarser than ISO (no seconds, no offset, a smaller
character set), so it can only carry the same information when the ISO data fits it:
`write_german_excel_export` refuses data that does not, and `make_exportable` adjusts the ISO
files in place until it does. `plant_semicolon_in_multiline_comment` makes sure one survey
comment exercises CSV quoting (a line break and a semicolon inside one field).

This is a plain helper module for tests: no pytest fixtures, no dbt.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
GERMAN_ENCODING = "cp1252"
GERMAN_DELIMITER = ";"
GERMAN_LINE_END = "\r\n"
GERMAN_TIMESTAMP_FORMAT = "%d.%m.%Y %H:%M"
GERMAN_DATE_FORMAT = "%d.%m.%Y"

# Contract column -> German header, per raw table, in the contract's column order.
GERMAN_HEADERS: dict[str, dict[str, str]] = {
    "customers": {
        "customer_id": "Kundennummer",
        "email": "E-Mail",
        "first_name": "Vorname",
        "last_name": "Nachname",
        "birth_date": "Geburtsdatum",
        "country_code": "Land",
        "city": "Ort",
        "signup_at": "Registriert am",
        "acquisition_channel": "Akquisekanal",
        "referred_by_customer_id": "Geworben von",
        "loyalty_joined_at": "Treueprogramm seit",
        "marketing_consent": "Werbeeinwilligung",
        "consent_updated_at": "Einwilligung geändert am",
    },
    "orders": {
        "order_id": "Bestellnummer",
        "customer_id": "Kundennummer",
        "ordered_at": "Bestellt am",
        "status": "Status",
        "sales_channel": "Kanal",
        "currency": "Währung",
        "gross_amount": "Bruttobetrag",
        "discount_amount": "Rabatt",
        "shipping_amount": "Versandkosten",
        "item_count": "Artikelanzahl",
    },
    "sessions": {
        "session_id": "Sitzungs-ID",
        "anonymous_id": "Cookie-ID",
        "customer_id": "Kundennummer",
        "started_at": "Beginn",
        "duration_seconds": "Dauer (Sekunden)",
        "pageviews": "Seitenaufrufe",
        "traffic_source": "Zugriffsquelle",
        "device": "Gerät",
        "landing_page": "Einstiegsseite",
        "order_id": "Bestellnummer",
    },
    "survey_responses": {
        "response_id": "Antwortnummer",
        "customer_id": "Kundennummer",
        "order_id": "Bestellnummer",
        "submitted_at": "Abgegeben am",
        "score": "Bewertung",
        "comment": "Kommentar",
        "survey_channel": "Umfragekanal",
    },
    "email_events": {
        "event_id": "Ereignisnummer",
        "customer_id": "Kundennummer",
        "campaign_id": "Kampagne",
        "event_type": "Ereignisart",
        "occurred_at": "Zeitpunkt",
    },
}
REQUIRED_TABLES = ("customers", "orders")
TIMESTAMP_COLUMNS: dict[str, tuple[str, ...]] = {
    "customers": ("signup_at", "loyalty_joined_at", "consent_updated_at"),
    "orders": ("ordered_at",),
    "sessions": ("started_at",),
    "survey_responses": ("submitted_at",),
    "email_events": ("occurred_at",),
}
DATE_COLUMNS: dict[str, tuple[str, ...]] = {"customers": ("birth_date",)}
AMOUNT_COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": ("gross_amount", "discount_amount", "shipping_amount"),
}

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_AMOUNT = re.compile(r"-?\d+(\.\d+)?")
# An ISO timestamp's wall-clock part (date, time to the second, optional fraction) and offset.
_ISO_TIMESTAMP = re.compile(
    r"(?P<clock>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)"
    r"(?P<offset>Z|[+-]\d{2}:?\d{2})?"
)


def _where(path: Path, record: int, column: str) -> str:
    return f"{path} (record {record}, column {column})"


def _read_iso(path: Path, table: str) -> tuple[list[str], list[list[str]]]:
    """Header and records of one ISO file; every header must be a contract column."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    if not rows:
        raise ValueError(f"{path} is empty: expected a header row.")
    header, records = rows[0], rows[1:]
    unknown = [name for name in header if name not in GERMAN_HEADERS[table]]
    if unknown:
        raise ValueError(
            f"{path} has columns {unknown} that are not in the raw data contract of {table}."
        )
    for number, record in enumerate(records, start=1):
        if len(record) != len(header):
            raise ValueError(
                f"{path} record {number} has {len(record)} fields, the header {len(header)}."
            )
    return header, records


def _write_iso(path: Path, header: list[str], records: list[list[str]]) -> None:
    """Write the reference dialect again: UTF-8, comma, LF, minimal quoting."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(records)


def _tables_in(src_dir: Path) -> list[str]:
    """The raw tables present in src_dir as CSV, in contract order; customers, orders required."""
    for table in REQUIRED_TABLES:
        if not (src_dir / f"{table}.csv").is_file():
            raise ValueError(f"{src_dir / f'{table}.csv'} is missing: it is a required raw file.")
    return [table for table in GERMAN_HEADERS if (src_dir / f"{table}.csv").is_file()]


def parse_iso_timestamp(text: str) -> dt.datetime:
    """An ISO 8601 timestamp as an aware datetime; without an offset it is UTC (the contract)."""
    if not _ISO_TIMESTAMP.fullmatch(text):
        raise ValueError(f"'{text}' is not an ISO 8601 timestamp.")
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def in_first_repeated_hour(instant: dt.datetime) -> bool:
    """True if the instant's Berlin local time is the first of the two in the autumn DST change.

    On the last Sunday of October the Berlin clocks show 02:00-02:59 twice, first in summer time
    (+02:00), then in standard time (+01:00). A local time without an offset cannot say which.
    """
    local = instant.astimezone(BERLIN)
    ambiguous = local.replace(fold=0).utcoffset() != local.replace(fold=1).utcoffset()
    return ambiguous and local.fold == 0


def _german_timestamp(text: str, where: str) -> str:
    try:
        instant = parse_iso_timestamp(text)
    except ValueError as error:
        raise ValueError(f"{where}: {error}") from None
    if instant.second or instant.microsecond:
        raise ValueError(
            f"{where}: '{text}' has seconds, which DD.MM.YYYY HH:MM would drop;"
            " run make_exportable() on the ISO files first."
        )
    if in_first_repeated_hour(instant):
        raise ValueError(
            f"{where}: '{text}' falls in the first of the two repeated autumn hours in"
            " Europe/Berlin, which a local time without offset cannot express;"
            " run make_exportable() on the ISO files first."
        )
    local = instant.astimezone(BERLIN)
    return f"{local.day:02d}.{local.month:02d}.{local.year:04d} {local.hour:02d}:{local.minute:02d}"


def _german_date(text: str, where: str) -> str:
    if not _ISO_DATE.fullmatch(text):
        raise ValueError(f"{where}: '{text}' is not a YYYY-MM-DD date.")
    day = dt.date.fromisoformat(text)
    return f"{day.day:02d}.{day.month:02d}.{day.year:04d}"


def _german_amount(text: str, where: str) -> str:
    if not _ISO_AMOUNT.fullmatch(text):
        raise ValueError(f"{where}: '{text}' is not an amount with a decimal point.")
    return text.replace(".", ",")


def _unchanged(text: str, where: str) -> str:
    return text


def _check_encodable(text: str, where: str) -> None:
    try:
        text.encode(GERMAN_ENCODING)
    except UnicodeEncodeError as error:
        bad = text[error.start : error.end]
        raise ValueError(
            f"{where}: '{text}' contains {bad!r}, which {GERMAN_ENCODING} cannot encode;"
            " run make_exportable() on the ISO files first."
        ) from None


def write_german_excel_export(src_dir: Path, out_dir: Path) -> dict[str, dict[str, str]]:
    """Write the ISO raw CSV files of src_dir to out_dir as a German Excel export.

    Same rows and values, in the German dialect: `;` delimiter, CRLF line ends, cp1252,
    minimal quoting (fields with `;`, quotes or line breaks are quoted; a line break inside a
    field stays LF, as Excel writes it); amounts with a decimal comma and no thousands separator;
    timestamps as Europe/Berlin local time `DD.MM.YYYY HH:MM`; dates as `DD.MM.YYYY`; German
    headers. Empty fields stay empty; every other column is copied unchanged.

    Nothing is replaced or rounded: a timestamp with seconds, one in the first repeated autumn
    hour, a character outside cp1252, or a value that does not parse raises ValueError naming
    the file, record and column (see `make_exportable`).

    Returns the column mapping {table: {German header: contract column}} of the files written,
    as the dbt var `raw_column_mapping` takes it.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    mapping: dict[str, dict[str, str]] = {}
    for table in _tables_in(src_dir):
        source = src_dir / f"{table}.csv"
        header, records = _read_iso(source, table)
        converters: list[Callable[[str, str], str]] = []
        for column in header:
            if column in TIMESTAMP_COLUMNS.get(table, ()):
                converters.append(_german_timestamp)
            elif column in DATE_COLUMNS.get(table, ()):
                converters.append(_german_date)
            elif column in AMOUNT_COLUMNS.get(table, ()):
                converters.append(_german_amount)
            else:
                converters.append(_unchanged)
        german_header = [GERMAN_HEADERS[table][column] for column in header]
        german_records = []
        for number, record in enumerate(records, start=1):
            german_record = []
            for column, convert, text in zip(header, converters, record, strict=True):
                where = _where(source, number, column)
                value = convert(text, where) if text != "" else ""
                _check_encodable(value, where)
                german_record.append(value)
            german_records.append(german_record)
        target = out_dir / f"{table}.csv"
        with target.open("w", encoding=GERMAN_ENCODING, errors="strict", newline="") as handle:
            writer = csv.writer(
                handle,
                delimiter=GERMAN_DELIMITER,
                quoting=csv.QUOTE_MINIMAL,
                lineterminator=GERMAN_LINE_END,
            )
            writer.writerow(german_header)
            writer.writerows(german_records)
        mapping[table] = dict(zip(german_header, header, strict=True))
    return mapping


def _to_cp1252(text: str, where: str) -> tuple[str, int]:
    """Replace each character cp1252 lacks by its base letters (ş -> s); count replacements."""
    out = []
    replaced = 0
    for char in text:
        try:
            char.encode(GERMAN_ENCODING)
            out.append(char)
            continue
        except UnicodeEncodeError:
            pass
        base = "".join(
            part for part in unicodedata.normalize("NFKD", char) if not unicodedata.combining(part)
        )
        try:
            base.encode(GERMAN_ENCODING)
        except UnicodeEncodeError:
            base = ""
        if not base:
            raise ValueError(f"{where}: {char!r} in '{text}' has no cp1252 base letter.")
        out.append(base)
        replaced += 1
    return "".join(out), replaced


def _adjust_timestamp(text: str, where: str) -> tuple[str, bool, bool]:
    """The timestamp at whole minutes and outside the first repeated hour, with its own offset.

    Returns (new text, seconds were truncated, moved one hour earlier).
    """
    match = _ISO_TIMESTAMP.fullmatch(text)
    if match is None:
        raise ValueError(f"{where}: '{text}' is not an ISO 8601 timestamp.")
    value = dt.datetime.fromisoformat(text)
    truncated = bool(value.second or value.microsecond)
    value = value.replace(second=0, microsecond=0)
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    moved = in_first_repeated_hour(aware)
    if moved:
        value -= dt.timedelta(hours=1)  # same offset, so exactly one hour earlier
    if not (truncated or moved):
        return text, False, False
    clock = value.replace(tzinfo=None).isoformat(sep=text[10], timespec="seconds")
    return clock + (match["offset"] or ""), truncated, moved


def make_exportable(src_dir: Path) -> dict[str, int]:
    """Edit the ISO raw CSV files in src_dir in place so the German export can carry them.

    - every timestamp is truncated to the whole minute (`DD.MM.YYYY HH:MM` has no seconds);
    - a timestamp in the first of the two repeated autumn hours in Europe/Berlin (summer time,
      e.g. 2024-10-27 02:30+02:00) is moved one hour earlier (01:30+02:00), since a local time
      without an offset could not tell it from the second one;
    - a character that cp1252 cannot encode (e.g. the Turkish ş of a generated surname) is
      replaced by its base letter (s).

    Both the ISO and the German version are then built from the same adjusted ISO data, so the
    comparison stays fair: nothing the coarser format loses is compared. Deterministic: the
    same files give the same result, and a second call changes nothing. Offsets keep their
    original spelling (`Z`, `+01:00`); the files are rewritten as UTF-8, comma, LF.

    Returns counts: {"seconds_truncated", "moved_out_of_repeated_hour", "characters_replaced"}.
    """
    counts = {"seconds_truncated": 0, "moved_out_of_repeated_hour": 0, "characters_replaced": 0}
    for table in _tables_in(src_dir):
        path = src_dir / f"{table}.csv"
        header, records = _read_iso(path, table)
        timestamp_columns = set(TIMESTAMP_COLUMNS.get(table, ()))
        for number, record in enumerate(records, start=1):
            for index, column in enumerate(header):
                where = _where(path, number, column)
                text = record[index]
                if column in timestamp_columns and text != "":
                    text, truncated, moved = _adjust_timestamp(text, where)
                    counts["seconds_truncated"] += truncated
                    counts["moved_out_of_repeated_hour"] += moved
                text, replaced = _to_cp1252(text, where)
                counts["characters_replaced"] += replaced
                record[index] = text
        _write_iso(path, header, records)
    return counts


def plant_semicolon_in_multiline_comment(src_dir: Path) -> str:
    """Make sure one survey comment holds a line break and a semicolon; return its response_id.

    Edits survey_responses.csv in place (the ISO source, so both versions carry the same text).
    If some comment already has both, nothing changes. Otherwise the first comment with a line
    break gets a `;` just before its first line break (replacing a `,` there); if no comment
    spans lines, the first non-empty comment gets `;` and a line break after its first word.
    Deterministic.
    """
    path = src_dir / "survey_responses.csv"
    header, records = _read_iso(path, "survey_responses")
    key, comment = header.index("response_id"), header.index("comment")
    texts = [record[comment] for record in records]
    for record, text in zip(records, texts, strict=True):
        if "\n" in text and ";" in text:
            return record[key]
    multiline = [i for i, text in enumerate(texts) if "\n" in text]
    if multiline:
        index = multiline[0]
        before, after = texts[index].split("\n", 1)
        records[index][comment] = before.removesuffix(",") + ";\n" + after
    else:
        filled = [i for i, text in enumerate(texts) if text.strip()]
        if not filled:
            raise ValueError(f"{path} has no comment to put a line break and a semicolon in.")
        index = filled[0]
        first, _, rest = texts[index].partition(" ")
        records[index][comment] = first + ";\n" + rest
    _write_iso(path, header, records)
    return records[index][key]
