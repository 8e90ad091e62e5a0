"""Every command in README.md and docs/*.md works as written, and the README stays navigable.

Each fenced bash, python or sql block is either run here, as written, in a scratch copy of the
repository that holds a built and published warehouse, or is marked `<!-- run-by: FILE … -->`
(a long run or a server) and the named files exist and contain each of its commands. A new
command that is neither fails this module. Placeholders are replaced by real paths:
`/srv/customer-analytics` by the scratch checkout and `/path/to/exports` by a generated shop
(or, for the German export example, a hand-made German export).

Each run is checked against values worked out here, independently of the marts: row counts of
the input files, hand-computed amounts and times, the committed seed files.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, ERASURE_FILE_ENV, KEY_FILE_ENV, REPO
from markdown_blocks import (
    RUNNABLE,
    SHELL,
    Block,
    all_blocks,
    blocks,
    documents,
    normalised,
    shell_commands,
)

pytestmark = pytest.mark.build

RUN_HERE = [b for b in all_blocks() if b.lang in RUNNABLE and not b.run_by and not b.recipe]
UNIQUE = list({b.text: b for b in RUN_HERE}.values())
TABLES = ("customers", "orders", "sessions", "survey_responses", "email_events")

# --- structure: fast, no build -------------------------------------------------------------


def test_every_block_declares_its_language() -> None:
    bare = [b.where for b in all_blocks() if not b.lang]
    assert not bare, f"fenced blocks without a language (use text for output): {bare}"


@pytest.mark.parametrize("block", [b for b in all_blocks() if b.run_by], ids=lambda b: b.where)
def test_marked_blocks_name_files_that_run_their_commands(block: Block) -> None:
    sources = {}
    for name in block.run_by:
        path = REPO / name
        assert path.is_file(), f"{block.where}: run-by names {name}, which does not exist"
        sources[name] = normalised(path.read_text(encoding="utf-8"))
    commands = shell_commands(block.text) if block.lang in SHELL else [block.text]
    assert commands, f"{block.where}: an empty block"
    for command in commands:
        assert any(normalised(command) in text for text in sources.values()), (
            f"{block.where}: `{command}` is in none of {list(block.run_by)}"
        )


def test_shell_commands_are_split_as_a_shell_would() -> None:
    text = (
        "make build   # comment\n"
        "# only a comment\n"
        "dbt build --vars '{\n  a: 1,\n  b: \"#x\"}'\n"
        "python - <<'PY'\nprint(1)\nPY\n"
        "make \\\n  dev\n"
    )
    assert shell_commands(text) == [
        "make build",
        "dbt build --vars '{ a: 1, b: \"#x\"}'",
        "python - <<'PY'\nprint(1)",
        "make dev",
    ]


def test_quickstart_is_one_block_of_two_commands() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    fences = [line for line in section.split("\n") if line.startswith("```")]
    assert len(fences) == 2, "the Quickstart holds exactly one code block"
    (block,) = [b for b in blocks(REPO / "README.md") if b.text.strip() in section]
    assert shell_commands(block.text) == ["make build", "make test"]


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, blanks to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _headings(path: Path) -> set[str]:
    inside = False
    found = set()
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line.startswith("```"):
            inside = not inside
        elif not inside and line.startswith("#"):
            found.add(_anchor(line.lstrip("#")))
    return found


def test_readme_has_a_table_of_contents_whose_links_resolve() -> None:
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    contents = text.split("\n## Contents\n", 1)[1].split("\n## ", 1)[0]
    links = re.findall(r"\]\(#([^)]+)\)", contents)
    assert len(links) >= 6
    h2 = [_anchor(line[3:]) for line in text.split("\n") if line.startswith("## ")]
    h2.remove("contents")
    assert links == h2, "the table of contents lists every section, in order"


def test_readme_is_at_most_300_lines() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= 300, f"README.md has {lines} lines; move reference material to docs/"


def test_every_link_between_the_documents_resolves() -> None:
    broken = []
    for path in documents():
        text = path.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            file, _, anchor = target.partition("#")
            linked = (path.parent / file).resolve() if file else path
            if linked.name == "semantic-layer.md" and not linked.exists():
                continue  # written by the semantic-layer work, merged separately
            if not linked.exists():
                broken.append(f"{path.name}: {target}")
            elif anchor and linked.suffix == ".md" and anchor not in _headings(linked):
                broken.append(f"{path.name}: {target} (no such heading)")
    assert not broken, broken


# --- running the blocks --------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch checkout after the Quickstart's `make build`: the tracked files, a `.venv`
    that is the project's, the seeds built and published."""
    root = tmp_path_factory.mktemp("checkout") / "customer-analytics"
    tracked = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    for name in filter(None, tracked.split("\0")):
        if (REPO / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, root / name)
    venv = root / ".venv"
    venv.mkdir()
    for entry in (REPO / ".venv").iterdir():
        if entry.name != ".installed":
            (venv / entry.name).symlink_to(entry)
    # a fresh stamp: make's setup target must never reinstall the shared venv from a scratch copy
    (venv / ".installed").touch()
    done = subprocess.run(
        ["make", "--no-print-directory", "build"], cwd=root, env=_environment(root),
        capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small generated shop in the raw data contract's format."""
    out = tmp_path_factory.mktemp("shop") / "exports"
    done = subprocess.run(
        [str(BIN / "customer-analytics"), "generate", "--customers", "150", "--seed", "11",
         "--start", "2024-01-01", "--end", "2025-06-30", "--out", str(out)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return out


GERMAN_CUSTOMERS = (
    "customer_id;email;first_name;last_name;birth_date;country_code;signup_at;"
    "acquisition_channel;marketing_consent\r\n"
    "K1;k1@example.org;Jürgen;Weiß;29.02.1980;DE;02.01.2025 09:15;organic_search;true\r\n"
    "K2;k2@example.org;Anna;Groß;;AT;03.01.2025 10:00;direct;false\r\n"
)
GERMAN_ORDERS = (
    "Bestellnummer;Kundennummer;Bestellt am;status;sales_channel;currency;gross_amount;"
    "discount_amount;shipping_amount;item_count\r\n"
    "B1;K1;15.11.2025 08:30;completed;web;EUR;1.234,50;34,50;4,95;2\r\n"
    "B2;K2;31.12.2025 18:30;completed;app;EUR;99,90;0,00;0,00;1\r\n"
    "B3;K1;30.03.2025 03:30;completed;web;EUR;10,00;0,00;4,95;1\r\n"
)
# worked by hand: Berlin is UTC+1 in winter, UTC+2 from 30 March 2025 03:00
GERMAN_EXPECTED = {
    "B1": ("2025-11-15 07:30:00", "1234.50", "1200.00"),
    "B2": ("2025-12-31 17:30:00", "99.90", "99.90"),
    "B3": ("2025-03-30 01:30:00", "10.00", "10.00"),
}


@pytest.fixture(scope="module")
def german_export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A hand-made German shop export: semicolons, decimal commas, Berlin local time, cp1252,
    German headers for the three orders columns the documented mapping names."""
    out = tmp_path_factory.mktemp("german") / "exports"
    out.mkdir()
    (out / "customers.csv").write_bytes(GERMAN_CUSTOMERS.encode("cp1252"))
    (out / "orders.csv").write_bytes(GERMAN_ORDERS.encode("cp1252"))
    return out


def _rows_in(directory: Path) -> dict[str, int]:
    """Data rows per raw table of a generated (UTF-8, comma) export, read with Python's csv."""
    counts = {}
    for table in TABLES:
        with (directory / f"{table}.csv").open(encoding="utf-8", newline="") as handle:
            counts[table] = sum(1 for _ in csv.reader(handle)) - 1
    return counts


def _query(path: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def _environment(root: Path) -> dict[str, str]:
    """What a user's shell holds after cloning to `root` (nothing of this test run's own), but
    for the run's pseudonymisation key (conftest) and erasure requests of the clone's own:
    never the user's."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("CUSTOMER_ANALYTICS_", "DBT_", "DAGSTER_"))
        and key not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"}
    }
    env[KEY_FILE_ENV] = os.environ[KEY_FILE_ENV]
    # the README's `make erase` files its requests here, not in the run's (other tests' builds)
    env[ERASURE_FILE_ENV] = str(root / "erasure-requests.csv")
    # the defaults of a checkout at `root` (the package itself lives in the real checkout)
    env.update(
        CUSTOMER_ANALYTICS_DB=str(root / "warehouse" / "customer_analytics.duckdb"),
        CUSTOMER_ANALYTICS_SERVING_DB=str(
            root / "warehouse" / "serving" / "customer_analytics.duckdb"
        ),
        CUSTOMER_ANALYTICS_EXPORTS_DIR=str(root / "warehouse" / "exports"),
        CUSTOMER_ANALYTICS_QUALITY_DIR=str(root / "warehouse" / "quality"),
        DAGSTER_HOME=str(root / ".dagster_home"),
        PATH=f"{root / '.venv' / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        DBT_USE_COLORS="false",
    )
    return env


def _run(block: Block, root: Path, exports: Path) -> str:
    text = block.text.replace("/srv/customer-analytics", str(root)).replace(
        "/path/to/exports", str(exports)
    )
    env = _environment(root)
    if block.lang == "sql":
        with duckdb.connect(
            str(root / "warehouse" / "customer_analytics.duckdb"), read_only=True
        ) as con:
            results = [
                con.execute(statement).fetchall()
                for statement in filter(str.strip, text.split(";"))
            ]
        # an empty quarantine is a fine answer; a block that answers nothing at all is not
        assert any(results), f"{block.where}: no statement returned a row"
        return "\n".join(map(repr, results))
    if block.lang == "python":
        command = [str(root / ".venv" / "bin" / "python"), "-"]
    else:
        command = ["bash", "-euo", "pipefail", "-s"]
    done = subprocess.run(
        command, input=text, cwd=root, env=env, capture_output=True, text=True,
        timeout=900, check=False,
    )  # fmt: skip
    assert done.returncode == 0, (
        f"{block.where} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


def _check(block: Block, root: Path, exports: Path, output: str) -> None:
    """What each kind of block must have done, from values worked out independently."""
    text = block.text
    served = root / "warehouse" / "serving" / "customer_analytics.duckdb"
    if "ln -s" in text:
        link = root / "sources" / "customer_analytics" / "customer_analytics.duckdb"
        assert link.resolve() == served.resolve()
    elif "raw_format" in text:
        database = (
            Path(
                re.search(r"CUSTOMER_ANALYTICS_DB=(\S+)", text).group(1).replace("$PWD", str(root))
            )
            if "CUSTOMER_ANALYTICS_DB=" in text
            else root / "warehouse" / "customer_analytics.duckdb"
        )
        got = {
            order_id: (str(ordered_at), str(gross), str(net))
            for order_id, ordered_at, gross, net in _query(
                database,
                "select order_id, ordered_at, gross_amount_eur, net_revenue from marts.fct_orders",
            )
        }
        assert got == GERMAN_EXPECTED
    elif "make build" in text:
        # the served marts now come from the small shop: every input row is accounted for
        rows = {
            table.rsplit(".", 1)[-1]: read
            for table, read in _query(
                served, "select source_table, rows_read from marts.rpt_data_quality"
            )
        }
        assert rows == _rows_in(exports)
    elif "raw_data_path" in text:
        database = root / "warehouse" / "mine.duckdb"
        (orders,) = _query(database, "select count(*) from marts.fct_orders")[0]
        assert orders == _rows_in(exports)["orders"]
    elif "generate --customers 2000" in text:
        out = root / "data" / "raw"
        for table in TABLES:
            assert (out / f"{table}.csv").read_bytes() == (
                REPO / "data" / "raw" / f"{table}.csv"
            ).read_bytes()
    elif "fct_orders.parquet" in text:
        (orders, revenue) = _query(
            served, "select count(*), sum(net_revenue) from marts.fct_orders"
        )[0]
        assert str(orders) in output and str(revenue) in output
    elif "group:data_platform" in text:
        # the group is assigned by folder: exactly the models in models/raw/
        listed = {line.rsplit(".", 1)[-1] for line in output.split() if "." in line}
        assert listed == {path.stem for path in (REPO / "models" / "raw").glob("*.sql")}
    elif "make metrics" in text:
        # every quarter (the default query) or year of the served months, and every value of a
        # customer dimension the block groups by, read from the marts themselves
        months = [m for (m,) in _query(served, "select month from marts.rpt_kpis_monthly")]
        periods = {f"{m.year}-{(m.month - 1) // 3 * 3 + 1:02d}-01" for m in months}
        assert periods <= set(re.findall(r"\d{4}-\d{2}-01", output)), output[-2000:]
        for dimension, column in (
            ("rfm_segment", "rfm_segment"),
            ("acquisition_channel", "acquisition_channel"),
        ):
            if f"customer__{dimension}" in text:
                values = _query(served, f"select distinct {column} from marts.dim_customers")
                missing = [v for (v,) in values if str(v) not in output]
                assert not missing, f"{block.where}: no rows for {missing}"
    elif "mf query" in text:
        months = _query(served, "select count(*) from marts.rpt_kpis_monthly")[0][0]
        assert output.count("-01") >= months
    else:
        assert output.strip(), f"{block.where} printed nothing"


def test_make_build_keeps_the_build_file_to_its_owner(template: Path) -> None:
    """docs/bi-tools.md, "File permissions": after the Quickstart's `make build` no other user
    can read the build file (every layer, personal data), and no write-ahead log is left; the
    serving file is written with the user's own umask, so BI users can be given it."""
    warehouse = template / "warehouse"
    build = warehouse / "customer_analytics.duckdb"
    assert stat.S_IMODE(build.stat().st_mode) == 0o600
    assert not (warehouse / "customer_analytics.duckdb.wal").exists()
    umask = os.umask(0o022)
    os.umask(umask)
    serving = warehouse / "serving" / "customer_analytics.duckdb"
    assert stat.S_IMODE(serving.stat().st_mode) == 0o666 & ~umask


@pytest.mark.parametrize("block", UNIQUE, ids=lambda b: b.where)
def test_documented_block_runs_as_written(
    block: Block,
    template: Path,
    shop: Path,
    german_export: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "customer-analytics"
    shutil.copytree(template, root, symlinks=True)
    monkeypatch.chdir(root)
    exports = german_export if "raw_format" in block.text else shop
    output = _run(block, root, exports)
    _check(block, root, exports, output)


def test_make_build_prints_the_readme_query() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    (echo,) = re.findall(r'@echo "    (\$\(BIN\)/python -c .*)"\n', makefile)
    printed = (
        echo.replace('\\"', '"')
        .replace("$(BIN)", ".venv/bin")
        .replace("$(CUSTOMER_ANALYTICS_SERVING_DB)", "warehouse/serving/customer_analytics.duckdb")
    )
    readme = [
        command
        for block in blocks(REPO / "README.md")
        if block.lang == "bash"
        for command in shell_commands(block.text)
    ]
    assert printed in readme
