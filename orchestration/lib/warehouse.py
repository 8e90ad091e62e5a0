"""One warehouse for the Python side, whichever engine dbt builds on (docs/spark.md).

The Python side (the quality suites, row counts and headlines, the CLV step, publishing and the
audiences, the landing sensor) reads the DuckDB build file (CUSTOMER_ANALYTICS_DB). On DuckDB,
dbt builds that file itself. On Spark, dbt builds Spark tables (parquet files under
CUSTOMER_ANALYTICS_SPARK_DIR) and `import_spark_build` copies them into the build file after each
dbt run: DuckDB reads the parquet files (streamed: bounded memory), the views are created again
on the copies by dbt itself (the same models, DuckDB's SQL), and the build's dbt record (schema
audit) is Spark's. So everything after dbt, and the serving file and Parquet exports BI tools
read, are the same with either engine.

The copy is one DuckDB transaction: a failed import leaves the build file as it was, and the
served marts are never touched. The landing state only DuckDB keeps (incremental runs) is
dropped with it, so a later DuckDB build of the same file lands everything again (docs/spark.md).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.relations import AUDIT_SCHEMA, RAW_SCHEMA, STAGING_SCHEMA, sql_string

DBT_SCHEMAS = (
    RAW_SCHEMA,
    STAGING_SCHEMA,
    "intermediate",
    "marts",
    "activation",
    "semantic",
    "reference",
    AUDIT_SCHEMA,
)
"""The schemas dbt builds (dbt_project.yml): Spark's databases of the same names."""

RAW_STEP_TABLES = ((STAGING_SCHEMA, "raw_source_state"),)
"""Besides the raw tables, what the raw quality suites read after the raw models ran."""

SCRATCH_SUFFIXES = ("__dbt_tmp", "__rewrite", "__dbt_backup")
"""Tables dbt and the project's macros leave only while a model runs."""


class WarehouseImportError(RuntimeError):
    """Spark's tables could not be copied into the build file (which is left as it was)."""


def prepare_spark_build(spark_dir: Path) -> None:
    """What a dbt build on Spark needs before it starts (make build and the Dagster job call
    this): the pseudonymisation key, created if missing (Spark reads it, and does not create
    it); Spark's folder, created if missing and readable by its owner only, whatever the umask
    Spark writes with (its tables hold the raw layer's personal data, as the build file does).
    SettingError for an unusable key; OSError for a folder that cannot be made."""
    from orchestration.lib import privacy

    privacy.load_key(privacy.key_file())
    spark_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    spark_dir.chmod(0o700)


@dataclass(frozen=True)
class SparkTable:
    schema: str
    name: str
    files: tuple[Path, ...]


def spark_tables(spark_dir: Path, schemas: Iterable[str] = DBT_SCHEMAS) -> list[SparkTable]:
    """Every table of `schemas` in the local Spark warehouse (<spark_dir>/warehouse/<schema>.db/
    <table>/, the managed tables of profiles.yml's session), with its parquet files; a table
    without files (created, never written) is left out."""
    found = []
    for schema in schemas:
        folder = spark_dir / "warehouse" / f"{schema}.db"
        if not folder.is_dir():
            continue
        for table in sorted(folder.iterdir()):
            if not table.is_dir() or table.name.endswith(SCRATCH_SUFFIXES):
                continue
            if (table / "_delta_log").is_dir() or any((table / "metadata").glob("*.metadata.json")):
                # their folders keep the files of replaced versions beside the live ones
                raise WarehouseImportError(
                    f"Spark's table {schema}.{table.name} is a Delta or Iceberg table: "
                    "customer-analytics import-spark reads parquet tables only (profiles.yml's "
                    "spark target, +file_format: parquet; docs/spark.md)."
                )
            files = tuple(
                sorted(
                    path
                    for path in table.rglob("*.parquet")
                    if not any(
                        part.startswith(("_", ".")) for part in path.relative_to(table).parts
                    )
                )
            )
            if files:
                found.append(SparkTable(schema, table.name, files))
    return found


def _copy(con, table: SparkTable) -> int:
    """Copy one Spark table into the open build file; its row count. Spark's timestamps
    (session time zone UTC, written as INT96) are DuckDB's timestamps, as on DuckDB."""
    files = "[" + ", ".join(sql_string(str(path)) for path in table.files) + "]"
    relation = f'"{table.schema}"."{table.name}"'
    con.execute(f'create schema if not exists "{table.schema}"')
    if con.execute(
        "select count(*) from duckdb_views() where database_name = current_database()"
        " and schema_name = ? and view_name = ?",
        [table.schema, table.name],
    ).fetchone()[0]:
        con.execute(f"drop view {relation}")
    con.execute(
        f"create or replace table {relation} as select * from read_parquet({files},"
        " hive_partitioning = false)"
    )
    (rows,) = con.execute(f"select count(*) from {relation}").fetchone()
    return rows


def import_spark_tables(
    build_file: Path,
    spark_dir: Path,
    only: Callable[[str, str], bool] | None = None,
    drop_missing: bool = False,
    clear: tuple[str, ...] = (),
) -> dict[str, int]:
    """Copy Spark's tables (those `only` accepts, else all) into `build_file`, in one
    transaction; with `drop_missing`, drop the build file's tables of the dbt schemas that Spark
    does not hold (DuckDB's landing state, models no longer built); the tables of the schemas
    `clear` are dropped first. Relation -> rows copied."""
    import duckdb

    held = spark_tables(spark_dir)
    tables = [table for table in held if only is None or only(table.schema, table.name)]
    if not tables:
        raise WarehouseImportError(
            f"Spark's warehouse {spark_dir / 'warehouse'} holds none of the tables to import: "
            "run dbt build --target spark first (docs/spark.md)."
        )
    copied: dict[str, int] = {}
    build_file.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(build_file)) as con:
        con.execute("begin")
        try:
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables()"
                " where database_name = current_database() and list_contains(?, schema_name)",
                [list(clear)],
            ).fetchall():
                con.execute(f'drop table "{schema}"."{name}"')
            for table in tables:
                current = f"{table.schema}.{table.name}"
                copied[current] = _copy(con, table)
            if drop_missing:
                kept = {(table.schema, table.name) for table in held}
                for schema, name in con.execute(
                    "select schema_name, table_name from duckdb_tables()"
                    " where database_name = current_database() and schema_name in"
                    f" ({', '.join(sql_string(schema) for schema in DBT_SCHEMAS)})"
                    " order by all"
                ).fetchall():
                    if (schema, name) not in kept:
                        con.execute(f'drop table "{schema}"."{name}"')
            con.execute("commit")
        except duckdb.Error as exc:
            con.execute("rollback")
            raise WarehouseImportError(
                f"Copying Spark's table {current or '(none yet)'} into {build_file} failed "
                f"({type(exc).__name__}); the build file is unchanged. Run dbt build --target "
                "spark again (docs/spark.md)."
            ) from None
    return copied


def raw_step_table(schema: str, name: str) -> bool:
    """The tables the raw models write (and the raw suites read)."""
    return schema == RAW_SCHEMA or (schema, name) in RAW_STEP_TABLES


def not_audit(schema: str, name: str) -> bool:
    return schema != AUDIT_SCHEMA


def audit_only(schema: str, name: str) -> bool:
    return schema == AUDIT_SCHEMA


def create_views(
    build_file: Path, dbt: Path, project_dir: Path, target_path: Path, dbt_vars: str
) -> None:
    """The views of the project (staging, the audiences …) created again in the build file, by
    `dbt run` of the view models on DuckDB (target dev) over the copied tables."""
    completed = subprocess.run(
        [
            str(dbt),
            "run",
            "--target",
            "dev",
            "--select",
            "config.materialized:view",
            "--vars",
            dbt_vars,
            "--target-path",
            str(target_path),
            "--quiet",
        ],
        cwd=project_dir,
        env={
            **os.environ,
            "CUSTOMER_ANALYTICS_DB": str(build_file),
            "DBT_PROJECT_DIR": str(project_dir),
            "DBT_PROFILES_DIR": str(project_dir),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise WarehouseImportError(
            f"Creating the views on the copied tables in {build_file} failed (dbt run --target "
            f"dev --select config.materialized:view): {completed.stdout[-1500:]}"
        )


def import_spark_build(
    build_file: Path,
    spark_dir: Path,
    dbt: Path,
    project_dir: Path,
    target_path: Path,
    dbt_vars: str = "{}",
    raw_only: bool = False,
) -> dict[str, int]:
    """After dbt ran on Spark: the build file holds what Spark built. `raw_only` (after the raw
    models alone): the raw tables and their source record. Else every table, then the views
    (dbt on DuckDB), then Spark's dbt record last (the view run's own record does not count:
    the build is Spark's; publishing refuses a build file without one, so a failure on the way
    publishes nothing). Relation -> rows copied."""
    if raw_only:
        return import_spark_tables(build_file, spark_dir, raw_step_table)
    # the build file's own dbt record goes first: until Spark's is in, nothing can be published
    copied = import_spark_tables(build_file, spark_dir, not_audit, clear=(AUDIT_SCHEMA,))
    create_views(build_file, dbt, project_dir, target_path, dbt_vars)
    copied.update(import_spark_tables(build_file, spark_dir, audit_only, drop_missing=True))
    return copied
