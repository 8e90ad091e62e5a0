"""The dbt project as the orchestration sees it: paths, the vars it always passes, and a
manifest that is parsed offline when the project changed. No Dagster imports."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from orchestration.lib.settings import REPO_ROOT

DBT_PROJECT_DIR = REPO_ROOT
DBT_TARGET_PATH = REPO_ROOT / "target" / "dagster"

_PROJECT_INPUTS = ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "data-tests")


def dbt_executable() -> str:
    """The dbt command of this environment."""
    return str(Path(sys.executable).with_name("dbt"))


def dbt_env(database: Path | str | None = None) -> dict[str, str]:
    """The environment for dbt subprocesses: the repo's profile and its build target dev (never
    the read-only serving target, whatever the shell says), the DuckDB file to build (if
    given), no usage statistics."""
    env = {
        **os.environ,
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_PROJECT_DIR": str(DBT_PROJECT_DIR),
        "DBT_TARGET": "dev",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if database is not None:
        env["CUSTOMER_ANALYTICS_DB"] = str(database)
    return env


def run_target_path(database: Path | str) -> Path:
    """dbt's target directory for the Dagster runs on one warehouse file: the same for both
    dbt steps of a run and for the runs after it (they queue on the warehouse pool), so that
    dbt parses the project once and after that only what changed (dbt's partial parsing,
    which reparses everything when the vars, the profile or a project setting change)."""
    resolved = Path(database).expanduser().resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:12]
    # under dbt's target path, as dagster-dbt places its own: DBT_TARGET_PATH, else target/
    root = DBT_PROJECT_DIR / (os.environ.get("DBT_TARGET_PATH") or "target")
    return root / "dagster-runs" / f"{resolved.stem}-{digest}"


def _newest_input_mtime() -> float:
    newest = 0.0
    for name in _PROJECT_INPUTS:
        path = DBT_PROJECT_DIR / name
        if path.is_file():
            newest = max(newest, path.stat().st_mtime)
        elif path.is_dir():
            for child in path.rglob("*"):
                if child.is_file():
                    newest = max(newest, child.stat().st_mtime)
    return newest


def prepared_manifest_path() -> Path:
    """Path of a manifest.json that matches the project, running `dbt parse` when it is
    missing or older than any project file. Parsing needs no network (no packages.yml).

    The webserver, the daemon and each run load the definitions, often at once: each parses
    into a directory of its own and moves the manifest into place in one step, so that no
    process ever reads another's half-written file."""
    manifest = DBT_TARGET_PATH / "manifest.json"
    if manifest.exists() and manifest.stat().st_mtime >= _newest_input_mtime():
        return manifest
    DBT_TARGET_PATH.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="parse-", dir=DBT_TARGET_PATH) as private:
        parsed = Path(private) / "manifest.json"
        completed = subprocess.run(
            [
                dbt_executable(),
                "parse",
                "--quiet",
                "--target-path",
                private,
                "--log-path",
                private,
            ],
            cwd=DBT_PROJECT_DIR,
            env=dbt_env(),
            capture_output=True,
            text=True,
            check=False,
        )
        if completed.returncode != 0 or not parsed.exists():
            raise RuntimeError(
                "dbt parse failed, so the Dagster definitions cannot be built; run "
                f"`dbt parse` in {DBT_PROJECT_DIR} to see why:\n{completed.stdout[-2000:]}"
            )
        os.replace(parsed, manifest)
    return manifest
