"""Every model and column is documented, and the docs match the columns that are built."""

from __future__ import annotations

import json

from conftest import DbtResult


def test_every_model_and_column_is_documented_as_built(seed_build: DbtResult) -> None:
    manifest = json.loads((seed_build.database.parent / "target" / "manifest.json").read_text())
    models = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "customer_analytics"
    ]
    assert len(models) >= 13
    for node in models:
        relation = f"{node['schema']}.{node['alias']}"
        assert node["description"].strip(), f"{relation}: no description"
        built = [row[0] for row in seed_build.query(f"describe {relation}")]
        documented = list(node["columns"])
        assert sorted(documented) == sorted(built), f"{relation}: docs and table differ"
        for name, column in node["columns"].items():
            assert column["description"].strip(), f"{relation}.{name}: no description"


def test_every_raw_source_column_is_documented(seed_build: DbtResult) -> None:
    manifest = json.loads((seed_build.database.parent / "target" / "manifest.json").read_text())
    sources = [s for s in manifest["sources"].values() if s["package_name"] == "customer_analytics"]
    assert {s["name"] for s in sources} == {
        "customers",
        "orders",
        "sessions",
        "survey_responses",
        "email_events",
    }
    for source in sources:
        relation = f"raw.{source['name']}"
        built = [row[0] for row in seed_build.query(f"describe {relation}")]
        assert list(source["columns"]) == built, relation
        for name, column in source["columns"].items():
            assert column["description"].strip(), f"{relation}.{name}"
