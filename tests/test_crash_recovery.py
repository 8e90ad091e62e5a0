"""Crash recovery: kill -9 `make build` (dbt build, validate, then customer-analytics publish)
during a model, during publish before the swap and right after it. Until the swap the old
publication stays served byte for byte; after a rerun the served marts equal those of a clean
build. A build whose dbt run was killed is refused by publish even when run by hand.

Every step runs the real commands in subprocesses, as `make build` does, on its own files
(`make build` also runs `customer-analytics clv`; the served CLV marts are then those of a
build the CLV step did not fit, in the clean build too).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, REPO, DbtResult, run_validate

from orchestration.lib.publish import FAILPOINT_ENV
from orchestration.lib.serving import locked_down_connection

pytestmark = pytest.mark.e2e

OLD_VARS = {"churn_window_days": 90}
"""The old publication is a real build with a shorter churn window: its marts differ. (At an
earlier reference date, the later rows would be quarantined as future: validate fails it.)"""

KILL_AT_MODEL = "marts.dim_customers"
"""A mart that starts after other marts of the same run were already rewritten."""

START_LINE = re.compile(r"\bSTART sql \w+ model (\S+) ")
TIMEOUT = 600


@dataclass(frozen=True)
class Site:
    """One installation: build file, serving file, exports and dbt's target/logs."""

    root: Path

    @property
    def build(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        return self.root / "serving" / "served.duckdb"

    @property
    def exports(self) -> Path:
        return self.root / "exports"

    @property
    def current(self) -> Path:
        return self.exports / "current"

    @property
    def quality(self) -> Path:
        return self.root / "quality"


def dbt_env(site: Site) -> dict[str, str]:
    """The environment of conftest.run_dbt (and of `make build`) for this site."""
    return {
        **os.environ,
        "CUSTOMER_ANALYTICS_DB": str(site.build),
        "DBT_PROFILES_DIR": str(REPO),
        "DBT_PROJECT_DIR": str(REPO),
        "DBT_TARGET_PATH": str(site.root / "target"),
        "DBT_LOG_PATH": str(site.root / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
        # only so that the test sees each log line as dbt writes it
        "PYTHONUNBUFFERED": "1",
    }


def dbt_build_command(vars_: dict | None = None) -> list[str]:
    return [str(BIN / "dbt"), "build", *(["--vars", json.dumps(vars_)] if vars_ else [])]


def run_dbt_build(site: Site, vars_: dict | None = None) -> subprocess.CompletedProcess:
    """`dbt build` to completion; fails the test unless it succeeded."""
    done = subprocess.run(
        dbt_build_command(vars_),
        cwd=REPO,
        env=dbt_env(site),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]
    return done


def run_publish(site: Site, failpoint: str | None = None) -> subprocess.CompletedProcess:
    """`customer-analytics publish` with the default (time-based) build id, as `make build`."""
    env = {
        **os.environ,
        "CUSTOMER_ANALYTICS_DB": str(site.build),
        "CUSTOMER_ANALYTICS_SERVING_DB": str(site.serving),
        "CUSTOMER_ANALYTICS_EXPORTS_DIR": str(site.exports),
        "CUSTOMER_ANALYTICS_QUALITY_DIR": str(site.quality),
    }
    env.pop(FAILPOINT_ENV, None)
    if failpoint:
        env[FAILPOINT_ENV] = failpoint
    return subprocess.run(
        [str(BIN / "customer-analytics"), "publish"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


def validate(site: Site) -> None:
    """`customer-analytics validate` of the site's build, as `make build` runs it before
    publish (which requires its records); fails the test unless every suite passed."""
    done = run_validate(site.build, site.quality, site.serving)
    assert done.returncode == 0, (done.stdout + done.stderr)[-5000:]


def finish_dbt_build(site: Site, finished: DbtResult) -> None:
    """The steps before publish: the warehouse as a successful full `dbt build` leaves it (a
    copy of the session's clean build, to save a dbt build per test), validated."""
    shutil.copy2(finished.database, site.build)
    validate(site)


def make_build(site: Site, vars_: dict | None = None) -> None:
    """`make build`: dbt build, validate, then publish; fails the test unless all succeeded."""
    run_dbt_build(site, vars_)
    validate(site)
    published = run_publish(site)
    assert published.returncode == 0, published.stderr[-5000:]


def kill_dbt_build_when_model_starts(site: Site, model: str) -> tuple[int, str]:
    """Start `dbt build`, SIGKILL its whole process group as soon as dbt logs the START of
    `model`; returns the exit code and everything dbt printed."""
    process = subprocess.Popen(
        dbt_build_command(),
        cwd=REPO,
        env=dbt_env(site),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    watchdog = threading.Timer(TIMEOUT, os.killpg, (process.pid, signal.SIGKILL))
    watchdog.start()
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            started = START_LINE.search(line)
            if started and started.group(1) == model:
                os.killpg(process.pid, signal.SIGKILL)
                break
        lines.append(process.stdout.read())
        returncode = process.wait(timeout=TIMEOUT)
    finally:
        watchdog.cancel()
        process.stdout.close()
    return returncode, "".join(lines)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fingerprint(site: Site) -> dict[str, str]:
    """What readers see: the served file's bytes (and whether a WAL lies beside it), where
    exports/current points and the bytes of every file behind it."""
    prints = {
        "served file": sha256(site.serving),
        "served wal": str(site.serving.with_name(site.serving.name + ".wal").exists()),
        "current ->": os.readlink(site.current),
    }
    for path in sorted(site.current.iterdir()):
        prints[f"current/{path.name}"] = sha256(path)
    return prints


def hidden_leftovers(site: Site) -> list[Path]:
    """Staged files or directories of a publish that did not finish."""
    return sorted([*site.serving.parent.glob(".*tmp*"), *site.exports.glob(".*tmp*")])


def served_build_ids(serving: Path) -> list[str]:
    with duckdb.connect(str(serving), read_only=True) as con:
        query = "select distinct build_id from marts.publication order by 1"
        return [build_id for (build_id,) in con.execute(query).fetchall()]


def served_tables(serving: Path) -> dict[str, tuple[list[tuple], list[tuple]]]:
    """Columns and every row (in a total order) of every table in the served file; of the
    publication record all but build_id and published_at, which differ between builds."""
    tables = {}
    with duckdb.connect(str(serving), read_only=True) as con:
        names = con.execute(
            "select schema_name, table_name from duckdb_tables() order by all"
        ).fetchall()
        for schema, name in names:
            exclude = " exclude (build_id, published_at)" if name == "publication" else ""
            relation = f"(select *{exclude} from {schema}.{name})"
            columns = con.execute(f"select column_name, column_type from (describe {relation})")
            rows = con.execute(f"select * from {relation} order by all")
            tables[f"{schema}.{name}"] = (columns.fetchall(), rows.fetchall())
    return tables


def served_row_counts(serving: Path) -> dict[str, int]:
    """count(*) of every served mart, publication record excluded."""
    with duckdb.connect(str(serving), read_only=True) as con:
        names = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'marts'"
            " and table_name != 'publication' order by 1"
        ).fetchall()
        return {
            name: con.execute(f"select count(*) from marts.{name}").fetchone()[0]
            for (name,) in names
        }


def parquet_row_counts(directory: Path) -> dict[str, int]:
    return {
        path.stem: duckdb.sql(f"select count(*) from read_parquet('{path}')").fetchone()[0]
        for path in sorted(directory.glob("*.parquet"))
    }


def assert_same_tables(served: dict, expected: dict) -> None:
    assert sorted(served) == sorted(expected)
    for name in expected:
        assert served[name] == expected[name], f"{name} differs from the clean build"


def assert_old_publication_untouched(site: Site, before: dict[str, str]) -> None:
    assert fingerprint(site) == before


def assert_rerun_serves_the_clean_build(site: Site, clean: dict, stale_ids: set[str]) -> None:
    """After a rerun: the clean build's tables, one new build id served and exported, the
    exports in step with the served file, nothing staged left behind."""
    assert_same_tables(served_tables(site.serving), clean)
    (build_id,) = served_build_ids(site.serving)
    assert build_id not in stale_ids
    assert os.readlink(site.current) == build_id
    assert parquet_row_counts(site.current) == served_row_counts(site.serving)
    assert hidden_leftovers(site) == []


@pytest.fixture(scope="module")
def old_site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A site where `make build` already ran once at an earlier reference date."""
    site = Site(tmp_path_factory.mktemp("old_site"))
    make_build(site, OLD_VARS)
    return site


@pytest.fixture(scope="module")
def clean_tables(seed_build: DbtResult, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """What a clean `make build` serves: the session's clean dbt build, published by the CLI."""
    site = Site(tmp_path_factory.mktemp("clean_site"))
    site.root.joinpath(site.build.name).symlink_to(seed_build.database)
    site.quality.symlink_to(seed_build.database.parent / "quality")  # validated there
    published = run_publish(site)
    assert published.returncode == 0, published.stderr[-5000:]
    return served_tables(site.serving)


@pytest.fixture
def site(old_site: Site, clean_tables: dict, tmp_path: Path) -> Site:
    """A copy of the old site (warehouse, served file, exports) that a crash may wreck."""
    copy = Site(tmp_path / "site")
    copy.root.mkdir()
    shutil.copy2(old_site.build, copy.build)
    shutil.copytree(old_site.serving.parent, copy.serving.parent, symlinks=True)
    shutil.copytree(old_site.exports, copy.exports, symlinks=True)
    # the crash tests can only tell old from new if the two publications differ
    assert served_tables(copy.serving) != clean_tables
    assert hidden_leftovers(copy) == []
    return copy


def test_kill_during_a_model(site: Site, clean_tables: dict) -> None:
    """kill -9 of dbt build while a mart is being built (other marts of the run already
    rewritten in the warehouse) leaves the old publication served untouched, and a rerun of
    `make build` serves exactly the clean build's marts."""
    (old_id,) = served_build_ids(site.serving)
    before = fingerprint(site)

    returncode, output = kill_dbt_build_when_model_starts(site, KILL_AT_MODEL)
    assert returncode == -signal.SIGKILL, output[-5000:]
    assert f" START sql table model {KILL_AT_MODEL} " in output
    assert "Completed successfully" not in output
    # make stops at the failed dbt build: publish never runs
    assert_old_publication_untouched(site, before)
    # and publish run by hand refuses the half-built file: its dbt run never finished
    run_validate(site.build, site.quality, site.serving)
    refused = run_publish(site)
    assert refused.returncode == 1, refused.stderr[-5000:]
    assert "its last dbt invocation (dbt build, started " in refused.stderr
    assert "did not finish" in refused.stderr and "run make build" in refused.stderr
    assert_old_publication_untouched(site, before)

    make_build(site)
    assert_rerun_serves_the_clean_build(site, clean_tables, {old_id})


def test_kill_publish_before_the_swap(
    site: Site, clean_tables: dict, seed_build: DbtResult
) -> None:
    """kill -9 of publish once the new serving file and exports are staged but before any
    rename leaves the old file served byte for byte with its exports; a rerun removes the
    staged leftovers and serves exactly the clean build's marts."""
    (old_id,) = served_build_ids(site.serving)
    before = fingerprint(site)

    finish_dbt_build(site, seed_build)
    crashed = run_publish(site, failpoint="publish.before_swap")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-5000:]
    assert_old_publication_untouched(site, before)
    assert hidden_leftovers(site), "the publish was killed before it staged anything"
    assert sha256(site.serving.parent / "backups" / f"{old_id}.duckdb") == before["served file"]

    make_build(site)
    assert_rerun_serves_the_clean_build(site, clean_tables, {old_id})


def test_kill_publish_after_the_swap(site: Site, clean_tables: dict, seed_build: DbtResult) -> None:
    """kill -9 of publish right after the serving file was replaced: the new file is served
    whole (BI readers open it and see one complete build, the clean build's marts), the old
    one is kept as a backup; a rerun serves the clean build's marts with exports in step."""
    (old_id,) = served_build_ids(site.serving)
    before = fingerprint(site)

    finish_dbt_build(site, seed_build)
    crashed = run_publish(site, failpoint="publish.after_swap")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-5000:]
    (crashed_id,) = served_build_ids(site.serving)
    assert crashed_id != old_id
    assert os.readlink(site.current) == before["current ->"]  # killed before the link moved
    reader = locked_down_connection(site.serving)
    try:
        recorded = dict(
            reader.execute("select table_name, row_count from marts.publication").fetchall()
        )
        for table, rows in recorded.items():
            assert reader.execute(f"select count(*) from marts.{table}").fetchone() == (rows,)
    finally:
        reader.close()
    assert recorded == served_row_counts(site.serving)
    assert_same_tables(served_tables(site.serving), clean_tables)
    assert sha256(site.serving.parent / "backups" / f"{old_id}.duckdb") == before["served file"]

    make_build(site)
    assert_rerun_serves_the_clean_build(site, clean_tables, {old_id, crashed_id})
