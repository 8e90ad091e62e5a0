"""The copy of Spark's tables into the build file (orchestration/lib/warehouse.py,
docs/spark.md), on a Spark warehouse folder laid out as Spark's session writes it
(<schema>.db/<table>/part-*.parquet beside _SUCCESS and .crc files), written here by DuckDB so
that no JVM is needed. The end-to-end
copy of a real Spark build is checked by tests/test_spark_target.py."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.warehouse import (
    WarehouseImportError,
    import_spark_tables,
    raw_step_table,
    spark_tables,
)

pytestmark = pytest.mark.unit

ROWS = {
    ("raw", "orders"): [("o-1", "12,50", "shop.csv"), ("o-2", "n/a", "shop.csv")],
    ("marts", "fct_orders"): [
        ("k1", Decimal("12.50"), dt.datetime(2025, 3, 30, 1, 30), dt.date(2025, 3, 30)),
        ("k2", None, None, dt.date(2025, 3, 31)),
    ],
    ("staging", "raw_source_state"): [
        ("orders", "shop.csv", "{}", None, "key x, erasures y", "{}")
    ],
    ("audit", "dbt_invocations"): [("inv-1", "build", dt.datetime(2026, 1, 1), None)],
}
QUERIES = {
    ("raw", "orders"): "select * from (values {rows}) as t(order_id, gross_amount, _source_file)",
    ("marts", "fct_orders"): "select customer_key, cast(amount as decimal(18, 2)) as amount,"
    " cast(ordered_at as timestamp) as ordered_at, ordered_date from (values {rows})"
    " as t(customer_key, amount, ordered_at, ordered_date)",
    ("staging", "raw_source_state"): "select table_name, source_file, raw_format,"
    " cast(source_sha256 as varchar) as source_sha256, privacy_state, landing_settings"
    " from (values {rows}) as t(table_name, source_file, raw_format, source_sha256,"
    " privacy_state, landing_settings)",
    ("audit", "dbt_invocations"): "select invocation_id, command, started_at,"
    " cast(completed_at as timestamp) as completed_at from (values {rows})"
    " as t(invocation_id, command, started_at, completed_at)",
}


def _ordered(rows: list[tuple]) -> list[tuple]:
    return sorted(rows, key=lambda row: tuple(str(value) for value in row))


def _literal(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, dt.datetime):
        return f"timestamp '{value.isoformat(sep=' ')}'"
    if isinstance(value, dt.date):
        return f"date '{value.isoformat()}'"
    if isinstance(value, Decimal):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def write_spark_warehouse(spark_dir: Path, files_per_table: int = 2) -> None:
    """Each table of ROWS as Spark lays it out: a folder of part files (split over
    `files_per_table`), a _SUCCESS marker and hidden .crc files."""
    with duckdb.connect() as con:
        for (schema, name), rows in ROWS.items():
            folder = spark_dir / "warehouse" / f"{schema}.db" / name
            folder.mkdir(parents=True)
            (folder / "_SUCCESS").write_bytes(b"")
            for part in range(files_per_table):
                chunk = rows[part::files_per_table]
                if not chunk:
                    continue
                values = ", ".join(
                    "(" + ", ".join(_literal(value) for value in row) + ")" for row in chunk
                )
                path = folder / f"part-{part:05d}-c000.snappy.parquet"
                con.execute(
                    f"copy ({QUERIES[(schema, name)].format(rows=values)}) to '{path}'"
                    " (format parquet)"
                )
                (folder / f".part-{part:05d}-c000.snappy.parquet.crc").write_bytes(b"crc")
        # a scratch table a model leaves only while it runs, and a table never written
        marts = spark_dir / "warehouse" / "marts.db"
        (marts / "fct_orders__dbt_tmp").mkdir()
        part = next((marts / "fct_orders").glob("part-*"))
        (marts / "fct_orders__dbt_tmp" / part.name).write_bytes(part.read_bytes())
        (spark_dir / "warehouse" / "marts.db" / "empty_table").mkdir()


def _tables(database: Path) -> dict[str, list[tuple]]:
    with duckdb.connect(str(database), read_only=True) as con:
        names = con.execute(
            "select schema_name || '.' || table_name from duckdb_tables() order by 1"
        ).fetchall()
        return {name: _ordered(con.sql(f"select * from {name}").fetchall()) for (name,) in names}


def test_spark_tables_are_found_as_spark_lays_them_out(tmp_path: Path) -> None:
    write_spark_warehouse(tmp_path / "spark")
    found = {
        (table.schema, table.name): len(table.files) for table in spark_tables(tmp_path / "spark")
    }
    assert found == {key: 2 if len(rows) > 1 else 1 for key, rows in ROWS.items()}


def test_the_copy_holds_spark_rows_and_types_and_drops_what_spark_does_not_hold(
    tmp_path: Path,
) -> None:
    spark_dir = tmp_path / "spark"
    write_spark_warehouse(spark_dir)
    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema staging; create schema marts; create schema raw")
        # DuckDB's landing state, which Spark does not keep; an older copy of a mart; a view
        con.execute("create table staging.raw_file_state as select 'orders' as table_name")
        con.execute("create table marts.fct_orders as select 'stale' as customer_key")
        con.execute("create view raw.orders as select 1 as order_id")
        con.execute("create schema clv_scratch; create table clv_scratch.kept as select 1 as x")

    copied = import_spark_tables(build, spark_dir, drop_missing=True)

    assert copied == {f"{schema}.{name}": len(rows) for (schema, name), rows in ROWS.items()}
    tables = _tables(build)
    for (schema, name), rows in ROWS.items():
        assert tables[f"{schema}.{name}"] == _ordered(rows), (schema, name)
    assert "staging.raw_file_state" not in tables  # DuckDB's landing state: dropped
    assert tables["clv_scratch.kept"] == [(1,)]  # outside dbt's schemas: untouched
    with duckdb.connect(str(build), read_only=True) as con:
        types = dict(
            con.execute(
                "select column_name, data_type from duckdb_columns()"
                " where schema_name = 'marts' and table_name = 'fct_orders'"
            ).fetchall()
        )
    assert types == {
        "customer_key": "VARCHAR",
        "amount": "DECIMAL(18,2)",
        "ordered_at": "TIMESTAMP",
        "ordered_date": "DATE",
    }


def test_a_raw_step_copies_the_raw_tables_and_their_source_record_only(tmp_path: Path) -> None:
    spark_dir = tmp_path / "spark"
    write_spark_warehouse(spark_dir)
    build = tmp_path / "build.duckdb"
    assert set(import_spark_tables(build, spark_dir, raw_step_table)) == {
        "raw.orders",
        "staging.raw_source_state",
    }
    assert set(_tables(build)) == {"raw.orders", "staging.raw_source_state"}


def test_a_failed_copy_leaves_the_build_file_as_it_was(tmp_path: Path) -> None:
    spark_dir = tmp_path / "spark"
    write_spark_warehouse(spark_dir)
    build = tmp_path / "build.duckdb"
    import_spark_tables(build, spark_dir)
    before = _tables(build)
    # a part file of a later table is damaged after the earlier tables were copied
    damaged = next((spark_dir / "warehouse" / "staging.db" / "raw_source_state").glob("part-*"))
    damaged.write_bytes(b"PAR1 not a parquet file")
    (spark_dir / "warehouse" / "raw.db" / "orders" / "part-00000-c000.snappy.parquet").unlink()

    with pytest.raises(WarehouseImportError) as failed:
        import_spark_tables(build, spark_dir, drop_missing=True)
    assert "staging.raw_source_state" in str(failed.value)
    assert "unchanged" in str(failed.value)
    assert _tables(build) == before


def test_an_empty_spark_warehouse_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(WarehouseImportError, match="dbt build --target spark first"):
        import_spark_tables(tmp_path / "build.duckdb", tmp_path / "nothing")
    assert not (tmp_path / "build.duckdb").exists()


@pytest.mark.parametrize(
    "marker", ["_delta_log/00000000000000000000.json", "metadata/v1.metadata.json"]
)
def test_a_delta_or_iceberg_table_is_refused_not_read_as_parquet(
    tmp_path: Path, marker: str
) -> None:
    """Their folders hold the parquet files of replaced versions too: read as plain parquet,
    they would give old rows beside new ones."""
    spark_dir = tmp_path / "spark"
    write_spark_warehouse(spark_dir)
    (spark_dir / "warehouse" / "marts.db" / "fct_orders" / marker).parent.mkdir()
    (spark_dir / "warehouse" / "marts.db" / "fct_orders" / marker).write_text("{}")
    with pytest.raises(
        WarehouseImportError, match=r"marts\.fct_orders is a Delta or Iceberg table"
    ):
        import_spark_tables(tmp_path / "build.duckdb", spark_dir)


def test_an_unreachable_spark_connect_server_is_named_by_host_and_changes_nothing(
    tmp_path: Path,
) -> None:
    """Asked before Spark Connect's client would retry for minutes; the address's token is
    never shown; the build file keeps what it held."""
    import socket

    pytest.importorskip("pyspark.sql.connect", reason="pyspark is not installed (make spark)")

    with socket.socket() as probe:  # a port nothing listens on once it is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    build = tmp_path / "build.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema marts; create table marts.kept as select 42 as answer")
    before = _tables(build)
    with pytest.raises(WarehouseImportError) as refused:
        import_spark_tables(
            build, tmp_path / "unused", remote=f"sc://127.0.0.1:{port}/;token=hunter2-secret"
        )
    message = str(refused.value)
    assert f"Spark Connect server 127.0.0.1:{port}" in message
    assert "hunter2" not in message
    assert "the build file is unchanged" in message
    assert _tables(build) == before
