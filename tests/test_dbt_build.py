"""The shipped seeds build with every model, seed, data test and unit test passing: the one
`dbt build` of the seeds that the suite shares (fixture seed_build), read back from the
run_results.json and manifest.json it wrote. (`make test` used to run the same build again
before pytest.)"""

from __future__ import annotations

import json
from collections import Counter

import pytest
from conftest import DbtResult

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
    assert ran["test"] > 300 and ran["unit_test"] >= 8 and ran["model"] > 40
