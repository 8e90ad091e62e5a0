"""Resources shared by the assets."""

import dagster as dg

from orchestration.lib.settings import Settings

WAREHOUSE_POOL = "duckdb_warehouse"
"""Concurrency pool of everything that writes the DuckDB file: DuckDB has one writer, so
runs wait for each other (dagster.yaml gives the pool one slot) instead of failing on the lock."""


TRANSIENT_RETRY_POLICY = dg.RetryPolicy(max_retries=3, delay=15, backoff=dg.Backoff.LINEAR)
"""Retries for transient failures (e.g. another process briefly holding the DuckDB file).
Failures caused by the data (a contract violation, a failing dbt test) raise
dg.Failure(allow_retries=False) and are not retried: they would fail again."""


class TransientWarehouseError(RuntimeError):
    """The warehouse file was busy (DuckDB lock): worth retrying."""


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB file dbt builds and the landing directory raw files are read from."""

    database: str
    landing_dir: str
    serving_database: str = ""
    exports_dir: str = ""
    quality_dir: str = ""
    csv_encoding: str = "utf-8"


@dg.definitions
def defs() -> dg.Definitions:
    """Resources from the environment (README "Dagster")."""
    settings = Settings.from_env()
    return dg.Definitions(
        resources={
            "warehouse": WarehouseResource(
                database=str(settings.database),
                landing_dir=str(settings.landing_dir),
                serving_database=str(settings.serving_database),
                exports_dir=str(settings.exports_dir),
                quality_dir=str(settings.quality_dir),
                csv_encoding=settings.csv_encoding,
            ),
        }
    )
