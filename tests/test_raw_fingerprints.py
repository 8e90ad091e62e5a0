"""The SHA-256 fingerprints of the raw files (macros/raw/raw_file_sha256.sql, the dbt plugin's
customer_analytics_file_sha256): what the landing records, in bounded memory at any file size."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pytest
from conftest import REPO, DbtResult

pytestmark = pytest.mark.unit

GIB = 1 << 30


def test_a_raw_file_larger_than_the_memory_limit_is_fingerprinted(tmp_path: Path) -> None:
    """A 1.5 GiB export (sparse: zeros, then one byte) under a 512 MB DuckDB memory limit:
    DuckDB's own sha256 over read_blob must hold the whole file and fails; the plugin's
    function reads it in chunks and returns hashlib's digest, computed here chunk by chunk."""
    from orchestration.dbt_plugin import Plugin

    size = GIB + GIB // 2
    export = tmp_path / "sessions.parquet"
    with export.open("wb") as handle:
        handle.truncate(size - 1)
        handle.seek(size - 1)
        handle.write(b"x")
    expected = hashlib.sha256()
    zeros = bytes(1 << 24)
    for _ in range((size - 1) // len(zeros)):
        expected.update(zeros)
    expected.update(bytes((size - 1) % len(zeros)) + b"x")

    con = duckdb.connect()
    con.execute("set memory_limit = '512MB'")
    Plugin("dbt_plugin", {"cache_dir": str(tmp_path / "cache")}).configure_connection(con)
    with pytest.raises(duckdb.OutOfMemoryException):
        con.execute("select sha256(content) from read_blob(?)", [str(export)]).fetchall()
    digest = con.execute("select customer_analytics_file_sha256(?)", [str(export)]).fetchone()
    assert digest == (expected.hexdigest(),)
    missing = con.execute("select customer_analytics_file_sha256(?)", [str(tmp_path / "no.csv")])
    assert missing.fetchone() == (None,)


@pytest.mark.build
def test_the_build_records_each_raw_file_by_the_sha256_of_its_bytes(seed_build: DbtResult) -> None:
    with duckdb.connect(str(seed_build.database), read_only=True) as con:
        recorded = dict(con.execute("select file, sha256 from staging.raw_file_state").fetchall())
    shipped = sorted((REPO / "data" / "raw").glob("*.csv"))
    assert len(shipped) == 5
    for path in shipped:
        (file,) = [name for name in recorded if Path(name).name == path.name]
        assert recorded[file] == hashlib.sha256(path.read_bytes()).hexdigest(), path.name
