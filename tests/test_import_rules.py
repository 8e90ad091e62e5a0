"""Import rules of the Python code, read from the source (every import, also those inside
functions): no import circle between modules; the runtime package (orchestration) imports
neither the dev tooling (tooling) nor the dashboard, which it reaches only through entry points;
the publisher and the serving contract import no UI code; the runtime helpers in
orchestration/lib import no Dagster."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.unit

PACKAGES = ("orchestration", "dashboard", "tooling")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, absolute names (`from a import b` gives a and a.b)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {
        name: {imported for imported in _imports(path) if imported in modules and imported != name}
        for name, path in modules.items()
    }


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import circle of `graph`, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for child in sorted(graph[node]):
            if state.get(child) == 1:
                return [*stack[stack.index(child) :], child]
            if child not in state and (found := visit(child)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_the_cycle_finder_finds_a_planted_circle() -> None:
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_circle() -> None:
    graph = _graph()
    assert "orchestration.lib.publish" in graph and "dashboard.data" in graph
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


@pytest.mark.parametrize(
    "module",
    ["orchestration.lib.publish", "orchestration.lib.serving", "orchestration.lib.quality"],
)
def test_the_publisher_and_the_serving_contract_import_no_ui_code(module: str) -> None:
    modules = _modules()
    paths = [
        path for name, path in modules.items() if name == module or name.startswith(module + ".")
    ]
    assert paths
    for path in paths:
        ui = {
            name
            for name in _imports(path)
            if name.split(".")[0] in {"dashboard", "streamlit", "plotly"}
        }
        assert not ui, f"{path.relative_to(REPO)} imports {sorted(ui)}"


def _offenders(package: str, forbidden: set[str]) -> dict[str, list[str]]:
    """Modules of `package` (and what they import) that import a top-level name in `forbidden`."""
    found = {}
    for name, path in _modules().items():
        if name == package or name.startswith(package + "."):
            bad = sorted(i for i in _imports(path) if i.split(".")[0] in forbidden)
            if bad:
                found[name] = bad
    return found


def test_the_rule_checker_sees_a_planted_import(tmp_path: Path) -> None:
    planted = tmp_path / "planted.py"
    planted.write_text("def f():\n    from tooling.generator import generate\n")
    assert "tooling.generator" in _imports(planted)


def test_runtime_helpers_import_no_dagster() -> None:
    assert "orchestration.lib.publish" in _modules()
    assert _offenders("orchestration.lib", {"dagster", "dagster_dbt"}) == {}


def test_the_runtime_imports_neither_the_dev_tooling_nor_the_dashboard() -> None:
    assert "orchestration.cli" in _modules() and "tooling.cli" in _modules()
    assert _offenders("orchestration", {"tooling", "dashboard"}) == {}


def test_the_dashboard_imports_no_dev_tooling() -> None:
    assert _offenders("dashboard", {"tooling"}) == {}
