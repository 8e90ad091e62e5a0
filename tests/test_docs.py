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
        # the raw model lands the contract's columns in order, plus the file they came from
        assert [*source["columns"], "_source_file"] == built, relation
        for name, column in source["columns"].items():
            assert column["description"].strip(), f"{relation}.{name}"


def test_mart_descriptions_are_persisted_for_bi_tools(seed_build: DbtResult) -> None:
    missing = seed_build.query(
        "select table_name, column_name from duckdb_columns()"
        " where schema_name = 'marts' and (comment is null or comment = '')"
    )
    assert missing == []
    (comment,) = seed_build.query(
        "select comment from duckdb_tables()"
        " where schema_name = 'marts' and table_name = 'dim_customers'"
    )[0]
    assert comment.startswith("The customer 360.")


def test_no_personal_data_in_marts(seed_build: DbtResult) -> None:
    personal = {"email", "first_name", "last_name", "birth_date", "comment", "comment_text"}
    columns = seed_build.query(
        "select table_name, column_name, data_type from duckdb_columns()"
        " where schema_name = 'marts'"
    )
    assert columns
    assert not [c for c in columns if c[1] in personal]
    emails = set(row[0] for row in seed_build.query("select email from staging.stg_crm__customers"))
    surnames = set(
        row[0] for row in seed_build.query("select last_name from staging.stg_crm__customers")
    )
    assert emails and surnames
    for table, column, data_type in columns:
        if data_type != "VARCHAR":
            continue
        values = {
            row[0] for row in seed_build.query(f"select distinct {column} from marts.{table}")
        }
        assert not values & emails, f"{table}.{column} holds email addresses"
        assert not values & surnames, f"{table}.{column} holds last names"
        assert not any(isinstance(v, str) and "@" in v for v in values), f"{table}.{column}"


def test_dbt_docs_generate_writes_one_offline_page(seed_build: DbtResult) -> None:
    from conftest import run_dbt

    result = run_dbt(
        ["docs", "generate", "--static"],
        seed_build.database,
        None,
        seed_build.database.parent,
    )
    assert result.returncode == 0, result.output[-3000:]
    page = (seed_build.database.parent / "target" / "static_index.html").read_text()
    assert "dim_customers" in page and "rpt_retention_cohorts" in page
