"""The shipped seeds build with every model, seed, data test and unit test passing: the one
`dbt build` of the seeds that the suite shares (fixture seed_build), read back from the
run_results.json and manifest.json it wrote. (`make test` used to run the same build again
before pytest.)"""

from __future__ import annotations

import json
from collections import Counter

import duckdb
import pytest
from conftest import DbtResult

from orchestration.lib.relations import MART_SCHEMA

pytestmark = pytest.mark.build


def test_dbt_build_of_the_shipped_seeds_runs_every_node_and_passes(seed_build: DbtResult) -> None:
    target = seed_build.database.parent / "target"
    results = [  # exposures are listed too, as no-ops
        result
        for result in json.loads((target / "run_results.json").read_text())["results"]
        if result["unique_id"].split(".")[0] in ("model", "seed", "test", "unit_test")
    ]
    manifest = json.loads((target / "manifest.json").read_text())
    statuses = Counter(result["status"] for result in results)
    assert set(statuses) <= {"success", "pass"}, {
        result["unique_id"]: result["status"]
        for result in results
        if result["status"] not in ("success", "pass")
    }
    ran = Counter(result["unique_id"].split(".")[0] for result in results)
    expected = Counter(
        node["resource_type"]
        for node in [*manifest["nodes"].values(), *manifest.get("unit_tests", {}).values()]
        if node["resource_type"] in ("model", "seed", "test", "unit_test")
    )
    assert ran == expected
    assert ran["test"] > 200 and ran["unit_test"] >= 8 and ran["model"] > 40


def test_every_not_null_constraint_is_enforced_in_the_built_marts(seed_build: DbtResult) -> None:
    """A mart column declared `constraints: [{type: not_null}]` (instead of a not_null data test)
    is NOT NULL in the DuckDB table, so a null fails the build as the table is written; the
    marts' other columns stay nullable."""
    manifest = json.loads((seed_build.database.parent / "target" / "manifest.json").read_text())
    declared = {
        (node["name"], column["name"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["contract"]["enforced"]
        for column in node["columns"].values()
        if any(c["type"] == "not_null" for c in column.get("constraints", []))
    }
    assert len(declared) > 100
    with duckdb.connect(str(seed_build.database), read_only=True) as con:
        not_nullable = set(
            con.execute(
                "select table_name, column_name from duckdb_columns()"
                " where schema_name = ? and not is_nullable",
                [MART_SCHEMA],
            ).fetchall()
        )
    assert not_nullable == declared
