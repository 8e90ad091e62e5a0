"""The benchmark: one data set, one machine, every way of computing the marts side by side.

Steps (each in its own process, so that its peak memory is its own):
  generate  the generator writes the raw files (Parquet; the shipped CSV seeds at scale S);
  dbt       a full `dbt build` (models and every test) reading them through raw_data_path;
  floor     the engine floor: the compiled SQL of every model (and every data test) of that
            build, run in DAG order in one DuckDB connection with the same settings, no dbt;
  dagster   the same dbt build materialised through Dagster (dbt assets and their checks), on
            the raw files landed beforehand;
  pandas    the pandas peer: orchestration.lib.pandas_reference on the same files, its results
            then checked equal to the marts;
  gx        the Great Expectations suites (customer-analytics validate) on the build;
  incremental  the generated data's last day lands (it was held back from every step above)
            and `dbt build` runs again on the same build file: the daily incremental run;
  full      for comparison, a full `dbt build` of the same complete files into a fresh file;
            its marts are checked equal to the incremental run's.
Wall time and peak RSS of the whole process tree are sampled every 50 ms (psutil); the note
of each dbt step (dbt, incremental, full) splits its time into models, data tests and start-up.

Run it with `make bench SCALE=M` (or `customer-analytics bench --scale M`).
"""

from __future__ import annotations

import json
import math
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.lib.settings import REPO_ROOT

SCALES: dict[str, int | None] = {"S": None, "M": 100_000, "L": 1_000_000, "XL": 5_000_000}
"""Customers per scale; S is the shipped seeds (2,000 customers, CSV)."""
GENERATOR_ARGS = {"seed": 42, "start": "2023-01-01", "end": "2025-12-31"}
TIMESTAMP_COLUMNS = {
    "customers": "signup_at",
    "orders": "ordered_at",
    "sessions": "started_at",
    "survey_responses": "submitted_at",
    "email_events": "occurred_at",
}
"""The column that dates each raw table's rows: the held-back last day is cut on it."""
STEPS = ("generate", "dbt", "floor", "dagster", "pandas", "gx", "incremental", "full")
BIN = Path(sys.executable).parent


@dataclass
class Step:
    """One measured step."""

    name: str
    seconds: float
    peak_rss_mb: float
    rows: int | None = None
    ok: bool = True
    note: str = ""

    @property
    def rows_per_second(self) -> float | None:
        return self.rows / self.seconds if self.rows and self.seconds else None


@dataclass
class Result:
    """A benchmark run: where, on what, each step and the ratios between them."""

    scale: str
    customers: int
    machine: dict[str, Any]
    raw_rows: dict[str, int]
    steps: list[Step] = field(default_factory=list)
    pandas_equals_marts: bool | None = None
    pandas_mismatches: list[str] = field(default_factory=list)
    started_at: str = ""

    def step(self, name: str) -> Step | None:
        return next((step for step in self.steps if step.name == name), None)

    def ratios(self) -> dict[str, float | None]:
        def ratio(a: str, b: str) -> float | None:
            x, y = self.step(a), self.step(b)
            if not (x and y and x.ok and y.ok and y.seconds):
                return None
            return x.seconds / y.seconds

        return {
            "dbt build / engine floor (models + tests)": ratio("dbt", "floor"),
            "Dagster / dbt build": ratio("dagster", "dbt"),
            "pandas / dbt build": ratio("pandas", "dbt"),
            "gx / dbt build": ratio("gx", "dbt"),
            "incremental / full dbt build": ratio("incremental", "full"),
        }

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for step, raw in zip(self.steps, data["steps"], strict=True):
            raw["rows_per_second"] = step.rows_per_second
        data["ratios"] = self.ratios()
        return data

    def markdown(self) -> str:
        lines = [
            f"### Scale {self.scale}: {self.customers:,} customers, "
            f"{sum(self.raw_rows.values()):,} raw rows",
            "",
            f"Machine: {self.machine['cores']} cores, {self.machine['memory_gb']} GB, "
            f"{self.machine['platform']}; DuckDB {self.machine['duckdb']}; {self.started_at}.",
            "",
            "| step | time (s) | peak RSS (MB) | raw rows / s | note |",
            "|---|---:|---:|---:|---|",
        ]
        for step in self.steps:
            rate = f"{step.rows_per_second:,.0f}" if step.rows_per_second else "–"
            status = "" if step.ok else "FAILED "
            lines.append(
                f"| {step.name} | {step.seconds:,.1f} | {step.peak_rss_mb:,.0f} | {rate} "
                f"| {status}{step.note} |"
            )
        lines += ["", "| ratio | value |", "|---|---:|"]
        for name, value in self.ratios().items():
            lines.append(f"| {name} | {'–' if value is None else f'{value:.2f}'} |")
        equal = {True: "yes", False: "NO", None: "not checked"}[self.pandas_equals_marts]
        lines += ["", f"pandas results equal the marts: {equal}."]
        lines += [f"- {mismatch}" for mismatch in self.pandas_mismatches[:20]]
        return "\n".join(lines) + "\n"


def pandas_memory_cap() -> int:
    """The pandas peer may use up to 3/4 of the machine's memory (address space)."""
    import psutil

    return psutil.virtual_memory().total * 3 // 4


def machine() -> dict[str, Any]:
    import duckdb
    import psutil

    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def measure(
    name: str,
    command: list[str],
    env: dict[str, str],
    rows: int | None = None,
    memory_cap_bytes: int | None = None,
) -> Step:
    """Run `command`, sampling the RSS of it and all its descendants; wall time and peak.
    With `memory_cap_bytes`, the child's address space is capped (RLIMIT_AS), so running out
    of memory is a MemoryError in that process, never the machine's OOM killer."""
    import psutil

    def cap() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_cap_bytes, memory_cap_bytes))

    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=cap if memory_cap_bytes else None,
    )
    peak = 0
    root = psutil.Process(process.pid)
    output: list[str] = []
    import threading

    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    while process.poll() is None:
        try:
            total = root.memory_info().rss + sum(
                child.memory_info().rss for child in root.children(recursive=True)
            )
            peak = max(peak, total)
        except psutil.Error:
            pass
        time.sleep(0.05)
    reader.join()
    seconds = time.perf_counter() - started
    ok = process.returncode == 0
    note = "" if ok else "".join(output)[-600:].replace("\n", " ").replace("|", "/")
    print(
        f"  {name:<8} {seconds:8.1f} s  peak RSS {peak / 2**20:8.0f} MB"
        + ("" if ok else "  FAILED"),
        flush=True,
    )
    return Step(name, seconds, peak / 2**20, rows, ok, note)


def _env(database: Path, work: Path, threads: int | None, memory_limit: str) -> dict[str, str]:
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


def _reader(path: Path) -> str:
    """DuckDB's reader of one raw file, CSV (every column as text) or Parquet."""
    if path.suffix == ".parquet":
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', all_varchar = true, header = true)"


def raw_row_counts(raw: Path) -> dict[str, int]:
    """Rows per raw file, counted by DuckDB (CSV or Parquet)."""
    import duckdb

    counts = {}
    for path in sorted([*raw.glob("*.parquet"), *raw.glob("*.csv")]):
        (counts[path.stem],) = duckdb.sql(f"select count(*) from {_reader(path)}").fetchone()
    return counts


def run(
    scale: str = "S",
    customers: int | None = None,
    out: Path | None = None,
    threads: int | None = None,
    memory_limit: str = "4GB",
    steps: tuple[str, ...] = STEPS,
) -> Result:
    """Run the benchmark at `scale` (or `customers` generated customers); write JSON and
    Markdown to `out` (default benchmarks/results/)."""
    customers = customers if customers is not None else SCALES[scale]
    label = scale if customers == SCALES.get(scale) else f"{customers} customers"
    work = REPO_ROOT / "warehouse" / "bench" / (scale if label == scale else f"c{customers}")
    out = out or REPO_ROOT / "benchmarks" / "results"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    database = work / "build.duckdb"
    env = _env(database, work, threads, memory_limit)
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    print(f"benchmark {label}: work folder {work}", flush=True)

    complete: Path | None = None
    if customers is None:
        raw = REPO_ROOT / "data" / "raw"
        result_steps: list[Step] = []
    else:
        raw, complete = work / "raw", work / "raw-complete"
        args = [f"--{name}={value}" for name, value in GENERATOR_ARGS.items()]
        fmt = "csv" if customers < 10_000 else "parquet"
        result_steps = [
            measure(
                "generate",
                [
                    str(BIN / "customer-analytics"),
                    "generate",
                    f"--customers={customers}",
                    *args,
                    f"--format={fmt}",
                    "--out",
                    str(complete),
                ],
                env,
            )
        ]
        held_back = hold_back_last_day(complete, raw, GENERATOR_ARGS["end"])
    rows = raw_row_counts(raw)
    result = Result(
        scale=label,
        customers=customers or 2000,
        machine=machine(),
        raw_rows=rows,
        steps=result_steps,
        started_at=started,
    )
    total_rows = sum(rows.values())
    if result_steps:
        result_steps[0].rows = total_rows
    variables = json.dumps({"raw_data_path": str(raw)})
    if "dbt" in steps:
        dbt_step = measure("dbt", [str(BIN / "dbt"), "build", "--vars", variables], env, total_rows)
        result.steps.append(dbt_step)
        _add_time_split(dbt_step, work)
    if "floor" in steps and result.step("dbt") and result.step("dbt").ok:
        floor_db = work / "floor" / database.name
        floor_db.parent.mkdir()
        _copy_seeds(database, floor_db)
        manifest = work / "target" / "manifest.json"
        result.steps.append(
            measure(
                "floor",
                [
                    sys.executable,
                    "-m",
                    "orchestration.lib.bench",
                    "floor",
                    str(manifest),
                    str(floor_db),
                    memory_limit,
                ],
                env,
                total_rows,
            )
        )
        floor_step = result.steps[-1]
        if floor_step.ok:
            _check_marts(floor_step, database, floor_db, "dbt's", "")
    if "dagster" in steps and result.step("dbt") and result.step("dbt").ok:
        dagster_db = work / "dagster" / database.name
        dagster_db.parent.mkdir()
        step = measure(
            "dagster",
            [
                sys.executable,
                "-m",
                "orchestration.lib.bench",
                "dagster",
                str(dagster_db),
                str(raw),
            ],
            {**env, "CUSTOMER_ANALYTICS_DB": str(dagster_db)},
            total_rows,
        )
        if step.ok:
            _check_marts(step, database, dagster_db, "dbt's", "dbt assets, raw models included; ")
        result.steps.append(step)
    if "pandas" in steps:
        reference_pickle = work / "pandas_reference.pickle"
        result.steps.append(
            measure(
                "pandas",
                [
                    sys.executable,
                    "-m",
                    "orchestration.lib.bench",
                    "pandas",
                    str(raw),
                    str(reference_pickle),
                ],
                env,
                total_rows,
                memory_cap_bytes=pandas_memory_cap(),
            )
        )
        if not result.step("pandas").ok and "MemoryError" in result.step("pandas").note:
            result.step("pandas").note = (
                f"ran out of memory (capped at {pandas_memory_cap() / 2**30:.0f} GB address "
                "space, 3/4 of RAM)"
            )
        if result.step("pandas").ok and result.step("dbt") and result.step("dbt").ok:
            result.pandas_mismatches = compare_with_marts(reference_pickle, database)
            result.pandas_equals_marts = not result.pandas_mismatches
    if "gx" in steps and result.step("dbt") and result.step("dbt").ok:
        gx = measure("gx", [str(BIN / "customer-analytics"), "validate"], env, total_rows)
        result.steps.append(gx)
    if "incremental" in steps and result.step("dbt") and result.step("dbt").ok:
        if complete is None:
            new_rows, note = 0, "a second run on the unchanged seeds (no day to append at S)"
        else:
            for path in complete.iterdir():
                shutil.copy(path, raw / path.name)
            new_rows = held_back
            note = f"after appending {GENERATOR_ARGS['end']} ({held_back:,} raw rows)"
        step = measure("incremental", [str(BIN / "dbt"), "build", "--vars", variables], env)
        step.rows, step.note = new_rows, step.note or note
        _add_time_split(step, work)
        result.steps.append(step)
    if "full" in steps and result.step("incremental") and result.step("incremental").ok:
        full_db = work / "full" / database.name
        full_db.parent.mkdir()
        full = measure(
            "full",
            [str(BIN / "dbt"), "build", "--vars", variables],
            {**env, "CUSTOMER_ANALYTICS_DB": str(full_db)},
            total_rows + (held_back if complete else 0),
        )
        if full.ok:
            _check_marts(
                full,
                database,
                full_db,
                "the incremental run's",
                "same complete files into a fresh file; ",
            )
        _add_time_split(full, work)
        result.steps.append(full)

    out.mkdir(parents=True, exist_ok=True)
    stem = label.replace(" ", "_")
    (out / f"{stem}.json").write_text(json.dumps(result.to_dict(), indent=2, default=str))
    (out / f"{stem}.md").write_text(result.markdown())
    print(result.markdown(), flush=True)
    print(f"written: {out / (stem + '.json')} and .md", flush=True)
    return result


def _check_marts(step: Step, build: Path, other: Path, whose: str, context: str) -> None:
    """Fail `step` unless the marts in `other` equal those in `build`; say so in its note."""
    differing = marts_that_differ(build, other)
    step.note = (
        f"marts differ from {whose}: {', '.join(differing)}"
        if differing
        else f"{context}every mart equal to {whose}"
    )
    step.ok = not differing


def hold_back_last_day(complete: Path, raw: Path, last_day: str) -> int:
    """Copy the raw files of `complete` to `raw` without the rows dated on or after
    `last_day` (UTC; unreadable dates are kept), nor the rows pointing at a held-back order
    (a session just before midnight that ends in an order just after): the day the
    incremental step appends. Returns the number of rows held back."""
    import duckdb

    raw.mkdir(parents=True, exist_ok=True)
    held_back = 0
    paths = sorted(complete.iterdir(), key=lambda path: path.stem != "orders")  # orders first
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create table held_back_orders (order_id varchar)")
        for path in paths:
            parquet, reader = path.suffix == ".parquet", _reader(path)
            column = TIMESTAMP_COLUMNS[path.stem]
            kept = (
                f"select * from {reader} where (try_cast({column} as timestamptz) is null"
                f" or try_cast({column} as timestamptz) < timestamptz '{last_day} 00:00:00+00')"
            )
            if path.stem == "orders":
                con.execute(
                    f"insert into held_back_orders select cast(order_id as varchar) from {reader}"
                    f" except all select cast(order_id as varchar) from ({kept})"
                )
            elif path.stem in ("sessions", "survey_responses"):
                kept += (
                    " and (order_id is null or cast(order_id as varchar) not in"
                    " (select order_id from held_back_orders where order_id is not null))"
                )
            options = "format parquet" if parquet else "format csv, header true"
            con.execute(f"copy ({kept}) to '{raw / path.name}' ({options})")
            (total,) = con.execute(f"select count(*) from {reader}").fetchone()
            (written,) = con.execute(f"select count(*) from ({kept})").fetchone()
            held_back += total - written
    return held_back


def dagster_build(database: Path, raw: Path) -> int:
    """Materialise every dbt asset through Dagster (in process), reading the raw files of
    `raw` as the landing directory."""
    import dagster as dg

    from orchestration.defs.dbt.assets import build_dbt_definitions
    from orchestration.defs.resources import WarehouseResource

    definitions = build_dbt_definitions()
    resources = dict(definitions.resources)
    resources["warehouse"] = WarehouseResource(database=str(database), landing_dir=str(raw))
    assets = [a for a in definitions.assets if isinstance(a, dg.AssetsDefinition)]
    result = dg.materialize(
        assets, resources=resources, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    return 0 if result.success else 1


def dbt_time_split(run_results: dict, wall_seconds: float) -> str:
    """Where dbt's wall time went: models, tests (node time, summed over threads) and the rest
    (start-up, parsing, scheduling)."""
    node_time = {"model": 0.0, "test": 0.0, "unit_test": 0.0, "seed": 0.0}
    for node in run_results["results"]:
        kind = node["unique_id"].split(".")[0]
        node_time[kind] = node_time.get(kind, 0.0) + node["execution_time"]
    outside = wall_seconds - float(run_results.get("elapsed_time") or 0.0)
    return (
        f"models {node_time['model']:.1f} s, data tests {node_time['test']:.1f} s, unit tests "
        f"{node_time['unit_test']:.1f} s, seeds {node_time['seed']:.1f} s (node time, summed over "
        f"threads); start-up and parsing {outside:.1f} s"
    )


def _add_time_split(step: Step, work: Path) -> None:
    """Append where the time of a successful dbt step went to its note, from the run_results
    that step wrote (each dbt step overwrites them, so call it right after the step)."""
    run_results = work / "target" / "run_results.json"
    if step.ok and run_results.exists():
        split = dbt_time_split(json.loads(run_results.read_text()), step.seconds)
        step.note = f"{step.note}; {split}" if step.note else split


def _copy_seeds(build: Path, floor_db: Path) -> None:
    """The floor starts where dbt's models start: with the reference seeds loaded."""
    import duckdb

    with duckdb.connect(str(floor_db)) as con:
        con.execute(f"attach '{build}' as source (read_only)")
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'source'"
            " and schema_name = 'reference'"
        ).fetchall():
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f'create table "{schema}"."{table}" as from source."{schema}"."{table}"')
        con.execute("detach source")


def marts_that_differ(build: Path, floor_db: Path) -> list[str]:
    """Marts whose rows differ between dbt's build and the floor's (as multisets)."""
    import duckdb

    differing = []
    with duckdb.connect(":memory:") as con:
        con.execute(f"attach '{build}' as dbt_build (read_only)")
        con.execute(f"attach '{floor_db}' as engine_floor (read_only)")
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'dbt_build'"
                " and schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        for table in tables:
            columns = {
                database: [
                    name
                    for (name,) in con.execute(
                        "select column_name from duckdb_columns() where database_name = ?"
                        " and schema_name = 'marts' and table_name = ? order by column_name",
                        [database, table],
                    ).fetchall()
                ]
                for database in ("dbt_build", "engine_floor")
            }
            if columns["dbt_build"] != columns["engine_floor"]:
                differing.append(table)
                continue
            # by name, not position: a contract may order a table's columns otherwise
            listed = ", ".join(f'"{name}"' for name in columns["dbt_build"])
            a = f"select {listed} from dbt_build.marts.{table}"
            b = f"select {listed} from engine_floor.marts.{table}"
            (count,) = con.execute(
                f"select count(*) from (({a} except all {b}) union all ({b} except all {a}))"
            ).fetchone()
            if count:
                differing.append(table)
    return differing


def floor(manifest_path: Path, database: Path, memory_limit: str) -> int:
    """Execute the compiled SQL of every model, then every data test, in DAG order, one at a
    time; DuckDB uses every core (its default, as under dbt)."""
    import duckdb

    manifest = json.loads(manifest_path.read_text())
    nodes = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "test") and node.get("compiled_code")
    }
    order: list[str] = []
    seen: set[str] = set()

    def visit(unique_id: str) -> None:
        if unique_id in seen or unique_id not in nodes:
            return
        seen.add(unique_id)
        for parent in nodes[unique_id]["depends_on"]["nodes"]:
            visit(parent)
        order.append(unique_id)

    for unique_id in sorted(nodes, key=lambda key: nodes[key]["resource_type"] != "model"):
        visit(unique_id)
    config = {
        "memory_limit": memory_limit,
        "preserve_insertion_order": False,
    }
    executed = 0
    with duckdb.connect(str(database), config=config) as con:
        con.execute("set TimeZone = 'UTC'")  # as the dbt profile
        for unique_id in order:
            node = nodes[unique_id]
            sql = node["compiled_code"]
            if node["resource_type"] == "test":
                con.execute(f"select count(*) from ({sql}) as failures").fetchone()
            else:
                kind = "view" if node["config"]["materialized"] == "view" else "table"
                con.execute(f'create schema if not exists "{node["schema"]}"')
                con.execute(f"create or replace {kind} {node['relation_name']} as {sql}")
            executed += 1
    print(f"executed {executed} compiled nodes", flush=True)
    return 0


def pandas_peer(raw: Path, out: Path) -> int:
    """The pandas implementation of the core marts, pickled for the comparison."""
    import pickle

    from orchestration.lib.pandas_reference import compute_reference

    reference = compute_reference(raw)
    out.write_bytes(pickle.dumps(reference))
    return 0


COMPARED = {
    "kpis_monthly": ("marts.rpt_kpis_monthly", "month"),
    "nps_monthly": ("marts.rpt_nps_monthly", "month"),
    "retention_cohorts": ("marts.rpt_retention_cohorts", "cohort_month, months_since_first_order"),
}


def compare_with_marts(reference_pickle: Path, database: Path) -> list[str]:
    """Cells where the pandas peer and the marts disagree (empty: they are equal).

    Compares every column the two share, on the core monthly marts, the cohort triangle and
    the customer 360's RFM(E) scores: exact for counts, dates and text, 1e-9 relative for
    ratios, to the cent for money."""
    import pickle

    import duckdb
    import pandas as pd

    reference = pickle.loads(reference_pickle.read_bytes())
    mismatches: list[str] = []
    with duckdb.connect(str(database), read_only=True) as con:
        for attribute, (relation, order) in COMPARED.items():
            expected: pd.DataFrame = getattr(reference, attribute)
            built = con.execute(f"select * from {relation} order by {order}").df()
            mismatches += _compare_frames(relation, built, expected)
        built = con.execute(
            "select customer_id, recency_score, frequency_score, monetary_score,"
            " engagement_score, rfm_segment from marts.dim_customers order by customer_id"
        ).df()
        columns = [c for c in built.columns if c in reference.customers.columns]
        expected = reference.customers[columns].sort_values("customer_id")
        mismatches += _compare_frames("marts.dim_customers", built[columns], expected)
    return mismatches


def _compare_frames(name: str, built, expected) -> list[str]:
    import numpy as np
    import pandas as pd

    shared = [column for column in expected.columns if column in built.columns]
    if len(built) != len(expected):
        return [f"{name}: {len(built)} rows built, {len(expected)} in pandas"]
    mismatches = []
    built = built.reset_index(drop=True)
    expected = expected.reset_index(drop=True)
    for column in shared:
        left, right = built[column], expected[column]
        for index in range(len(left)):
            a, b = left.iloc[index], right.iloc[index]
            if _missing(a) and _missing(b):
                continue
            if isinstance(a, (float, np.floating)) or isinstance(b, (float, np.floating)):
                try:
                    same = math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)
                except (TypeError, ValueError):
                    same = False
            else:
                same = (
                    str(pd.Timestamp(a).date()) == str(pd.Timestamp(b).date())
                    if (isinstance(a, (pd.Timestamp, np.datetime64)) or hasattr(a, "isoformat"))
                    else str(a) == str(b)
                )
            if not same:
                mismatches.append(f"{name}.{column} row {index}: marts {a!r}, pandas {b!r}")
                if len(mismatches) > 50:
                    return mismatches
    return mismatches


def _missing(value: Any) -> bool:
    try:
        return value is None or bool(pd_isna(value))
    except (TypeError, ValueError):
        return False


def pd_isna(value: Any) -> bool:
    import pandas as pd

    return pd.isna(value)


def main(argv: list[str]) -> int:
    """`python -m orchestration.lib.bench floor|pandas …` (the measured child processes)."""
    if argv[0] == "floor":
        return floor(Path(argv[1]), Path(argv[2]), argv[3])
    if argv[0] == "dagster":
        return dagster_build(Path(argv[1]), Path(argv[2]))
    if argv[0] == "pandas":
        return pandas_peer(Path(argv[1]), Path(argv[2]))
    raise SystemExit(f"unknown step {argv[0]!r}: floor or pandas")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
