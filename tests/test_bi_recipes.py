"""Every BI connection recipe in docs/bi-tools.md opens the served marts read-only and locked
down, as written: it reads the marts, and it cannot write, read or write another file, attach
the build file, install or load an extension, or change its settings.

Run for real, each in its own process: Python, the duckdb CLI (duckdb-cli), SQLAlchemy
(duckdb-engine) and Evidence's own DuckDB connector (node; `make evidence` installs it into
tests/evidence). Superset's URI and engine parameters go through duckdb-engine as Superset hands
them over (Superset itself is not run). Metabase and DBeaver open the file with DuckDB's JDBC
driver, which cannot be installed here (Maven): their settings are read from the page and
handed to DuckDB's Python driver as the JDBC driver hands them to DuckDB (text values, in no
particular order); the JDBC path itself is not exercised.

Every refusal must come from the settings ("disabled by configuration", "configuration has been
locked", the CLI's safe mode), not from a missing network or file, and a planted secret never
comes back. The same probes on a plain read-only connection read the secret, write the file and
attach the build file, and fail otherwise for other reasons, so each check can fail. Expected
values come from the raw seed files (customers) or the served file opened independently.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl

import duckdb
import pytest
import yaml
from conftest import BIN, REPO, DbtResult
from markdown_blocks import Block, blocks

from orchestration.lib.publish import publish
from orchestration.lib.serving import LOCKED_DOWN_SETTINGS

pytestmark = pytest.mark.build

PAGE = REPO / "docs" / "bi-tools.md"
CHECKOUT = "/srv/customer-analytics"
EVIDENCE = REPO / "tests" / "evidence"
SECRET = "the planted secret file"
"""The content of the secret files next to the serving file: no recipe may ever return it."""
BUILD_SECRET = "a row of the build file"
"""A row of the stand-in build file: no recipe may attach it."""

PROBES = {
    "read": "select count(*) as customers from marts.dim_customers",
    "write": "create table marts.written_by_a_bi_tool as select 1 as x",
    "read_text": "select content from read_text('{secret_txt}')",
    "read_csv": "select * from read_csv('{secret_csv}')",
    "copy_to": "copy (select 1 as x) to '{written}'",
    "attach": "attach '{build}' as build (read_only)",
    "install": "install httpfs",
    "load": "load httpfs",
    "set_external_access": "set enable_external_access = true",
    "reset_external_access": "reset enable_external_access",
    "unlock": "set lock_configuration = false",
}
"""What a BI user may try: the first must work, every other must be refused."""

FILES = "disabled by configuration"
LOCKED = "the configuration has been locked"
DENIED_BY = {
    "write": "read-only mode",
    "read_text": FILES,
    "read_csv": FILES,
    "copy_to": FILES,
    "attach": FILES,
    "install": FILES,
    "load": "Loading external extensions is disabled through configuration",
    "set_external_access": LOCKED,
    "reset_external_access": LOCKED,
    "unlock": LOCKED,
}
"""The message that says a probe was refused by the connection's settings."""

DOT_PROBES = {
    "shell": ".shell cat {secret_txt}",
    "read_file": ".read {secret_txt}",
    "open": ".open {build}",
    "output": ".output {written}",
}
"""The duckdb CLI's own commands that reach files or programs."""


@dataclass(frozen=True)
class Site:
    """A checkout with a publication, and what a BI user must not reach next to it."""

    root: Path
    serving: Path
    build: Path
    secret_txt: Path
    secret_csv: Path
    written: Path

    def probes(self, names: dict[str, str] = PROBES) -> dict[str, str]:
        places = {
            "secret_txt": self.secret_txt,
            "secret_csv": self.secret_csv,
            "written": self.written,
            "build": self.build,
        }
        return {name: sql.format(**places) for name, sql in names.items()}


Outcome = tuple[bool, str]
"""(the statement succeeded, its rows or its error message)"""


def _blocks() -> list[Block]:
    return blocks(PAGE)


def _recipe(name: str) -> Block:
    (block,) = [b for b in _blocks() if b.recipe == name]
    return block


def _under(heading: str) -> list[Block]:
    """The blocks of the page's section `### heading`."""
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(f"\n### {heading}\n")
    end = text.find("\n### ", start + 1)
    first = text[:start].count("\n") + 1
    last = text[:end].count("\n") + 1 if end != -1 else 10**9
    return [b for b in _blocks() if first < b.line < last]


def _settings(block: Block) -> dict[str, str]:
    """`Key: value` lines of a settings block."""
    return dict(line.split(": ", 1) for line in block.text.strip().split("\n"))


def _here(text: str, site: Site) -> str:
    return text.replace(CHECKOUT, str(site.root))


@pytest.fixture(scope="module")
def site(seed_build: DbtResult, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A checkout's warehouse/ with the seeds' build published as `make build` publishes it, a
    stand-in build file beside it, and secret files a BI user must not read."""
    root = tmp_path_factory.mktemp("srv") / "customer-analytics"
    (reference_date,) = seed_build.query(
        "select cast(reference_date as varchar) from staging.stg_shop__reference_date"
    )[0]
    serving = root / "warehouse" / "serving" / "customer_analytics.duckdb"
    publish(seed_build.database, serving, root / "warehouse" / "exports", "bi-1",
            reference_date=reference_date)  # fmt: skip
    build = root / "warehouse" / "customer_analytics.duckdb"
    with duckdb.connect(str(build)) as con:
        con.execute("create schema staging")
        con.execute("create table staging.customers as select ? as email", [BUILD_SECRET])
    (root / "secrets").mkdir()
    (root / "secrets" / "secret.txt").write_text(SECRET + "\n")
    (root / "secrets" / "secret.csv").write_text(f"name,value\nkey,{SECRET}\n")
    return Site(root, serving, build, root / "secrets" / "secret.txt",
                root / "secrets" / "secret.csv", root / "written.csv")  # fmt: skip


@pytest.fixture(scope="module")
def customers() -> int:
    """Customers in the shipped seed file, counted with Python's csv module."""
    with (REPO / "data" / "raw" / "customers.csv").open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


# --- how each tool opens the file ----------------------------------------------------------

RUN_DUCKDB = "def run(sql):\n    return con.execute(sql).fetchall()\n"
RUN_SQLALCHEMY = (
    "import sqlalchemy as _sa\n"
    "def run(sql):\n"
    "    with engine.connect() as connection:\n"
    "        result = connection.execute(_sa.text(sql))\n"
    "        return result.fetchall() if result.returns_rows else result.rowcount\n"
)


def _python_probes(setup: str, run: str, probes: dict[str, str]) -> tuple[dict[str, Outcome], str]:
    """Run `setup` (which opens the connection), then each probe through `run`, in a fresh
    Python process (one DuckDB configuration per process). Outcomes, and what setup printed."""
    code = (
        f"import json, sys\n{setup}\n{run}\noutcomes = {{}}\n"
        "for name, sql in json.loads(sys.argv[1]).items():\n"
        "    try:\n"
        "        outcomes[name] = [True, repr(run(sql))]\n"
        "    except Exception as error:\n"
        "        outcomes[name] = [False, f'{type(error).__name__}: {error}']\n"
        "print('PROBES ' + json.dumps(outcomes))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(probes)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    printed, _, outcomes = done.stdout.rpartition("PROBES ")
    return {name: (ok, text) for name, (ok, text) in json.loads(outcomes).items()}, printed


def _cli_probes(program: str, probes: dict[str, str]) -> dict[str, Outcome]:
    """Each probe as `PROGRAM -c PROBE`, one duckdb CLI process each."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    outcomes = {}
    for name, sql in probes.items():
        done = subprocess.run(
            ["bash", "-c", f"{program} -c {shlex.quote(sql)}"],
            env=env, capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        outcomes[name] = (done.returncode == 0, done.stdout + done.stderr)
    return outcomes


def _evidence_probes(source: Path, options: dict, probes: dict[str, str]) -> dict[str, Outcome]:
    """Each probe as a query of the Evidence source in `source`, through Evidence's own DuckDB
    connector (tests/evidence/run_queries.cjs)."""
    if not (EVIDENCE / "node_modules" / "@evidence-dev" / "duckdb").is_dir():
        pytest.fail(
            "Evidence's DuckDB connector is not installed: run `make test` (it installs it), "
            "or `make evidence` (npm ci in tests/evidence)."
        )
    done = subprocess.run(
        ["node", str(EVIDENCE / "run_queries.cjs"), str(source), json.dumps(options),
         json.dumps(probes)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = json.loads(done.stdout)
    return {
        name: ("rows" in outcome, json.dumps(outcome.get("rows", outcome.get("error"))))
        for name, outcome in outcomes.items()
    }


def _python_recipe(site: Site, probes: dict[str, str]) -> dict[str, Outcome]:
    (block,) = [b for b in _under("Python") if b.lang == "python"]
    return _python_probes(_here(block.text, site), RUN_DUCKDB, probes)[0]


def _cli_program() -> str:
    (block,) = [b for b in _under("duckdb CLI") if b.lang == "bash"]
    program = block.text.strip().split(" -c ")[0]
    assert program.startswith("duckdb -readonly ")
    return program


def _cli_recipe(site: Site, probes: dict[str, str]) -> dict[str, Outcome]:
    return _cli_probes(_here(_cli_program(), site), probes)


def _sqlalchemy_recipe(site: Site, probes: dict[str, str]) -> dict[str, Outcome]:
    (block,) = [b for b in _under("SQLAlchemy (duckdb-engine)") if b.lang == "python"]
    return _python_probes(_here(block.text, site), RUN_SQLALCHEMY, probes)[0]


def _superset_uri() -> str:
    return _settings(_recipe("superset"))["SQLAlchemy URI"]


def _superset_recipe(site: Site, probes: dict[str, str]) -> dict[str, Outcome]:
    uri = _here(_superset_uri(), site)
    assert uri.startswith("duckdb:////")
    setup = f"import sqlalchemy\nengine = sqlalchemy.create_engine({uri!r})"
    return _python_probes(setup, RUN_SQLALCHEMY, probes)[0]


def _superset_engine_parameters_recipe(site: Site, probes: dict[str, str]) -> dict[str, Outcome]:
    plain = _here(_superset_uri(), site).split("?", 1)[0]
    parameters = json.loads(_recipe("superset-engine-parameters").text)
    setup = f"import sqlalchemy\nengine = sqlalchemy.create_engine({plain!r}, **{parameters!r})"
    return _python_probes(setup, RUN_SQLALCHEMY, probes)[0]


def _metabase_config(site: Site) -> tuple[str, dict[str, str]]:
    """The file and the DuckDB settings Metabase's DuckDB driver sends (its jdbc-spec): its own
    properties, `access_mode` for the read-only switch, and the additional options as text."""
    settings = _settings(_recipe("metabase"))
    assert settings["Database type"] == "DuckDB"
    path = _here(settings["Database file"], site)
    options = dict(
        pair.split("=", 1)
        for pair in settings["Additional DuckDB connection string options"].split("&")
    )
    config = dict(reversed(options.items()))  # JDBC properties have no order
    config |= {"custom_user_agent": "metabase", "temp_directory": f"{path}.tmp",
               "old_implicit_casting": "true"}  # fmt: skip
    if settings["Establish a read-only connection"] == "on":
        config["access_mode"] = "READ_ONLY"  # duckdb.read_only=true
    return path, config


def _metabase_recipe(site: Site, probes: dict[str, str]) -> dict[str, Outcome]:
    path, config = _metabase_config(site)
    setup = f"import duckdb\ncon = duckdb.connect({path!r}, config={config!r})"
    return _python_probes(setup, RUN_DUCKDB, probes)[0]


def _dbeaver_properties() -> dict[str, str]:
    lines = _recipe("dbeaver-properties").text.strip().split("\n")
    return dict(tuple(part.strip() for part in line.split("=", 1)) for line in lines)


def _dbeaver_recipe(site: Site, probes: dict[str, str]) -> dict[str, Outcome]:
    path = _here(_settings(_recipe("dbeaver"))["Path"], site)
    config = dict(reversed(_dbeaver_properties().items()))  # JDBC properties have no order
    setup = f"import duckdb\ncon = duckdb.connect({path!r}, config={config!r})"
    return _python_probes(setup, RUN_DUCKDB, probes)[0]


def _evidence_project(site: Site, project: Path, initialize: bool = True) -> tuple[Path, dict]:
    """An Evidence project set up as the page says: the link block run in it, connection.yaml
    and (unless not `initialize`) initialize.sql written from the page. Its source folder, and
    the connection."""
    connection = yaml.safe_load(_recipe("evidence").text)
    assert connection["type"] == "duckdb"
    assert not connection["options"]["filename"].startswith("/"), "Evidence joins it to the folder"
    (link_block,) = [b for b in _under("Evidence") if b.lang == "bash"]
    project.mkdir(parents=True)
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", _here(link_block.text, site)],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    source = project / "sources" / connection["name"]
    (source / "connection.yaml").write_text(_recipe("evidence").text)
    if initialize:
        (source / "initialize.sql").write_text(_recipe("evidence-initialize").text)
    return source, connection


def _evidence_recipe(site: Site, probes: dict[str, str]) -> dict[str, Outcome]:
    source, connection = _evidence_project(site, site.root.parent / "evidence-project")
    return _evidence_probes(source, connection["options"], probes)


RECIPES: dict[str, Callable[[Site, dict[str, str]], dict[str, Outcome]]] = {
    "python": _python_recipe,
    "duckdb-cli": _cli_recipe,
    "sqlalchemy": _sqlalchemy_recipe,
    "superset": _superset_recipe,
    "superset-engine-parameters": _superset_engine_parameters_recipe,
    "metabase": _metabase_recipe,
    "evidence": _evidence_recipe,
    "dbeaver": _dbeaver_recipe,
}
"""Each recipe of the page: open the served file as the tool does, run the probes."""


# --- every recipe reads the marts and cannot escape ----------------------------------------


@pytest.mark.parametrize("recipe", RECIPES)
def test_recipe_reads_the_marts_and_refuses_every_escape(
    recipe: str, site: Site, customers: int
) -> None:
    site.written.unlink(missing_ok=True)  # left by a failed test before
    outcomes = RECIPES[recipe](site, site.probes())
    ok, rows = outcomes["read"]
    assert ok and re.search(rf"\b{customers}\b", rows), rows
    for name, marker in DENIED_BY.items():
        ok, text = outcomes[name]
        assert not ok and marker in text, (
            f"{recipe}: {name} was not refused by the settings: {text}"
        )
    everything = json.dumps(outcomes)
    assert SECRET not in everything and BUILD_SECRET not in everything
    assert not site.written.exists()


def test_the_cli_recipe_refuses_the_shells_own_file_commands(site: Site) -> None:
    site.written.unlink(missing_ok=True)
    outcomes = _cli_recipe(site, site.probes(DOT_PROBES))
    for name, (_, text) in outcomes.items():
        assert "cannot be used in -safe mode" in text, f"{name}: {text}"
        assert SECRET not in text
    assert not site.written.exists()


def test_the_probes_get_through_a_plain_read_only_connection(site: Site, tmp_path: Path) -> None:
    """The control: without the settings, each probe reads the secret, writes the file or
    attaches the build file, or fails for a reason other than the settings (the extension
    repository is a closed port on this machine, so nothing leaves it)."""
    config = {
        "custom_extension_repository": "http://127.0.0.1:9",
        "extension_directory": str(tmp_path / "extensions"),
    }
    serving = str(site.serving)
    setup = f"import duckdb\ncon = duckdb.connect({serving!r}, read_only=True, config={config!r})"
    probes = site.probes()
    probes["attached"] = "select email from build.staging.customers"
    outcomes, _ = _python_probes(setup, RUN_DUCKDB, probes)
    try:
        assert outcomes["read_text"] == (True, repr([(SECRET + "\n",)]))
        assert outcomes["read_csv"] == (True, repr([("key", SECRET)]))
        assert outcomes["copy_to"][0] and site.written.read_text() == "x\n1\n"
        assert outcomes["attach"][0] and outcomes["attached"] == (True, repr([(BUILD_SECRET,)]))
        for name in ("install", "load", "set_external_access", "reset_external_access"):
            text = outcomes[name][1]
            assert DENIED_BY[name] not in text, f"{name}: {text}"
        assert outcomes["unlock"][0]
    finally:
        site.written.unlink(missing_ok=True)
    # the old CLI recipe, `duckdb -readonly` alone: the shell's commands reach the secret
    plain = _cli_probes(f"duckdb -readonly {site.serving}", site.probes(DOT_PROBES))
    assert SECRET in plain["shell"][1] and "-safe mode" not in plain["shell"][1]
    # Evidence without initialize.sql: its connection reads other files
    source, connection = _evidence_project(site, tmp_path / "evidence-open", initialize=False)
    opened = _evidence_probes(source, connection["options"], {"read_text": probes["read_text"]})
    assert SECRET in opened["read_text"][1]


def test_every_recipe_sets_the_dashboard_settings() -> None:
    """One definition: each recipe's settings are LOCKED_DOWN_SETTINGS (the dashboard's own),
    plus read-only."""
    expected = {name: str(value).lower() for name, value in LOCKED_DOWN_SETTINGS.items()}
    (python_block,) = [b for b in _under("Python") if b.lang == "python"]
    (assigned,) = [
        node.value
        for node in ast.parse(python_block.text).body
        if isinstance(node, ast.Assign) and node.targets[0].id == "locked_down"
    ]
    assert ast.literal_eval(assigned) == LOCKED_DOWN_SETTINGS
    query = dict(parse_qsl(_superset_uri().split("?", 1)[1]))
    assert query == {"access_mode": "read_only", **expected}
    (sqlalchemy_block,) = [b for b in _under("SQLAlchemy (duckdb-engine)") if b.lang == "python"]
    assert _superset_uri().split(": ", 1)[-1] in sqlalchemy_block.text
    parameters = json.loads(_recipe("superset-engine-parameters").text)
    assert parameters == {"connect_args": {"read_only": True, "config": LOCKED_DOWN_SETTINGS}}
    options = _settings(_recipe("metabase"))["Additional DuckDB connection string options"]
    assert dict(pair.split("=", 1) for pair in options.split("&")) == expected
    assert _dbeaver_properties() == {"access_mode": "READ_ONLY", **expected}
    statements = re.findall(r"set (\w+) = (\w+);", _recipe("evidence-initialize").text)
    assert dict(statements) == expected
    assert len(statements) == _recipe("evidence-initialize").text.count(";")


# --- what each tool shows -------------------------------------------------------------------


def test_python_recipe_prints_the_latest_months(site: Site) -> None:
    (block,) = [b for b in _under("Python") if b.lang == "python"]
    _, printed = _python_probes(_here(block.text, site), RUN_DUCKDB, {})
    with duckdb.connect(str(site.serving), read_only=True) as con:
        (latest,) = con.execute("select max(month) from marts.rpt_kpis_monthly").fetchone()
    assert str(latest) in printed


def test_duckdb_cli_recipe_prints_the_segments(site: Site) -> None:
    (block,) = [b for b in _under("duckdb CLI") if b.lang == "bash"]
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", _here(block.text.strip(), site)], env=env, capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    with duckdb.connect(str(site.serving), read_only=True) as con:
        segments = con.execute(
            "select rfm_segment, customers from marts.rpt_rfm_segments"
        ).fetchall()
    for segment, count in segments:
        assert re.search(rf"{re.escape(segment)}\s*│\s*{count}\b", done.stdout), segment


def test_evidence_source_follows_each_publication(
    site: Site, seed_build: DbtResult, tmp_path: Path
) -> None:
    source, connection = _evidence_project(site, tmp_path / "evidence-project")
    query = {"build": "select distinct build_id from marts.publication"}
    assert json.loads(_evidence_probes(source, connection["options"], query)["build"][1]) == [
        {"build_id": "bi-1"}
    ]
    staged = tmp_path / "republished.duckdb"
    shutil.copy2(site.serving, staged)
    publish(
        seed_build.database,
        site.serving,
        site.root / "warehouse" / "exports",
        "bi-2",
        reference_date="2025-12-31",
    )
    try:
        outcome = _evidence_probes(source, connection["options"], query)["build"]
        assert json.loads(outcome[1]) == [{"build_id": "bi-2"}]
    finally:  # the module's other tests read publication bi-1
        os.replace(staged, site.serving)


def test_readme_table_uses_the_tested_strings() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Dashboard and BI tools", 1)[1].split("\n## ", 1)[0]
    assert f"`{_superset_uri()}`" in section
    assert f"`{_cli_program()}`" in section
    options = _settings(_recipe("metabase"))["Additional DuckDB connection string options"]
    assert f"`{options}`" in section
    for name, value in _dbeaver_properties().items():
        assert f"`{name} = {value}`" in section
    initialize = " ".join(_recipe("evidence-initialize").text.split())
    assert f"`{initialize}`" in section
    settings = ", ".join(f'"{k}": {v}' for k, v in LOCKED_DOWN_SETTINGS.items())
    assert f"config={{{settings}}})`" in section
