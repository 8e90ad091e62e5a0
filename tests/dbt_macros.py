"""Compiling some of the project's macros on their own, for each engine.

A plain helper module (no fixtures) for the tests that check macros on DuckDB and on Spark:
a dbt project of chosen macro files only, named as the real one (dispatch searches the
customer_analytics namespace) and run with the real profile, and the SQL that
`dbt compile --inline` makes of a query for a target. Compiling for Spark opens no Spark
session (--no-populate-cache).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def macro_project(folder: Path, paths: list[str]) -> Path:
    """A dbt project in `folder` of the given files and folders under macros/ only."""
    (folder / "macros").mkdir(parents=True)
    for path in paths:
        source = REPO / "macros" / path
        if source.is_dir():
            shutil.copytree(source, folder / "macros" / path)
        else:
            shutil.copy(source, folder / "macros" / path)
    (folder / "dbt_project.yml").write_text(
        "name: customer_analytics\nversion: '0.1.0'\nconfig-version: 2\n"
        "profile: customer_analytics\nmacro-paths: [macros]\n"
        "flags:\n  send_anonymous_usage_stats: false\n",
        encoding="utf-8",
    )
    return folder


def dbt_env(work: Path) -> dict[str, str]:
    """The environment of a dbt command with the real profile, its files under `work`."""
    return {
        **os.environ,
        "DBT_PROFILES_DIR": str(REPO),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_USE_COLORS": "false",
        "CUSTOMER_ANALYTICS_DB": str(work / "compile.duckdb"),
        "CUSTOMER_ANALYTICS_SPARK_DIR": str(work / "spark"),
        "SPARK_LOCAL_IP": "127.0.0.1",
    }


def compile_inline(project: Path, target: str, sql: str, work: Path) -> str:
    """The SQL that `dbt compile --inline` makes of `sql` for `target` (dev: DuckDB)."""
    env = dbt_env(work)
    completed = subprocess.run(
        [
            str(BIN / "dbt"), "compile", "--project-dir", str(project), "--target", target,
            "--target-path", str(work / f"target-{target}"), "--log-path", str(work / "logs"),
            "--no-populate-cache", "--quiet", "--output", "json", "--inline", sql,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )  # fmt: skip
    assert completed.returncode == 0, (completed.stdout + completed.stderr)[-3000:]
    return json.loads(completed.stdout)["compiled"]
