"""One warehouse for the Python side, whichever engine dbt builds on (docs/spark.md).

The Python side (the quality suites, row counts and headlines, the CLV step, publishing and the
audiences, the landing sensor) reads the DuckDB build file (CUSTOMER_ANALYTICS_DB). On DuckDB,
dbt builds that file itself. On Spark, dbt builds Spark tables (parquet files under
CUSTOMER_ANALYTICS_SPARK_DIR) and `import_spark_build` copies them into the build file after each
dbt run: DuckDB reads the parquet files (streamed: bounded memory), the views are created again
on the copies by dbt itself (the same models, DuckDB's SQL), and the build's dbt record (schema
audit) is Spark's. So everything after dbt, and the serving file and Parquet exports BI tools
read, are the same with either engine.

On a cluster, whose tables are not in a local folder, the same copy reads them through a Spark
Connect server instead (CUSTOMER_ANALYTICS_SPARK_REMOTE, `SparkConnectWarehouse`): Spark reads
each table (of any format, Delta and Iceberg too) and sends it as Arrow batches, a bounded
number of rows at a time.

The copy is one DuckDB transaction: a failed import leaves the build file as it was, and the
served marts are never touched. The landing state only DuckDB keeps (incremental runs) is
dropped with it, so a later DuckDB build of the same file lands everything again (docs/spark.md).
"""

from __future__ import annotations

import os
import socket
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
    files: tuple[Path, ...] = ()
    """The parquet files (the local folder); none when read through Spark Connect."""


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
    _replace_view(con, table)
    con.execute(
        f"create or replace table {relation} as select * from read_parquet({files},"
        " hive_partitioning = false)"
    )
    (rows,) = con.execute(f"select count(*) from {relation}").fetchone()
    return rows


def spark_source(spark_dir: Path, remote: str = "") -> str:
    """Where Spark's tables are read from, for messages: the Spark Connect server by host only
    (its address may hold a token), else the local warehouse folder."""
    from orchestration.lib.settings import spark_remote_host

    if remote:
        return f"the Spark Connect server {spark_remote_host(remote)}"
    return f"Spark's warehouse {spark_dir / 'warehouse'}"


class SparkConnectWarehouse:
    """Spark's tables read through a Spark Connect server (a cluster's, or `start-connect-
    server.sh` beside a metastore): listed from its catalog, each read by Spark and sent as
    Arrow, about `batch_rows` rows at a time (a larger table is read in parts by a hash of its
    rows; equal rows share a part). The address may hold a token: messages name its host
    only."""

    def __init__(self, remote: str, batch_rows: int = 500_000) -> None:
        from orchestration.lib.settings import spark_remote_host

        self.remote = remote
        self.host = spark_remote_host(remote)
        self.batch_rows = batch_rows
        self._session = None

    def session(self):
        if self._session is None:
            try:
                from pyspark.sql import SparkSession
            except ImportError:
                raise WarehouseImportError(
                    "Reading Spark's tables through Spark Connect needs pyspark's connect "
                    "extras: run make spark (docs/spark.md)."
                ) from None
            host, _, port = self.host.rpartition(":")
            try:
                # Spark Connect's client retries an unreachable server for minutes: ask first
                socket.create_connection((host.strip("[]"), int(port)), timeout=15).close()
                self._session = SparkSession.builder.remote(self.remote).getOrCreate()
                self._session.sql("select 1").collect()
            except Exception as exc:  # grpc's and pyspark's errors alike
                raise WarehouseImportError(
                    f"Could not reach the Spark Connect server {self.host} "
                    f"({type(exc).__name__}); the build file is unchanged. Check "
                    "CUSTOMER_ANALYTICS_SPARK_REMOTE and that the server runs (docs/spark.md)."
                ) from None
        return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.stop()
            self._session = None

    def tables(self, schemas: Iterable[str] = DBT_SCHEMAS) -> list[SparkTable]:
        """Every table (not view) of `schemas` in the server's catalog."""
        spark = self.session()
        found = []
        try:
            for schema in schemas:
                if not spark.catalog.databaseExists(schema):
                    continue
                for table in sorted(spark.catalog.listTables(schema), key=lambda t: t.name):
                    if table.isTemporary or (table.tableType or "").upper() == "VIEW":
                        continue
                    if table.name.endswith(SCRATCH_SUFFIXES):
                        continue
                    found.append(SparkTable(schema, table.name))
        except Exception as exc:  # grpc's and pyspark's errors alike
            raise WarehouseImportError(
                f"Listing the tables of the Spark Connect server {self.host} failed "
                f"({type(exc).__name__}); the build file is unchanged (docs/spark.md)."
            ) from None
        return found

    def copy(self, con, table: SparkTable) -> int:
        """Copy one table into the open build file; its row count."""
        import pyarrow as pa
        from pyspark.sql import functions as F

        spark = self.session()
        frame = spark.table(f"`{table.schema}`.`{table.name}`")
        rows = frame.count()
        parts = max(1, -(-rows // self.batch_rows))
        relation = f'"{table.schema}"."{table.name}"'
        _replace_view(con, table)
        copied = 0
        for part in range(parts):
            chosen = frame
            if parts > 1:
                hashed = F.xxhash64(*[frame[column] for column in frame.columns])
                chosen = frame.where(F.pmod(hashed, F.lit(parts)) == part)
            batch = chosen.toArrow()
            # timestamps arrive in UTC with the time zone attached: the build file's are UTC
            # without it, as DuckDB builds them and as Spark's parquet files hold them
            batch = batch.cast(
                pa.schema(
                    [
                        field.with_type(pa.timestamp(field.type.unit))
                        if pa.types.is_timestamp(field.type)
                        else field
                        for field in batch.schema
                    ]
                )
            )
            con.register("spark_batch", batch)
            if part == 0:
                con.execute(f"create or replace table {relation} as select * from spark_batch")
            else:
                con.execute(f"insert into {relation} select * from spark_batch")
            con.unregister("spark_batch")
            copied += batch.num_rows
        if copied != rows:
            raise WarehouseImportError(
                f"Spark's table {table.schema}.{table.name} changed while it was read "
                f"({rows:,} rows counted, {copied:,} read); the build file is unchanged. "
                "Import again when no dbt run writes it."
            )
        return copied


def _replace_view(con, table: SparkTable) -> None:
    """Drop the build file's view of that name (a model once built as a view)."""
    con.execute(f'create schema if not exists "{table.schema}"')
    if con.execute(
        "select count(*) from duckdb_views() where database_name = current_database()"
        " and schema_name = ? and view_name = ?",
        [table.schema, table.name],
    ).fetchone()[0]:
        con.execute(f'drop view "{table.schema}"."{table.name}"')


def import_spark_tables(
    build_file: Path,
    spark_dir: Path,
    only: Callable[[str, str], bool] | None = None,
    drop_missing: bool = False,
    clear: tuple[str, ...] = (),
    remote: str = "",
    batch_rows: int = 500_000,
) -> dict[str, int]:
    """Copy Spark's tables (those `only` accepts, else all) into `build_file`, in one
    transaction: from the local session's folder `spark_dir`, or through the Spark Connect
    server `remote` when given. With `drop_missing`, drop the build file's tables of the dbt
    schemas that Spark does not hold (DuckDB's landing state, models no longer built); the
    tables of the schemas `clear` are dropped first. Relation -> rows copied."""
    connect = SparkConnectWarehouse(remote, batch_rows) if remote else None
    try:
        return _import_tables(build_file, spark_dir, connect, only, drop_missing, clear)
    finally:
        if connect is not None:
            connect.close()


def _import_tables(
    build_file: Path,
    spark_dir: Path,
    connect: SparkConnectWarehouse | None,
    only: Callable[[str, str], bool] | None,
    drop_missing: bool,
    clear: tuple[str, ...],
) -> dict[str, int]:
    import duckdb

    held = connect.tables() if connect is not None else spark_tables(spark_dir)
    tables = [table for table in held if only is None or only(table.schema, table.name)]
    if not tables:
        where = spark_source(spark_dir, connect.remote if connect is not None else "")
        raise WarehouseImportError(
            f"{where[0].upper()}{where[1:]} holds none of the tables to import: run dbt build "
            "--target spark first (docs/spark.md)."
        )
    copied: dict[str, int] = {}
    build_file.parent.mkdir(parents=True, exist_ok=True)
    current = ""
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
                copied[current] = (
                    connect.copy(con, table) if connect is not None else _copy(con, table)
                )
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
        except Exception as exc:  # DuckDB's, and Spark Connect's while a table is read
            con.execute("rollback")
            if isinstance(exc, WarehouseImportError):
                raise
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
    remote: str = "",
) -> dict[str, int]:
    """After dbt ran on Spark: the build file holds what Spark built (read from `spark_dir`, or
    through the Spark Connect server `remote`). `raw_only` (after the raw models alone): the
    raw tables and their source record. Else every table, then the views (dbt on DuckDB), then
    Spark's dbt record last (the view run's own record does not count: the build is Spark's;
    publishing refuses a build file without one, so a failure on the way publishes nothing).
    Relation -> rows copied."""
    if raw_only:
        return import_spark_tables(build_file, spark_dir, raw_step_table, remote=remote)
    # the build file's own dbt record goes first: until Spark's is in, nothing can be published
    copied = import_spark_tables(
        build_file, spark_dir, not_audit, clear=(AUDIT_SCHEMA,), remote=remote
    )
    create_views(build_file, dbt, project_dir, target_path, dbt_vars)
    copied.update(
        import_spark_tables(build_file, spark_dir, audit_only, drop_missing=True, remote=remote)
    )
    return copied
