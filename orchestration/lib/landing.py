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
    """The contract's raw files present in `landing_dir`, sorted by name."""
    return sorted(
        path
        for table in RAW_TABLES
        for fmt in FORMATS
        if (path := landing_dir / f"{table}.{fmt}").is_file()
    )


def file_digest(path: Path, chunk_size: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes, read in chunks (bounded memory on large files)."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def fingerprint(landing_dir: Path, previous: dict[str, dict] | None = None) -> dict[str, dict]:
    """Name -> {size, mtime_ns, sha256} of every raw file in `landing_dir`.

    A file whose size and modification time equal those in `previous` keeps its previous
    digest instead of being read again, so an unchanged landing directory costs one stat per
    file. A change in content always changes the fingerprint.
    """
    previous = previous or {}
    result: dict[str, dict] = {}
    for path in raw_files(landing_dir):
        stat = path.stat()
        known = previous.get(path.name)
        if known and known["size"] == stat.st_size and known["mtime_ns"] == stat.st_mtime_ns:
            digest = known["sha256"]
        else:
            digest = file_digest(path)
        result[path.name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
    return result


def content_key(fingerprint_: dict[str, dict]) -> str:
    """A short key for the landing directory's content: the same content, the same key."""
    content = json.dumps(
        {name: entry["sha256"] for name, entry in fingerprint_.items()}, sort_keys=True
    )
    return hashlib.sha256(content.encode()).hexdigest()[:16]


def table_of(file_name: str) -> str:
    """The raw table a landing file feeds: 'orders.csv.gz' -> 'orders'."""
    for fmt in sorted(FORMATS, key=len, reverse=True):
        if file_name.endswith(f".{fmt}"):
            return file_name[: -len(fmt) - 1]
    return file_name


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
        table: {"file": Path(source_file).name, "sha256": digest}
        for table, source_file, digest in rows
        if digest
    }


def built_from(fingerprint_: dict[str, dict], sources: dict[str, dict]) -> bool:
    """True when the warehouse was landed from exactly these files: the same tables, file names
    and bytes (SHA-256). Modification times do not matter."""
    if not fingerprint_:
        return False
    landed = {
        table_of(name): {"file": name, "sha256": entry["sha256"]}
        for name, entry in fingerprint_.items()
    }
    return landed == sources
