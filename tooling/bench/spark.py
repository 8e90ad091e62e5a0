"""The benchmark's Spark step: the same `dbt build` on the Spark target (docs/spark.md), and a
child process that checks Spark's marts equal DuckDB's."""

from __future__ import annotations

import math
import os
from decimal import Decimal
from pathlib import Path
from typing import Any


def spark_environment(work: Path) -> dict[str, str]:
    """What the Spark target needs beside the run's environment: its own folder (warehouse,
    metastore, scratch space) in the work folder."""
    return {
        "CUSTOMER_ANALYTICS_SPARK_DIR": str(work / "spark"),
        "SPARK_LOCAL_IP": "127.0.0.1",
    }


def _same(left: object, right: object) -> bool:
    if left is None or right is None:
        return left is None and right is None
    if isinstance(left, Decimal) or isinstance(right, Decimal):
        return Decimal(str(left)) == Decimal(str(right))
    if isinstance(left, float) or isinstance(right, float):
        return math.isclose(float(left), float(right), rel_tol=1e-9, abs_tol=1e-9)
    return left == right


def _order(row: tuple) -> tuple:
    return tuple(
        (value is None, round(float(value), 6) if isinstance(value, float | Decimal) else value)
        for value in row
    )


def same_rows(left: list[tuple], right: list[tuple]) -> bool:
    """Whether two tables' rows are equal as the marts' contract means it, in any order: money
    to the cent (decimals exact), other numbers to 1e-9, the same nulls."""
    return len(left) == len(right) and all(
        all(_same(a, b) for a, b in zip(x, y, strict=True))
        for x, y in zip(sorted(left, key=_order), sorted(right, key=_order), strict=True)
    )


def local_spark_session(spark_dir: Path) -> Any:
    """A local Spark session on the warehouse and metastore a Spark build left in `spark_dir`
    (the profile's folders; the embedded metastore takes one JVM at a time, so only after the
    build ended). Timestamps read as the build's UTC values."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return (
        SparkSession.builder.master("local[2]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.warehouse.dir", str(spark_dir / "warehouse"))
        .config("spark.driver.extraJavaOptions", f"-Dderby.system.home={spark_dir}/metastore")
        .config("spark.log.level", "ERROR")
        .enableHiveSupport()
        .getOrCreate()
    )


def spark_table_rows(spark: Any, name: str) -> tuple[list[str], list[tuple]]:
    """A Spark table's column names and rows, timestamps as naive UTC datetimes (collect()
    would give them in the local time zone)."""
    frame = spark.table(name)
    for field in frame.schema.fields:
        if field.dataType.typeName() == "timestamp":
            frame = frame.withColumn(field.name, frame[field.name].cast("timestamp_ntz"))
    return frame.columns, [tuple(row) for row in frame.collect()]


def spark_marts_differ(spark_dir: Path, build: Path) -> int:
    """Child (`python -m tooling.bench spark_marts`): compare every mart of the Spark
    warehouse in `spark_dir` with the DuckDB build `build`; print the marts that differ;
    exit 1 when any does.

    DuckDB reads the Spark tables' own parquet files (orchestration.lib.warehouse.spark_tables,
    as customer-analytics import-spark does), so the
    comparison holds no table in Python's memory: each side's rows as a multiset (`except
    all` both ways), each column cast to the build's type, doubles written with 12
    significant digits (the engines sum in different orders)."""
    import duckdb

    from orchestration.lib.relations import sql_string
    from orchestration.lib.warehouse import spark_tables
    from tooling.bench.compare import rows_differ

    spark_files = {table.name: table.files for table in spark_tables(spark_dir, ("marts",))}
    differing = []
    with duckdb.connect(":memory:") as con:
        con.execute(f"attach {sql_string(str(build))} as build (read_only)")
        columns_of: dict[str, list[tuple[str, str]]] = {}
        for table, column, data_type in con.execute(
            "select table_name, column_name, data_type from duckdb_columns() where"
            " database_name = 'build' and schema_name = 'marts' order by table_name, column_index"
        ).fetchall():
            columns_of.setdefault(table, []).append((column, data_type))
        for table, columns in columns_of.items():
            files = spark_files.get(table)
            if not files:
                differing.append(table)
                continue

            def listed(alias: str, columns: list[tuple[str, str]] = columns) -> str:
                return ", ".join(
                    f"format('{{:.12g}}', cast({alias}.\"{name}\" as double))"
                    if data_type in ("DOUBLE", "FLOAT")
                    else f'cast({alias}."{name}" as {data_type})'
                    for name, data_type in columns
                )

            paths = "[" + ", ".join(sql_string(str(file)) for file in files) + "]"
            a = f'select {listed("b")} from build.marts."{table}" as b'
            b = f"select {listed('s')} from read_parquet({paths}) as s"
            if rows_differ(con, a, b):
                differing.append(table)
    if differing:
        print(f"marts differ from DuckDB's: {', '.join(differing)}")
        return 1
    print(f"every mart ({len(columns_of)}) equal to DuckDB's")
    return 0
