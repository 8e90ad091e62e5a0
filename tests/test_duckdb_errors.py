"""The net under the raw reader: a DuckDB error that quotes data (a CSV line, a value that failed
a cast) is rebuilt from file, line and rule, and dbt-duckdb's cursor raises the rebuilt one
(orchestration/lib/duckdb_errors.py, orchestration/dbt_plugin.py). The errors are DuckDB's
own, raised here by strict reads of files with a planted value on a planted line."""

from __future__ import annotations

import duckdb
import pytest

from orchestration.lib.duckdb_errors import private_message, read_file

pytestmark = pytest.mark.unit

SECRET = "zorbulax.quintaine@planted.example"
"""A personal value, planted on the malformed line."""

HEADER = "customer_id,email,last_name"


def strict_read(path: str) -> str:
    return (
        f"select * from read_csv('{path.replace(chr(39), chr(39) * 2)}', header = true, "
        "auto_detect = false, delim = ',', quote = '\"', escape = '\"', "
        "columns = {'customer_id': 'VARCHAR', 'email': 'VARCHAR', 'last_name': 'VARCHAR'})"
    )


def duckdb_error(sql: str) -> str:
    with pytest.raises(duckdb.Error) as raised, duckdb.connect() as con:
        con.execute(sql).fetchall()
    return str(raised.value)


LINES = {
    "too many fields": f"3,{SECRET},Quintaine,surplus",
    "too few fields": f"3,{SECRET}",
    "unterminated quote": f'3,"{SECRET},Quintaine\n4,b@example.org,Other',
    "bytes not utf-8": f"3,{SECRET},Quint\udcffaine",
    "over-long line": f"3,{SECRET},{'Q' * 2_200_000}",
}


@pytest.mark.parametrize("case", sorted(LINES))
def test_a_csv_error_is_rebuilt_with_file_and_line_and_without_the_line(case, tmp_path) -> None:
    path = tmp_path / "it's [1] customers.csv"
    text = f"{HEADER}\n1,a@example.org,Alpha\n2,b@example.org,Beta\n{LINES[case]}\n"
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    sql = strict_read(str(path).replace("[", "[[]"))  # as the raw reader escapes globs
    original = duckdb_error(sql)
    assert SECRET in original  # DuckDB's own message quotes the line

    rebuilt = private_message(original, sql)
    assert rebuilt is not None
    assert SECRET not in rebuilt and "Quintaine" not in rebuilt
    assert f"Raw file {path} is malformed at line 4 " in rebuilt, rebuilt


def test_a_failed_cast_or_parse_is_rebuilt_without_the_value() -> None:
    for sql in (
        f"select cast('{SECRET}' as integer)",
        "select cast('1971-02-30' as date)",
        f"select strptime('{SECRET}', '%d.%m.%Y')",
    ):
        original = duckdb_error(sql)
        rebuilt = private_message(original, sql)
        assert rebuilt is not None, original
        assert SECRET not in rebuilt and "1971" not in rebuilt


def test_an_error_that_quotes_no_data_is_left_as_it_is() -> None:
    for sql in ("select * from no_such_table", "select 1 +"):
        assert private_message(duckdb_error(sql), sql) is None


def test_the_file_is_taken_from_the_sql_only_when_it_reads_one() -> None:
    assert read_file("select * from read_csv('/a/it''s [[]1].csv', header = true)") == (
        "/a/it's [1].csv"
    )
    assert read_file("select 1") is None
    assert (
        read_file("select * from read_csv('/a.csv') union all select * from read_csv('/b.csv')")
        is None
    )


def test_dbt_duckdb_cursors_raise_the_rebuilt_error(tmp_path) -> None:
    """After the plugin's hook, dbt-duckdb's cursor raises the rebuilt error, of the same
    DuckDB class and with no trace of the original (no cause, no context)."""
    from dbt.adapters.duckdb.environments.local import DuckDBCursorWrapper

    from orchestration.dbt_plugin import Plugin

    path = tmp_path / "customers.csv"
    path.write_text(f"{HEADER}\n1,a@example.org,Alpha\n2,{SECRET},Beta,surplus\n")
    with duckdb.connect() as con:
        cursor = con.cursor()
        Plugin("dbt_plugin", {"cache_dir": str(tmp_path / "cache")}).configure_cursor(cursor)
        with pytest.raises(duckdb.InvalidInputException) as raised:
            DuckDBCursorWrapper(cursor).execute(strict_read(str(path)))
    error = raised.value
    assert SECRET not in str(error) and f"Raw file {path} is malformed at line 3" in str(error)
    assert error.__cause__ is None and error.__context__ is None
