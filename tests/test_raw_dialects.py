"""Dialect test (issue 16): one generated shop, written as ISO and as a German Excel export.

The shop is generated once, adjusted so that the German format can carry it (whole minutes,
no timestamp in the first repeated autumn hour, cp1252 characters: `make_exportable`), and
written twice: the generator's ISO/UTF-8/comma files and a German export (semicolons, decimal
commas, `DD.MM.YYYY HH:MM` Europe/Berlin local time, cp1252, CRLF, quoted multi-line comments,
German headers). With the documented settings both must build, and their marts must be equal.
The German files themselves are checked here without dbt, by reading them back in Python.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import shutil
import subprocess
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, DbtResult, run_dbt
from export_dialects import (
    AMOUNT_COLUMNS,
    BERLIN,
    DATE_COLUMNS,
    TIMESTAMP_COLUMNS,
    make_exportable,
    plant_semicolon_in_multiline_comment,
    write_german_excel_export,
)

pytestmark = pytest.mark.build

GENERATE = ["--customers", "300", "--seed", "7", "--start", "2024-01-01", "--end", "2025-06-30"]
TABLES = ("customers", "orders", "sessions", "survey_responses", "email_events")
GERMAN_FORMAT = {
    "delimiter": ";",
    "decimal_separator": ",",
    "timestamp_format": "%d.%m.%Y %H:%M",
    "date_format": "%d.%m.%Y",
    "timezone": "Europe/Berlin",
    "encoding": "cp1252",
}
MIN_ACCEPTED_SHARE = 0.99
"""Generated without defects, nearly every row must be accepted (not just equally rejected)."""


@dataclass
class DialectShop:
    """One generated shop in both dialects, and what was done to prepare it."""

    iso: Path
    german: Path
    mapping: dict[str, dict[str, str]]
    adjustments: dict[str, int]
    semicolon_response_id: str


def read_iso(path: Path) -> list[dict[str, str]]:
    """Records of a generated (ISO, UTF-8, comma) file by contract column."""
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_german(path: Path) -> list[list[str]]:
    """Header and records of a German export file, read as Excel's dialect in cp1252."""
    with path.open(encoding="cp1252", errors="strict", newline="") as handle:
        return list(csv.reader(handle, delimiter=";"))


def berlin_to_utc(text: str) -> dt.datetime:
    """A German `DD.MM.YYYY HH:MM` Berlin local time as UTC; a repeated hour is the second one."""
    local = dt.datetime.strptime(text, "%d.%m.%Y %H:%M").replace(tzinfo=BERLIN, fold=1)
    return local.astimezone(dt.UTC)


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> DialectShop:
    """Generate the shop, make it exportable, plant a `;` comment, write the German export."""
    work = tmp_path_factory.mktemp("dialects")
    iso = work / "iso"
    completed = subprocess.run(
        [str(BIN / "customer-analytics"), "generate", *GENERATE, "--out", str(iso)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    adjustments = make_exportable(iso)
    response_id = plant_semicolon_in_multiline_comment(iso)
    german = work / "german"
    mapping = write_german_excel_export(iso, german)
    return DialectShop(iso, german, mapping, adjustments, response_id)


# ---------------------------------------------------------------------------------------------
# The helper's preconditions, on hand-written files


def write_files(directory: Path, orders_ordered_at: str, last_name: str = "Weiß") -> None:
    """A minimal ISO pair: one customer, one order at `orders_ordered_at` worth 1234.50."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "customers.csv").write_text(
        f"customer_id,last_name,birth_date\n1,{last_name},1980-02-29\n", encoding="utf-8"
    )
    (directory / "orders.csv").write_text(
        f"order_id,customer_id,ordered_at,gross_amount\n1,1,{orders_ordered_at},1234.50\n",
        encoding="utf-8",
    )


@pytest.mark.parametrize(
    ("ordered_at", "expected"),
    [
        ("2024-07-01T00:30:00Z", "01.07.2024 02:30"),  # summer time: UTC + 2
        ("2024-12-31T23:05:00Z", "01.01.2025 00:05"),  # winter time, across the new year
        ("2024-10-27T02:30:00+01:00", "27.10.2024 02:30"),  # the repeated hour's 2nd time
        ("2024-03-31T03:15:00+02:00", "31.03.2024 03:15"),  # just after the spring gap
        ("2024-03-31T02:15", "31.03.2024 04:15"),  # no offset: UTC by the contract
    ],
)
def test_german_export_of_hand_written_values(
    tmp_path: Path, ordered_at: str, expected: str
) -> None:
    write_files(tmp_path / "iso", ordered_at)
    mapping = write_german_excel_export(tmp_path / "iso", tmp_path / "german")
    assert mapping == {
        "customers": {
            "Kundennummer": "customer_id",
            "Nachname": "last_name",
            "Geburtsdatum": "birth_date",
        },
        "orders": {
            "Bestellnummer": "order_id",
            "Kundennummer": "customer_id",
            "Bestellt am": "ordered_at",
            "Bruttobetrag": "gross_amount",
        },
    }
    assert (tmp_path / "german" / "orders.csv").read_bytes() == (
        b"Bestellnummer;Kundennummer;Bestellt am;Bruttobetrag\r\n"
        + f"1;1;{expected};1234,50\r\n".encode("ascii")
    )
    assert (tmp_path / "german" / "customers.csv").read_bytes() == (
        b"Kundennummer;Nachname;Geburtsdatum\r\n1;Wei\xdf;29.02.1980\r\n"
    )


@pytest.mark.parametrize(
    ("ordered_at", "last_name", "message"),
    [
        ("2024-03-01T10:00:05+01:00", "Weiß", "has seconds"),
        ("2024-03-01T10:00:00.5+01:00", "Weiß", "has seconds"),
        ("2024-10-27T02:30:00+02:00", "Weiß", "first of the two repeated autumn hours"),
        ("2024-10-27T00:59:00Z", "Weiß", "first of the two repeated autumn hours"),
        ("2024-03-01T10:00:00+01:00", "Şahin", "cp1252 cannot encode"),
        ("01.03.2024 10:00", "Weiß", "not an ISO 8601 timestamp"),
    ],
)
def test_german_export_refuses_what_it_cannot_carry(
    tmp_path: Path, ordered_at: str, last_name: str, message: str
) -> None:
    write_files(tmp_path / "iso", ordered_at, last_name)
    with pytest.raises(ValueError, match=message):
        write_german_excel_export(tmp_path / "iso", tmp_path / "german")


def test_make_exportable_adjusts_by_hand_worked_values(tmp_path: Path) -> None:
    (tmp_path / "customers.csv").write_text(
        "customer_id,last_name,signup_at\n"
        "1,Şahin,2024-10-27T02:30:41+02:00\n"  # 1st repeated hour, seconds: both fixed
        "2,Weiß,2024-10-27T00:15:00Z\n"  # 02:15 summer time in Berlin: 1st repeated hour
        "3,Weiß,2024-10-27T02:30:00+01:00\n"  # the 2nd repeated hour: unambiguous, kept
        "4,Weiß,2024-10-26T22:59:59Z\n"  # seconds only; minute stays 22:59
        "5,Weiß,2024-10-27T00:00\n",  # no offset, i.e. UTC: 02:00 summer time, moved
        encoding="utf-8",
    )
    (tmp_path / "orders.csv").write_text("order_id\n1\n", encoding="utf-8")
    counts = make_exportable(tmp_path)
    assert counts == {
        "seconds_truncated": 2,
        "moved_out_of_repeated_hour": 3,
        "characters_replaced": 1,
    }
    assert (tmp_path / "customers.csv").read_text(encoding="utf-8") == (
        "customer_id,last_name,signup_at\n"
        "1,Sahin,2024-10-27T01:30:00+02:00\n"
        "2,Weiß,2024-10-26T23:15:00Z\n"
        "3,Weiß,2024-10-27T02:30:00+01:00\n"
        "4,Weiß,2024-10-26T22:59:00Z\n"
        "5,Weiß,2024-10-26T23:00:00\n"
    )
    assert make_exportable(tmp_path) == dict.fromkeys(counts, 0)  # idempotent
    write_german_excel_export(tmp_path, tmp_path / "german")  # and now accepted


# ---------------------------------------------------------------------------------------------
# The German files of the generated shop, read back without dbt


def test_german_files_carry_the_iso_data(shop: DialectShop) -> None:
    assert sorted(shop.mapping) == sorted(TABLES)
    for table in TABLES:
        iso_rows = read_iso(shop.iso / f"{table}.csv")
        raw = (shop.german / f"{table}.csv").read_bytes()
        header, *records = read_german(shop.german / f"{table}.csv")
        assert len(records) == len(iso_rows) > 0, table
        # every record ends with CRLF; a line break inside a quoted field stays LF
        assert raw.endswith(b"\r\n") and raw.count(b"\r\n") == len(records) + 1, table
        assert raw.count(b"\r") == raw.count(b"\r\n"), table
        assert list(shop.mapping[table]) == header, table
        columns = [shop.mapping[table][name] for name in header]
        assert columns == list(iso_rows[0]), table
        for iso_row, record in zip(iso_rows, records, strict=True):
            german = dict(zip(columns, record, strict=True))
            for column, iso_value in iso_row.items():
                value = german[column]
                if iso_value == "" or value == "":
                    assert value == iso_value, (table, column, iso_row)
                elif column in TIMESTAMP_COLUMNS[table]:
                    iso_instant = dt.datetime.fromisoformat(iso_value.replace("Z", "+00:00"))
                    assert berlin_to_utc(value) == iso_instant, (table, column, value, iso_value)
                elif column in DATE_COLUMNS.get(table, ()):
                    day, month, year = value.split(".")
                    assert f"{year}-{month}-{day}" == iso_value, (table, column, value)
                elif column in AMOUNT_COLUMNS.get(table, ()):
                    assert re.fullmatch(r"\d+,\d{2}", value), (table, column, value)
                    assert Decimal(value.replace(",", ".")) == Decimal(iso_value)
                else:
                    assert value == iso_value, (table, column, value, iso_value)

    # cp1252 bytes, not UTF-8: the umlaut header and a German city
    orders = (shop.german / "orders.csv").read_bytes()
    assert orders.startswith(b"Bestellnummer;Kundennummer;Bestellt am;Status;Kanal;W\xe4hrung;")
    assert b";M\xfcnchen;" in (shop.german / "customers.csv").read_bytes()


def test_german_export_samples_by_hand(shop: DialectShop) -> None:
    """A summer order (ISO in Berlin summer time) and a summer e-mail event (ISO in UTC)."""
    orders = read_iso(shop.iso / "orders.csv")
    german_orders = read_german(shop.german / "orders.csv")[1:]
    index = next(i for i, row in enumerate(orders) if row["ordered_at"].endswith("+02:00"))
    iso, german = orders[index], german_orders[index]
    # the offset is Berlin's own: the local time is the ISO wall clock, rearranged
    year, month, day = iso["ordered_at"][:10].split("-")
    assert german[2] == f"{day}.{month}.{year} {iso['ordered_at'][11:16]}"
    assert german[6] == iso["gross_amount"].replace(".", ",")
    assert german[9] == iso["item_count"]

    events = read_iso(shop.iso / "email_events.csv")
    german_events = read_german(shop.german / "email_events.csv")[1:]
    index = next(
        i
        for i, row in enumerate(events)
        if row["occurred_at"][5:7] in ("06", "07", "08") and int(row["occurred_at"][11:13]) < 22
    )
    stamp = events[index]["occurred_at"]
    assert stamp.endswith("Z")
    year, month, day = stamp[:10].split("-")
    hour = int(stamp[11:13]) + 2  # CEST is UTC+2
    assert german_events[index][4] == f"{day}.{month}.{year} {hour:02d}:{stamp[14:16]}"


def test_german_export_quotes_a_multiline_semicolon_comment(shop: DialectShop) -> None:
    comments = {
        row["response_id"]: row["comment"] for row in read_iso(shop.iso / "survey_responses.csv")
    }
    comment = comments[shop.semicolon_response_id]
    assert "\n" in comment and ";" in comment
    raw = (shop.german / "survey_responses.csv").read_bytes()
    assert b';"' + comment.encode("cp1252") + b'";' in raw
    german = {record[0]: record[5] for record in read_german(shop.german / "survey_responses.csv")}
    assert german[shop.semicolon_response_id] == comment
    # comments with quotes are quoted with "" escaping, as in the ISO file
    assert any('"' in text for text in comments.values())
    assert sum("\n" in text for text in comments.values()) >= 2


# ---------------------------------------------------------------------------------------------
# Both dialects through dbt


def rows_read(build: DbtResult) -> dict[str, tuple[int, int]]:
    """Rows read and accepted per raw table, from the data-quality report."""
    return {
        source.split(".", 1)[1]: (read, accepted)
        for source, read, accepted in build.query(
            "select source_table, rows_read, rows_accepted from marts.rpt_data_quality"
        )
    }


def mart_tables(build: DbtResult) -> list[str]:
    """Every table and view in schema marts."""
    return [
        name
        for (name,) in build.query(
            "select table_name from information_schema.tables where table_schema = 'marts'"
            " order by table_name"
        )
    ]


def first_difference(iso: DbtResult, german: DbtResult) -> str | None:
    """The first mart that differs (columns or rows, in a total order), described; else None."""
    for name in mart_tables(iso):
        columns = [row[0] for row in iso.query(f'describe marts."{name}"')]
        german_columns = [row[0] for row in german.query(f'describe marts."{name}"')]
        if columns != german_columns:
            return f"marts.{name}: columns {columns} (ISO) vs {german_columns} (German)"
        query = f'select * from marts."{name}" order by all'
        iso_rows, german_rows = iso.query(query), german.query(query)
        if iso_rows != german_rows:
            only_iso = list((Counter(iso_rows) - Counter(german_rows)).elements())
            only_german = list((Counter(german_rows) - Counter(iso_rows)).elements())
            return (
                f"marts.{name} ({columns}): {len(iso_rows)} rows (ISO) vs {len(german_rows)}"
                f" (German); {len(only_iso)} only in ISO, first: {only_iso[:3]};"
                f" {len(only_german)} only in German, first: {only_german[:3]}"
            )
    return None


def quarantine_counts(build: DbtResult) -> dict[tuple[str, str], int]:
    """Quarantined rows per raw table and reason."""
    return {
        (table, reason): count
        for table, reason, count in build.query(
            "select source_table, rejection_reason, count(*)"
            " from staging.stg_quarantine__rejected_rows group by all"
        )
    }


def test_iso_and_german_exports_build_the_same_marts(
    shop: DialectShop, tmp_path_factory: pytest.TempPathFactory
) -> None:
    builds = {}
    for name, vars_ in {
        "iso": {"raw_data_path": str(shop.iso)},
        "german": {
            "raw_data_path": str(shop.german),
            "raw_format": GERMAN_FORMAT,
            "raw_column_mapping": shop.mapping,
        },
    }.items():
        work = tmp_path_factory.mktemp(f"{name}_build")
        builds[name] = run_dbt(["build"], work / "warehouse.duckdb", vars_, work)
        assert builds[name].returncode == 0, f"{name} build\n" + builds[name].output[-5000:]
    iso, german = builds["iso"], builds["german"]

    # both read every row of every file, and accept nearly all (counted here, not by dbt)
    expected = {table: len(read_iso(shop.iso / f"{table}.csv")) for table in TABLES}
    for name, build in builds.items():
        counts = rows_read(build)
        assert {table: read for table, (read, _) in counts.items()} == expected, name
        for table, (read, accepted) in counts.items():
            assert accepted >= MIN_ACCEPTED_SHARE * read, (name, table, read, accepted)

    assert mart_tables(iso) == mart_tables(german)
    assert "fct_orders" in mart_tables(iso)
    difference = first_difference(iso, german)
    assert difference is None, difference
    assert quarantine_counts(iso) == quarantine_counts(german)

    # the Great Expectations raw suites read the dialect the build recorded: the German raw
    # text parses there too, and the same rules fail when the dialect is taken away
    from orchestration.lib.quality.suites import SUITES
    from orchestration.lib.quality.validate import run_suite

    for suite in (name for name in SUITES if name.startswith("raw_")):
        outcome = run_suite(suite, german.database)
        assert not outcome.skipped and outcome.failures == [], (suite, outcome.messages())
    with duckdb.connect(str(german.database)) as con:
        con.execute("update staging.raw_source_state set raw_format = '{}'")
    outcome = run_suite("raw_orders", german.database)
    assert {failure.column for failure in outcome.failures} >= {"ordered_at", "gross_amount"}


def test_typed_parquet_needs_no_notation_and_refuses_a_text_one(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The shop generated as typed Parquet (instants with their zone, amounts decimal128,
    integers, birth dates as timestamps at midnight) under the German text settings for decimal
    commas and Berlin local time builds the marts of the same shop generated as ISO CSV under
    the defaults: a typed value is read whatever notation text exports use. Under a
    timestamp_format (a notation only text has), the build stops before anything is built,
    naming the file, the column and the setting."""
    work = tmp_path_factory.mktemp("typed")
    for file_format in ("csv", "parquet"):
        completed = subprocess.run(
            [str(BIN / "customer-analytics"), "generate", *GENERATE, "--format", file_format,
             "--out", str(work / file_format)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert completed.returncode == 0, completed.stderr[-3000:]
    customers = work / "parquet" / "customers.parquet"
    with duckdb.connect() as con:  # birth dates as pandas writes dates: timestamps at midnight
        con.execute(
            f"copy (select * replace (cast(birth_date as timestamp) as birth_date)"
            f" from '{customers}') to '{work / 'customers.parquet'}' (format parquet)"
        )
        shutil.move(work / "customers.parquet", customers)
        kinds = {
            column: kind
            for table, column in (("orders", "ordered_at"), ("customers", "birth_date"))
            for (kind,) in con.execute(
                f"select column_type from (describe select * from '{work / 'parquet' / table}"
                f".parquet') where column_name = '{column}'"
            ).fetchall()
        }
    assert kinds == {"ordered_at": "TIMESTAMP WITH TIME ZONE", "birth_date": "TIMESTAMP"}
    text_settings = {
        "decimal_separator": ",",
        "thousands_separator": ".",
        "timezone": "Europe/Berlin",
    }
    builds = {}
    for name, vars_ in {
        "csv": {"raw_data_path": str(work / "csv")},
        "parquet": {"raw_data_path": str(work / "parquet"), "raw_format": text_settings},
    }.items():
        builds[name] = run_dbt(["build"], work / f"{name}.duckdb", vars_, work / f"{name}-project")
        assert builds[name].returncode == 0, f"{name} build\n" + builds[name].output[-5000:]
    counts = rows_read(builds["parquet"])
    assert counts == rows_read(builds["csv"])
    assert counts["orders"][1] >= MIN_ACCEPTED_SHARE * counts["orders"][0]
    difference = first_difference(builds["csv"], builds["parquet"])
    assert difference is None, difference

    refused = run_dbt(
        ["build"],
        work / "refused.duckdb",
        {
            "raw_data_path": str(work / "parquet"),
            "raw_format": {
                **text_settings,
                "timestamp_format": "%d.%m.%Y %H:%M",
                "date_format": "%d.%m.%Y",
            },
        },
        work / "refused-project",
    )
    assert refused.returncode != 0
    said = " ".join(refused.output.split())
    assert re.search(
        r"Raw file \S+/customers\.parquet holds typed values in columns that table customers"
        r" reads in a notation for text exports \(setting raw_format\): timestamp_format"
        r" '%d\.%m\.%Y %H:%M' for columns signup_at \(TIMESTAMP WITH TIME ZONE\), [^;]*;"
        r" date_format '%d\.%m\.%Y' for column birth_date \(TIMESTAMP\)\. Typed values need"
        r" none: set raw_format_overrides: \{customers: \{timestamp_format: '', date_format:"
        r" ''\}\}",
        said,
    ), said[-3000:]
    if (work / "refused.duckdb").exists():  # seeds may be built, nothing from the raw files
        with duckdb.connect(str(work / "refused.duckdb"), read_only=True) as con:
            marts = "select count(*) from information_schema.tables where table_schema = 'marts'"
            assert con.execute(marts).fetchone() == (0,)
