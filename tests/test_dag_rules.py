"""The DAG rules of the dbt project, checked on the manifest of `dbt parse` (after
dbt-project-evaluator's rules): marts and intermediate models never read the raw layer; a raw
table has one direct child unless listed; staging reads other staging models only in the
listed referential checks; a model's folder matches its prefix; every model has a tested
primary key. Each listed exception says why, and a listing that no longer matches the project
fails too, so the lists stay true."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from pathlib import Path

import pytest
from conftest import REPO, run_dbt

pytestmark = pytest.mark.unit

RAW_CHILDREN_ALLOWED = {
    ("raw_orders", "stg_shop__reference_date"): "the reference date must exist before any row "
    "is judged (future timestamps), so it reads the order times itself",
    **{
        (f"raw_{table}", "stg_quarantine__rows_read"): "the row balance counts the raw rows "
        "independently of the base model that collapses them"
        for table in ("customers", "orders", "sessions", "survey_responses", "email_events")
    },
}
"""(raw model, child) edges beyond each raw table's one base model."""

STAGING_CHECKS = {
    **{
        (f"base_{model}", "stg_shop__reference_date"): "future_timestamp: a row dated after "
        "the reference date plus future_tolerance_days is quarantined"
        for model in (
            "crm__customers",
            "shop__orders",
            "web_analytics__sessions",
            "nps__survey_responses",
            "email__email_events",
        )
    },
    **{
        (f"base_{model}", "stg_crm__customers"): "unknown_customer: the customer must be an "
        "accepted CRM customer"
        for model in (
            "shop__orders",
            "web_analytics__sessions",
            "nps__survey_responses",
            "email__email_events",
        )
    },
    **{
        (f"base_{model}", "stg_shop__orders"): "unknown_order: an order id must be an accepted "
        "order"
        for model in ("web_analytics__sessions", "nps__survey_responses")
    },
    **{
        ("stg_quarantine__rejected_rows", f"base_{model}"): "the quarantine unions every base "
        "model's rejected rows"
        for model in (
            "crm__customers",
            "shop__orders",
            "web_analytics__sessions",
            "nps__survey_responses",
            "email__email_events",
        )
    },
}
"""(staging model, staging parent) edges that are referential checks, beyond each stg model
reading its own base model."""

FOLDER_PREFIXES = {
    "models/raw/": r"raw_[a-z_]+",
    "models/staging/quarantine/": r"stg_quarantine__[a-z_]+",
    "models/staging/(?P<source>[a-z_]+)/base/": r"base_(?P=source)__[a-z_]+",
    "models/staging/(?P<source>[a-z_]+)/": r"stg_(?P=source)__[a-z_]+",
    "models/intermediate/[a-z_]+/": r"int_[a-z_]+",
    # the CLV outputs keep the names issue 19 gave them (filled by the CLV step, not by dbt)
    "models/marts/clv/": r"customer_clv_predictions|clv_[a-z_]+|rpt_clv_[a-z_]+",
    "models/marts/[a-z_]+/": r"(rpt|dim|fct)_[a-z_]+",
    "models/semantic/": r"metricflow_time_spine",
    "models/activation/": r"audience_[a-z_]+",
}
"""Folder (regular expression) -> model names allowed in it; first match wins."""

NO_PRIMARY_KEY = {
    "raw_": "the raw tables hold the file's rows as exported, exact duplicates included; the "
    "base model collapses them into distinct rows, which have a key",
}
"""Model name prefixes exempt from the primary-key rule, and why."""


@pytest.fixture(scope="module")
def manifest(tmp_path_factory: pytest.TempPathFactory) -> dict:
    work = tmp_path_factory.mktemp("dag_rules")
    parsed = run_dbt(["parse", "--quiet"], work / "parse.duckdb", None, work)
    assert parsed.returncode == 0, parsed.output[-3000:]
    return json.loads((work / "target" / "manifest.json").read_text())


def _name(unique_id: str) -> str:
    return unique_id.split(".")[-1]


def models(manifest: dict) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


def edges(manifest: dict) -> set[tuple[str, str]]:
    """(model, model or source it reads) for every model."""
    return {
        (node["name"], _name(parent))
        for node in models(manifest).values()
        for parent in node["depends_on"]["nodes"]
        if parent.split(".")[0] in ("model", "source")
    }


def layer(node: dict) -> str:
    return node["original_file_path"].split("/")[1]


def reads_raw(manifest: dict) -> set[tuple[str, str]]:
    """Marts and intermediate models that read a raw model or a source."""
    nodes = models(manifest)
    return {
        (child, parent)
        for child, parent in edges(manifest)
        if layer(nodes[child]) in ("marts", "intermediate")
        and (parent not in nodes or layer(nodes[parent]) == "raw")
    }


def raw_fanout(manifest: dict) -> set[tuple[str, str]]:
    """(raw model, child) edges other than raw_<table> -> base_<source>__<table>."""
    nodes = models(manifest)
    return {
        (parent, child)
        for child, parent in edges(manifest)
        if parent in nodes
        and layer(nodes[parent]) == "raw"
        and not (child.startswith("base_") and child.endswith("__" + parent.removeprefix("raw_")))
    }


def staging_on_staging(manifest: dict) -> set[tuple[str, str]]:
    """(staging model, staging parent) edges other than stg_<x> reading base_<x>."""
    nodes = models(manifest)
    return {
        (child, parent)
        for child, parent in edges(manifest)
        if parent in nodes
        and layer(nodes[child]) == layer(nodes[parent]) == "staging"
        and child.removeprefix("stg_") != parent.removeprefix("base_")
    }


def misplaced(manifest: dict) -> list[str]:
    found = []
    for name, node in models(manifest).items():
        path = node["original_file_path"]
        for folder, pattern in FOLDER_PREFIXES.items():
            match = re.match(folder, path)
            if match and path.count("/") == match.group(0).count("/"):
                expected = pattern
                for key, value in match.groupdict().items():
                    expected = expected.replace(f"(?P={key})", re.escape(value))
                if not re.fullmatch(expected, name):
                    found.append(f"{path}: {name} does not match {expected}")
                break
        else:
            found.append(f"{path}: no folder rule")
    return found


def primary_keys(manifest: dict) -> dict[str, list[str]]:
    """Model -> its tested primary keys: a column with unique and not_null tests, or a
    unique_combination_of_columns (as dbt-project-evaluator counts them)."""
    unique: dict[str, list[tuple[str, ...]]] = {}
    not_null: dict[str, set[str]] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("attached_node"):
            continue
        model = _name(node["attached_node"])
        meta = node.get("test_metadata") or {}
        kwargs = meta.get("kwargs") or {}
        if meta.get("name") == "unique":
            unique.setdefault(model, []).append((node["column_name"],))
        elif meta.get("name") == "unique_combination_of_columns":
            combination = tuple(kwargs["combination_of_columns"])
            unique.setdefault(model, []).append(combination)
            not_null.setdefault(model, set()).update(combination)
        elif meta.get("name") == "not_null":
            not_null.setdefault(model, set()).add(node["column_name"])
    return {
        model: ["+".join(key) for key in keys if all(c in not_null.get(model, set()) for c in key)]
        for model, keys in unique.items()
    }


def without_primary_key(manifest: dict) -> list[str]:
    keys = primary_keys(manifest)
    return sorted(
        name
        for name in models(manifest)
        if not keys.get(name) and not name.startswith(tuple(NO_PRIMARY_KEY))
    )


def _listed(found: Iterable[tuple[str, str]], allowed: dict) -> tuple[list, list]:
    found = set(found)
    return sorted(found - set(allowed)), sorted(set(allowed) - found)


# The rule checkers themselves, on a planted manifest


def _planted() -> dict:
    def model(name: str, path: str, parents: list[str]) -> tuple[str, dict]:
        return f"model.p.{name}", {
            "resource_type": "model",
            "name": name,
            "original_file_path": path,
            "depends_on": {"nodes": [f"model.p.{p}" for p in parents]},
        }

    def test(name: str, model: str, column: str | None, **kwargs) -> tuple[str, dict]:
        return f"test.p.{name}.{model}.{column}", {
            "resource_type": "test",
            "attached_node": f"model.p.{model}",
            "column_name": column,
            "test_metadata": {"name": name, "kwargs": kwargs},
        }

    return {
        "nodes": dict(
            [
                model("raw_orders", "models/raw/raw_orders.sql", []),
                model(
                    "base_shop__orders",
                    "models/staging/shop/base/base_shop__orders.sql",
                    ["raw_orders", "stg_crm__customers"],
                ),
                model("stg_crm__customers", "models/staging/crm/stg_crm__customers.sql", []),
                model(
                    "stg_shop__orders",
                    "models/staging/shop/stg_shop__orders.sql",
                    ["base_shop__orders"],
                ),
                model(
                    "fct_orders",
                    "models/marts/orders/fct_orders.sql",
                    ["raw_orders", "stg_shop__orders"],
                ),
                model("int_orders", "models/marts/orders/int_orders.sql", []),
                test("unique", "fct_orders", "order_id"),
                test("not_null", "fct_orders", "order_id"),
                test("unique", "stg_shop__orders", "order_id"),
                test(
                    "unique_combination_of_columns",
                    "int_orders",
                    None,
                    combination_of_columns=["a", "b"],
                ),
            ]
        )
    }


def test_the_checkers_find_planted_breaches() -> None:
    planted = _planted()
    assert reads_raw(planted) == {("fct_orders", "raw_orders")}
    assert raw_fanout(planted) == {("raw_orders", "fct_orders")}
    assert staging_on_staging(planted) == {("base_shop__orders", "stg_crm__customers")}
    assert misplaced(planted) == [
        "models/marts/orders/int_orders.sql: int_orders does not match (rpt|dim|fct)_[a-z_]+"
    ]
    assert primary_keys(planted) == {
        "fct_orders": ["order_id"],
        "stg_shop__orders": [],
        "int_orders": ["a+b"],
    }
    assert without_primary_key(planted) == [
        "base_shop__orders",
        "stg_crm__customers",
        "stg_shop__orders",
    ]


# The rules, on the project


def test_no_mart_or_intermediate_model_reads_the_raw_layer(manifest: dict) -> None:
    assert len(models(manifest)) > 30
    assert reads_raw(manifest) == set()


def test_a_raw_table_has_one_direct_child_unless_listed(manifest: dict) -> None:
    unlisted, stale = _listed(raw_fanout(manifest), RAW_CHILDREN_ALLOWED)
    assert not unlisted, f"raw tables read by more than their base model: {unlisted}"
    assert not stale, f"listed in RAW_CHILDREN_ALLOWED but no longer true: {stale}"


def test_staging_reads_staging_only_in_listed_referential_checks(manifest: dict) -> None:
    unlisted, stale = _listed(staging_on_staging(manifest), STAGING_CHECKS)
    assert not unlisted, f"staging models reading other staging models: {unlisted}"
    assert not stale, f"listed in STAGING_CHECKS but no longer true: {stale}"


def test_every_model_is_in_the_folder_of_its_prefix(manifest: dict) -> None:
    assert misplaced(manifest) == []


def test_every_model_has_a_tested_primary_key(manifest: dict) -> None:
    assert without_primary_key(manifest) == []
    exempt = [name for name in models(manifest) if name.startswith(tuple(NO_PRIMARY_KEY))]
    assert len(exempt) == 5, exempt


CTE = re.compile(r"\b(\w+) as (?:not materialized )?\(")
QUALIFIED = re.compile(r"(?<![\w.'\"])([a-z_]+)\.[a-z_]+")
ALIAS = re.compile(r"\bas\s+([a-z_]+)\b")


def callers_names(macro_text: str, model_ctes: set[str]) -> set[str]:
    """Names of model CTEs that a macro's SQL qualifies a column with (name.column) without
    defining them itself (as a CTE or an alias) or getting them as text: read from the
    caller's scope."""
    body = re.sub(r"\{#.*?#\}", "", macro_text, flags=re.S)
    own = set(CTE.findall(body)) | set(ALIAS.findall(body))
    return {name for name in QUALIFIED.findall(body) if name in model_ctes and name not in own}


def test_the_scope_checker_finds_a_planted_caller_cte() -> None:
    planted = "{% macro m(x) %} {{ x }} < reference_dates.reference_date {% endmacro %}"
    assert callers_names(planted, {"reference_dates"}) == {"reference_dates"}
    own = (
        "{% macro m() %} with reference_dates as (select 1) select reference_dates.a {% endmacro %}"
    )
    assert callers_names(own, {"reference_dates"}) == set()


def test_no_macro_reads_names_from_its_callers_scope() -> None:
    """A macro gets every relation and column it reads as an argument or a ref, never by the
    name of a CTE of the model that calls it."""
    model_ctes = {
        name
        for path in (REPO / "models").rglob("*.sql")
        for name in CTE.findall(path.read_text(encoding="utf-8"))
    }
    assert "reference_dates" in model_ctes
    offenders = {
        str(path.relative_to(REPO)): sorted(found)
        for path in sorted((REPO / "macros").rglob("*.sql"))
        if (found := callers_names(path.read_text(encoding="utf-8"), model_ctes))
    }
    assert offenders == {}


def test_no_hook_drops_relations() -> None:
    """Hooks (on-run-start, on-run-end, pre- and post-hooks) never drop a relation."""
    hook_macros = set(re.findall(r"\{\{\s*(\w+)\(", (REPO / "dbt_project.yml").read_text()))
    dropping = [
        name
        for path in (REPO / "macros").rglob("*.sql")
        for name in re.findall(r"\{%-?\s*macro\s+(\w+)\(", path.read_text(encoding="utf-8"))
        if name in hook_macros and "drop_relation" in _macro_body(path, name)
    ]
    assert dropping == []


def _macro_body(path: Path, name: str) -> str:
    text = path.read_text(encoding="utf-8")
    start = re.search(rf"\{{%-?\s*macro\s+{name}\(", text).start()
    return text[start : text.index("endmacro", start)]


RELATION_CALL = re.compile(
    r"\b(mart|raw_table|staging_model|intermediate_model)\(\s*[\"'](\w+)[\"']\s*\)"
)
LITERAL_RELATION = re.compile(r"[\"'f ](?:marts|raw|staging|intermediate)\.[a-z_]+\b")


def test_python_names_every_relation_through_the_one_map(manifest: dict) -> None:
    """The Python side names dbt's relations only through orchestration.lib.relations, and
    every name it uses there is a model of the manifest in that schema."""
    from orchestration.lib.relations import intermediate_model, mart, raw_table, staging_model

    relations = {
        f"{node['schema']}.{node['alias']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }
    build = {
        "mart": mart,
        "raw_table": raw_table,
        "staging_model": staging_model,
        "intermediate_model": intermediate_model,
    }
    used, unknown, literals = set(), [], []
    for package in ("orchestration", "dashboard"):
        for path in sorted((REPO / package).rglob("*.py")):
            if path.name == "relations.py":
                continue
            text = path.read_text(encoding="utf-8")
            for function, name in RELATION_CALL.findall(text):
                used.add(name)
                if build[function](name) not in relations:
                    unknown.append(f"{path.relative_to(REPO)}: {function}({name!r})")
            code = re.sub(r'"""[\s\S]*?"""|#.*', "", text)  # docstrings and comments may say it
            literals += [
                f"{path.relative_to(REPO)}: {match.strip()}"
                for match in LITERAL_RELATION.findall(code)
            ]
    assert {"rpt_data_quality", "dim_customers", "stg_shop__reference_date"} <= used
    assert unknown == []
    assert literals == []


def test_every_unit_test_of_an_incremental_model_sets_is_incremental(manifest: dict) -> None:
    """dbt itself requires this only of models that call dbt's own is_incremental; the
    project overrides that macro (macros/incremental/is_incremental.sql), so the rule is kept
    here: without the override, a unit test would read the real warehouse's table."""
    incremental = {
        name for name, node in models(manifest).items()
        if node["config"]["materialized"] == "incremental"
    }  # fmt: skip
    tested = {
        unit["name"]: unit
        for unit in manifest["unit_tests"].values()
        if unit["model"] in incremental
    }
    assert len(tested) >= 4
    missing = sorted(
        name
        for name, unit in tested.items()
        if "is_incremental" not in ((unit.get("overrides") or {}).get("macros") or {})
    )
    assert missing == []
