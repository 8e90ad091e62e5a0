"""The one raw reader: file discovery, contract errors, export dialects, CSV vs Parquet."""

from __future__ import annotations

import csv
import gzip
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BIN, FIXTURES

pytestmark = pytest.mark.build

AS_OF = "2024-06-30"
STAGING_TABLES = {
    "staging.stg_crm__customers": "customer_id",
    "staging.stg_shop__orders": "order_id",
    "staging.stg_web_analytics__sessions": "session_id",
    "staging.stg_nps__survey_responses": "response_id",
    "staging.stg_email__email_events": "event_id",
}


def copy_tables(target: Path, tables: list[str]) -> Path:
    target.mkdir(parents=True, exist_ok=True)
    for table in tables:
        shutil.copy(FIXTURES / "defects" / f"{table}.csv", target / f"{table}.csv")
    return target


def test_optional_tables_absent_build_passes_with_warning(tmp_path: Path, dbt_build) -> None:
    raw = copy_tables(tmp_path / "raw", ["customers", "orders"])
    result = dbt_build(raw_data_path=str(raw), as_of_date=AS_OF)
    assert result.returncode == 0, result.output[-4000:]
    for table in ("sessions", "survey_responses", "email_events"):
        assert f"Optional raw file missing: no {table}.csv" in result.output
    assert result.query("select count(*) from staging.stg_web_analytics__sessions") == [(0,)]
    assert result.query("select count(*) from staging.stg_email__email_events") == [(0,)]
    assert result.query("select count(*) from staging.stg_shop__orders") == [(5,)]
    assert result.query(
        "select rows_read from marts.rpt_data_quality where source_table = 'nps.survey_responses'"
    ) == [(0,)]


def test_missing_required_column_stops_with_a_clear_error(tmp_path: Path, dbt_build) -> None:
    raw = copy_tables(tmp_path / "raw", ["orders"])
    lines = (FIXTURES / "defects" / "customers.csv").read_text().splitlines()
    header = lines[0].split(",")
    drop = header.index("signup_at")
    with (raw / "customers.csv").open("w") as out:
        for line in lines:
            fields = line.split(",")
            out.write(",".join(fields[:drop] + fields[drop + 1 :]) + "\n")
    result = dbt_build(raw_data_path=str(raw), as_of_date=AS_OF)
    assert result.returncode != 0
    assert (
        f"Raw file {raw}/customers.csv has no column 'signup_at', which the raw data contract"
        " requires (models/staging/crm/_crm__sources.yml)"
    ) in result.output


def test_missing_required_file_stops_with_a_clear_error(tmp_path: Path, dbt_build) -> None:
    raw = copy_tables(tmp_path / "raw", ["customers"])
    result = dbt_build(raw_data_path=str(raw), as_of_date=AS_OF)
    assert result.returncode != 0
    assert (
        f"Required raw file missing: no orders.csv, orders.csv.gz or orders.parquet in {raw}."
    ) in result.output


def test_extra_columns_are_reported_and_ignored(tmp_path: Path, dbt_build) -> None:
    raw = copy_tables(tmp_path / "raw", ["customers"])
    lines = (FIXTURES / "defects" / "orders.csv").read_text().splitlines()
    (raw / "orders.csv").write_text(
        "\n".join([lines[0] + ",coupon_code"] + [f'{line},"SAVE,10"' for line in lines[1:]]) + "\n"
    )
    result = dbt_build(raw_data_path=str(raw), as_of_date=AS_OF)
    assert result.returncode == 0, result.output[-4000:]
    assert "outside the raw data contract, ignored: coupon_code" in result.output
    assert result.query("select count(*) from staging.stg_shop__orders") == [(5,)]


def test_bom_crlf_and_latin1_files_load_like_plain_utf8(tmp_path: Path, dbt_build) -> None:
    tables = ["customers", "orders"]
    staging = ["+stg_crm__customers", "+stg_shop__orders"]  # all this test reads
    plain = dbt_build("plain", staging, raw_data_path=str(copy_tables(tmp_path / "plain", tables)))
    assert plain.returncode == 0, plain.output[-4000:]

    bom_crlf = tmp_path / "bom_crlf"
    bom_crlf.mkdir()
    latin1 = tmp_path / "latin1"
    latin1.mkdir()
    for table in tables:
        text = (FIXTURES / "defects" / f"{table}.csv").read_text(encoding="utf-8")
        (bom_crlf / f"{table}.csv").write_bytes(
            b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")
        )
        # '€' has no Latin-1 code; it only occurs in a quarantined amount
        latin1_text = text.replace("€", " EUR")
        (latin1 / f"{table}.csv").write_bytes(latin1_text.encode("latin-1", errors="strict"))
    assert "ü".encode("latin-1") in (latin1 / "customers.csv").read_bytes()

    from_bom = dbt_build("bom", staging, raw_data_path=str(bom_crlf))
    from_latin1 = dbt_build(
        "latin1", staging, raw_data_path=str(latin1), raw_format={"encoding": "latin-1"}
    )
    for result in (from_bom, from_latin1):
        assert result.returncode == 0, result.output[-4000:]
        for relation in ("staging.stg_crm__customers", "staging.stg_shop__orders"):
            key = STAGING_TABLES[relation]
            assert result.table(relation, key) == plain.table(relation, key), relation
    assert ("Müller",) in from_latin1.query("select last_name from staging.stg_crm__customers")


def test_other_encodings_gzip_and_an_excel_sep_line_load_like_plain_utf8(
    tmp_path: Path, dbt_build
) -> None:
    """utf-16 with a BOM, cp1252 (with characters Latin-1 lacks), gzip, an Excel `sep=;` line
    with semicolons and a quoted field spanning lines: the same staging rows as plain UTF-8."""
    tables = ["customers", "orders"]
    staging = ["+stg_crm__customers", "+stg_shop__orders"]
    plain = dbt_build("plain", staging, raw_data_path=str(copy_tables(tmp_path / "plain", tables)))
    assert plain.returncode == 0, plain.output[-4000:]

    utf16, cp1252, gz = tmp_path / "utf16", tmp_path / "cp1252", tmp_path / "gz"
    for folder in (utf16, cp1252, gz):
        folder.mkdir()
    for table in tables:
        text = (FIXTURES / "defects" / f"{table}.csv").read_text(encoding="utf-8")
        (utf16 / f"{table}.csv").write_text(text, encoding="utf-16")  # Python writes the BOM
        (cp1252 / f"{table}.csv").write_bytes(
            ("sep=;\r\n" + _semicolons(text).replace("\n", "\r\n")).encode("cp1252")
        )
        (gz / f"{table}.csv.gz").write_bytes(gzip.compress(text.encode("utf-8")))
    assert "€".encode("cp1252") in (cp1252 / "orders.csv").read_bytes()  # not in Latin-1

    results = {
        "utf16": dbt_build(
            "u16", staging, raw_data_path=str(utf16), raw_format={"encoding": "utf-16"}
        ),
        "cp1252": dbt_build(
            "cp", staging, raw_data_path=str(cp1252), raw_format={"encoding": "cp1252"}
        ),
        "gz": dbt_build("gz", staging, raw_data_path=str(gz)),
    }
    for name, result in results.items():
        assert result.returncode == 0, (name, result.output[-4000:])
        for relation in ("staging.stg_crm__customers", "staging.stg_shop__orders"):
            key = STAGING_TABLES[relation]
            assert result.table(relation, key) == plain.table(relation, key), (name, relation)
    assert f"Raw file {cp1252}/orders.csv: Excel 'sep=' line, delimiter ';'." in (
        results["cp1252"].output
    )


def _cut_short(data: bytes) -> bytes:
    """An interrupted copy: the first half of the compressed bytes (DuckDB reads the rows
    before the cut and says nothing)."""
    return data[: len(data) // 2]


def _corrupt(data: bytes) -> bytes:
    """One byte of the compressed data changed."""
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (_cut_short, "it ends before its compressed data does (a copy cut short?)"),
        (_corrupt, "its compressed data is corrupt"),
    ],
    ids=["cut short", "corrupt"],
)
def test_a_gzip_file_cut_short_or_corrupt_is_refused_by_name_before_anything_is_read(
    tmp_path: Path, dbt_build, damage, problem
) -> None:
    """DuckDB reads a truncated gzip file without an error, as the rows before the cut."""
    raw = copy_tables(tmp_path / "raw", ["customers"])
    text = (FIXTURES / "defects" / "orders.csv").read_text(encoding="utf-8") * 40
    (raw / "orders.csv.gz").write_bytes(damage(gzip.compress(text.encode("utf-8"))))
    result = dbt_build(select=["+stg_shop__orders"], raw_data_path=str(raw), as_of_date=AS_OF)
    assert result.returncode != 0
    said = " ".join(result.output.split())
    assert (
        f"Raw file {raw}/orders.csv.gz is not a whole gzip file: {problem}. Copy or export it"
        " again, then run again; nothing was read."
    ) in said, said[-3000:]
    assert "Traceback" not in result.output
    assert result.query("select count(*) from duckdb_tables() where table_name = 'orders'") == [
        (0,)
    ]


def _semicolons(text: str) -> str:
    """The same CSV with ';' between fields (Python's csv module re-quotes as needed)."""
    rows = list(csv.reader(io.StringIO(text)))
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\n").writerows(rows)
    return out.getvalue()


def test_the_delimiter_is_detected_from_the_header_and_logged(tmp_path: Path, dbt_build) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    for table in ("customers", "orders"):
        text = (FIXTURES / "defects" / f"{table}.csv").read_text(encoding="utf-8")
        (raw / f"{table}.csv").write_text(_semicolons(text), encoding="utf-8")
    result = dbt_build(select=["+stg_shop__orders"], raw_data_path=str(raw), as_of_date=AS_OF)
    assert result.returncode == 0, result.output[-4000:]
    assert f"Raw file {raw}/orders.csv: detected delimiter ';'." in result.output
    assert result.query("select count(*) from staging.stg_shop__orders") == [(5,)]


def test_a_directory_name_is_never_a_pattern(tmp_path: Path, dbt_build) -> None:
    """'shop[1]' as a glob would match 'shop1': the reader must read 'shop[1]' itself."""
    literal = copy_tables(tmp_path / "shop[1]", ["customers", "orders"])
    decoy = tmp_path / "shop1"
    decoy.mkdir()
    (decoy / "orders.csv").write_text("nothing,here\n")
    result = dbt_build(select=["+stg_shop__orders"], raw_data_path=str(literal), as_of_date=AS_OF)
    assert result.returncode == 0, result.output[-4000:]
    assert result.query("select count(*) from staging.stg_shop__orders") == [(5,)]
    assert result.query("select distinct _source_file from raw.orders") == [
        (f"{literal}/orders.csv",)
    ]


def test_a_column_twice_in_the_header_is_refused_by_name(tmp_path: Path, dbt_build) -> None:
    raw = copy_tables(tmp_path / "raw", ["customers"])
    lines = (FIXTURES / "defects" / "orders.csv").read_text().splitlines()
    (raw / "orders.csv").write_text(
        "\n".join([lines[0] + ",Status"] + [line + ",x" for line in lines[1:]]) + "\n"
    )
    result = dbt_build(raw_data_path=str(raw), as_of_date=AS_OF)
    assert result.returncode != 0
    assert (
        f"Raw file {raw}/orders.csv has the column 'Status' twice in its header." in result.output
    )


def generate(out: Path, file_format: str) -> Path:
    subprocess.run(
        [
            str(BIN / "customer-analytics"),
            "generate",
            "--customers",
            "300",
            "--seed",
            "7",
            "--defects",
            "0.03",
            "--format",
            file_format,
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
    )
    return out


@pytest.mark.skipif(sys.platform == "win32", reason="posix paths")
def test_csv_and_parquet_of_the_same_data_give_identical_staging(tmp_path: Path, dbt_build) -> None:
    staging = ["+rpt_data_quality"]  # every staging model and the report: all this test reads
    from_csv = dbt_build("csv", staging, raw_data_path=str(generate(tmp_path / "csv", "csv")))
    from_parquet = dbt_build(
        "parquet", staging, raw_data_path=str(generate(tmp_path / "parquet", "parquet"))
    )
    assert from_csv.returncode == 0, from_csv.output[-4000:]
    assert from_parquet.returncode == 0, from_parquet.output[-4000:]
    for relation, key in STAGING_TABLES.items():
        rows = from_csv.table(relation, key)
        assert rows, relation
        assert rows == from_parquet.table(relation, key), relation
    # A typed Parquet column cannot hold unparseable text (the generator writes null there), so
    # CSV reports unparseable_value where Parquet reports missing_value: the totals agree.
    report = (
        "select source_table, rows_read, rows_accepted, rows_quarantined,"
        " rows_collapsed_duplicates from marts.rpt_data_quality order by source_table"
    )
    assert from_csv.query(report) == from_parquet.query(report)
    assert from_csv.query("select sum(rows_quarantined) from marts.rpt_data_quality")[0][0] > 0


def _rewrite(source: Path, target: Path, column: str, change) -> None:
    """`source` as CSV with `change` applied to every non-empty value of `column`."""
    with source.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    index = rows[0].index(column)
    for row in rows[1:]:
        if row[index]:
            row[index] = change(row[index])
    with target.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)


SHIPPED = Path(__file__).resolve().parents[1] / "data" / "raw"


def test_decimal_commas_with_default_settings_stop_the_build_with_the_fix(
    tmp_path: Path, dbt_build
) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SHIPPED / "customers.csv", raw / "customers.csv")
    _rewrite(
        SHIPPED / "orders.csv", raw / "orders.csv", "gross_amount", lambda v: v.replace(".", ",")
    )
    result = dbt_build(raw_data_path=str(raw))
    assert result.returncode != 0
    said = " ".join(result.output.split())  # dbt wraps long messages
    with (raw / "orders.csv").open(encoding="utf-8") as handle:
        orders = sum(1 for _ in csv.reader(handle)) - 1
    assert (
        f"Raw file {raw}/orders.csv: {orders} of {orders} rows (100.0 %) were quarantined as "
        "unparseable_value in column gross_amount, e.g. '"
    ) in said
    assert "Values look like decimal commas: set var raw_format: {decimal_separator: ','}" in said
    # nothing downstream of the orders was built, and the failed build publishes nothing
    # (make build stops at dbt; Dagster's publish step waits for every mart)
    built = {
        name
        for (name,) in result.query(
            "select table_name from duckdb_tables() where schema_name = 'marts'"
        )
    }
    assert not built & {"fct_orders", "dim_customers", "rpt_kpis_monthly", "rpt_data_quality"}


def test_the_alarm_never_shows_values_of_a_personal_data_column(tmp_path: Path, dbt_build) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    shutil.copy(SHIPPED / "orders.csv", raw / "orders.csv")
    birth_dates = []

    def german(value: str) -> str:
        year, month, day = value.split("-")
        birth_dates.append(f"{day}.{month}.{year}")
        return birth_dates[-1]

    _rewrite(SHIPPED / "customers.csv", raw / "customers.csv", "birth_date", german)
    result = dbt_build(select=["+base_crm__customers"], raw_data_path=str(raw))
    assert result.returncode != 0
    said = " ".join(result.output.split())
    assert "were quarantined as unparseable_value in column birth_date (values not shown:" in said
    assert "Values look like German dates" in said  # the hint, from values it does not show
    assert not any(value in result.output for value in birth_dates[:200])
