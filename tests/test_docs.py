"""Every model and column is documented, and the docs match the columns that are built; every
model has a group with an owner and the access level of its layer; the docs open on the
project's overview; Dagster shows the dbt owners."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from conftest import BIN, REPO, DbtResult, run_dbt

pytestmark = pytest.mark.build


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


def test_dbt_docs_generate_writes_one_offline_page(seed_build: DbtResult, tmp_path: Path) -> None:
    # dbt opens the file to write: a copy of the build that other workers read
    database = tmp_path / seed_build.database.name
    shutil.copy(seed_build.database, database)
    result = run_dbt(["docs", "generate", "--static"], database, None, tmp_path)
    assert result.returncode == 0, result.output[-3000:]
    page = (tmp_path / "target" / "static_index.html").read_text()
    assert "dim_customers" in page and "rpt_retention_cohorts" in page
    # the page embeds the manifest as JSON: the project's overview, whole
    overview = _overview_text().strip()
    assert "Where to start" in overview
    assert any(json.dumps(overview, ensure_ascii=ascii)[1:-1] in page for ascii in (True, False))


# --- ownership, access and the overview page ---------------------------------------------

OWNERS_FILE = REPO / "models" / "_groups.yml"
OVERVIEW_FILE = REPO / "models" / "overview.md"

# The design, written out here by hand: which group owns each top-level folder, and the access
# level of each model layer (docs/layout.md, "Ownership and access").
EXPECTED_GROUP = {
    "models/raw/": "data_platform",
    "models/staging/": "analytics_engineering",
    "models/intermediate/": "analytics_engineering",
    "models/marts/": "analytics_engineering",
    "models/semantic/": "analytics_engineering",
    "models/activation/": "analytics_engineering",
    "seeds/": "analytics_engineering",
}
EXPECTED_ACCESS = {
    "models/raw/": "protected",
    "models/staging/": "private",
    "models/intermediate/": "protected",
    "models/marts/": "public",
    "models/semantic/": "public",
    "models/activation/": "protected",
}


def _expected(table: dict[str, str], path: str) -> str:
    (value,) = [value for folder, value in table.items() if path.startswith(folder)]
    return value


def _group_owners() -> dict[str, dict]:
    """The owners as written in models/_groups.yml, read as plain YAML."""
    groups = yaml.safe_load(OWNERS_FILE.read_text())["groups"]
    return {group["name"]: group["owner"] for group in groups}


@pytest.fixture(scope="module")
def parsed_manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """target/manifest.json of a fresh `dbt parse` (no build needed)."""
    work_dir = tmp_path_factory.mktemp("parse")
    result = run_dbt(["parse"], work_dir / "parse.duckdb", None, work_dir)
    assert result.returncode == 0, result.output[-3000:]
    return json.loads((work_dir / "target" / "manifest.json").read_text())


def _project_nodes(manifest: dict, *resource_types: str) -> list[dict]:
    return [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] in resource_types and node["package_name"] == "customer_analytics"
    ]


def test_every_group_has_an_owner_with_an_email(parsed_manifest: dict) -> None:
    owners = _group_owners()
    assert set(owners) == set(EXPECTED_GROUP.values())
    for name, owner in owners.items():
        assert owner["name"].strip(), name
        assert re.fullmatch(r"[a-z0-9.-]+@[a-z0-9-]+(\.[a-z0-9-]+)+", owner["email"]), name
    in_manifest = {group["name"]: group["owner"] for group in parsed_manifest["groups"].values()}
    assert in_manifest == {
        name: {"name": owner["name"], "email": owner["email"]} for name, owner in owners.items()
    }


def test_every_model_and_seed_belongs_to_its_folders_group(parsed_manifest: dict) -> None:
    nodes = _project_nodes(parsed_manifest, "model", "seed")
    assert len(nodes) >= 40
    folders = {
        folder
        for folder in EXPECTED_GROUP
        for n in nodes
        if n["original_file_path"].startswith(folder)
    }
    assert folders == set(EXPECTED_GROUP)  # every folder of the design holds nodes
    for node in nodes:
        assert node["group"] == _expected(EXPECTED_GROUP, node["original_file_path"]), node[
            "unique_id"
        ]


def test_marts_are_public_intermediates_protected_staging_private(parsed_manifest: dict) -> None:
    models = _project_nodes(parsed_manifest, "model")
    by_access: dict[str, set[str]] = {}
    for node in models:
        assert node["access"] == _expected(EXPECTED_ACCESS, node["original_file_path"]), node[
            "unique_id"
        ]
        by_access.setdefault(node["access"], set()).add(node["name"])
    assert {"dim_customers", "fct_orders", "rpt_data_quality"} <= by_access["public"]
    assert {"int_orders_sequenced", "int_customers_rfm_scored"} <= by_access["protected"]
    assert {
        "stg_crm__customers",
        "base_shop__orders",
        "stg_quarantine__rejected_rows",
        "stg_shop__reference_date",
    } <= by_access["private"]
    # a mart that is not public would be missing from BI tools; none is anything else
    assert not by_access["public"] & by_access["private"]


def test_a_model_outside_the_group_cannot_read_staging(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(REPO / name, project / name)
    for name in ("models", "macros", "seeds", "data-tests"):
        shutil.copytree(REPO / name, project / name)
    planted = project / "models" / "raw" / "raw_planted.sql"  # group data_platform

    def parse() -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "CUSTOMER_ANALYTICS_DB": str(tmp_path / "planted.duckdb"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_PARTIAL_PARSE": "false",
            "DBT_USE_COLORS": "false",
        }
        for name in ("DBT_PROJECT_DIR", "DBT_PROFILES_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH"):
            env.pop(name, None)
        return subprocess.run(
            [str(BIN / "dbt"), "parse", "--project-dir", str(project)],
            cwd=project,
            env={**env, "DBT_PROFILES_DIR": str(project)},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    # another group may read a public mart and a protected intermediate model
    planted.write_text(
        "select 1 as id from {{ ref('dim_customers') }}\n"
        "cross join {{ ref('int_orders_sequenced') }}\n"
    )
    allowed = parse()
    assert allowed.returncode == 0, allowed.stdout[-3000:]
    # but not a private staging model
    planted.write_text("select customer_id from {{ ref('stg_crm__customers') }}\n")
    refused = parse()
    assert refused.returncode != 0
    assert "raw_planted" in refused.stdout and "stg_crm__customers" in refused.stdout
    assert "private" in refused.stdout


def _overview_text() -> str:
    text = OVERVIEW_FILE.read_text()
    start = text.index("{% docs __overview__ %}") + len("{% docs __overview__ %}")
    return text[start : text.index("{% enddocs %}")]


def test_overview_page_is_the_projects_and_covers_layers_marts_privacy(
    parsed_manifest: dict,
) -> None:
    docs = parsed_manifest["docs"]["doc.customer_analytics.__overview__"]
    assert docs["block_contents"].strip() == _overview_text().strip()
    text = docs["block_contents"]
    for heading in ("## Layers", "## Where to start", "## The main marts", "## Privacy"):
        assert heading in text
    for layer in ("raw", "staging", "intermediate", "marts", "serving"):
        assert f"| {layer} |" in text, layer
    # every mart of the project is named on the page
    marts = {n["name"] for n in _project_nodes(parsed_manifest, "model") if n["schema"] == "marts"}
    assert len(marts) >= 11
    assert not {name for name in marts if f"`{name}`" not in text}


def test_dagster_owners_are_the_dbt_groups_owners(parsed_manifest: dict) -> None:
    import dagster as dg

    from orchestration.definitions import defs as load

    graph = load().resolve_asset_graph()
    owners = {name: owner["email"] for name, owner in _group_owners().items()}
    nodes = {node["unique_id"]: node for node in _project_nodes(parsed_manifest, "model", "seed")}
    seen = set()
    for key in graph.get_all_asset_keys():
        asset = graph.get(key)
        unique_id = asset.metadata.get("dagster_dbt/unique_id")
        if unique_id is None:
            continue
        path = nodes[unique_id]["original_file_path"]
        assert asset.owners == [owners[_expected(EXPECTED_GROUP, path)]], key
        seen.add(unique_id)
    assert seen == set(nodes)  # every dbt model and seed is an asset with its owner
    assert graph.get(dg.AssetKey(["raw", "orders"])).owners == ["data-platform@example.com"]
    # the publish step belongs to whoever owns the marts
    assert graph.get(dg.AssetKey(["serving", "published_marts"])).owners == [
        owners[EXPECTED_GROUP["models/marts/"]]
    ]
