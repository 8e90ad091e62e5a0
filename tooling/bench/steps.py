"""The benchmark's steps: a registry, in the order they run, each with the steps it needs.

A step is a function of the run's `Context` that measures one process (tooling.bench.measure)
and returns its `Step`. It runs when it was chosen and every step it `needs` ran and
succeeded; otherwise it is left out of the results. Adding a step is one function and one
line in STEPS.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.settings import REPO_ROOT
from tooling.bench.compare import compare_with_marts, marts_that_differ
from tooling.bench.data import GENERATOR_ARGS
from tooling.bench.floor import copy_seeds
from tooling.bench.measure import measure, peer_memory_cap
from tooling.bench.results import Result, Step, dbt_time_split
from tooling.bench.spark import spark_environment

BIN = Path(sys.executable).parent


@dataclass
class Context:
    """What every step of one run shares: where it works and on which raw files."""

    work: Path
    database: Path
    raw: Path
    complete: Path | None
    """The complete generated files (None at scale S: the shipped seeds, nothing held back)."""
    day_partitions: Path | None
    """The held-back last day of the event tables as day partitions (<table>/<day>.<format>);
    None at scale S."""
    held_back: int
    total_rows: int
    memory_limit: str
    env: dict[str, str]
    result: Result
    steps: tuple[str, ...] = ()
    """The steps chosen for this run."""

    @property
    def variables(self) -> str:
        return json.dumps({"raw_data_path": str(self.raw)})

    def child(self, *args: str) -> list[str]:
        """A measured child process of this package (`python -m tooling.bench …`)."""
        return [sys.executable, "-m", "tooling.bench", *args]


def environment(
    database: Path, work: Path, threads: int | None, memory_limit: str
) -> dict[str, str]:
    """The environment of every measured process: the build file, DuckDB's limits, dbt's paths
    in the work folder, nothing published."""
    return {
        **os.environ,
        **({"CUSTOMER_ANALYTICS_THREADS": str(threads)} if threads else {}),
        "CUSTOMER_ANALYTICS_DB": str(database),
        "CUSTOMER_ANALYTICS_MEMORY_LIMIT": memory_limit,
        "CUSTOMER_ANALYTICS_SERVING_DB": str(work / "no-publication.duckdb"),
        "CUSTOMER_ANALYTICS_QUALITY_DIR": str(work / "quality"),
        "DBT_PROFILES_DIR": str(REPO_ROOT),
        "DBT_PROJECT_DIR": str(REPO_ROOT),
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PARTIAL_PARSE": "false",
    }


def check_marts(step: Step, build: Path, other: Path, whose: str, context: str) -> None:
    """Fail `step` unless the marts in `other` equal those in `build`; say so in its note."""
    differing = marts_that_differ(build, other)
    step.note = (
        f"marts differ from {whose}: {', '.join(differing)}"
        if differing
        else f"{context}every mart equal to {whose}"
    )
    step.ok = not differing


def add_time_split(step: Step, work: Path) -> None:
    """Append where the time of a successful dbt step went to its note, from the run_results
    that step wrote (each dbt step overwrites them, so call it right after the step)."""
    run_results = work / "target" / "run_results.json"
    if step.ok and run_results.exists():
        split = dbt_time_split(json.loads(run_results.read_text()), step.seconds)
        step.note = f"{step.note}; {split}" if step.note else split


def dbt(ctx: Context) -> Step:
    """A full `dbt build` (models and every test) reading the raw files through raw_data_path."""
    step = measure(
        "dbt", [str(BIN / "dbt"), "build", "--vars", ctx.variables], ctx.env, ctx.total_rows
    )
    add_time_split(step, ctx.work)
    return step


def floor(ctx: Context) -> Step:
    """The engine floor on a copy of the seeds, then its marts checked equal to dbt's."""
    floor_db = ctx.work / "floor" / ctx.database.name
    floor_db.parent.mkdir()
    copy_seeds(ctx.database, floor_db)
    manifest = ctx.work / "target" / "manifest.json"
    command = ctx.child("floor", str(manifest), str(floor_db), ctx.memory_limit)
    step = measure("floor", command, ctx.env, ctx.total_rows)
    if step.ok:
        check_marts(step, ctx.database, floor_db, "dbt's", "")
    return step


def dagster(ctx: Context) -> Step:
    """The dbt assets (raw models included) materialised by Dagster into a fresh file."""
    dagster_db = ctx.work / "dagster" / ctx.database.name
    dagster_db.parent.mkdir()
    step = measure(
        "dagster",
        ctx.child("dagster", str(dagster_db), str(ctx.raw)),
        {**ctx.env, "CUSTOMER_ANALYTICS_DB": str(dagster_db)},
        ctx.total_rows,
    )
    if step.ok:
        check_marts(step, ctx.database, dagster_db, "dbt's", "dbt assets, raw models included; ")
    return step


def reference_peer(ctx: Context, library: str) -> Step:
    """A reference peer (tooling.<library>_reference) in its own memory-capped process; its
    results checked equal to the marts of dbt's build."""
    reference_pickle = ctx.work / f"{library}_reference.pickle"
    cap = peer_memory_cap()
    step = measure(
        library,
        ctx.child(library, str(ctx.raw), str(reference_pickle)),
        ctx.env,
        ctx.total_rows,
        memory_cap_bytes=cap,
    )
    # pandas raises MemoryError; Polars (Rust) aborts with "memory allocation of … failed"
    if not step.ok and ("MemoryError" in step.note or "memory allocation of" in step.note):
        step.note = f"ran out of memory (capped at {cap / 2**30:.0f} GB address space, 3/4 of RAM)"
    built = ctx.result.step("dbt")
    if step.ok and built and built.ok:
        mismatches = compare_with_marts(reference_pickle, ctx.database, peer=library)
        ctx.result.record_peer(library, mismatches)
        step.note = "results differ from the marts" if mismatches else "results equal the marts"
    return step


def pandas(ctx: Context) -> Step:
    """The pandas peer (tooling.pandas_reference): the core marts from the raw files."""
    return reference_peer(ctx, "pandas")


def polars(ctx: Context) -> Step:
    """The Polars peer (tooling.polars_reference, lazy and streaming): the same core marts."""
    return reference_peer(ctx, "polars")


def io_floor(ctx: Context) -> Step:
    """The I/O floor: one DuckDB scan of every column of every raw file, as text, nothing
    else; its rows are the rows it read."""
    report_path = ctx.work / "io_floor.json"
    command = ctx.child("io_floor", str(ctx.raw), str(report_path), ctx.memory_limit)
    step = measure("io_floor", command, ctx.env)
    if step.ok:
        report = json.loads(report_path.read_text())
        step.rows = sum(file["rows"] for file in report.values())
        columns = sum(file["columns"] for file in report.values())
        characters = sum(file["characters"] for file in report.values())
        step.note = (
            f"{columns} columns of {len(report)} files read as text "
            f"({characters / 1e6:,.1f} M characters)"
        )
    return step


def gx(ctx: Context) -> Step:
    """The Great Expectations suites (customer-analytics validate) on dbt's build."""
    return measure("gx", [str(BIN / "customer-analytics"), "validate"], ctx.env, ctx.total_rows)


def clv(ctx: Context) -> Step:
    """The CLV step (customer-analytics clv) on dbt's build: BG/NBD and Gamma-Gamma fitted on
    every customer, the predictions, and the holdout fit (target at L: 60 s, 2 GB)."""
    import duckdb

    from orchestration.lib.relations import mart

    step = measure("clv", [str(BIN / "customer-analytics"), "clv"], ctx.env)
    if step.ok:
        with duckdb.connect(str(ctx.database), read_only=True) as con:
            status, customers, repeaters = con.execute(
                f"select fit_status, customers, repeat_customers from {mart('clv_fit_status')}"
            ).fetchone()
        step.note = f"{status}: {customers:,} customers, {repeaters:,} repeat buyers"
    return step


def daily_build(ctx: Context) -> Path:
    """The daily step's build file: the dbt step's, copied (or moved, when no later step of
    the run reads it)."""
    return ctx.work / "daily" / ctx.database.name


def daily(ctx: Context) -> Step:
    """The held-back last day lands as day partitions beside the whole-table files
    (orders/<day>.csv …) with that day's complete CRM export, and `dbt build` runs on a copy of
    the dbt step's build: the daily run of a shop that lands one file per day. The landing is
    put back as it was afterwards (the incremental step appends the day to the files). When
    the incremental step does not run, the dbt step's file is moved instead of copied: at XL
    it holds 30 GB, and a copy left too little disk for the run's spill."""
    build = daily_build(ctx)
    build.parent.mkdir()
    if "incremental" in ctx.steps:
        shutil.copy(ctx.database, build)
    else:
        os.replace(ctx.database, build)
    added: list[Path] = []
    restore: list[tuple[Path, Path]] = []
    if ctx.complete is not None and ctx.day_partitions is not None:
        for folder in sorted(ctx.day_partitions.iterdir()):
            shutil.copytree(folder, ctx.raw / folder.name)
            added.append(ctx.raw / folder.name)
        for customers in ctx.complete.glob("customers.*"):
            kept = ctx.work / "daily" / f"kept-{customers.name}"
            shutil.copy2(ctx.raw / customers.name, kept)
            shutil.copy(customers, ctx.raw / customers.name)
            restore.append((kept, ctx.raw / customers.name))
        note = f"{GENERATOR_ARGS['end']} landed as day partitions ({ctx.held_back:,} raw rows)"
    else:
        note = "a second run on the unchanged seeds (no day to land at S)"
    try:
        step = measure(
            "daily",
            [str(BIN / "dbt"), "build", "--vars", ctx.variables],
            next_day_environment(ctx, build),
        )
    finally:
        for folder in added:
            shutil.rmtree(folder)
        for kept, original in restore:
            shutil.copy2(kept, original)
    step.rows, step.note = ctx.held_back, step.note or note
    add_time_split(step, ctx.work)
    return step


def next_day_environment(ctx: Context, database: Path) -> dict[str, str]:
    """The environment of a run on the next day, on `database`: dbt's partial parsing on (its
    default), with the manifest of the day before, parsed beforehand with the same profile and
    vars and not measured. Every other dbt step parses the whole project, as on a first run."""
    env = {**ctx.env, "CUSTOMER_ANALYTICS_DB": str(database), "DBT_PARTIAL_PARSE": "true"}
    subprocess.run(
        [str(BIN / "dbt"), "parse", "--vars", ctx.variables],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return env


def incremental(ctx: Context) -> Step:
    """The held-back last day lands and `dbt build` runs again on the same file."""
    if ctx.complete is None:
        new_rows, note = 0, "a second run on the unchanged seeds (no day to append at S)"
    else:
        for path in ctx.complete.iterdir():
            shutil.copy(path, ctx.raw / path.name)
        new_rows = ctx.held_back
        note = f"after appending {GENERATOR_ARGS['end']} ({ctx.held_back:,} raw rows)"
    step = measure(
        "incremental",
        [str(BIN / "dbt"), "build", "--vars", ctx.variables],
        next_day_environment(ctx, ctx.database),
    )
    step.rows, step.note = new_rows, step.note or note
    add_time_split(step, ctx.work)
    return step


def full(ctx: Context) -> Step:
    """A full `dbt build` of the same complete files into a fresh file, checked equal to the
    incremental run's marts."""
    full_db = ctx.work / "full" / ctx.database.name
    full_db.parent.mkdir()
    step = measure(
        "full",
        [str(BIN / "dbt"), "build", "--vars", ctx.variables],
        {**ctx.env, "CUSTOMER_ANALYTICS_DB": str(full_db)},
        ctx.total_rows + ctx.held_back,
    )
    if step.ok:
        check_marts(
            step,
            ctx.database,
            full_db,
            "the incremental run's",
            "same complete files into a fresh file; ",
        )
    daily_step = ctx.result.step("daily")
    if step.ok and daily_step is not None and daily_step.ok:
        check_marts(
            step,
            daily_build(ctx),
            full_db,
            "the incremental and the daily runs'",
            "same complete files into a fresh file; ",
        )
    add_time_split(step, ctx.work)
    return step


def spark(ctx: Context) -> Step:
    """The same full `dbt build` on the Spark target (docs/spark.md: local session, every
    incremental model built in full), into its own Spark folder; its marts then checked equal
    to dbt's DuckDB build by a child process (not measured)."""
    env = {**ctx.env, **spark_environment(ctx.work)}
    step = measure(
        "spark",
        [str(BIN / "dbt"), "build", "--target", "spark", "--vars", ctx.variables],
        env,
        ctx.total_rows,
    )
    add_time_split(step, ctx.work)
    built = ctx.result.step("dbt")
    if step.ok and built is not None and built.ok:
        compared = subprocess.run(
            ctx.child("spark_marts", str(ctx.work / "spark"), str(ctx.database)),
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        verdict = (compared.stdout.strip().splitlines() or ["no verdict"])[-1]
        step.note = f"{verdict}; {step.note}" if step.note else verdict
        step.ok = compared.returncode == 0
    return step


@dataclass(frozen=True)
class StepSpec:
    """A registered step: its function and the steps that must have succeeded before it."""

    run: Callable[[Context], Step]
    needs: tuple[str, ...] = ()


STEPS: dict[str, StepSpec] = {
    "dbt": StepSpec(dbt),
    "floor": StepSpec(floor, needs=("dbt",)),
    "dagster": StepSpec(dagster, needs=("dbt",)),
    "pandas": StepSpec(pandas),
    "polars": StepSpec(polars),
    "io_floor": StepSpec(io_floor),
    "gx": StepSpec(gx, needs=("dbt",)),
    "clv": StepSpec(clv, needs=("dbt",)),
    "daily": StepSpec(daily, needs=("dbt",)),
    "incremental": StepSpec(incremental, needs=("dbt",)),
    "full": StepSpec(full, needs=("incremental",)),
    "spark": StepSpec(spark),
}
"""Every step after the data is ready, in the order they run."""

NAMES = ("generate", *STEPS)
"""Every step a user can choose: `generate` (the generator writing the raw files, measured while
the data is prepared; not at scale S, the shipped seeds) and the registry."""

OPT_IN = ("spark",)
"""Steps that run only when chosen (`--steps`): the Spark target needs `make spark`."""

DEFAULT = tuple(name for name in NAMES if name not in OPT_IN)
"""The steps of a run without `--steps`."""
