"""Spark with Delta or Iceberg tables (var spark_table_format, docs/spark.md): the incremental
models' full results are merged into their tables, writing only the rows that differ.

Neither Delta nor Iceberg can run here (their jars come from Maven), so the merge is checked
in the parts that can be:

- its semantics on DuckDB, which runs the same MERGE: random tables (seeded) with unchanged,
  changed, vanished and new rows, nulls in every column, must end equal to the full result, as
  a multiset; the rows changed must be exactly the symmetric difference worked out in Python;
  and rows present on both sides must not be touched (DuckDB keeps their rowid);
- its syntax on Spark: the statement compiled for the Spark target is parsed by Spark's own
  SQL parser into a MERGE with one insert when not matched, one delete when not matched by
  source, and no action on matched rows;
- the repeated-rows guard, against duplicates planted by hand;
- the configuration: with spark_table_format delta or iceberg every model on the Spark target
  has that file format and every incremental model the merge strategy; on DuckDB nothing
  changes; a bad value stops dbt naming the setting.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import shutil
import subprocess
from collections import Counter
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from dbt_macros import BIN, REPO, compile_inline, dbt_env, macro_project

pytestmark = pytest.mark.unit

COLUMNS = {
    "id": "integer",
    "customer key": "varchar",  # a space: the column must be quoted
    "amount": "decimal(18,2)",
    "ordered_at": "timestamp",
    "order_day": "date",
    "is_completed": "boolean",
    "share": "double",
}
NAMES = ["Jörg", "O'Brien", "", " ", "🛒", "a,b", 'say "hi"', "ß", "x" * 300]


def random_value(rng: random.Random, column: str) -> object:
    """A value of `column`'s type, null one time in five."""
    if rng.random() < 0.2:
        return None
    kind = COLUMNS[column]
    if kind == "integer":
        return rng.randint(-3, 3)
    if kind == "varchar":
        return rng.choice(NAMES)
    if kind == "decimal(18,2)":
        return Decimal(rng.randint(-500, 500)) / 100
    if kind == "timestamp":
        return dt.datetime(2024, 1, 1) + dt.timedelta(seconds=rng.randint(0, 10**6))
    if kind == "date":
        return dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 30))
    if kind == "boolean":
        return rng.random() < 0.5
    return rng.choice([0.0, -0.0, 0.1, 1 / 3, 2.5e300])


def random_row(rng: random.Random) -> tuple:
    return tuple(random_value(rng, column) for column in COLUMNS)


def distinct_rows(rng: random.Random, count: int) -> list[tuple]:
    rows: dict[tuple, None] = {}
    while len(rows) < count:
        rows[random_row(rng)] = None
    return list(rows)


def planted_tables(seed: int) -> tuple[list[tuple], list[tuple]]:
    """A table's rows and a full result: some rows kept, some with one column changed (to or
    from null as well), some gone, some new; each side without repeated rows."""
    rng = random.Random(seed)
    table = distinct_rows(rng, 120)
    result: dict[tuple, None] = {}
    for row in table:
        fate = rng.random()
        if fate < 0.5:
            result[row] = None  # kept
        elif fate < 0.8:
            changed = list(row)
            column = rng.randrange(len(COLUMNS))
            changed[column] = random_value(rng, list(COLUMNS)[column])
            result[tuple(changed)] = None  # may equal the row: then kept
        # else: gone
    for row in distinct_rows(rng, 40):
        result[row] = None  # new, or by chance equal to a row of the table
    return table, list(result)


def normalised(rows: list[tuple]) -> Counter:
    """Rows comparable across DuckDB and Python (-0.0 equals 0.0 in both)."""
    return Counter(tuple(0.0 if value == 0 and isinstance(value, float) else value
                         for value in row) for row in rows)  # fmt: skip


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """full_result_merge_sql and repeated_rows_sql compiled for DuckDB (dev) and for Spark,
    from a project of macros/portable/full_result_merge_sql.sql alone."""
    pytest.importorskip("dbt.adapters.spark", reason="dbt-spark is not installed (make spark)")
    work = tmp_path_factory.mktemp("full_result_merge")
    project = macro_project(work / "project", ["portable"])
    columns = json.dumps(list(COLUMNS))
    queries = {
        "merge": f"{{{{ full_result_merge_sql('dest', 'full_result', {columns}) }}}}",
        "repeated": "{{ repeated_rows_sql(['first_table', 'second_table']) }}",
    }
    return {
        target: {name: compile_inline(project, target, sql, work) for name, sql in queries.items()}
        for target in ("dev", "spark")
    }


def create(con: duckdb.DuckDBPyConnection, name: str, rows: list[tuple]) -> None:
    columns = ", ".join(f'"{column}" {kind}' for column, kind in COLUMNS.items())
    con.execute(f"create table {name} ({columns})")
    if rows:
        marks = ", ".join("?" for _ in COLUMNS)
        con.executemany(f"insert into {name} values ({marks})", rows)


@pytest.mark.parametrize("seed", range(6))
def test_merge_leaves_exactly_the_full_result_and_touches_only_differing_rows(
    compiled: dict[str, dict[str, str]], seed: int
) -> None:
    table, result = planted_tables(seed)
    with duckdb.connect() as con:
        create(con, "dest", table)
        create(con, "full_result", result)
        before = {row[1:]: row[0] for row in con.execute("select rowid, * from dest").fetchall()}
        changed = con.execute(compiled["dev"]["merge"]).fetchall()[0][0]
        after = con.execute("select rowid, * from dest").fetchall()

    assert normalised([row[1:] for row in after]) == normalised(result)
    assert changed == len(set(result) - set(table)) + len(set(table) - set(result))
    # the planted data has all three kinds of rows, so the test can fail each way
    assert set(table) & set(result) and set(table) - set(result) and set(result) - set(table)
    kept = set(table) & set(result)
    kept_rowids = {row[0] for row in after if row[1:] in kept}
    assert kept_rowids == {before[row] for row in kept}


def test_merge_on_an_empty_result_empties_the_table_and_fills_an_empty_one(
    compiled: dict[str, dict[str, str]],
) -> None:
    rows = distinct_rows(random.Random(7), 15)
    with duckdb.connect() as con:
        create(con, "dest", rows)
        create(con, "full_result", [])
        assert con.execute(compiled["dev"]["merge"]).fetchall()[0][0] == 15
        assert con.execute("select count(*) from dest").fetchall()[0][0] == 0
        con.executemany("insert into full_result values (?, ?, ?, ?, ?, ?, ?)", rows)
        assert con.execute(compiled["dev"]["merge"]).fetchall()[0][0] == 15
        assert normalised(con.execute("select * from dest").fetchall()) == normalised(rows)


def test_repeated_rows_are_counted(compiled: dict[str, dict[str, str]]) -> None:
    rows = distinct_rows(random.Random(11), 20)
    null_row = (None,) * len(COLUMNS)
    with duckdb.connect() as con:
        create(con, "first_table", [*rows, null_row])
        create(con, "second_table", rows)
        assert con.execute(compiled["dev"]["repeated"]).fetchall()[0][0] == 0
        # planted: one row twice more in the first table, the all-null row once more, and
        # one row once more in the second
        con.executemany("insert into first_table values (?, ?, ?, ?, ?, ?, ?)",
                        [rows[3], rows[3], null_row])  # fmt: skip
        con.execute("insert into second_table values (?, ?, ?, ?, ?, ?, ?)", rows[9])
        assert con.execute(compiled["dev"]["repeated"]).fetchall()[0][0] == 4


def test_spark_parses_the_merge_as_insert_new_and_delete_gone_rows(
    compiled: dict[str, dict[str, str]],
) -> None:
    """Spark's own parser (pyspark's JVM, no session) reads the Spark-compiled statements."""
    pytest.importorskip("pyspark", reason="pyspark is not installed (make spark)")
    if shutil.which("java") is None:
        pytest.skip("java is not installed: Spark needs a Java runtime (make spark)")
    from pyspark.java_gateway import launch_gateway

    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SPARK_LOCAL_IP", "127.0.0.1")
        gateway = launch_gateway()
    try:
        parser_class = getattr(
            gateway.jvm.org.apache.spark.sql.catalyst.parser, "CatalystSqlParser$"
        )
        parser = parser_class.__getattr__("MODULE$")
        plan = parser.parsePlan(compiled["spark"]["merge"])
        assert plan.getClass().getSimpleName() == "MergeIntoTable"
        assert plan.matchedActions().size() == 0
        assert plan.notMatchedActions().size() == 1
        assert plan.notMatchedActions().apply(0).getClass().getSimpleName() == "InsertAction"
        assert plan.notMatchedActions().apply(0).assignments().size() == len(COLUMNS)
        assert plan.notMatchedBySourceActions().size() == 1
        by_source = plan.notMatchedBySourceActions().apply(0)
        assert by_source.getClass().getSimpleName() == "DeleteAction"
        assert by_source.condition().isEmpty()
        # every column compared null-safely (Spark's <=>)
        condition = plan.mergeCondition().toString()
        assert condition.count("<=>") == len(COLUMNS)
        assert "customer key" in condition
        repeated = parser.parsePlan(compiled["spark"]["repeated"])
        assert repeated.getClass().getSimpleName() == "Project"
    finally:
        gateway.shutdown()


# --- the configuration ---------------------------------------------------------------------


def dbt_ls(
    tmp_path: Path, target: str, variables: dict[str, object]
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            str(BIN / "dbt"), "ls", "--project-dir", str(REPO), "--target", target,
            "--target-path", str(tmp_path / f"target-{target}"), "--log-path", str(tmp_path),
            "--resource-type", "model", "--output", "json", "--output-keys", "name", "config",
            "--vars", json.dumps(variables),
        ],
        cwd=REPO, env=dbt_env(tmp_path), capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def model_configs(completed: subprocess.CompletedProcess) -> dict[str, dict]:
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-3000:]
    rows = [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]
    return {row["name"]: row["config"] for row in rows}


@pytest.mark.parametrize("table_format", ["delta", "iceberg"])
def test_delta_and_iceberg_select_merge_for_every_incremental_model_on_spark(
    tmp_path: Path, table_format: str
) -> None:
    pytest.importorskip("dbt.adapters.spark", reason="dbt-spark is not installed (make spark)")
    configs = model_configs(dbt_ls(tmp_path, "spark", {"spark_table_format": table_format}))
    incremental = {
        name for name, config in configs.items() if config["materialized"] == "incremental"
    }
    # the project's incremental models: raw tables, base models, intermediate models, marts
    assert {
        "raw_orders",
        "base_shop__orders",
        "int_customer_months",
        "rpt_customer_lifecycle",
    } <= incremental
    assert {config["file_format"] for config in configs.values()} == {table_format}
    assert {configs[name]["incremental_strategy"] for name in incremental} == {"merge"}


def test_parquet_stays_the_default_and_duckdb_keeps_its_strategies(tmp_path: Path) -> None:
    pytest.importorskip("dbt.adapters.spark", reason="dbt-spark is not installed (make spark)")
    spark = model_configs(dbt_ls(tmp_path, "spark", {}))
    incremental = {
        name for name, config in spark.items() if config["materialized"] == "incremental"
    }
    assert {config["file_format"] for config in spark.values()} == {"parquet"}
    assert {spark[name]["incremental_strategy"] for name in incremental} == {"insert_overwrite"}
    duckdb_configs = model_configs(dbt_ls(tmp_path, "dev", {"spark_table_format": "delta"}))
    strategies = {name: duckdb_configs[name]["incremental_strategy"] for name in incremental}
    # the two models whose pre-hook deletes what they rebuild append; the others replace keys
    assert strategies.pop("int_customer_months") == "append"
    assert strategies.pop("rpt_customer_lifecycle") == "append"
    assert set(strategies.values()) == {"delete+insert"}


@pytest.mark.parametrize("given", ["orc", "Delta", "delta; drop table x"])
def test_a_bad_table_format_stops_dbt_naming_the_setting(tmp_path: Path, given: str) -> None:
    completed = dbt_ls(tmp_path, "dev", {"spark_table_format": given})
    assert completed.returncode != 0
    output = completed.stdout + completed.stderr
    assert "Setting spark_table_format (dbt var) is" in output
    assert "it must be one of parquet, delta, iceberg" in output
