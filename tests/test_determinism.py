"""Same input and vars give identical tables: two independent builds of the shipped seeds, one
model at a time and four at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import DbtResult, mart_tables, run_dbt

pytestmark = pytest.mark.build


def relations(build: DbtResult) -> list[str]:
    return [
        f"{schema}.{name}"
        for schema, name in build.query(
            "select table_schema, table_name from information_schema.tables"
            " where table_schema in ('raw', 'reference', 'staging', 'intermediate', 'marts')"
            " order by all"
        )
    ]


LOGGED_AT = {
    "staging.raw_file_state": "hashed_at",
    "staging.raw_loads": "loaded_at",
    "staging.relationship_parent_keys": "invocation_id",
}
"""When the landing log recorded a file's digest or a landing run, and in which dbt invocation
the relationships tests last passed: the clock and the run, not the data."""


def test_two_builds_of_the_same_seeds_are_identical(
    seed_build: DbtResult, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second build runs four models at once (CUSTOMER_ANALYTICS_THREADS, dbt's threads;
    the shared build runs one): the number of threads must change no table, and a first
    build must not conflict on the state tables its parallel models share (two raw models
    once added the same column to staging.raw_source_state at once: "Catalog write-write
    conflict"). A second run on the same file, incremental models in parallel, must leave
    every mart as it was."""
    monkeypatch.setenv("CUSTOMER_ANALYTICS_THREADS", "4")
    work_dir: Path = tmp_path_factory.mktemp("second_build")
    second = run_dbt(["build"], work_dir / "warehouse.duckdb", None, work_dir)
    assert second.returncode == 0, second.output[-4000:]
    assert "Concurrency: 4 threads" in second.output
    names = relations(seed_build)
    assert names == relations(second)
    assert "marts.rpt_data_quality" in names
    assert "staging.stg_shop__orders" in names
    for relation in names:
        # every column of every table, in a total order over all columns
        query = f"select * exclude (_source_file) from {relation} order by all"
        if relation.startswith(("raw.", "reference.")) or "_source_file" not in {
            row[0] for row in seed_build.query(f"describe {relation}")
        }:
            query = f"select * from {relation} order by all"
        if relation in LOGGED_AT:
            query = f"select * exclude ({LOGGED_AT[relation]}) from {relation} order by all"
        first_rows = seed_build.query(query)
        assert first_rows == second.query(query), relation
    again = run_dbt(["build"], second.database, None, work_dir)
    assert again.returncode == 0, again.output[-4000:]
    assert "Concurrency: 4 threads" in again.output
    marts = mart_tables(seed_build.database)
    assert marts and marts == mart_tables(second.database)
