"""One benchmark run: prepare the data (generate it, hold back its last day), run the chosen
steps of the registry (tooling.bench.steps) and write the results."""

from __future__ import annotations

import fcntl
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from orchestration.lib.settings import REPO_ROOT
from tooling.bench.data import GENERATOR_ARGS, SCALES, hold_back_last_day, raw_row_counts
from tooling.bench.measure import machine, measure
from tooling.bench.results import Result, Step
from tooling.bench.steps import BIN, DEFAULT, STEPS, Context, environment


class WorkFolderBusy(RuntimeError):
    """Another benchmark run holds the work folder this run needs."""


@contextmanager
def work_folder_lock(work: Path) -> Iterator[None]:
    """Hold <work>'s lock (a file beside it) for the whole run: two runs of the same scale or
    customer count share the work folder, so a second one stops at once, naming it, instead
    of emptying the folder under the first."""
    work.parent.mkdir(parents=True, exist_ok=True)
    with (work.parent / f".{work.name}.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkFolderBusy(
                f"another benchmark run is using the work folder {work}: wait for it to finish, "
                "or run another scale or --customers count"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run(
    scale: str = "S",
    customers: int | None = None,
    out: Path | None = None,
    threads: int | None = None,
    memory_limit: str = "4GB",
    steps: tuple[str, ...] = DEFAULT,
) -> Result:
    """Run the benchmark at `scale` (or `customers` generated customers); write JSON and
    Markdown to `out` (default benchmarks/results/)."""
    customers = customers if customers is not None else SCALES[scale]
    label = scale if customers == SCALES.get(scale) else f"{customers} customers"
    work = REPO_ROOT / "warehouse" / "bench" / (scale if label == scale else f"c{customers}")
    with work_folder_lock(work):
        return _run(label, customers, work, out, threads, memory_limit, steps)


def _run(
    label: str,
    customers: int | None,
    work: Path,
    out: Path | None,
    threads: int | None,
    memory_limit: str,
    steps: tuple[str, ...],
) -> Result:
    out = out or REPO_ROOT / "benchmarks" / "results"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    database = work / "build.duckdb"
    env = environment(database, work, threads, memory_limit)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"benchmark {label}: work folder {work}", flush=True)

    complete: Path | None = None
    day_partitions: Path | None = None
    held_back = 0
    prepared: list[Step] = []
    if customers is None:
        raw = REPO_ROOT / "data" / "raw"
    else:
        raw, complete = work / "raw", work / "raw-complete"
        args = [f"--{name}={value}" for name, value in GENERATOR_ARGS.items()]
        fmt = "csv" if customers < 10_000 else "parquet"
        command = [str(BIN / "customer-analytics"), "generate", f"--customers={customers}", *args]
        prepared.append(
            measure("generate", [*command, f"--format={fmt}", "--out", str(complete)], env)
        )
        day_partitions = work / "raw-last-day"
        held_back = hold_back_last_day(complete, raw, GENERATOR_ARGS["end"], day_partitions)
    rows = raw_row_counts(raw)
    total_rows = sum(rows.values())
    for step in prepared:
        step.rows = total_rows
    result = Result(
        scale=label,
        customers=customers or 2000,
        machine=machine(),
        raw_rows=rows,
        steps=prepared,
        started_at=started,
    )
    ctx = Context(
        work=work,
        database=database,
        raw=raw,
        complete=complete,
        day_partitions=day_partitions,
        held_back=held_back,
        total_rows=total_rows,
        memory_limit=memory_limit,
        env=env,
        result=result,
        steps=steps,
    )
    for name, spec in STEPS.items():
        ready = all((need := result.step(n)) is not None and need.ok for n in spec.needs)
        if name in steps and ready:
            result.steps.append(spec.run(ctx))

    out.mkdir(parents=True, exist_ok=True)
    stem = label.replace(" ", "_")
    (out / f"{stem}.json").write_text(json.dumps(result.to_dict(), indent=2, default=str))
    (out / f"{stem}.md").write_text(result.markdown())
    print(result.markdown(), flush=True)
    print(f"written: {out / (stem + '.json')} and .md", flush=True)
    return result
