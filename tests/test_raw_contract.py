"""One raw data contract: every raw column's type, enum values and range are declared once, in
the column's `meta` in models/staging/<source>/_<source>__sources.yml. The base models generate
their parsing and mechanical row checks from it (macros raw_contract, raw_parsed_columns,
raw_row_checks), the GX raw suites their parse rules (suites.raw_parsed_kinds); every other
copy of a value list or range is compared with it here: the dbt tests' accepted_values and
is_between, the generator's vocabulary, the tables of docs/raw-contract.md and
docs/generator.md, and the column descriptions that list values or state bounds.

Read from the YAML and Markdown files only (no build). Each comparison helper is first shown to
report a planted mismatch. Last, `dbt compile` of a copy of the project with a broken
declaration planted must stop with an error naming the file and column.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import yaml

from orchestration.lib.quality.suites import RAW_SOURCES, raw_contract_columns, raw_parsed_kinds
from tooling.generator import _vocab as vocab

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"

OPTIONS: dict[str, set[str]] = {
    "key": {"primary", "erase"},
    "text": {"case"},
    "enum": {"values", "case"},
    "timestamp": set(),
    "date": set(),
    "boolean": set(),
    "amount": {"min"},
    "integer": {"range"},
    "count": {"min"},
}
"""The declaration vocabulary (docs/raw-contract.md, "Declaring a column"): each type and the
options it takes beyond those every column may have (COMMON)."""
COMMON = {"type", "required", "personal", "nullable", "staged_as"}
PARSED = {"timestamp": "timestamp", "date": "date", "amount": "amount", "integer": "integer"}
PARSED["count"] = "integer"


# --- the declaration --------------------------------------------------------------------------


def source_files() -> list[Path]:
    return sorted(MODELS.glob("staging/*/_*__sources.yml"))


def contract() -> dict[str, dict[str, dict[str, Any]]]:
    """Raw table -> column -> its meta, in YAML order."""
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for path in source_files():
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                tables[table["name"]] = {
                    column["name"]: column.get("meta") or {} for column in table["columns"]
                }
    return tables


def declared(type_name: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(table, column) -> meta of every column declared as `type_name`."""
    return {
        (table, name): meta
        for table, columns in contract().items()
        for name, meta in columns.items()
        if meta.get("type") == type_name
    }


def staged_name(meta: dict[str, Any], column: str) -> str:
    return meta.get("staged_as", column)


def declaration_errors(column: str, meta: dict[str, Any]) -> list[str]:
    """What is wrong with one column's declaration (empty: nothing)."""
    type_name = meta.get("type")
    if type_name not in OPTIONS:
        return [f"{column}: type {type_name!r} is not one of {sorted(OPTIONS)}"]
    errors = [
        f"{column}: option {option!r} does not apply to a {type_name}"
        for option in sorted(set(meta) - COMMON - OPTIONS[type_name])
    ]
    values = meta.get("values")
    if type_name == "enum" and (not values or len(set(values)) != len(values)):
        errors.append(f"{column}: an enum lists its values once each")
    if meta.get("case", "lower") not in ("lower", "upper"):
        errors.append(f"{column}: case is lower or upper")
    if "range" in meta:
        low, high = meta["range"]
        if not (isinstance(low, int) and isinstance(high, int) and low <= high):
            errors.append(f"{column}: range is [low, high], whole numbers")
    if "min" in meta and not isinstance(meta["min"], int):
        errors.append(f"{column}: min is a whole number")
    if meta.get("erase", "row") not in ("row", "value", "linked"):
        errors.append(f"{column}: erase is row, value or linked")
    if meta.get("nullable") and meta.get("required") is False:
        errors.append(f"{column}: an optional column is always nullable; drop nullable")
    return errors


def test_the_declaration_check_reports_planted_faults() -> None:
    assert declaration_errors("c", {"type": "enum", "values": ["a", "b"]}) == []
    assert declaration_errors("c", {"type": "count", "min": 1, "required": False}) == []
    for planted in (
        {},
        {"type": "string"},
        {"type": "enum"},
        {"type": "enum", "values": ["a", "a"]},
        {"type": "count", "range": [0, 10]},
        {"type": "integer", "range": [10, 0]},
        {"type": "text", "case": "title"},
        {"type": "amount", "min": "0"},
        {"type": "key", "values": ["a"]},
        {"type": "key", "erase": "blank"},
        {"type": "text", "erase": "row"},
        {"type": "text", "nullable": True, "required": False},
    ):
        assert declaration_errors("c", planted), planted


def test_every_raw_column_declares_a_known_type() -> None:
    tables = contract()
    assert set(tables) == set(RAW_SOURCES), "one declaration per raw table"
    errors = [
        f"{table}.{error}"
        for table, columns in tables.items()
        for name, meta in columns.items()
        for error in declaration_errors(name, meta)
    ]
    assert errors == []
    for table, columns in tables.items():
        primary = [name for name, meta in columns.items() if meta.get("primary")]
        assert primary == [RAW_SOURCES[table][1]], f"{table}: one primary key, its key column"


def test_the_raw_layer_and_gx_read_the_declared_columns() -> None:
    raw_models = {
        model["name"]: [column["name"] for column in model["columns"]]
        for model in yaml.safe_load((MODELS / "raw" / "_raw__models.yml").read_text())["models"]
    }
    for table, columns in contract().items():
        assert raw_contract_columns(table) == tuple(columns)
        assert raw_models[f"raw_{table}"] == [*columns, "_source_file"]


def test_gx_raw_suites_parse_exactly_the_declared_parsed_columns() -> None:
    for table, columns in contract().items():
        expected = {
            name: PARSED[meta["type"]] for name, meta in columns.items() if meta["type"] in PARSED
        }
        assert raw_parsed_kinds(table) == expected, table
    # a table with every parsed type, so that none goes unchecked
    assert set(raw_parsed_kinds("orders").values()) == {"timestamp", "amount", "integer"}
    assert raw_parsed_kinds("customers")["birth_date"] == "date"


# --- comparing copies with it -----------------------------------------------------------------


def mismatch(expected: Iterable[Any], found: Iterable[Any]) -> str | None:
    """None when both hold the same values (as text, each as often, in any order); else what
    is missing and what is extra."""
    expected_list, found_list = sorted(map(str, expected)), sorted(map(str, found))
    if expected_list == found_list:
        return None
    missing = [value for value in expected_list if value not in found_list]
    extra = [value for value in found_list if value not in expected_list]
    return f"declared {expected_list}, found {found_list} (missing {missing}, extra {extra})"


def assert_same(expected: Iterable[Any], found: Iterable[Any], where: str) -> None:
    problem = mismatch(expected, found)
    assert problem is None, f"{where}: {problem}"


def test_the_comparison_reports_a_planted_mismatch() -> None:
    assert mismatch(["web", "app"], ["app", "web"]) is None
    assert mismatch([0, 1], ["0", "1"]) is None
    assert "extra ['shop']" in mismatch(["web", "app"], ["web", "app", "shop"])
    assert "missing ['app']" in mismatch(["web", "app"], ["web"])
    assert mismatch(["web", "app"], ["web", "web"]) is not None
    with pytest.raises(AssertionError, match=r"stg_x\.channel"):
        assert_same(["web"], ["app"], "stg_x.channel")


def model_tests(test_name: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(model, column, arguments) of every `test_name` data test in models/**/*.yml."""
    found = []
    for path in sorted(MODELS.rglob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            for column in model.get("columns") or []:
                for test in column.get("data_tests") or []:
                    if isinstance(test, dict) and test_name in test:
                        found.append((model["name"], column["name"], test[test_name]["arguments"]))
    return found


def test_accepted_values_of_raw_enums_are_the_declared_values() -> None:
    enums = {
        staged_name(meta, column): meta["values"] for (_, column), meta in declared("enum").items()
    }
    # a name stands for one list: two raw enums of the same name declare the same values
    for (_, column), meta in declared("enum").items():
        assert_same(enums[staged_name(meta, column)], meta["values"], column)
    checked = set()
    for model, column, arguments in model_tests("accepted_values"):
        if column in enums:
            assert_same(enums[column], arguments["values"], f"{model}.{column} accepted_values")
            checked.add((model, column))
    # every staged enum is tested in staging, and the marts' copies are compared too
    assert {
        ("stg_shop__orders", "status"),
        ("stg_shop__orders", "sales_channel"),
        ("stg_crm__customers", "acquisition_channel"),
        ("stg_web_analytics__sessions", "traffic_source"),
        ("stg_web_analytics__sessions", "device"),
        ("stg_nps__survey_responses", "survey_channel"),
        ("stg_email__email_events", "event_type"),
        ("fct_orders", "status"),
        ("dim_customers", "acquisition_channel"),
    } <= checked


def test_tested_ranges_of_raw_integers_are_the_declared_ranges() -> None:
    ranges = {
        staged_name(meta, column): meta["range"]
        for (_, column), meta in declared("integer").items()
    }
    checked = set()
    for model, column, arguments in model_tests("accepted_values"):
        if column in ranges:
            low, high = ranges[column]
            assert_same(range(low, high + 1), arguments["values"], f"{model}.{column}")
            checked.add((model, column))
    for model, column, arguments in model_tests("is_between"):
        if column in ranges:
            found = [arguments["min_value"], arguments["max_value"]]
            assert_same(ranges[column], found, f"{model}.{column} is_between")
            checked.add((model, column))
    assert {("stg_nps__survey_responses", "score"), ("fct_survey_responses", "score")} <= checked


GENERATOR_VOCABULARY = {
    ("customers", "acquisition_channel"): vocab.CHANNELS,
    ("sessions", "traffic_source"): vocab.CHANNELS,
    ("orders", "status"): vocab.STATUSES,
    ("orders", "sales_channel"): vocab.SALES_CHANNELS,
    ("sessions", "device"): vocab.DEVICES,
    ("survey_responses", "survey_channel"): vocab.SURVEY_CHANNELS,
    ("email_events", "event_type"): vocab.EVENT_TYPES,
}
"""The generator's vocabulary (tooling/generator/_vocab.py) of each declared enum."""


def seed_column(seed: str, column: str) -> list[str]:
    with open(ROOT / "seeds" / "reference" / f"{seed}.csv", newline="") as handle:
        return [row[column] for row in csv.DictReader(handle)]


def test_the_generator_writes_the_declared_vocabulary() -> None:
    enums = declared("enum")
    assert set(GENERATOR_VOCABULARY) == set(enums), "every declared enum has its vocabulary here"
    for (table, column), values in GENERATOR_VOCABULARY.items():
        assert_same(enums[(table, column)]["values"], values, f"_vocab.py for {table}.{column}")
    # the codes the base models look up in a seed: the generator's are all listed there
    assert set(vocab.CURRENCIES) <= set(seed_column("fx_rates", "currency"))
    assert set(vocab.COUNTRIES) <= set(seed_column("country_codes", "country_code"))
    assert set(vocab.BOOLEANS) <= {"true", "t", "1", "yes", "y", "false", "f", "0", "no", "n"}


# --- documentation ----------------------------------------------------------------------------


def doc_tables(markdown: str) -> dict[str, dict[str, str]]:
    """The column tables of docs/raw-contract.md: **table** heading -> column -> meaning."""
    tables: dict[str, dict[str, str]] = {}
    current = None
    for line in markdown.splitlines():
        heading = re.match(r"\*\*(\w+)\*\*", line)
        if heading:
            current = tables.setdefault(heading.group(1), {})
        elif current is not None and line.startswith("| ") and not line.startswith("| column"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            for name in cells[0].split(","):
                current[name.strip()] = cells[1]
        elif current is not None and line.startswith("## "):
            current = None
    return tables


def listed_values(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def test_doc_table_parsing_reports_a_planted_mismatch() -> None:
    planted = "**orders**\n\n| column | meaning |\n|---|---|\n| status | `completed`, `lost` |\n"
    values = listed_values(doc_tables(planted)["orders"]["status"])
    assert mismatch(["completed", "returned"], values) is not None


def test_the_raw_contract_docs_list_the_declared_values() -> None:
    tables = doc_tables((ROOT / "docs" / "raw-contract.md").read_text())
    for table, columns in contract().items():
        assert set(tables[table]) == set(columns), f"every {table} column is documented"
        for column, meta in columns.items():
            where = f"docs/raw-contract.md {table}.{column}"
            meaning = tables[table][column]
            if meta["type"] == "enum":
                assert_same(meta["values"], listed_values(meaning), where)
            problem = bound_mismatch(meta, meaning)
            assert problem is None, f"{where}: {problem}"


def test_the_generator_docs_list_the_declared_values() -> None:
    text = " ".join((ROOT / "docs" / "generator.md").read_text().split())
    listed = {}
    for names, values in re.findall(r"((?:\w+ and )?\w+) ∈ \{([^}]*)\}", text):
        for name in names.split(" and "):
            listed[name] = [value.strip() for value in values.split(",")]
    enums = declared("enum")
    assert {column for _, column in enums} <= set(listed)
    for (_, column), meta in enums.items():
        assert_same(meta["values"], listed[column], f"docs/generator.md {column}")
    assert_same(vocab.CURRENCIES, listed["currency"], "docs/generator.md currency")
    assert_same(vocab.COUNTRIES, listed["country_code"], "docs/generator.md country_code")


def bound_mismatch(meta: dict[str, Any], text: str, *, stated_required: bool = True) -> str | None:
    """For a column with a declared bound (range of an integer, min of a count or an amount),
    None when `text` states the same ("0–10", "≥ 1", "0 … gross_amount") or, unless
    `stated_required`, states none."""
    if "range" in meta:
        stated = re.findall(r"(-?\d+)–(-?\d+)", text)
        expected = [(str(meta["range"][0]), str(meta["range"][1]))]
    elif meta.get("type") == "count" or (meta.get("type") == "amount" and "min" in meta):
        stated = re.findall(r"≥ (-?\d+)", text) or re.findall(r"(-?\d+) …", text)
        expected = [str(meta.get("min", 0))]
    else:
        return None
    if stated == expected or (not stated and not stated_required):
        return None
    return f"states {stated or 'no bound'}, declared {expected}"


def test_bound_comparison_reports_a_planted_mismatch() -> None:
    assert bound_mismatch({"type": "integer", "range": [0, 10]}, "integer 0–10") is None
    assert bound_mismatch({"type": "integer", "range": [0, 10]}, "integer 1–10") is not None
    assert bound_mismatch({"type": "integer", "range": [0, 10]}, "an integer") is not None
    assert bound_mismatch({"type": "count", "min": 1}, "integer ≥ 1") is None
    assert bound_mismatch({"type": "count"}, "whole seconds, ≥ 1") is not None
    assert bound_mismatch({"type": "amount", "min": 0}, "discount, 1 … gross") is not None
    assert bound_mismatch({"type": "count"}, "Pages viewed.", stated_required=False) is None
    assert bound_mismatch({"type": "count"}, "Pages, ≥ 2.", stated_required=False) is not None


def described_columns() -> Iterable[tuple[str, str, str]]:
    """(file, column, description) of every column description in the sources, raw, staging
    and mart YAML."""
    for path in sorted(MODELS.rglob("*.yml")):
        document = yaml.safe_load(path.read_text()) or {}
        nodes = list(document.get("models") or [])
        for source in document.get("sources") or []:
            nodes.extend(source["tables"])
        for node in nodes:
            for column in node.get("columns") or []:
                description = column.get("description", "")
                yield path.relative_to(ROOT).as_posix(), column["name"], description


def description_mismatch(values: list[str], description: str) -> str | None:
    """A description that lists at least two of an enum's values must list all of them."""
    words = set(re.findall(r"\w+", description))
    named = [value for value in values if value in words]
    if len(named) >= 2 and len(named) < len(values):
        return f"lists {named} but not {[value for value in values if value not in words]}"
    return None


def test_description_comparison_reports_a_planted_mismatch() -> None:
    assert description_mismatch(["web", "app", "store"], "web, app or store.") is None
    assert description_mismatch(["web", "app", "store"], "Where the order was placed.") is None
    assert description_mismatch(["web", "app", "store"], "web or app.") is not None


def test_column_descriptions_list_and_bound_as_declared() -> None:
    by_name: dict[str, list[dict[str, Any]]] = {}
    for type_name in ("enum", "integer", "count", "amount"):
        for (_, column), meta in declared(type_name).items():
            for name in {column, staged_name(meta, column)}:
                by_name.setdefault(name, []).append(meta)
    problems, compared = [], 0
    for path, column, description in described_columns():
        for meta in by_name.get(column, []):
            compared += 1
            if meta["type"] == "enum":
                problem = description_mismatch(meta["values"], description)
            else:
                problem = bound_mismatch(meta, description, stated_required=False)
            if problem:
                problems.append(f"{path} {column}: {problem}")
    assert compared > 40
    assert problems == []


# --- a broken declaration stops dbt at compile time, naming the place ---------------------------

BROKEN_DECLARATIONS = {
    "unknown type": (
        "models/staging/shop/_shop__sources.yml",
        "meta: {type: enum, values: [completed, returned, cancelled]}",
        "meta: {type: colour}",
        ["Column 'orders.status'", "_shop__sources.yml", "meta.type 'colour'", "declare one of"],
    ),
    "enum without values": (
        "models/staging/shop/_shop__sources.yml",
        "meta: {type: enum, values: [web, app, store]}",
        "meta: {type: enum}",
        ["Column 'orders.sales_channel'", "an enum, and only an enum, lists its values"],
    ),
    "declared check not listed": (
        "models/staging/shop/base/base_shop__orders.sql",
        "            'item_count:range',\n",
        "",
        ["base_shop__orders.sql", "does not list the checks", "item_count:range"],
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN_DECLARATIONS))
def test_a_broken_declaration_fails_the_compile_by_file_and_column(
    case: str, tmp_path: Path
) -> None:
    path, before, after, says = BROKEN_DECLARATIONS[case]
    project = tmp_path / "project"
    project.mkdir()
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(ROOT / name, project / name)
    for name in ("models", "macros", "seeds", "data-tests", "data"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, project / name)
    planted = project / path
    text = planted.read_text()
    assert text.count(before) == 1, (path, before)
    planted.write_text(text.replace(before, after))
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DBT_PROJECT_DIR", "DBT_TARGET_PATH", "DBT_LOG_PATH")
    }
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "compile", "--select", "base_shop__orders"],
        cwd=project,
        env={
            **env,
            "DBT_PROFILES_DIR": str(project),
            "CUSTOMER_ANALYTICS_DB": str(tmp_path / "compile.duckdb"),
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_USE_COLORS": "false",
        },
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    for fragment in says:
        assert fragment in output, (fragment, output[-3000:])
