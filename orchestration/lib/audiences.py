"""The audiences marketers load into their email or CRM tools: every view of the restricted
schema `activation` of a build file (models/activation/), exported as CSV with a manifest at
each publish, to CUSTOMER_ANALYTICS_AUDIENCES_DIR (default warehouse/audiences).

`<root>/<build_id>/` holds `<audience>.csv` (customer_key, email, first_name and the rule's
columns) and `manifest.json` (build id, reference date, and per audience its rule, file and
count); `<root>/current` points at the latest. Only the latest export is kept: a customer who
withdrew consent or was erased is gone from every file at the next publish. The folder is
created 0700 and the files 0600 (personal data: for the marketing operator, not the BI user).
DuckDB and the filesystem only.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.lib.relations import ACTIVATION_SCHEMA, sql_string, staging_model

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class AudienceExport:
    """What one export wrote."""

    folder: Path
    counts: dict[str, int]


def stage_audiences(build_file: Path, root: Path, build_id: str) -> Path:
    """Write every audience of `build_file` into a staged folder beside `root/<build_id>`
    (returned); `swap_audiences` makes it current. Opened read-only under its own name, so the
    views find the tables they read."""
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    root.chmod(0o700)
    staged = root / f".{build_id}.tmp"
    if staged.exists():
        shutil.rmtree(staged)
    staged.mkdir(mode=0o700)
    audiences: list[dict[str, object]] = []
    with duckdb.connect(str(build_file), read_only=True) as con:
        views = con.execute(
            "select view_name, comment from duckdb_views()"
            " where schema_name = ? and not internal order by view_name",
            [ACTIVATION_SCHEMA],
        ).fetchall()
        (reference_date,) = con.execute(
            f"select max(reference_date) from {staging_model('stg_shop__reference_date')}"
        ).fetchone()
        for name, comment in views:
            target = staged / f"{name}.csv"
            relation = f'{ACTIVATION_SCHEMA}."{name}"'
            con.execute(
                f"copy (select * from {relation} order by customer_key) to "
                f"{sql_string(str(target))} (header, delimiter ',')"
            )
            target.chmod(0o600)
            (count,) = con.execute(f"select count(*) from {relation}").fetchone()
            audiences.append(
                {"audience": name, "file": target.name, "customers": count, "rule": comment or ""}
            )
    manifest = {
        "build_id": build_id,
        "exported_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "reference_date": str(reference_date) if reference_date else None,
        "consent": "only customers whose marketing consent holds as of the build "
        "(dim_customers.is_contactable) and who have an email address",
        "audiences": audiences,
    }
    (staged / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    (staged / MANIFEST).chmod(0o600)
    return staged


def swap_audiences(staged: Path, root: Path, build_id: str) -> AudienceExport:
    """Make the staged export `root/<build_id>` and `root/current`, and remove every older
    export (it may hold customers who have since withdrawn consent or been erased)."""
    folder = root / build_id
    if folder.exists():
        shutil.rmtree(folder)
    os.replace(staged, folder)
    link = root / ".current.tmp"
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(build_id, target_is_directory=True)
    os.replace(link, root / "current")
    for old in root.iterdir():
        if old.is_dir() and not old.is_symlink() and old.name != build_id:
            shutil.rmtree(old)
    manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return AudienceExport(
        folder, {entry["audience"]: entry["customers"] for entry in manifest["audiences"]}
    )
