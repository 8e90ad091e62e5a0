"""Shared pytest fixtures: run the real dbt CLI against throw-away DuckDB files.

Tiers: every test module is marked `unit` (pure Python, dbt parse, compile-time checks: seconds),
`build` (dbt builds of a scenario, each built once per module or session) or `e2e` (Dagster
runs, webservers, browsers, killed processes, make commands). `pytest -m unit` is the fast
loop; `make test` runs all three, on every core (pytest-xdist, --dist=loadscope): a module, or
a class, runs on one worker, so its scenario is built once; longest first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import pytest
from filelock import FileLock

if TYPE_CHECKING:
    import pandas as pd

REPO = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).resolve().parent / "fixtures"
BIN = Path(sys.executable).parent


TIERS = ("e2e", "build", "unit")
"""Run order: the slowest tier first, so that the workers finish together."""

RUN_FIRST = (
    "test_entry_points.py",
    "test_dagster_dev.py",
    "test_spark_target.py",
    "test_partitioned_landing.py",
)
"""The longest modules (minutes each), started first in their tier: the Spark target (about
16 minutes on a loaded worker) and the day-partitioned landing (about 19; 25 with its slow
tests) would otherwise start late and finish alone."""


KEY_FILE_ENV = "CUSTOMER_ANALYTICS_PSEUDONYM_KEY_FILE"
ERASURE_FILE_ENV = "CUSTOMER_ANALYTICS_ERASURE_FILE"


def pytest_configure(config: pytest.Config) -> None:
    """The whole run (every xdist worker inherits this process's environment) pseudonymises
    with a random key of its own, outside the repository, and sees no erasure requests but
    those a test files: never the user's key or requests."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="customer-analytics-test-privacy-"))
    key_file = folder / "pseudonym.key"
    key_file.write_text(secrets.token_hex(32) + "\n", encoding="utf-8")
    key_file.chmod(0o600)
    os.environ[KEY_FILE_ENV] = str(key_file)
    os.environ[ERASURE_FILE_ENV] = str(folder / "erasure-requests.csv")


def pytest_unconfigure(config: pytest.Config) -> None:
    """The run's key and erasure requests go with the run."""
    if os.environ.get("PYTEST_XDIST_WORKER") or KEY_FILE_ENV not in os.environ:
        return
    folder = Path(os.environ[KEY_FILE_ENV]).parent
    if folder.name.startswith("customer-analytics-test-privacy-"):
        shutil.rmtree(folder, ignore_errors=True)


def pseudonym(customer_id: str) -> str:
    """A CRM customer id's customer_key in the marts, computed here with Python's hmac (not the
    project's code): HMAC-SHA256 under the run's key, lowercase hex (docs/privacy.md)."""
    key = Path(os.environ[KEY_FILE_ENV]).read_text(encoding="utf-8").strip().encode("utf-8")
    return hmac.new(key, customer_id.encode("utf-8"), hashlib.sha256).hexdigest()


def with_customer_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame keyed by CRM customer_id (as the pandas reference computes it) as the marts carry
    it: customer_key = pseudonym(customer_id) in place of customer_id, at the same position."""
    ids = frame["customer_id"]
    keys = {customer_id: pseudonym(customer_id) for customer_id in ids.dropna().unique()}
    keyed = frame.copy()
    keyed.insert(keyed.columns.get_loc("customer_id"), "customer_key", ids.map(keys))
    return keyed.drop(columns="customer_id")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Refuse a test without a tier; order the run longest-first (xdist hands the modules out
    in this order)."""
    untiered = [item.nodeid for item in items if not _tier(item)]
    if untiered:
        raise pytest.UsageError(
            f"tests without a tier (mark the module with one of {TIERS}): {untiered[:5]}"
        )

    def rank(item: pytest.Item) -> tuple[int, int]:
        first = RUN_FIRST.index(item.path.name) if item.path.name in RUN_FIRST else len(RUN_FIRST)
        return TIERS.index(_tier(item) or "unit"), first

    items.sort(key=rank)  # stable: within a rank, the collection order


def _tier(item: pytest.Item) -> str | None:
    return next((tier for tier in TIERS if item.get_closest_marker(tier)), None)


def once(factory: pytest.TempPathFactory, key: str, make: Callable[[Path], None]) -> Path:
    """A directory `make` fills once per test session, whatever the number of xdist workers
    (they share the base temp directory's parent); the others wait for it, then read it."""
    base = factory.getbasetemp()
    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    shared = root / "shared" / key
    shared.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(shared) + ".lock"):
        if not (shared / ".complete").exists():
            if shared.exists():
                shutil.rmtree(shared)
            shared.mkdir()
            make(shared)
            (shared / ".complete").touch()
    return shared


@dataclass
class DbtResult:
    """What one dbt invocation did: exit code, combined output and the DuckDB file it built."""

    returncode: int
    output: str
    database: Path

    def query(self, sql: str) -> list[tuple]:
        """Rows of a query against the built file, opened read-only."""
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(sql).fetchall()

    def table(self, relation: str, order_by: str) -> list[tuple]:
        """Every row of a relation in a total order."""
        return self.query(f"select * from {relation} order by {order_by}")


def run_dbt(
    args: list[str],
    database: Path,
    vars_: dict | None = None,
    work_dir: Path | None = None,
    unit_tests: bool = False,
    file_log: str = "none",
) -> DbtResult:
    """Run `dbt <args>` in a subprocess on `database`, exactly as a user would from the repo
    (partial parsing on, dbt's default: a second run in the same work_dir with the same vars
    parses only what changed). A `build` leaves the unit tests out unless `unit_tests`: they
    read fixed rows, never the warehouse's, and the shipped seeds' build runs them
    (test_dbt_build.py). dbt's log file (<work_dir>/logs/dbt.log) is written at level
    `file_log`: none by default, since the output holds what a test reads and the debug file
    log costs about a tenth of a build; "debug" for the tests that scan it for personal data
    or keys."""
    work_dir = work_dir or database.parent
    env = {
        **os.environ,
        "CUSTOMER_ANALYTICS_DB": str(database),
        "DBT_PROFILES_DIR": str(REPO),
        "DBT_PROJECT_DIR": str(REPO),
        "DBT_TARGET_PATH": str(work_dir / "target"),
        "DBT_LOG_PATH": str(work_dir / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
        "DBT_LOG_LEVEL_FILE": file_log,
    }
    command = [str(BIN / "dbt"), *args]
    if args[:1] == ["build"] and not unit_tests and "unit_test" not in args:
        command += ["--exclude-resource-type", "unit_test"]
    if vars_:
        import json

        command += ["--vars", json.dumps(vars_)]
    completed = subprocess.run(
        command,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    return DbtResult(completed.returncode, completed.stdout + completed.stderr, database)


NO_DATA_TESTS = ("--exclude-resource-type", "test")
"""`dbt build` arguments: every seed and model, no data test."""

REFERENCE_BUILD = ["build", *NO_DATA_TESTS]
"""A build to compare with: every seed and model, without the data and unit tests (they never
change a table; the builds under test and the seed build run them)."""


def reference_build(database: Path, vars_: dict | None = None) -> DbtResult:
    """A clean build of the same input at `database`, emptied first: its later references in a
    test reuse dbt's parse of the first (same file, target folder and vars). Asserts it passed."""
    for side in ("", ".wal"):
        database.with_name(database.name + side).unlink(missing_ok=True)
    for side in (".tmp", ".raw-utf8"):
        shutil.rmtree(database.with_name(database.name + side), ignore_errors=True)
    database.parent.mkdir(parents=True, exist_ok=True)
    result = run_dbt(REFERENCE_BUILD, database, vars_)
    assert result.returncode == 0, result.output[-5000:]
    return result


def run_clv(database: Path) -> subprocess.CompletedProcess:
    """`customer-analytics clv` on a build file, as make build runs it after dbt build."""
    return subprocess.run(
        [str(BIN / "customer-analytics"), "clv"],
        env={**os.environ, "CUSTOMER_ANALYTICS_DB": str(database)},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def run_validate(
    database: Path, quality_dir: Path | None = None, serving: Path | None = None
) -> subprocess.CompletedProcess:
    """`customer-analytics validate` on a build file, as make build runs it before publish:
    its records (in `quality_dir`, default <build file's folder>/quality, where publish looks
    by default) are what publish requires of the build's current state. Compared with
    `serving` when given, else with nothing published."""
    folder = database.parent
    return subprocess.run(
        [str(BIN / "customer-analytics"), "validate"],
        env={
            **os.environ,
            "CUSTOMER_ANALYTICS_DB": str(database),
            "CUSTOMER_ANALYTICS_SERVING_DB": str(serving or folder / "nothing-served.duckdb"),
            "CUSTOMER_ANALYTICS_EXPORTS_DIR": str(folder / "exports"),
            "CUSTOMER_ANALYTICS_QUALITY_DIR": str(quality_dir or folder / "quality"),
        },
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


def scope_keys(database: Path, model: str) -> set[str]:
    """The keys of the rows `model`'s last incremental run wrote (its data test scope,
    staging.data_test_scopes)."""
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            key
            for (key,) in con.execute(
                "select scope_key from staging.data_test_scopes"
                " where model_name = ? and scope_key is not null",
                [model],
            ).fetchall()
        }


def mart_tables(database: Path, schema: str = "marts") -> dict[str, list[tuple]]:
    """Every table of `schema` in a DuckDB file, all rows in a total order."""
    with duckdb.connect(str(database), read_only=True) as con:
        names = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = ? order by 1", [schema]
            ).fetchall()
        ]
        return {
            name: con.execute(f"select * from {schema}.{name} order by all").fetchall()
            for name in names
        }


def dbt_builder(tmp_path: Path, file_log: str = "none") -> Callable[..., DbtResult]:
    """`dbt build` on a fresh DuckDB file in tmp_path/<name>; vars as keyword arguments; dbt's
    log file at level `file_log` (run_dbt)."""

    def build(name: str = "warehouse", select: list[str] | None = None, **vars_) -> DbtResult:
        work_dir = tmp_path / name
        work_dir.mkdir(exist_ok=True)
        # with a selection, only the tests whose every parent is selected (cautious)
        args = ["build"] + (
            ["--select", *select, "--indirect-selection=cautious"] if select else []
        )
        database = work_dir / f"{name}.duckdb"
        return run_dbt(args, database, vars_ or None, work_dir, file_log=file_log)

    return build


@pytest.fixture
def dbt_build(tmp_path: Path) -> Callable[..., DbtResult]:
    """`dbt build` on a fresh DuckDB file in tmp_path; vars as keyword arguments."""
    return dbt_builder(tmp_path)


def shared_build(
    factory: pytest.TempPathFactory,
    key: str,
    prepare: Callable[[Path], dict | None] | None = None,
    validate: bool = False,
) -> DbtResult:
    """A `dbt build` made once per test session (whatever the number of workers) in the shared
    directory `key`, for tests that only read it (the privacy scans too: dbt's debug log is
    written): `prepare(work_dir)` writes its input and returns the build's vars. With
    `validate`, also `customer-analytics validate` (records in
    <key>/quality), so that publish accepts the build as it is."""

    def make(work_dir: Path) -> None:
        vars_ = prepare(work_dir) if prepare is not None else None
        result = run_dbt(
            ["build"], work_dir / "warehouse.duckdb", vars_, work_dir, unit_tests=True,
            file_log="debug",
        )  # fmt: skip
        (work_dir / "dbt-output.txt").write_text(result.output)
        assert result.returncode == 0, result.output[-5000:]
        if validate:
            validated = run_validate(work_dir / "warehouse.duckdb")
            assert validated.returncode == 0, (validated.stdout + validated.stderr)[-5000:]

    work_dir = once(factory, key, make)
    return DbtResult(0, (work_dir / "dbt-output.txt").read_text(), work_dir / "warehouse.duckdb")


@pytest.fixture(scope="session")
def seed_build(tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    """One full `dbt build` of the shipped seeds, shared (read-only) by every worker's tests;
    validated, so that it can be published as it is (its quality records in <folder>/quality)."""
    return shared_build(tmp_path_factory, "seed_build", validate=True)


GENERATED = {"customers": 1500, "seed": 2024, "start": "2023-03-01", "end": "2025-09-17"}
"""A freshly generated shop: another seed, and a window ending mid-month (incomplete month)."""


@dataclass
class GeneratedBuild:
    """Raw files written by the generator and the `dbt build` of them."""

    raw: Path
    build: DbtResult


@pytest.fixture(scope="session")
def generated_build(tmp_path_factory: pytest.TempPathFactory) -> GeneratedBuild:
    """`customer-analytics generate` with GENERATED, then `dbt build` on those files (once per
    session, shared read-only by every worker's tests)."""

    def generate(work: Path) -> dict:
        args = [f"--{name}={value}" for name, value in GENERATED.items()]
        completed = subprocess.run(
            [str(BIN / "customer-analytics"), "generate", *args, "--out", str(work / "raw")],
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        return {"raw_data_path": str(work / "raw")}

    build = shared_build(tmp_path_factory, "generated_build", generate)
    return GeneratedBuild(build.database.parent / "raw", build)


PLANTED = {"customers": 20_000, "seed": 2025, "start": "2023-01-01", "end": "2025-12-31"}
"""The shop whose planted effects the marts must recover (docs/generator.md, "Planted effects"):
big enough for the effects to stand out of the noise, small enough to build in about a minute."""


@pytest.fixture(scope="session")
def planted_build(tmp_path_factory: pytest.TempPathFactory) -> GeneratedBuild:
    """The generator's PLANTED shop and its `dbt build` (once per session, shared read-only)."""

    def prepare(work: Path) -> dict:
        from tooling.generator import GeneratorConfig, generate

        config = GeneratorConfig(
            customers=PLANTED["customers"],
            seed=PLANTED["seed"],
            start=dt.date.fromisoformat(PLANTED["start"]),
            end=dt.date.fromisoformat(PLANTED["end"]),
        )
        generate(config, work / "raw")
        return {"raw_data_path": str(work / "raw")}

    build = shared_build(tmp_path_factory, "planted_build", prepare)
    return GeneratedBuild(build.database.parent / "raw", build)
