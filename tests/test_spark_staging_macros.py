"""Spark port (issue 22): every staging macro with a `spark__` implementation returns on Spark
exactly what its `duckdb__` implementation returns on DuckDB, for ordinary and hostile text.

One table of input texts (numbers in both notations, ISO and German timestamps, a sweep of
local times across every daylight-saving change of 2024 in Europe/Berlin and America/New_York,
control and invisible characters, emoji, very long text …) is read by one query that applies
every macro under every relevant raw_format setting, one column each. The query is compiled
by dbt for the DuckDB target (dev) and for the Spark target (`dbt compile --inline`), run on
DuckDB and on one local SparkSession, and the two results must be equal row for row
(timestamps as microseconds since the epoch, dates as days: years 0 and 10000 happen and
Python's datetime cannot hold them). Equal engines can still both be wrong, so values are also
checked against ones worked out here: by hand, and for the daylight-saving sweep with
`zoneinfo` (docs/raw-contract.md, "Local time and daylight saving": in the spring gap the
offset before the change, in the repeated autumn hour the second occurrence; either way the
smaller of the two offsets).

dbt compiles a copy of macros/staging (and sql_string) as a project of its own
(tests/dbt_macros.py), so that the test checks these macros alone, whatever the state of the
models on Spark; compiling for Spark opens no Spark session (--no-populate-cache). The only
JVM is this module's SparkSession.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

import duckdb
import pytest
from dbt_macros import compile_inline, macro_project

pytestmark = pytest.mark.e2e

UTC = dt.UTC
EPOCH = dt.datetime(1970, 1, 1)
EPOCH_DATE = dt.date(1970, 1, 1)
ZONES = ("UTC", "Europe/Berlin", "America/New_York")
GERMAN_TIMESTAMP = "%d.%m.%Y %H:%M"


# --- the inputs --------------------------------------------------------------------------------

NUMBERS = [
    "0", "7", "-12", "+5", "007", "-0", "+0", "00", "1234", "123456789",
    "9223372036854775807", "9223372036854775808", "-9223372036854775808",
    "-9223372036854775809", "9" * 40, "6.5", "1e3", "1e5", "1E5", "0x10", "0b1", "1_000",
    "1,000", "1 000", "١٢٣", "１２３", "۱۲۳", "12\n", "12\r\n", "12\r", "\n12", "12\t", "12\u00a0",
    "12\u2028", "12\u0085", "12\u200b", "\u200b12", "+-1", "--1", "+", "-", ".", ",", "1.", ".5",
    "5.", "1..5", "1.234", "1.234,56", "1,234.56", "1 234,56", "1'234.56", "1'234,56", "1.5",
    "1,5", "1.50", "1,50", "1.999", "1,999", "1.234.567,89", "1,234,567.89", "1 234 567,89",
    "1'234'567.89", "1.23,00", "1,23.00", "12.345.67", "1234.567,8", "1.2345,6", "0.00",
    "-0.01", "+0,5", "00,01", "9999999999999999.99", "9999999999999999,99",
    "9.999.999.999.999.999,99", "10000000000000000", "99999999999999999.99",
    "-9999999999999999.99", "€5", "5€", "$1.00", "1.5 ", "1 .5", "NaN", "nan", "Infinity",
    "infinity", "-inf", "+inf", "1.5e2", "0x1p3", "١٢٣,٤", "1" * 10_000, "0" * 50 + "7",
    "-" + "0" * 50 + "1,5", "0" * 30 + "1.234,5",
]  # fmt: skip

TIMESTAMPS = [
    "2024-01-05T10:00:00+05:00", "2024-01-05 10:00", "2024-01-05T10:00", "2024-01-05T10:00Z",
    "2024-01-05T10:00:00Z", "2024-01-05T10:00:00.5", "2024-01-05T10:00:00.123456789Z",
    "2024-01-05T10:00:00.1234567", "2024-01-05T10:00:59.9999999-14", "2024-01-05T10:00+0530",
    "2024-01-05T10:00-05", "2024-01-05T10:00:00+14:00", "2024-01-05T10:00:00-14:00",
    "2024-01-05T10:00:00+1400", "2024-01-05T10:00:00+14:01", "2024-01-05T10:00:00+13:59",
    "2024-01-05T10:00:00-00", "2024-01-05T10:00:00+00:00", "2024-01-05T10:00:00+99:00",
    "2024-01-05T10:00:00+15", "2024-01-05T10:00:00+5", "2024-01-05T10:00:00+05:0",
    "2024-01-05T10:00:00 +01:00", "2024-01-05T10:00:00+01:00:00", "2024-02-29T10:00",
    "2023-02-29T10:00", "2024-02-30T10:00", "2024-04-31 00:00", "2024-13-01 00:00",
    "2024-00-01 00:00", "2024-01-00 00:00", "2024-01-01T24:00", "2024-01-01T23:60",
    "2024-12-31T23:59:60", "2016-12-31T23:59:60Z", "0000-01-01T00:00", "0000-01-01T10:00+14",
    "0001-01-01T00:00", "1970-01-01T00:00", "1999-12-31T23:59:59", "9999-12-31T23:59:59.999999",
    "9999-12-31T23:59:59.999999-14:00", "10000-01-01T00:00", "-2024-01-01T00:00",
    "+2024-01-01T00:00", "infinity", "-infinity", "Infinity", "epoch", "now", "today",
    "allballs", "2024-01-05", "2024-01-05T10", "2024-01-05T1000", "2024-01-05t10:00",
    "2024-01-05T10:00z", "2024-1-5T10:00", "2024-01-05T10:00:00.", "2024-01-05T10:00:00,5",
    "2024-01-05T10:00\n", "2024-01-05T10:00\r\n", "\n2024-01-05T10:00", "2024-01-05T10:00 ",
    "2024-01-05\u00a010:00", "2024-01-05T10:00:00Z\n", "2024-01-05T10:00:00+01:00\n",
    "2024-01-05T10:00 BC", "2024-01-05T10:00 CET", "2024-01-05T10:00[Europe/Berlin]",
    "٢٠٢٤-٠١-٠٥T10:00", "2024-01-05T10:00:00.1234567890",
    "1.3.2024 9:05", "01.03.2024 09:05", "1.3.24 9:05", "1.3.2024 24:00", "1.3.2024 23:60",
    "31.04.2024 10:00", "29.02.2023 10:00", "29.02.2024 10:00", "1.3.2024 9:5",
    "1.3.2024 9:05:00", "01.03.2024T09:05", "1.3.02024 9:05", "001.3.2024 9:05",
    "1.3.2024  9:05", "1.3.2024\t9:05", "1.3.2024 9:05\n", "١.٣.٢٠٢٤ ٩:٠٥", "00.01.2024 10:00",
    "1.13.2024 10:00", "01.01.0000 00:00", "31.12.9999 23:59", "1/3/2024 9:05",
    "31/12/2024 23:59:59", "31/12/2024 23:59:60", "31/12/2024 23:59", "12/31/2024 23:59:59",
    "202401021005", "20241231235", "2024123123599", "2024010210", "202413011000",
    "2024010210:05", "1.3.2024 9:05:60", "1/3/2024 9:05:07", "29/02/2024 00:00:00",
    "31/3/2024 2:30:00", "27/10/2024 2:30:00", "202403310230", "202410270230", "202411030130",
    "2024031002300",
]  # fmt: skip

DATES = [
    "2024-02-29", "2023-02-29", "2024-04-31", "2024-04-30", "0000-01-01", "0001-01-01",
    "9999-12-31", "2024-13-01", "2024-00-10", "2024-01-00", "24-01-01", "02024-01-01",
    "2024-1-1", "2024/01/01", "2024-01-01T00:00", "2024-01-01 ", "2024-01-01\n",
    "1.3.2024", "01.03.2024", "29.2.2023", "29.02.2024", "31.04.2024", "01.01.0000",
    "1.1.24", "1.1.02024", "00.01.2024", "1.13.2024", "3/1/2024", "12/31/2024", "31/12/2024",
    "1112024", "1032024", "132024", "11122024", "31122024", "2024131", "20240102",
]  # fmt: skip

TEXTS = [
    None, "", " ", "   ", "\u00a0", "\u3000", "\t", "\n", "\r\n", "\u200b", "\ufeff", "\x00",
    "abc", " abc ", "\u00a0abc\u00a0", "\u3000abc\u3000", "\u2007abc\u202f", "\u1680a\u205f",
    "\tabc\t", "abc\n", " abc \n", "\nabc", "a b", "a\tb", "a\nb", "a\rb", "a\x00b", "a\x7fb",
    "a\x85b", "a\x9fb", "a\xa0b", "a\u2028b", "a\u2029b", "a\u200bb", "a\ufeffb", "a\x1bb",
    'a"b', "a\\b", "a'b", "a/b", "a,b", "a;b", "{}", "[1]", "null", "NULL", "\u0130stanbul",
    "x" * 255, "x" * 256, "😀" * 255, "😀" * 256, "e\u0301" * 128, "👍🏽" * 100, "\U0010ffff",
    " " * 10_000 + "x", "x" * 100_000, "Straße", "Ｘ",
    "true", "TRUE", "True", " yes ", "\u00a0yes\u00a0", "\u3000no", "t\t", "y", "n", "Y", "N",
    "1", "0", "t", "f", "false", "FALSE", "no", "on", "off", "ｔｒｕｅ", "уes", "\u200btrue",
    "true\n", "\ttrue", "tru", "truee", "K", "\u212a", "ſ", "yes\x00",
]  # fmt: skip


def daylight_saving_sweep() -> list[str]:
    """Local times every 15 minutes from 22:00 the evening before to 05:00 the morning after
    each daylight-saving change of 2024 in Berlin, New York and Lord Howe Island (30 minutes),
    and the day Samoa skipped (30 December 2011), as ISO text and as a German export writes
    them."""
    changes = [dt.date(2024, 3, 31), dt.date(2024, 10, 27), dt.date(2024, 3, 10)]
    changes += [dt.date(2024, 11, 3), dt.date(2024, 4, 7), dt.date(2024, 10, 6)]
    changes += [dt.date(2011, 12, 30)]
    texts = []
    for day in changes:
        start = dt.datetime.combine(day, dt.time(0)) - dt.timedelta(hours=2)
        for step in range(0, 31 * 4 + 1):
            local = start + dt.timedelta(minutes=15 * step)
            texts.append(local.strftime("%Y-%m-%d %H:%M"))
            texts.append(f"{local.day}.{local.month}.{local.year} {local.hour}:{local:%M}")
    return texts


SWEEP = daylight_saving_sweep()
SWEEP_ZONES = ("Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Pacific/Apia")


# --- the cases: one column per macro and setting ------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One column of the query: a macro call on column v (and w), and how to compare it."""

    name: str
    jinja: str
    kind: str = "value"  # timestamp and date are compared as microseconds and days


def raw_format(**given: str) -> str:
    """A raw_format dict for the inline Jinja, with the defaults of raw_format_defaults()."""
    fmt = {
        "decimal_separator": ".",
        "thousands_separator": "",
        "timestamp_format": "",
        "date_format": "",
        "timezone": "UTC",
    }
    fmt.update(given)
    return json.dumps(fmt)


def cases() -> list[Case]:
    found = [
        Case("parse_integer", "parse_integer('v')"),
        Case("is_valid_key", "is_valid_key('v')"),
        Case("is_valid_key_cleaned", "is_valid_key(clean_text('v'))"),
        Case("clean_text", "clean_text('v')"),
        Case("parse_boolean", "parse_boolean('v')"),
        Case("raw_values_json", "raw_values_json(raw_row(['v', 'w']))"),
        Case("raw_values_field", "raw_values_field(raw_values_json(raw_row(['v', 'w'])), 'v')"),
    ]
    for decimal, thousands in [
        (".", ""), (".", ","), (".", " "), (".", "'"), (",", ""), (",", "."), (",", " "),
        (",", "'"),
    ]:  # fmt: skip
        fmt = raw_format(decimal_separator=decimal, thousands_separator=thousands)
        found.append(Case(f"parse_amount[{decimal}{thousands}]", f"parse_amount('v', {fmt})"))
    for date_format in ["", "%d.%m.%Y", "%m/%d/%Y", "%d%m%Y", "%Y%m%d"]:
        fmt = raw_format(date_format=date_format)
        found.append(Case(f"parse_date[{date_format}]", f"parse_date('v', {fmt})", "date"))
    for timestamp_format in ["", GERMAN_TIMESTAMP, "%d/%m/%Y %H:%M:%S", "%Y%m%d%H%M"]:
        for zone in ZONES:
            fmt = raw_format(timestamp_format=timestamp_format, timezone=zone)
            found.append(
                Case(
                    f"parse_timestamp[{timestamp_format}|{zone}]",
                    f"parse_timestamp('v', {fmt})",
                    "timestamp",
                )
            )
    utc_reading = f"parse_timestamp('v', {raw_format()})"
    for zone in (*SWEEP_ZONES, "Asia/Kolkata"):
        found.append(
            Case(
                f"local_timestamp_to_utc[{zone}]",
                f"local_timestamp_to_utc({utc_reading}, '{zone}')",
                "timestamp",
            )
        )
    return found


CASES = cases()
COLUMNS = {case.name: f"c{index}" for index, case in enumerate(CASES)}


def inline_query() -> str:
    """The query both targets compile: every case as a column over the table inputs."""
    items = ["id"] + [f"{{{{ {case.jinja} }}}} as {COLUMNS[case.name]}" for case in CASES]
    return "select\n    " + ",\n    ".join(items) + "\nfrom inputs"


# --- compiling and running --------------------------------------------------------------------


@dataclass
class Results:
    """Each engine's rows (id first, then the cases in CASES order) and column types."""

    duckdb: list[tuple]
    spark: list[tuple]
    duckdb_types: dict[str, str]
    spark_types: dict[str, str]

    def column(self, engine: str, case: str) -> dict[str, object]:
        """One case's values by input text."""
        rows = self.duckdb if engine == "duckdb" else self.spark
        index = 1 + [c.name for c in CASES].index(case)
        return {VALUES[row[0]]: row[index] for row in rows}


def comparable(engine: str, compiled: str) -> str:
    """The compiled query with timestamps as microseconds and dates as days since 1970."""
    items = ["id"]
    for case in CASES:
        column = f"checked.{COLUMNS[case.name]}"
        if case.kind == "timestamp":
            items.append(f"{'unix_micros' if engine == 'spark' else 'epoch_us'}({column})")
        elif case.kind == "date":
            items.append(
                f"unix_date({column})" if engine == "spark" else f"({column} - date '1970-01-01')"
            )
        else:
            items.append(column)
    return f"select {', '.join(items)} from ({compiled}) as checked order by id"


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Results]:
    """The query compiled for both targets and run once on each engine: on an in-memory
    DuckDB (TimeZone UTC, as the profile sets it) and on one local SparkSession for the
    module (session time zone UTC as in the profile's spark target, ANSI mode as default)."""
    pytest.importorskip(
        "pyspark", reason="pyspark is not installed (pip install dbt-spark[session])"
    )
    if shutil.which("java") is None:
        pytest.skip("java is not installed: Spark needs a Java runtime (openjdk-17-jre-headless)")
    from pyspark.sql import SparkSession

    work = tmp_path_factory.mktemp("spark_staging_macros")
    project = macro_project(work / "project", ["staging", "sql_string.sql"])
    sql = inline_query()
    compiled = {target: compile_inline(project, target, sql, work) for target in ("dev", "spark")}
    rows = [(index, value, VALUES[index - 1]) for index, value in enumerate(VALUES)]

    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create table inputs (id integer, v varchar, w varchar)")
        con.executemany("insert into inputs values (?, ?, ?)", rows)
        duckdb_types = dict(zip(COLUMNS, con.sql(compiled["dev"]).types[1:], strict=True))
        duckdb_rows = con.execute(comparable("duckdb", compiled["dev"])).fetchall()

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPARK_LOCAL_IP", "127.0.0.1")  # read by the JVM as it starts
        spark = (
            SparkSession.builder.master("local[2]")
            .appName("test_spark_staging_macros")
            .config("spark.sql.session.timeZone", "UTC")
            .config("spark.ui.enabled", "false")
            .config("spark.ui.showConsoleProgress", "false")
            .config("spark.driver.host", "127.0.0.1")
            .config("spark.driver.bindAddress", "127.0.0.1")
            .config("spark.sql.warehouse.dir", str(work / "spark" / "warehouse"))
            .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={work / 'spark'}")
            .config("spark.local.dir", str(work / "spark" / "tmp"))
            .config("spark.sql.shuffle.partitions", "2")
            .getOrCreate()
        )
    try:
        spark.sparkContext.setLogLevel("ERROR")
        spark.createDataFrame(rows, "id int, v string, w string").createOrReplaceTempView("inputs")
        spark_types = {
            name: field.dataType.simpleString()
            for name, field in zip(
                COLUMNS, spark.sql(compiled["spark"]).schema.fields[1:], strict=True
            )
        }
        spark_rows = [
            tuple(row) for row in spark.sql(comparable("spark", compiled["spark"])).collect()
        ]
        yield Results(duckdb_rows, spark_rows, duckdb_types, spark_types)
    finally:
        spark.stop()


# --- the engines agree ------------------------------------------------------------------------


@pytest.mark.parametrize("case", [case.name for case in CASES])
def test_spark_returns_what_duckdb_returns(results: Results, case: str) -> None:
    on_duckdb = results.column("duckdb", case)
    on_spark = results.column("spark", case)
    differences = {
        text: (on_duckdb[text], on_spark[text])
        for text in VALUES
        if on_duckdb[text] != on_spark[text] or type(on_duckdb[text]) is not type(on_spark[text])
    }
    shown = {repr(text)[:60]: values for text, values in list(differences.items())[:10]}
    assert not differences, f"{len(differences)} texts differ (DuckDB, Spark): {shown}"


def test_both_engines_give_the_documented_types(results: Results) -> None:
    """Timestamps as timestamps (Spark's: shown in the session time zone, UTC), amounts as
    decimal(18, 2), integers as BIGINT: what the staging models' columns are declared as."""
    expected = {
        "parse_integer": ("BIGINT", "bigint"),
        "is_valid_key": ("BOOLEAN", "boolean"),
        "clean_text": ("VARCHAR", "string"),
        "parse_boolean": ("BOOLEAN", "boolean"),
        "raw_values_json": ("VARCHAR", "string"),
        "raw_values_field": ("VARCHAR", "string"),
    }
    for case in CASES:
        if case.kind == "timestamp":
            wanted = ("TIMESTAMP", "timestamp")
        elif case.kind == "date":
            wanted = ("DATE", "date")
        elif case.name.startswith("parse_amount"):
            wanted = ("DECIMAL(18,2)", "decimal(18,2)")
        else:
            wanted = expected[case.name.split("[")[0].removesuffix("_cleaned")]
        got = (str(results.duckdb_types[case.name]), results.spark_types[case.name])
        assert got == wanted, f"{case.name}: {got}"


def test_every_parser_accepts_some_texts_and_rejects_others(results: Results) -> None:
    """A broken pattern that gave null for every text would agree on both engines."""
    for case in CASES:
        if case.name.startswith(("parse_", "local_")):
            values = set(results.column("spark", case.name).values())
            assert len(values - {None}) >= 2 and None in values, case.name


# --- and are right: values worked out here ----------------------------------------------------


def micros(moment: dt.datetime) -> int:
    """A naive UTC datetime as microseconds since 1970."""
    return (moment - EPOCH) // dt.timedelta(microseconds=1)


def days(day: dt.date) -> int:
    return (day - EPOCH_DATE).days


HANDWORKED = {
    "parse_amount[,.]": {
        "1.234,56": Decimal("1234.56"), "1.234.567,89": Decimal("1234567.89"),
        "1234,5": Decimal("1234.50"), "-0,01": Decimal("-0.01"),
        "1.5": None, "1,999": None, "1.23,00": None, "12.345.67": None, "1e5": None,
        "9.999.999.999.999.999,99": Decimal("9999999999999999.99"), "10000000000000000": None,
    },
    "parse_amount[.']": {"1'234.56": Decimal("1234.56"), "1'234,56": None, "+5": Decimal("5.00")},
    "parse_amount[.]": {"€5": None, "0x10": None, "NaN": None, "infinity": None, "١٢٣,٤": None},
    "parse_integer": {
        "+5": 5, "-0": 0, "007": 7, "6.5": None, "1e3": None, "0x10": None, "١٢٣": None,
        "１２３": None, "12\n": None, "9223372036854775807": 9223372036854775807,
        "9223372036854775808": None, "1_000": None,
    },
    "parse_date[]": {
        "2024-02-29": days(dt.date(2024, 2, 29)), "2023-02-29": None, "2024-04-31": None,
        "2024-1-1": None, "2024-01-01\n": None,
    },
    "parse_date[%d.%m.%Y]": {
        "1.3.2024": days(dt.date(2024, 3, 1)), "29.2.2023": None, "1.1.24": None,
    },
    "parse_date[%d%m%Y]": {"1112024": days(dt.date(24, 12, 11)), "1032024": None},
    "parse_timestamp[|UTC]": {
        "2024-01-05T10:00:00+05:00": micros(dt.datetime(2024, 1, 5, 5)),
        "2024-01-05T10:00+0530": micros(dt.datetime(2024, 1, 5, 4, 30)),
        "2024-01-05T10:00:00.123456789Z": micros(dt.datetime(2024, 1, 5, 10, 0, 0, 123456)),
        "2024-01-05T10:00:00+14:00": micros(dt.datetime(2024, 1, 4, 20)),
        "2024-01-05T10:00:00+99:00": None, "2024-01-05T10:00:00+14:01": None,
        "2024-02-30T10:00": None, "2024-01-01T24:00": None, "2016-12-31T23:59:60Z": None,
        "infinity": None, "epoch": None, "10000-01-01T00:00": None, "2024-01-05T10:00\n": None,
    },
    "parse_timestamp[|Europe/Berlin]": {
        "2024-03-31 02:30": micros(dt.datetime(2024, 3, 31, 1, 30)),  # spring gap
        "2024-10-27 02:30": micros(dt.datetime(2024, 10, 27, 1, 30)),  # second 02:30
        "2024-10-27 01:30": micros(dt.datetime(2024, 10, 26, 23, 30)),
        "2024-01-05T10:00Z": micros(dt.datetime(2024, 1, 5, 10)),
    },
    "parse_timestamp[|America/New_York]": {
        "2024-03-10 02:30": micros(dt.datetime(2024, 3, 10, 7, 30)),
        "2024-11-03 01:30": micros(dt.datetime(2024, 11, 3, 6, 30)),
    },
    f"parse_timestamp[{GERMAN_TIMESTAMP}|Europe/Berlin]": {
        "27.10.2024 2:30": micros(dt.datetime(2024, 10, 27, 1, 30)),
        "1.3.2024 9:05": micros(dt.datetime(2024, 3, 1, 8, 5)),
        "1.3.24 9:05": None, "31.04.2024 10:00": None, "1.3.2024 24:00": None,
    },
    "is_valid_key": {
        "a\tb": False, "a\x85b": False, "a\u2028b": True, "x" * 255: True, "x" * 256: False,
        "😀" * 255: True, "😀" * 256: False, None: None,
    },
    "clean_text": {
        "\u00a0 abc\u3000": "abc", " abc ": "abc", "\u00a0abc\u00a0": "abc",
        "\tabc\t": "\tabc\t", " abc \n": "abc \n", "\u3000": None, "": None, "\u200b": "\u200b",
    },
    "parse_boolean": {"\u00a0yes\u00a0": True, " yes ": True, "FALSE": False, "t\t": None},
}  # fmt: skip

VALUES = list(
    dict.fromkeys(
        NUMBERS + TIMESTAMPS + DATES + TEXTS + SWEEP
        + [text for values in HANDWORKED.values() for text in values]
    )
)  # fmt: skip
"""Every text, once; every macro reads every one of them (as v; w is the text before it)."""


@pytest.mark.parametrize("case", list(HANDWORKED))
@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_handworked_values(results: Results, engine: str, case: str) -> None:
    got = results.column(engine, case)
    wrong = {
        repr(text)[:40]: (expected, got[text])
        for text, expected in HANDWORKED[case].items()
        if got[text] != expected
    }
    assert not wrong, f"{engine} {case} (expected, got): {wrong}"


def expected_utc(local: dt.datetime, zone: str) -> dt.datetime:
    """Local time in `zone` as naive UTC by the documented rule: where the wall clock is
    ambiguous (repeated hour) or missing (gap), Python gives two offsets (fold 0 and 1); the
    rule takes the smaller (the one before a spring-forward change, after a fall-back one)."""
    offsets = [local.replace(tzinfo=ZoneInfo(zone), fold=fold).utcoffset() for fold in (0, 1)]
    return local - min(offsets)


def sweep_local_time(text: str) -> dt.datetime:
    form = "%Y-%m-%d %H:%M" if "-" in text else GERMAN_TIMESTAMP
    return dt.datetime.strptime(text, form)


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
@pytest.mark.parametrize("zone", ZONES[1:])
def test_daylight_saving_sweep_follows_the_documented_rule(
    results: Results, engine: str, zone: str
) -> None:
    iso = results.column(engine, f"parse_timestamp[|{zone}]")
    german = results.column(engine, f"parse_timestamp[{GERMAN_TIMESTAMP}|{zone}]")
    wrong = {}
    for text in SWEEP:
        got = (iso if "-" in text else german)[text]
        wanted = micros(expected_utc(sweep_local_time(text), zone))
        if got != wanted:
            wrong[text] = (wanted, got)
    assert not wrong, f"{engine} {zone} (expected, got): {list(wrong.items())[:8]}"


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
@pytest.mark.parametrize("zone", SWEEP_ZONES)
def test_local_timestamp_to_utc_follows_the_documented_rule(
    results: Results, engine: str, zone: str
) -> None:
    got = results.column(engine, f"local_timestamp_to_utc[{zone}]")
    wrong = {}
    for text in SWEEP:
        if "-" in text:
            wanted = micros(expected_utc(sweep_local_time(text), zone))
            if got[text] != wanted:
                wrong[text] = (wanted, got[text])
    assert not wrong, f"{engine} {zone} (expected, got): {list(wrong.items())[:8]}"


# --- and are right: whole columns against Python references ------------------------------------

BLANKS = "".join(chr(code) for code in range(0x110000) if unicodedata.category(chr(code)) == "Zs")
"""What DuckDB's trim removes: the Unicode space separators (not tab, not zero-width space)."""


def clean(text: str | None) -> str | None:
    return (text.strip(BLANKS) or None) if text is not None else None


def integer(text: str | None) -> int | None:
    if text is None or not re.fullmatch(r"[+-]?[0-9]+", text):
        return None
    if len(text.lstrip("+-").lstrip("0")) > 19:  # beyond BIGINT (and int()'s default limit)
        return None
    value = int(text)
    return value if -(2**63) <= value < 2**63 else None


def amount(text: str | None, decimal: str, thousands: str) -> Decimal | None:
    if text is None:
        return None
    whole = (
        "[0-9]+" if not thousands else f"([0-9]{{1,3}}({re.escape(thousands)}[0-9]{{3}})+|[0-9]+)"
    )
    if not re.fullmatch(f"[+-]?{whole}({re.escape(decimal)}[0-9]{{1,2}})?", text):
        return None
    value = Decimal(
        text.replace(thousands, "").replace(decimal, ".")
        if thousands
        else text.replace(decimal, ".")
    )
    return value.quantize(Decimal("0.01")) if abs(value) < 10**16 else None


def json_text(text: str | None) -> str:
    """A JSON string as both engines write it: ", \\ and control characters escaped."""
    if text is None:
        return "null"
    short = {
        '"': '\\"',
        "\\": "\\\\",
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\b": "\\b",
        "\f": "\\f",
    }
    return (
        '"'
        + "".join(
            short.get(char, f"\\u{ord(char):04X}" if ord(char) < 0x20 else char) for char in text
        )
        + '"'
    )


def boolean(text: str | None) -> bool | None:
    word = (clean(text) or "").lower()
    return (
        True
        if word in ("true", "t", "1", "yes", "y")
        else False
        if word in ("false", "f", "0", "no", "n")
        else None
    )


def reference(case: str, v: str | None, w: str | None) -> object:
    """What a case must give for one row, computed in Python from the macros' contracts."""
    if case == "parse_integer":
        return integer(v)
    if case.startswith("parse_amount["):
        return amount(v, case[len("parse_amount[")], case[len("parse_amount[") + 1 : -1])
    if case == "is_valid_key":
        return (
            None
            if v is None
            else len(v) <= 255 and not any(unicodedata.category(c) == "Cc" for c in v)
        )
    if case == "clean_text":
        return clean(v)
    if case == "parse_boolean":
        return boolean(v)
    if case == "raw_values_json":
        return f'{{"v":{json_text(v)},"w":{json_text(w)}}}'
    if case == "raw_values_field":
        return v
    raise KeyError(case)


REFERENCED = [
    case.name for case in CASES if case.kind == "value" and case.name != "is_valid_key_cleaned"
]


@pytest.mark.parametrize("case", REFERENCED)
@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_whole_column_matches_the_python_reference(
    results: Results, engine: str, case: str
) -> None:
    got = results.column(engine, case)
    wrong = {}
    for index, text in enumerate(VALUES):
        wanted = reference(case, text, VALUES[index - 1])
        if got[text] != wanted or type(got[text]) is not type(wanted):
            wrong[repr(text)[:40]] = (wanted, got[text])
    assert not wrong, (
        f"{engine} {case}: {len(wrong)} wrong (expected, got): {list(wrong.items())[:6]}"
    )
