"""The landing directory: which raw files are there, and a fingerprint of their content.

Pure helpers for the landing sensor: no Dagster imports.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from orchestration.lib.relations import RAW_SOURCE_STATE, STAGING_SCHEMA
from orchestration.lib.settings import RAW_TABLES

FORMATS = ("csv", "csv.gz", "parquet")


def raw_files(landing_dir: Path) -> list[Path]:
    """The contract's raw files present in `landing_dir`, sorted by path: each table's
    whole-table file (<table>.csv, .csv.gz or .parquet) and its day partitions
    (<table>/<YYYY-MM-DD>.<format> or Hive-style <table>/<name>=<YYYY-MM-DD>/<file>.<format>;
    the raw reader checks their names, docs/incremental.md)."""
    found = [
        path
        for table in RAW_TABLES
        for fmt in FORMATS
        if (path := landing_dir / f"{table}.{fmt}").is_file()
    ]
    for table in RAW_TABLES:
        folder = landing_dir / table
        if folder.is_dir():
            found.extend(
                path
                for path in folder.rglob("*")
                if path.is_file()
                # marker and hidden files and folders of other tools are not data
                and not any(part.startswith(("_", ".")) for part in path.relative_to(folder).parts)
                and path.name.endswith(tuple(f".{fmt}" for fmt in FORMATS))
            )
    return sorted(found, key=lambda path: path.relative_to(landing_dir).as_posix())


def file_digest(path: Path, chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks (bounded memory on large files)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(landing_dir: Path, previous: dict[str, dict] | None = None) -> dict[str, dict]:
    """Path relative to `landing_dir` -> {size, mtime_ns, sha256} of every raw file in it.

    A file whose size and modification time equal those in `previous` keeps its previous
    digest instead of being read again, so an unchanged landing directory costs one stat per
    file. A change in content always changes the fingerprint.
    """
    previous = previous or {}
    result: dict[str, dict] = {}
    for path in raw_files(landing_dir):
        stat = path.stat()
        name = path.relative_to(landing_dir).as_posix()
        known = previous.get(name)
        if known and known["size"] == stat.st_size and known["mtime_ns"] == stat.st_mtime_ns:
            digest = known["sha256"]
        else:
            digest = file_digest(path)
        result[name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
    return result


def content_key(fingerprint_: dict[str, dict]) -> str:
    """A short key for the landing directory's content: the same content, the same key."""
    content = json.dumps(
        {name: entry["sha256"] for name, entry in fingerprint_.items()}, sort_keys=True
    )
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def table_of(file_name: str) -> str:
    """The raw table a landing file feeds: 'orders.csv.gz' or 'orders/2025-12-31.csv' ->
    'orders'."""
    if "/" in file_name:
        return file_name.split("/", 1)[0]
    for fmt in sorted(FORMATS, key=len, reverse=True):
        if file_name.endswith(f".{fmt}"):
            return file_name[: -len(fmt) - 1]
    return file_name


def landed_tables(fingerprint_: dict[str, dict]) -> dict[str, dict]:
    """Per raw table, what the raw models record of it (staging.raw_source_state): {"file":
    the whole-table file's name, else '<table>/' for day partitions only;
    "sha256": the whole-table file's digest when that is all, else the SHA-256 of one line
    '<relative path> <sha256>' per file in path order, joined by newlines}."""
    by_table: dict[str, list[str]] = {}
    for name in sorted(fingerprint_):
        by_table.setdefault(table_of(name), []).append(name)
    landed = {}
    for table, names in by_table.items():
        whole = [name for name in names if "/" not in name]
        location = whole[0] if whole else f"{table}/"
        if names == whole and len(whole) == 1:
            digest = fingerprint_[whole[0]]["sha256"]
        else:
            lines = "\n".join(f"{name} {fingerprint_[name]['sha256']}" for name in names)
            digest = hashlib.sha256(lines.encode()).hexdigest()
        landed[table] = {"file": location, "sha256": digest}
    return landed


def warehouse_sources(database: Path) -> dict[str, dict] | None:
    """What the warehouse's raw tables were landed from, per table: {"file": name, "sha256":
    digest} (staging.raw_source_state, written by the raw models). Empty when there is no
    warehouse or it records nothing; None when the file is busy (a build holds it)."""
    import duckdb

    if not database.is_file():
        return {}
    try:
        with duckdb.connect(str(database), read_only=True) as con:
            columns = {
                row[0]
                for row in con.execute(
                    "select column_name from information_schema.columns"
                    " where table_schema = ? and table_name = 'raw_source_state'",
                    [STAGING_SCHEMA],
                ).fetchall()
            }
            if "source_sha256" not in columns:
                return {}
            rows = con.execute(
                f"select table_name, source_file, source_sha256 from {RAW_SOURCE_STATE}"
            ).fetchall()
    except duckdb.IOException:
        return None
    return {
        table: {
            "file": Path(source_file).name + ("/" if source_file.endswith("/") else ""),
            "sha256": digest,
        }
        for table, source_file, digest in rows
        if digest
    }


def built_from(fingerprint_: dict[str, dict], sources: dict[str, dict]) -> bool:
    """True when the warehouse was landed from exactly these files: the same tables, file names
    and bytes (SHA-256). Modification times do not matter."""
    if not fingerprint_:
        return False
    return landed_tables(fingerprint_) == sources
