"""Readers never wait and never see a half publication: reader processes query the serving
file in a loop while a full dbt build and a publish run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, DbtResult, run_dbt, run_validate

from orchestration.lib.publish import publish

pytestmark = pytest.mark.build

READER = r"""
import json, sys, time
from pathlib import Path
import duckdb
import pytest

serving, out, stop = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
with out.open("w") as log:
    while not stop.exists():
        try:
            con = duckdb.connect(str(serving), read_only=True)
            ids = [row[0] for row in con.execute(
                "select distinct build_id from marts.publication order by 1").fetchall()]
            counts = con.execute(
                "select (select count(*) from marts.dim_customers),"
                " (select sum(row_count) from marts.publication"
                "  where table_name = 'dim_customers')").fetchone()
            con.close()
            log.write(json.dumps({"ids": ids, "counts": list(counts)}) + "\n")
        except Exception as exc:
            log.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n")
        log.flush()
        time.sleep(0.05)
"""


def until_every_reader_logged(outputs: list[Path], text: str, seconds: float = 300) -> None:
    """Wait until each reader's log holds a line containing `text` (a generous deadline)."""
    deadline = time.monotonic() + seconds
    while not all(
        out.exists() and any(text in line for line in out.read_text().splitlines())
        for out in outputs
    ):
        assert time.monotonic() < deadline, f"a reader logged no {text or 'line'} in {seconds} s"
        time.sleep(0.1)


def test_readers_during_build_and_publish(seed_build: DbtResult, tmp_path: Path) -> None:
    serving = tmp_path / "serving" / "served.duckdb"
    exports = tmp_path / "exports"
    publish(seed_build.database, serving, exports, "b0")

    # a reader that holds the old file open through the whole build and publish
    held = duckdb.connect(str(serving), read_only=True)
    held_before = held.execute("select count(*) from marts.fct_orders").fetchone()

    stop = tmp_path / "stop"
    script = tmp_path / "reader.py"
    script.write_text(READER)
    outputs = [tmp_path / f"reader{i}.jsonl" for i in range(2)]
    readers = [
        subprocess.Popen([sys.executable, str(script), str(serving), str(out), str(stop)])
        for out in outputs
    ]
    try:
        until_every_reader_logged(outputs, "")  # every reader has read the first publication
        build_dir = tmp_path / "build"
        build_dir.mkdir()
        build = run_dbt(["build"], build_dir / "build.duckdb", None, build_dir)
        assert build.returncode == 0, build.output[-3000:]
        assert "lock" not in build.output.lower()
        validated = run_validate(build.database, build_dir / "quality", serving)
        assert validated.returncode == 0, validated.stdout[-3000:]
        published = subprocess.run(
            [str(BIN / "customer-analytics"), "publish", "--build-id", "b1"],
            env={
                **os.environ,
                "CUSTOMER_ANALYTICS_DB": str(build.database),
                "CUSTOMER_ANALYTICS_SERVING_DB": str(serving),
                "CUSTOMER_ANALYTICS_EXPORTS_DIR": str(exports),
                "CUSTOMER_ANALYTICS_QUALITY_DIR": str(build_dir / "quality"),
            },
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert published.returncode == 0, published.stderr
        until_every_reader_logged(outputs, '"b1"')  # and then the second
    finally:
        stop.touch()
        for reader in readers:
            reader.wait(timeout=60)

    reads = [json.loads(line) for out in outputs for line in out.read_text().splitlines()]
    assert len(reads) > 20
    errors = [read["error"] for read in reads if "error" in read]
    assert errors == []
    # every read saw exactly one build, complete (row count equals the publication's record)
    assert all(len(read["ids"]) == 1 for read in reads)
    assert all(read["counts"][0] == read["counts"][1] == 2000 for read in reads)
    seen = {read["ids"][0] for read in reads}
    assert seen == {"b0", "b1"}

    # the reader that held the old file still reads the old, consistent publication
    assert held.execute("select distinct build_id from marts.publication").fetchall() == [("b0",)]
    assert held.execute("select count(*) from marts.fct_orders").fetchone() == held_before
    held.close()
