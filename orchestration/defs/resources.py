"""Resources shared by the assets."""

from typing import Any

import dagster as dg
from pydantic import Field

from orchestration.lib.settings import RawDialect, Settings

WAREHOUSE_POOL = "duckdb_warehouse"
"""Concurrency pool of everything that writes the DuckDB file: DuckDB has one writer, so
runs wait for each other (dagster.yaml gives the pool one slot) instead of failing on the lock."""


def reserve_warehouse_pool(instance: dg.DagsterInstance) -> None:
    """Record WAREHOUSE_POOL's limit (dagster.yaml's default_limit) in the instance before the
    first run is queued. Dagster's run queue reads the recorded pools at the start of each pass
    and records a new pool only during it, so on a fresh instance two runs queued in the same
    pass would both start (and the second wait on DuckDB's lock); recorded up front, the second
    stays queued. `customer-analytics dev` (and so `make dev`) calls this; it is idempotent."""
    instance.event_log_storage.initialize_concurrency_limit_to_default(WAREHOUSE_POOL)


TRANSIENT_RETRY_POLICY = dg.RetryPolicy(max_retries=3, delay=15, backoff=dg.Backoff.LINEAR)
"""Retries for transient failures (e.g. another process briefly holding the DuckDB file).
Failures caused by the data (a contract violation, a failing dbt test) raise
dg.Failure(allow_retries=False) and are not retried: they would fail again."""


class TransientWarehouseError(RuntimeError):
    """The warehouse file was busy (DuckDB lock): worth retrying."""


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB file dbt builds, and the landing directory the one raw reader reads (as
    dbt var raw_data_path) with its export dialect
    (docs/bring-your-own-data.md, "Export dialects"). On the engine spark (docs/spark.md), dbt
    builds in Spark's warehouse (spark_dir) and each dbt step copies what it built into the
    DuckDB file (orchestration/lib/warehouse.py), which every later step reads as on DuckDB."""

    database: str
    landing_dir: str
    engine: str = "duckdb"
    spark_dir: str = ""
    serving_database: str = ""
    exports_dir: str = ""
    quality_dir: str = ""
    audiences_dir: str = ""
    csv_encoding: str = ""
    raw_format: dict[str, str] = Field(default_factory=dict)
    raw_format_overrides: dict[str, dict[str, str]] = Field(default_factory=dict)
    raw_column_mapping: dict[str, dict[str, str]] = Field(default_factory=dict)

    def raw_dialect(self) -> RawDialect:
        """The resource's export dialect, validated (SettingError names a bad setting)."""
        raw_format = dict(self.raw_format)
        if self.csv_encoding:
            raw_format = {"encoding": self.csv_encoding, **raw_format}
        return RawDialect.parse(raw_format, self.raw_format_overrides, self.raw_column_mapping)

    def dbt_vars(self, run_dialect: RawDialect | None = None) -> dict[str, Any]:
        """The vars of the dbt build: the landing directory and the dialect (the run's config
        over the resource's)."""
        dialect = self.raw_dialect()
        if run_dialect is not None:
            dialect = dialect.merged_with(run_dialect)
        return {"raw_data_path": self.landing_dir, **dialect.as_vars()}


@dg.definitions
def defs() -> dg.Definitions:
    """Resources from the environment (docs/configuration.md), and the executor of every run.

    Runs execute their steps in the run's own process (in_process_executor): the steps form
    one chain (raw files → raw checks → dbt build → mart checks → publish) that cannot run side
    by side, dbt already runs as a subprocess, and a process per step would only add its
    start-up (about 4 s each, 20 s a run)."""
    settings = Settings.from_env()
    dialect = settings.raw_dialect
    return dg.Definitions(
        executor=dg.in_process_executor,
        resources={
            "warehouse": WarehouseResource(
                database=str(settings.database),
                landing_dir=str(settings.landing_dir),
                engine=settings.engine,
                spark_dir=str(settings.spark_dir),
                serving_database=str(settings.serving_database),
                exports_dir=str(settings.exports_dir),
                quality_dir=str(settings.quality_dir),
                audiences_dir=str(settings.audiences_dir),
                raw_format=dialect.raw_format,
                raw_format_overrides=dialect.raw_format_overrides,
                raw_column_mapping=dialect.raw_column_mapping,
            ),
        },
    )
