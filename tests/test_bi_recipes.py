"""Every BI connection recipe in docs/bi-tools.md opens the served marts read-only, as written.

Python, the duckdb CLI and SQLAlchemy (duckdb-engine) run for real, each in its own process.
Superset, Metabase, Evidence and DBeaver cannot run here, so their settings are read from the
page and the file is opened the way each tool opens it: the same path or URL string, the same
read-only option. Each recipe must read the marts and must refuse a write. Expected values
come from the raw seed files (customers) or from the served file opened independently.
"""

from __future__ import annotations

import csv
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml
from conftest import BIN, REPO, DbtResult
from markdown_blocks import Block, blocks

from orchestration.lib.publish import publish

pytestmark = pytest.mark.build

PAGE = REPO / "docs" / "bi-tools.md"
CHECKOUT = "/srv/customer-analytics"
WRITE = "create table marts.written_by_a_bi_tool as select 1 as x"


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


@pytest.fixture(scope="module")
def checkout(seed_build: DbtResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkout's warehouse/ with the seeds' build published as `make build` publishes it."""
    root = tmp_path_factory.mktemp("srv") / "customer-analytics"
    (reference_date,) = seed_build.query(
        "select cast(reference_date as varchar) from staging.stg_shop__reference_date"
    )[0]
    publish(
        seed_build.database,
        root / "warehouse" / "serving" / "customer_analytics.duckdb",
        root / "warehouse" / "exports",
        "bi-1",
        reference_date=reference_date,
    )
    return root


@pytest.fixture(scope="module")
def customers() -> int:
    """Customers in the shipped seed file, counted with Python's csv module."""
    with (REPO / "data" / "raw" / "customers.csv").open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.reader(handle)) - 1


def _served(root: Path) -> Path:
    return root / "warehouse" / "serving" / "customer_analytics.duckdb"


def _python(code: str, cwd: Path | None = None) -> str:
    """Run code in a fresh Python process (one DuckDB configuration per process)."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _open_and_try_to_write(connect: str, cwd: Path | None = None) -> tuple[int, str]:
    """Customers read, and the error a write got, through the connection `connect` makes."""
    out = _python(
        "import duckdb\n"
        f"con = {connect}\n"
        "print(con.execute('select count(*) from marts.dim_customers').fetchone()[0])\n"
        "try:\n"
        f"    con.execute({WRITE!r})\n"
        "    print('written')\n"
        "except duckdb.Error as error:\n"
        "    print(type(error).__name__)\n",
        cwd,
    )
    count, outcome = out.split()
    return int(count), outcome


# --- run for real --------------------------------------------------------------------------


def test_python_recipe(checkout: Path, customers: int) -> None:
    (block,) = [b for b in _under("Python") if b.lang == "python"]
    code = block.text.replace(CHECKOUT, str(checkout))
    out = _python(
        code + "print(con.execute('select count(*) from marts.dim_customers').fetchone()[0])\n"
        f"try:\n    con.execute({WRITE!r})\nexcept duckdb.Error as error:\n"
        "    print(type(error).__name__)\n"
    )
    with duckdb.connect(str(_served(checkout)), read_only=True) as con:
        (latest,) = con.execute("select max(month) from marts.rpt_kpis_monthly").fetchone()
    assert str(latest) in out
    assert out.split()[-2:] == [str(customers), "InvalidInputException"]


def test_duckdb_cli_recipe(checkout: Path) -> None:
    (block,) = [b for b in _under("duckdb CLI") if b.lang == "bash"]
    command = block.text.strip().replace(CHECKOUT, str(checkout))
    assert command.startswith("duckdb -readonly ")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        ["bash", "-c", command], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    with duckdb.connect(str(_served(checkout)), read_only=True) as con:
        segments = con.execute(
            "select rfm_segment, customers from marts.rpt_rfm_segments"
        ).fetchall()
    for segment, count in segments:
        assert re.search(rf"{re.escape(segment)}\s*│\s*{count}\b", done.stdout), segment
    # the same options refuse a write
    path = str(_served(checkout))
    write = subprocess.run(
        [str(BIN / "duckdb"), "-readonly", path, "-c", WRITE], capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert write.returncode != 0 and "read-only" in (write.stdout + write.stderr)


def test_sqlalchemy_recipe(checkout: Path, customers: int) -> None:
    (block,) = [b for b in _under("SQLAlchemy (duckdb-engine)") if b.lang == "python"]
    code = block.text.replace(CHECKOUT, str(checkout))
    out = _python(
        code + "import sqlalchemy\n"
        "try:\n    with engine.begin() as c:\n"
        f"        c.execute(sa.text({WRITE!r}))\n"
        "except sqlalchemy.exc.DBAPIError as error:\n    print(type(error.orig).__name__)\n"
    )
    assert out.split() == [str(customers), "InvalidInputException"]


# --- settings read from the page, opened as each tool opens them ----------------------------


def test_superset_uri_and_engine_parameters(checkout: Path, customers: int) -> None:
    uri = _settings(_recipe("superset"))["SQLAlchemy URI"].replace(CHECKOUT, str(checkout))
    assert uri.startswith("duckdb:////")
    connect = (
        "__import__('sqlalchemy').create_engine("
        + repr(uri)
        + ").raw_connection().driver_connection"
    )
    assert _open_and_try_to_write(connect) == (customers, "InvalidInputException")
    # the alternative: the URI without its query, engine parameters as printed on the page
    (parameters,) = re.findall(r"Engine parameters\*?\s*`(\{.*?\})`", PAGE.read_text())
    plain = uri.split("?", 1)[0]
    connect = (
        f"__import__('sqlalchemy').create_engine({plain!r}, **{json.loads(parameters)!r})"
        ".raw_connection().driver_connection"
    )
    assert _open_and_try_to_write(connect) == (customers, "InvalidInputException")


def test_metabase_file_settings(checkout: Path, customers: int) -> None:
    settings = _settings(_recipe("metabase"))
    assert settings["Database type"] == "DuckDB"
    assert settings["Establish a read-only connection"] == "on"
    path = settings["Database file"].replace(CHECKOUT, str(checkout))
    # the driver's read-only switch is DuckDB's access_mode READ_ONLY
    connect = f"duckdb.connect({path!r}, read_only=True)"
    assert _open_and_try_to_write(connect) == (customers, "InvalidInputException")


def test_metabase_parquet_query_reads_one_mart(checkout: Path) -> None:
    sql = _recipe("metabase-parquet").text.replace(CHECKOUT, str(checkout))
    with duckdb.connect() as memory:
        got = memory.execute(sql).fetchall()
    with duckdb.connect(str(_served(checkout)), read_only=True) as con:
        expected = con.execute(
            "select order_month, sum(net_revenue) from marts.fct_orders group by 1 order by 1"
        ).fetchall()
    assert got == expected and len(got) >= 30


def test_evidence_source_follows_each_publication(
    checkout: Path, seed_build: DbtResult, customers: int, tmp_path: Path
) -> None:
    connection = yaml.safe_load(_recipe("evidence").text)
    assert connection["type"] == "duckdb"
    filename = connection["options"]["filename"]
    assert not filename.startswith("/"), "Evidence joins the file name to the source folder"
    (link_block,) = [b for b in _under("Evidence") if b.lang == "bash"]
    project = tmp_path / "evidence-project"
    project.mkdir()
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", link_block.text.replace(CHECKOUT, str(checkout))],
        cwd=project, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # Evidence: path.join(source directory, filename), opened with access_mode READ_ONLY
    source = project / "sources" / connection["name"]
    opened = os.path.join(source, filename)
    connect = (
        f"duckdb.connect({opened!r}, config={{'access_mode': 'READ_ONLY',"
        " 'custom_user_agent': 'evidence-dev'})"
    )
    assert _open_and_try_to_write(connect) == (customers, "InvalidInputException")
    publish(
        seed_build.database,
        _served(checkout),
        checkout / "warehouse" / "exports",
        "bi-2",
        reference_date="2025-12-31",
    )
    build = _python(
        f"import duckdb; print(duckdb.connect({opened!r}, config={{'access_mode': 'READ_ONLY'}})"
        ".execute('select distinct build_id from marts.publication').fetchone()[0])"
    )
    assert build.strip() == "bi-2"


def test_dbeaver_settings(checkout: Path, customers: int) -> None:
    settings = _settings(_recipe("dbeaver"))
    path = settings["Path"].replace(CHECKOUT, str(checkout))
    key, value = (part.strip() for part in settings["Driver properties"].split("="))
    # DuckDB's JDBC driver hands unknown driver properties to DuckDB as settings
    connect = f"duckdb.connect({path!r}, config={{{key!r}: {value!r}}})"
    assert _open_and_try_to_write(connect) == (customers, "InvalidInputException")


def test_readme_table_uses_the_tested_strings() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    uri = _settings(_recipe("superset"))["SQLAlchemy URI"]
    assert f"`{uri}`" in readme
    (cli,) = [b for b in _under("duckdb CLI") if b.lang == "bash"]
    program = cli.text.split(" -c ")[0].strip()
    assert f"`{program}`" in readme
