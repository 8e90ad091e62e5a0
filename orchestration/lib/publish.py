"""Write-audit-publish: copy the tested public marts of the build file into a new serving
file, write one Parquet file per mart and whatever reports the caller hands in, and swap them
into place atomically. Only a build whose own records show that every dbt test and every
quality suite passed on exactly its current state is published (orchestration/lib/
publish_guard.py); an empty mart never is.

Readers (BI tools) only ever open the serving file (or the Parquet exports), read-only, so
they never block a build and a build never blocks them; a failed build publishes nothing.
What a publication is, and how it is read: orchestration/lib/serving.py. DuckDB and the
filesystem only: no Dagster, no dbt, no UI code (report writers come from the caller).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.audiences import stage_audiences, swap_audiences
from orchestration.lib.publish_guard import UntestedBuildError, refuse_untested
from orchestration.lib.relations import sql_string
from orchestration.lib.serving import PUBLIC_SCHEMA, PUBLICATION_TABLE, read_served

ReportWriter = Callable[[Path, Path], None]
"""Writes a report of one publication: called with the staged serving file (complete, closed)
and the staged exports folder to write into, before the swap. An error publishes nothing."""

BUILD_ID = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")

FAILPOINT_ENV = "CUSTOMER_ANALYTICS_FAILPOINT"
"""Crash tests set this to a failpoint name; publish then kills itself (SIGKILL) right there."""
FAILPOINTS = ("publish.before_swap", "publish.after_swap")


def _failpoint(name: str) -> None:
    """kill -9 this process at `name` when the crash tests ask for it; a no-op otherwise."""
    wanted = os.environ.get(FAILPOINT_ENV)
    if wanted and wanted not in FAILPOINTS:
        raise ValueError(f"{FAILPOINT_ENV}={wanted!r}: use one of {', '.join(FAILPOINTS)}.")
    if wanted == name:
        os.kill(os.getpid(), signal.SIGKILL)


@contextmanager
def _publish_lock(serving_dir: Path) -> Iterator[None]:
    """One publish or restore at a time per serving folder (a second one waits): each removes
    the staged leftovers of killed runs, which must never be a running one's files."""
    serving_dir.mkdir(parents=True, exist_ok=True)
    with (serving_dir / ".publish.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class Publication:
    """What one publish wrote."""

    build_id: str
    serving_file: Path
    exports_dir: Path
    row_counts: dict[str, int]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _public_tables(build: duckdb.DuckDBPyConnection) -> list[str]:
    return [
        name
        for (name,) in build.execute(
            "select table_name from duckdb_tables() where database_name = 'build'"
            " and schema_name = ? order by table_name",
            [PUBLIC_SCHEMA],
        ).fetchall()
    ]


def publish(
    build_file: Path,
    serving_file: Path,
    exports_root: Path,
    build_id: str,
    reference_date: str | None = None,
    keep_backups: int = 3,
    report_writers: Sequence[ReportWriter] = (),
    quality_dir: Path | None = None,
    run_id: str | None = None,
    audiences_root: Path | None = None,
) -> Publication:
    """Publish the marts of `build_file` (closed, already tested) as `serving_file` and as
    Parquet under `exports_root/<build_id>/`, with the reports `report_writers` write there;
    point `exports_root/current` at it.

    Refuses, with the served marts unchanged: an empty mart (EmptyMartError), and a build
    whose records do not show that every dbt test passed after its table was last built and
    that every quality suite passed on exactly this state of the file (UntestedBuildError:
    the quality records are read from `quality_dir`, default `<build file's folder>/quality`;
    with `run_id`, the records that Dagster run's checks wrote count too).

    Order: write everything new beside the old, checkpoint and close, keep a backup of the
    served file, then swap with os.replace (atomic on one file system). A crash before the
    swap leaves the old publication served; stray temporary files are removed next time.
    """
    if not BUILD_ID.match(build_id):
        raise ValueError(f"build id {build_id!r}: use letters, digits, '.', '_' or '-'.")
    if keep_backups < 1:
        raise ValueError(f"keep_backups {keep_backups}: keep at least 1 backup.")
    serving_file = serving_file.resolve()
    with _publish_lock(serving_file.parent):
        return _publish_locked(
            build_file,
            serving_file,
            exports_root,
            build_id,
            reference_date,
            keep_backups,
            report_writers,
            quality_dir if quality_dir is not None else build_file.parent / "quality",
            run_id,
            audiences_root,
        )


def _publish_locked(
    build_file: Path,
    serving_file: Path,
    exports_root: Path,
    build_id: str,
    reference_date: str | None,
    keep_backups: int,
    report_writers: Sequence[ReportWriter],
    quality_dir: Path,
    run_id: str | None,
    audiences_root: Path | None,
) -> Publication:
    from orchestration.lib.quality.report import build_stamp

    exports_root.mkdir(parents=True, exist_ok=True)
    if build_id in {_build_id_of(serving_file), _current_export(exports_root)}:
        raise ValueError(f"build id {build_id!r} is already served: publish with a new build id.")
    _remove_leftovers_of_interrupted_runs(serving_file, exports_root)
    privacy_state = _refuse_builds_before_the_erasures(build_file)
    _refuse_empty_marts(build_file)
    verified = refuse_untested(build_file, quality_dir, run_id)
    staged = serving_file.parent / f".{serving_file.name}.{build_id}.tmp"
    export_dir = exports_root / build_id
    if export_dir.exists():
        shutil.rmtree(export_dir)
    staged_exports = exports_root / f".{build_id}.tmp"
    staged_exports.mkdir()

    row_counts: dict[str, int] = {}
    published_at = datetime.now(UTC).replace(tzinfo=None)
    with duckdb.connect(str(staged)) as serving:
        serving.execute(f"attach {sql_string(str(build_file))} as build (read_only)")
        # attached, nothing can write the file: it must still be the state the guard verified
        # (what is staged is left for the next publish to remove, as after a crash)
        if build_stamp(build_file) != verified:
            raise UntestedBuildError(
                f"{build_file} is not published (the served marts are unchanged): it changed "
                "while it was being published (a dbt run or the CLV step wrote it); run "
                "customer-analytics publish again once that has finished."
            )
        tables = _public_tables(serving)
        if not tables:
            raise RuntimeError(
                f"{build_file} has no tables in schema {PUBLIC_SCHEMA}: build first."
            )
        serving.execute(f"create schema {PUBLIC_SCHEMA}")
        for table in tables:
            target = f"{PUBLIC_SCHEMA}.{_quote(table)}"
            serving.execute(
                f"create table {target} as select * from build.{PUBLIC_SCHEMA}.{_quote(table)}"
            )
            _copy_comments(serving, table)
            (row_counts[table],) = serving.execute(f"select count(*) from {target}").fetchone()
            serving.execute(
                f"copy {target} to {sql_string(str(staged_exports / f'{table}.parquet'))}"
                " (format parquet, compression zstd)"
            )
        serving.execute("detach build")
        serving.execute(
            f"create table {PUBLIC_SCHEMA}.{PUBLICATION_TABLE} (build_id varchar,"
            " published_at timestamp, reference_date date, table_name varchar, row_count bigint,"
            " privacy_state varchar)"
        )
        serving.executemany(
            f"insert into {PUBLIC_SCHEMA}.{PUBLICATION_TABLE} values (?, ?, ?, ?, ?, ?)",
            [
                (build_id, published_at, reference_date, table, rows, privacy_state)
                for table, rows in row_counts.items()
            ],
        )
        serving.execute("checkpoint")
    for write in report_writers:
        write(staged, staged_exports)
    staged_audiences = (
        stage_audiences(build_file, audiences_root, build_id) if audiences_root else None
    )

    if serving_file.exists():
        backups = serving_file.parent / "backups"
        backups.mkdir(exist_ok=True)
        old_id = _build_id_of(serving_file) or "unknown"
        shutil.copy2(serving_file, backups / f"{old_id}.duckdb")
        for old in sorted(backups.glob("*.duckdb"), key=lambda p: p.stat().st_mtime)[
            :-keep_backups
        ]:
            old.unlink()
        # a backup served before an erasure (or under another key) still holds the erased
        # customers: it is removed, with its exports (below), never restored
        for old in backups.glob("*.duckdb"):
            if _privacy_state_of(old) != privacy_state:
                old.unlink()
    _failpoint("publish.before_swap")
    os.replace(staged_exports, export_dir)
    os.replace(staged, serving_file)
    _failpoint("publish.after_swap")
    _point_current_at(exports_root, build_id)
    if staged_audiences is not None and audiences_root is not None:
        swap_audiences(staged_audiences, audiences_root, build_id)
    for old in exports_root.iterdir():
        if (
            old.is_dir()
            and not old.is_symlink()
            and old.name not in {build_id, *_backup_ids(serving_file)}
        ) and not old.name.startswith("."):
            shutil.rmtree(old)
    return Publication(build_id, serving_file, export_dir, row_counts)


class StaleBuildError(ValueError):
    """The build file was read before the erasure requests or the pseudonymisation key last
    changed: it may hold erased customers, so it is not published."""


def _refuse_builds_before_the_erasures(build_file: Path) -> str:
    """The privacy state the raw tables of `build_file` were read under (staging.
    raw_source_state); StaleBuildError unless every raw table was read under the current one."""
    from orchestration.lib.privacy import current_privacy_state
    from orchestration.lib.relations import RAW_SOURCE_STATE

    current = current_privacy_state()
    with duckdb.connect(":memory:") as con:
        con.execute(f"attach {sql_string(str(build_file))} as build (read_only)")
        try:
            states = {
                state
                for (state,) in con.execute(
                    f"select privacy_state from build.{RAW_SOURCE_STATE}"
                ).fetchall()
            }
        except duckdb.Error:
            states = {None}
        con.execute("detach build")
    if states != {current}:
        raise StaleBuildError(
            f"{build_file} was built before the erasure requests or the pseudonymisation key "
            "last changed, so it may still hold erased customers: nothing published (the served "
            "marts are unchanged); build again (make build), then publish."
        )
    return current


def _privacy_state_of(served_file: Path) -> str | None:
    """The privacy state a publication (a serving file or backup) was built under; None when
    it does not say (published before states were recorded)."""
    try:
        with duckdb.connect(str(served_file), read_only=True) as con:
            row = con.execute(
                f"select max(privacy_state) from {PUBLIC_SCHEMA}.{PUBLICATION_TABLE}"
            ).fetchone()
    except duckdb.Error:
        return None
    return row[0] if row else None


class EmptyMartError(ValueError):
    """A public mart of the build file has no rows: nothing is published."""


def _refuse_empty_marts(build_file: Path) -> None:
    """Raise EmptyMartError naming every public mart of `build_file` without rows (an empty
    mart is never served: the quality suites fail it as an ERROR, and this is the last guard).
    A mart built from an optional raw table alone may be empty when that table has no rows, and
    the CLV marts when clv_fit_status says the CLV step did not fit this build."""
    from orchestration.lib.clv_tables import CLV_TABLES, HOLDOUT, fitted_status
    from orchestration.lib.quality.suites import EMPTY_WITHOUT, RAW_SOURCES

    with duckdb.connect(":memory:") as con:
        con.execute(f"attach {sql_string(str(build_file))} as build (read_only)")
        tables = _public_tables(con)
        empty = [
            table
            for table in tables
            if not con.execute(
                f"select count(*) from build.{PUBLIC_SCHEMA}.{_quote(table)}"
            ).fetchone()[0]
        ]
        read: dict[str, int] = {}
        if "rpt_data_quality" in tables:
            read = dict(
                con.execute(
                    "select source_table, sum(rows_read)"
                    f" from build.{PUBLIC_SCHEMA}.rpt_data_quality group by source_table"
                ).fetchall()
            )
        # only a source the row balance records with no rows read (unknown is not empty)
        rightly_empty = {
            mart
            for mart, table in EMPTY_WITHOUT.items()
            if read.get(f"{RAW_SOURCES[table][0]}.{table}") == 0
        }
        # the CLV marts hold numbers only when the CLV step fitted this build
        clv_status = fitted_status(con, "build.")
        if clv_status is not None and not clv_status.startswith("fitted"):
            rightly_empty |= set(CLV_TABLES)
        elif clv_status == "fitted without holdout":
            rightly_empty.add(HOLDOUT)
        empty = [table for table in empty if table not in rightly_empty]
        con.execute("detach build")
    if empty:
        names = ", ".join(f"{PUBLIC_SCHEMA}.{table}" for table in empty)
        remedy = (
            "run customer-analytics clv to fit the CLV models again (a partial dbt build "
            "emptied them), then publish"
            if set(empty) <= set(CLV_TABLES)
            else "run customer-analytics validate to see why, fix the data and build again"
        )
        raise EmptyMartError(
            f"{names} in {build_file} {'is' if len(empty) == 1 else 'are'} empty: nothing "
            f"published (the served marts are unchanged); {remedy}."
        )


def restore(serving_file: Path, backup_id: str, exports_root: Path | None = None) -> Path:
    """Serve a kept backup again (atomically), and point `exports_root/current` back at its
    exports (kept with the backup). Returns the backup used."""
    backup = serving_file.parent / "backups" / f"{backup_id}.duckdb"
    if not backup.exists():
        kept = ", ".join(sorted(p.stem for p in backup.parent.glob("*.duckdb"))) or "none"
        raise FileNotFoundError(f"No backup {backup_id!r} in {backup.parent} (kept: {kept}).")
    with _publish_lock(serving_file.parent):
        staged = serving_file.parent / f".{serving_file.name}.restore.tmp"
        shutil.copy2(backup, staged)
        os.replace(staged, serving_file)
        if exports_root is not None and (exports_root / backup_id).is_dir():
            _point_current_at(exports_root, backup_id)
    return backup


def _point_current_at(exports_root: Path, build_id: str) -> None:
    """Swap the `current` link to `build_id` atomically (a new link renamed over the old)."""
    staged_link = exports_root / ".current.tmp"
    if staged_link.is_symlink() or staged_link.exists():
        staged_link.unlink()
    staged_link.symlink_to(build_id, target_is_directory=True)
    os.replace(staged_link, exports_root / "current")


def _current_export(exports_root: Path) -> str | None:
    link = exports_root / "current"
    return os.readlink(link) if link.is_symlink() else None


def _remove_leftovers_of_interrupted_runs(serving_file: Path, exports_root: Path) -> None:
    """Staged files of a publish that was killed before its swap are never served: remove them."""
    for stale in serving_file.parent.glob(f".{serving_file.name}.*.tmp*"):
        stale.unlink()
    for stale in exports_root.glob(".*.tmp"):
        if stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale)
        else:
            stale.unlink()


def _build_id_of(serving_file: Path) -> str | None:
    served = read_served(serving_file)
    return served.build_id if served else None


def _backup_ids(serving_file: Path) -> set[str]:
    return {p.stem for p in (serving_file.parent / "backups").glob("*.duckdb")}


def _copy_comments(serving: duckdb.DuckDBPyConnection, table: str) -> None:
    """Carry the dbt descriptions (persist_docs comments) over to the served table."""
    (comment,) = serving.execute(
        "select comment from duckdb_tables() where database_name = 'build' and schema_name = ?"
        " and table_name = ?",
        [PUBLIC_SCHEMA, table],
    ).fetchone()
    target = f"{PUBLIC_SCHEMA}.{_quote(table)}"
    if comment:
        serving.execute(f"comment on table {target} is {sql_string(comment)}")
    for column, column_comment in serving.execute(
        "select column_name, comment from duckdb_columns() where database_name = 'build'"
        " and schema_name = ? and table_name = ? and comment is not null",
        [PUBLIC_SCHEMA, table],
    ).fetchall():
        serving.execute(
            f"comment on column {target}.{_quote(column)} is {sql_string(column_comment)}"
        )
