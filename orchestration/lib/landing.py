"""The landing directory: which raw files are there, and a fingerprint of their content.

Pure helpers for the landing sensor: no Dagster imports.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from orchestration.lib.settings import RAW_TABLES

FORMATS = ("csv", "parquet")


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


_CSV_ERROR = re.compile(r"CSV Error on Line: (\d+)")
_LANDED = re.compile(r"landed (\w+):")


def explain_csv_error(output: str, landing_dir: Path) -> str | None:
    """For a landing that stopped on a malformed CSV line, one sentence naming the file, the
    line and the rule; None when the output holds no CSV error.

    The landing macro lands the tables in RAW_TABLES order and logs `landed <table>: …` after
    each, so the file that failed is the first one not landed.
    """
    match = _CSV_ERROR.search(output)
    if not match:
        return None
    landed = set(_LANDED.findall(output))
    table = next((name for name in RAW_TABLES if name not in landed), None)
    path = landing_dir / f"{table}.csv" if table else landing_dir
    detail = output[match.start() :].splitlines()
    found = next((line.strip() for line in detail if "Expected Number of Columns" in line), "")
    rule = (
        f"every line needs exactly the header's columns ({found})"
        if found
        else "every line needs exactly the header's columns and closed double quotes"
    )
    return (
        f"Raw file {path} is malformed at row {match.group(1)} (the header is row 1): {rule}. "
        "Fix or re-export that row; nothing was loaded or published."
    )
