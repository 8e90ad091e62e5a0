"""What the dbt asset does when it runs: `dbt build`, then metadata the UI can show."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg

from orchestration.defs.dbt.partitions import run_days
from orchestration.defs.resources import TransientWarehouseError, WarehouseResource
from orchestration.lib.dbt_project import DBT_PROJECT_DIR, run_target_path
from orchestration.lib.headlines import markdown_table
from orchestration.lib.relations import mart
from orchestration.lib.serving import PUBLIC_SCHEMA
from orchestration.lib.settings import (
    LANDING_DAYS_ENV,
    RAW_TABLES,
    RawDialect,
    SettingError,
    data_tests_scope,
    landing_days,
)

LOCK_ERROR = re.compile(r"Could not set lock on file|Conflicting lock is held", re.IGNORECASE)

HEADLINE_QUERIES: dict[str, tuple[str, list[str]]] = {
    "rpt_kpis_monthly": (
        "select strftime(month, '%Y-%m'), net_revenue, orders, average_order_value, nps,"
        f" churn_rate * 100 from {mart('rpt_kpis_monthly')} order by month desc limit 12",
        ["month", "net revenue (EUR)", "orders", "AOV (EUR)", "NPS", "churn rate (%)"],
    ),
    "rpt_rfm_segments": (
        "select rfm_segment, customers, share_of_customers * 100, net_revenue,"
        f" share_of_net_revenue * 100, nps from {mart('rpt_rfm_segments')} order by customers desc",
        ["segment", "customers", "share (%)", "net revenue (EUR)", "revenue share (%)", "NPS"],
    ),
    "rpt_nps_monthly": (
        "select strftime(month, '%Y-%m'), responses, nps, nps_margin_of_error_95"
        f" from {mart('rpt_nps_monthly')} order by month desc limit 12",
        ["month", "responses", "NPS", "± 95 %"],
    ),
    "rpt_data_quality": (
        "select source_table, rows_read, rows_accepted, rows_quarantined,"
        f" rows_collapsed_duplicates from {mart('rpt_data_quality')} order by source_table",
        ["raw table", "read", "accepted", "quarantined", "duplicates collapsed"],
    ),
}


def run_dialect(context: dg.AssetExecutionContext, config: Any) -> RawDialect:
    """The export dialect of this run, the same for both dbt steps: the raw step's run config,
    then the dbt step's over it, wherever the user gave it (a dialect seen by one step only
    would make the other look like a change of raw source)."""
    ops = (context.run.run_config or {}).get("ops", {})
    dialect = config.dialect()
    for step in ("customer_analytics_raw", "customer_analytics_dbt"):
        given = (ops.get(step) or {}).get("config") or {}
        dialect = dialect.merged_with(
            RawDialect.parse(
                given.get("raw_format"),
                given.get("raw_format_overrides"),
                given.get("raw_column_mapping"),
            )
        )
    return dialect


_DBT_FRAME = re.compile(r"^\s*(> (in|called by) .*|\S.* Error in \w+ \S+ \(.*\))\s*$")


def _reason(message: str) -> str:
    """dbt's message for a failed node without its framing (the "Compilation Error in model
    ..." title and the "> called by" macro stack): the error itself, on one line."""
    kept = [line.strip() for line in message.splitlines() if not _DBT_FRAME.match(line)]
    return " ".join(line for line in kept if line)


def _failures(run_results: dict[str, Any]) -> list[str]:
    return [
        f"{result['unique_id']}: {result.get('status')}: {_reason(result.get('message') or '')}"
        for result in run_results.get("results", [])
        if result.get("status") in ("error", "fail")
    ]


def _import_spark_build(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, dbt_vars: dict[str, Any]
) -> None:
    """What dbt built on Spark, copied into the build file that every later step reads
    (orchestration/lib/warehouse.py): after the raw models, the raw tables; else everything."""
    from orchestration.lib.dbt_project import dbt_executable
    from orchestration.lib.settings import SettingError, Settings
    from orchestration.lib.warehouse import WarehouseImportError, import_spark_build, spark_source

    raw_only = all(key.path[0] == "raw" for key in context.selected_asset_keys)
    try:
        # read from the environment here, not from resource config, which the UI shows: the
        # Spark Connect address may hold a token
        remote = Settings.from_env().spark_remote
        copied = import_spark_build(
            Path(warehouse.database),
            Path(warehouse.spark_dir),
            Path(dbt_executable()),
            DBT_PROJECT_DIR,
            run_target_path(warehouse.database) / "import-spark",
            json.dumps(dbt_vars),
            raw_only=raw_only,
            remote=remote,
        )
    except (WarehouseImportError, SettingError) as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    context.log.info(
        f"Copied {len(copied)} tables built on Spark ({sum(copied.values()):,} rows) from "
        f"{spark_source(Path(warehouse.spark_dir), remote)} into {warehouse.database}"
    )


def run_dbt_build(
    context: dg.AssetExecutionContext,
    dbt: Any,
    warehouse: WarehouseResource,
    run_dialect: RawDialect | None = None,
) -> Iterator[Any]:
    """Run `dbt build` for the selected assets; yield its events once dbt has released the
    DuckDB file, enriched with row counts and headline tables; then the quarantine counts as
    observations of the raw assets. A failed build fails the step with the failing nodes."""
    import duckdb

    # DbtCliResource hands the process environment to dbt, and profiles.yml reads the file to
    # build from CUSTOMER_ANALYTICS_DB: point it at this resource's warehouse.
    os.environ["CUSTOMER_ANALYTICS_DB"] = warehouse.database
    os.environ["DBT_PROJECT_DIR"] = str(DBT_PROJECT_DIR)
    try:
        dbt_vars = warehouse.dbt_vars(run_dialect)
        # the weekly full suite (the schedule's tag) or a run launched with the tag
        if data_tests_scope(context.run.tags) == "all":
            dbt_vars["data_tests_scope"] = "all"
        # a run for some days (a partition, a backfill): the raw models land those days'
        # partition files again (an environment variable, not a var: the same parse serves
        # every day)
        days = landing_days(*run_days(context.run.tags))
    except SettingError as exc:
        raise dg.Failure(description=str(exc), allow_retries=False) from None
    if warehouse.engine == "spark":
        from orchestration.lib.warehouse import prepare_spark_build

        # profiles.yml's spark target reads these
        os.environ["CUSTOMER_ANALYTICS_SPARK_DIR"] = warehouse.spark_dir
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        try:
            prepare_spark_build(Path(warehouse.spark_dir))
        except SettingError as exc:
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        except OSError as exc:
            raise dg.Failure(
                description=f"Cannot create Spark's folder {warehouse.spark_dir} "
                f"({exc.strerror}): set CUSTOMER_ANALYTICS_SPARK_DIR to a writable folder.",
                allow_retries=False,
            ) from None
    if days:
        os.environ[LANDING_DAYS_ENV] = days
        context.log.info(f"Raw files from {warehouse.landing_dir}, landing the days {days}")
    else:
        os.environ.pop(LANDING_DAYS_ENV, None)
        context.log.info(f"Raw files from {warehouse.landing_dir}")
    # dbt's file log at info level unless the user asks for more (dbt's DBT_LOG_LEVEL_FILE):
    # its debug lines in JSON (the format dagster-dbt reads) make a build a third slower
    log_level = os.environ.get("DBT_LOG_LEVEL_FILE") or "info"
    invocation = dbt.cli(
        ["build", "--vars", json.dumps(dbt_vars), "--log-level-file", log_level],
        context=context,
        raise_on_error=False,
        target_path=run_target_path(warehouse.database),
    )
    events: list[Any] = []
    for dbt_event in invocation.stream_raw_events():
        # dbt's warnings and the raw reader's notes (detected dialect, missing optional files,
        # ignored columns, a change of raw source) belong in the run's log, not only stdout
        # (no message holds a raw value: the raw reader and the dbt plugin's cursor build theirs
        # from file, line and column: macros/raw/raise_on_malformed_raw_lines.sql,
        # orchestration/lib/duckdb_errors.py)
        info = dbt_event.raw_event.get("info", {})
        message = str(info.get("msg", ""))
        if info.get("level") == "warn":
            context.log.warning(message)
        elif message.startswith("Raw "):
            context.log.info(message)
        events.extend(
            dbt_event.to_default_asset_events(
                manifest=invocation.manifest,
                dagster_dbt_translator=invocation.dagster_dbt_translator,
                context=invocation.context,
                target_path=invocation.target_path,
                project=invocation.project,
            )
        )
    manifest = invocation.manifest
    succeeded = invocation.is_successful()
    if warehouse.engine == "spark" and succeeded:
        _import_spark_build(context, warehouse, dbt_vars)

    relations: dict[str, str] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] in ("model", "seed"):
            relations[node["unique_id"]] = f'"{node["schema"]}"."{node["alias"]}"'

    with duckdb.connect(warehouse.database, read_only=True) as con:
        existing = {
            f'"{schema}"."{name}"'
            for schema, name in con.execute(
                "select schema_name, table_name from duckdb_tables()"
                " union all select schema_name, view_name from duckdb_views()"
            ).fetchall()
        }
        for event in events:
            if isinstance(event, dg.Output):
                unique_id = (event.metadata.get("unique_id") or dg.MetadataValue.text("")).value
                relation = relations.get(unique_id)
                extra: dict[str, Any] = {}
                if relation in existing:
                    (rows,) = con.execute(f"select count(*) from {relation}").fetchone()
                    extra["dagster/row_count"] = rows
                model_name = unique_id.rsplit(".", 1)[-1]
                if model_name in HEADLINE_QUERIES and relation in existing:
                    query, header = HEADLINE_QUERIES[model_name]
                    extra["headline"] = dg.MetadataValue.md(
                        markdown_table(header, con.execute(query).fetchall())
                    )
                yield event.with_metadata({**event.metadata, **extra})
            else:
                yield event

        if f'"{PUBLIC_SCHEMA}"."rpt_data_quality"' in existing and succeeded:
            columns = [
                row[0]
                for row in con.execute(
                    "select column_name from duckdb_columns() where schema_name = ?"
                    " and table_name = 'rpt_data_quality' order by column_index",
                    [PUBLIC_SCHEMA],
                ).fetchall()
            ]
            for row in con.execute(f"select * from {mart('rpt_data_quality')}").fetchall():
                values = dict(zip(columns, row, strict=True))
                table = values.pop("source_table").split(".", 1)[1]
                if table in RAW_TABLES:
                    context.log_event(
                        dg.AssetObservation(
                            asset_key=dg.AssetKey(["raw", table]),
                            metadata={name: int(value) for name, value in values.items()},
                        )
                    )

    if not succeeded:
        try:
            failures = _failures(invocation.get_artifact("run_results.json"))
        except Exception:  # dbt stopped before writing run results
            failures = []
        error_text = f"{invocation.get_error()} {' '.join(failures)}"
        if LOCK_ERROR.search(error_text):
            raise TransientWarehouseError(f"The warehouse file is busy: {error_text[:500]}")
        summary = "; ".join(failures[:5]) or "see the dbt logs"
        raise dg.Failure(
            description="dbt build failed: " + summary,
            metadata={
                "failing dbt nodes": dg.MetadataValue.md("\n".join(f"- {f}" for f in failures))
            },
            allow_retries=False,
        )
