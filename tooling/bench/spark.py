"""The benchmark's Spark step: the same `dbt build` on the Spark target (docs/spark.md), and a
child process that checks Spark's marts equal DuckDB's."""

from __future__ import annotations

import math
import os
from decimal import Decimal
from pathlib import Path


def spark_environment(work: Path) -> dict[str, str]:
    """What the Spark target needs beside the run's environment: its own folder (warehouse,
    metastore, scratch space) in the work folder."""
    return {
        "CUSTOMER_ANALYTICS_SPARK_DIR": str(work / "spark"),
        "SPARK_LOCAL_IP": "127.0.0.1",
    }


def _same(left: object, right: object) -> bool:
    """Equal as the marts' contract means it: money to the cent (decimals exact), other
    numbers to 1e-9, the same nulls."""
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


def spark_marts_differ(spark_dir: Path, build: Path) -> int:
    """Child (`python -m tooling.bench spark_marts`): compare every mart of the Spark
    warehouse in `spark_dir` with the DuckDB build `build`; print the marts that differ;
    exit 1 when any does."""
    import duckdb
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    spark = (
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
    differing = []
    try:
        with duckdb.connect(str(build), read_only=True) as con:
            tables = [
                name
                for (name,) in con.execute(
                    "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
                ).fetchall()
            ]
            for table in tables:
                relation = con.sql(f'select * from marts."{table}"')
                frame = spark.table(f"marts.{table}")
                for field in frame.schema.fields:
                    if field.dataType.typeName() == "timestamp":
                        frame = frame.withColumn(
                            field.name, frame[field.name].cast("timestamp_ntz")
                        )
                if [c.lower() for c in frame.columns] != [c.lower() for c in relation.columns]:
                    differing.append(table)
                    continue
                left = sorted(relation.fetchall(), key=_order)
                right = sorted((tuple(row) for row in frame.collect()), key=_order)
                if len(left) != len(right) or not all(
                    all(_same(a, b) for a, b in zip(x, y, strict=True))
                    for x, y in zip(left, right, strict=True)
                ):
                    differing.append(table)
    finally:
        spark.stop()
    if differing:
        print(f"marts differ from DuckDB's: {', '.join(differing)}")
        return 1
    print(f"every mart ({len(tables)}) equal to DuckDB's")
    return 0
