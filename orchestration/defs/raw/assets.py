"""Raw landing: the files of the landing directory into the warehouse's raw schema."""

import json
import re
import subprocess
from pathlib import Path

import dagster as dg

from orchestration.defs.resources import (
    TRANSIENT_RETRY_POLICY,
    WAREHOUSE_POOL,
    TransientWarehouseError,
    WarehouseResource,
)
from orchestration.lib.dbt_project import (
    DBT_PROJECT_DIR,
    DBT_TARGET_PATH,
    DBT_VARS,
    dbt_env,
    dbt_executable,
)
from orchestration.lib.landing import explain_csv_error, raw_files
from orchestration.lib.settings import RAW_TABLES

ANSI = re.compile(r"\x1b\[[0-9;]*m")
LOCK_ERROR = re.compile(r"Could not set lock on file|Conflicting lock is held", re.IGNORECASE)

RAW_DESCRIPTIONS = {
    "customers": "CRM customer export, every column as text (required).",
    "orders": "Shop order export, every column as text (required).",
    "sessions": "Web-analytics sessions, every column as text (optional: empty when absent).",
    "survey_responses": "NPS survey responses, every column as text (optional).",
    "email_events": "Email-service events, every column as text (optional).",
}


def raw_asset_key(table: str) -> dg.AssetKey:
    """Asset key of a raw table; dbt sources map to the same keys."""
    return dg.AssetKey(["raw", table])


def _dbt_error(output: str) -> str:
    """The user-facing sentence of a failed dbt call (its compilation or runtime error)."""
    lines = [line.strip() for line in output.splitlines()]
    for marker in ("Compilation Error", "Runtime Error", "Error"):
        for index, line in enumerate(lines):
            if marker in line and index + 1 < len(lines):
                return " ".join(part for part in lines[index + 1 : index + 4] if part)
    return output[-1000:]


@dg.multi_asset(
    name="land_raw_tables",
    specs=[
        dg.AssetSpec(
            raw_asset_key(table),
            group_name="raw",
            description=RAW_DESCRIPTIONS[table],
            kinds={"duckdb"},
            owners=["team:analytics-engineering"],
        )
        for table in RAW_TABLES
    ],
    pool=WAREHOUSE_POOL,
    retry_policy=TRANSIENT_RETRY_POLICY,
)
def land_raw_tables(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Land the landing directory's raw files (the shipped seeds by default) in schema raw,
    checked against the raw data contract exactly as dbt's bring-your-own-data reader does:
    a missing required file or column fails the run with one sentence naming it."""
    import duckdb

    completed = subprocess.run(
        [
            dbt_executable(),
            "run-operation",
            "land_raw_tables",
            "--args",
            json.dumps({"directory": warehouse.landing_dir}),
            "--vars",
            json.dumps({**DBT_VARS, "raw_csv_encoding": warehouse.csv_encoding}),
            "--target-path",
            str(DBT_TARGET_PATH),
        ],
        cwd=DBT_PROJECT_DIR,
        env=dbt_env(warehouse.database),
        capture_output=True,
        text=True,
        check=False,
    )
    output = completed.stdout + completed.stderr
    warnings = []
    for line in output.splitlines():
        text = ANSI.sub("", line).strip()
        if "landed " in text:
            context.log.info(text)
        elif "WARN" in text or "raw file" in text.lower():
            context.log.warning(text)
            warnings.append(text)
    if completed.returncode != 0:
        if LOCK_ERROR.search(output):
            raise TransientWarehouseError(f"The warehouse file is busy: {_dbt_error(output)}")
        reason = explain_csv_error(output, Path(warehouse.landing_dir)) or _dbt_error(output)
        raise dg.Failure(
            description=f"Landing the raw files of {warehouse.landing_dir} failed: {reason}",
            metadata={"dbt output": dg.MetadataValue.text(output[-4000:])},
            allow_retries=False,
        )

    files = {path.stem: path for path in raw_files(Path(warehouse.landing_dir))}
    with duckdb.connect(warehouse.database, read_only=True) as con:
        for table in RAW_TABLES:
            (rows,) = con.execute(f"select count(*) from raw.{table}").fetchone()
            source = files.get(table)
            yield dg.MaterializeResult(
                asset_key=raw_asset_key(table),
                metadata={
                    "dagster/row_count": rows,
                    "warnings": dg.MetadataValue.md(
                        "\n".join(f"- {text}" for text in warnings if f"{table}." in text) or "none"
                    ),
                    "file": str(source) if source else "absent (optional table left empty)",
                    "landing_dir": warehouse.landing_dir,
                },
            )
