"""The serving contract: what "published" means, for the publisher and every reader.

A publication is one DuckDB file (the serving file) whose schema `marts` holds the tested
public marts plus the table `marts.publication` (one row per mart: build id, published time,
reference date, table name, row count), and one folder of exports per build
(`<exports>/<build id>/<mart>.parquet` and the reports its publisher wrote, e.g. report.html),
with `<exports>/current` pointing at the served one. Readers open the serving file only through
`locked_down_connection`. DuckDB only: no Dagster, no dbt, no UI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.relations import MART_SCHEMA, staging_model

PUBLIC_SCHEMA = MART_SCHEMA
"""Only this schema is published: staging, quarantine and personal data never are."""

PUBLICATION_TABLE = "publication"
"""The table in PUBLIC_SCHEMA that describes the publication itself."""

REPORT_NAME = "report.html"
"""The offline HTML report in each publication's exports folder (written by the dashboard)."""


@dataclass(frozen=True)
class Served:
    """What a serving file says about itself."""

    build_id: str
    reference_date: dt.date | None
    published_at: dt.datetime


LOCKED_DOWN_SETTINGS: dict[str, bool] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "lock_configuration": True,
}
"""DuckDB settings of every BI reader, besides read-only: no file but the opened one is read or
written (no read_text/read_csv of other files, no COPY, no ATTACH), no extension is installed or
loaded, and no SET/RESET can change any setting afterwards. The BI recipes of docs/bi-tools.md
give each tool these settings (tests/test_bi_recipes.py checks each recipe against them)."""


def locked_down_connection(serving_file: Path) -> duckdb.DuckDBPyConnection:
    """A connection for BI readers: read-only, no file system or network access (no other
    files, no ATTACH, no COPY, no extension installs), and settings that cannot be changed."""
    return duckdb.connect(str(serving_file), read_only=True, config=dict(LOCKED_DOWN_SETTINGS))


def read_served(serving_file: Path) -> Served | None:
    """The build id, reference date and time of the publication in `serving_file`; None when
    there is no such file or it holds no publication (or cannot be read). Opened read-only
    with DuckDB's default settings, as a reader in this process may already hold it (DuckDB
    refuses a second connection to one file with other settings in one process)."""
    if not serving_file.is_file():
        return None
    try:
        with duckdb.connect(str(serving_file), read_only=True) as con:
            row = con.execute(
                "select build_id, max(reference_date), max(published_at)"
                f" from {PUBLIC_SCHEMA}.{PUBLICATION_TABLE} group by build_id"
                " order by max(published_at) desc limit 1"
            ).fetchone()
    except duckdb.Error:
        return None
    return Served(row[0], row[1], row[2]) if row else None


def build_reference_date(build_file: Path) -> str:
    """The reference date of the build file (staging.stg_shop__reference_date), as ISO text:
    what a publication of it records."""
    with duckdb.connect(str(build_file), read_only=True) as con:
        (reference_date,) = con.execute(
            "select cast(reference_date as varchar)"
            f" from {staging_model('stg_shop__reference_date')}"
        ).fetchone()
    return reference_date


REPORT_WRITERS_GROUP = "customer_analytics.report_writers"
"""Entry points group of the report writers a publication carries (pyproject.toml): each names a
factory `(quality_dir) -> writer(staged_serving_file, staged_exports_dir)`, e.g. the dashboard's
offline report. Loaded by name, so the runtime imports no UI code."""


def report_writers(quality_dir: Path | None) -> list[Callable[[Path, Path], None]]:
    """Every registered report writer, for `publish(..., report_writers=...)`, in name order."""
    from importlib.metadata import entry_points

    found = sorted(entry_points(group=REPORT_WRITERS_GROUP), key=lambda point: point.name)
    return [point.load()(quality_dir) for point in found]
