"""What a benchmark run measured: each step, the ratios between steps, and the Markdown
table of benchmarks/results/<scale>.md."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


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
    polars_equals_marts: bool | None = None
    polars_mismatches: list[str] = field(default_factory=list)
    started_at: str = ""

    def step(self, name: str) -> Step | None:
        return next((step for step in self.steps if step.name == name), None)

    def record_peer(self, library: str, mismatches: list[str]) -> None:
        """The comparison of a reference peer (pandas or polars) with the marts."""
        if library == "pandas":
            self.pandas_mismatches, self.pandas_equals_marts = mismatches, not mismatches
        elif library == "polars":
            self.polars_mismatches, self.polars_equals_marts = mismatches, not mismatches
        else:
            raise ValueError(f"unknown reference peer {library!r}")

    def peers_differ(self) -> bool:
        """A reference peer was compared with the marts and found different."""
        return self.pandas_equals_marts is False or self.polars_equals_marts is False

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
            "polars / dbt build": ratio("polars", "dbt"),
            "dbt build / I/O floor": ratio("dbt", "io_floor"),
            "gx / dbt build": ratio("gx", "dbt"),
            "incremental / full dbt build": ratio("incremental", "full"),
            # the daily run against the full build of the same complete files; without the
            # full step (it needs the incremental one), against the dbt step's build of every
            # day but the last
            "daily (day partitions) / full dbt build": (
                ratio("daily", "full") if self.step("full") else ratio("daily", "dbt")
            ),
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
        for library, equals, mismatches in (
            ("pandas", self.pandas_equals_marts, self.pandas_mismatches),
            ("polars", self.polars_equals_marts, self.polars_mismatches),
        ):
            equal = {True: "yes", False: "NO", None: "not checked"}[equals]
            lines += ["", f"{library} results equal the marts: {equal}."]
            lines += [f"- {mismatch}" for mismatch in mismatches[:20]]
        return "\n".join(lines) + "\n"


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
