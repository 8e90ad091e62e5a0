"""The dev commands of `customer-analytics`: `generate` (the synthetic shop) and `bench` (the
benchmark). The runtime CLI (orchestration.cli) finds them through the entry points
`customer_analytics.dev_commands` in pyproject.toml and loads this module only when one is
called."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Callable
from pathlib import Path

from orchestration.cli import CommandParser, whole_number
from tooling.bench.steps import DEFAULT, NAMES, OPT_IN


def _date(text: str) -> dt.date:
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def _add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="write the synthetic raw data set (CRM, shop, web, NPS, e-mail)",
        description=(
            "Generate the five raw tables (customers, orders, sessions, survey_responses, "
            "email_events) with planted behavioural effects. Same arguments, same bytes."
        ),
    )
    p.add_argument(
        "--customers", type=whole_number, default=2000, metavar="N", help="default: 2000"
    )
    p.add_argument("--seed", type=whole_number, default=42, metavar="S", help="default: 42")
    p.add_argument(
        "--start", type=_date, default=dt.date(2023, 1, 1), metavar="YYYY-MM-DD",
        help="first day of the window (default: 2023-01-01)",
    )  # fmt: skip
    p.add_argument(
        "--end", type=_date, default=dt.date(2025, 12, 31), metavar="YYYY-MM-DD",
        help="last day of the window, inclusive (default: 2025-12-31)",
    )  # fmt: skip
    p.add_argument("--format", choices=("csv", "parquet"), default="csv", help="default: csv")
    p.add_argument(
        "--out", type=Path, default=Path("warehouse/raw"), metavar="DIR",
        help="output directory, created if missing (default: warehouse/raw)",
    )  # fmt: skip
    p.add_argument(
        "--defects", type=_float, default=0.0, metavar="RATE",
        help="fraction 0..0.5 of rows per table that get a realistic defect (default: 0)",
    )  # fmt: skip
    p.set_defaults(handler=_run_generate)


def _run_generate(args: argparse.Namespace) -> int:
    from tooling.generator import ConfigError, GeneratorConfig, generate

    config = GeneratorConfig(
        customers=args.customers,
        seed=args.seed,
        start=args.start,
        end=args.end,
        fmt=args.format,
        defects=args.defects,
    )
    try:
        config.validate()
    except ConfigError as exc:
        print(f"customer-analytics generate: error: {exc}", file=sys.stderr)
        return 2
    out: Path = args.out
    if out.exists() and not out.is_dir():
        print(
            f"customer-analytics generate: error: --out {out} is a file; "
            "give a directory (it is created if missing).",
            file=sys.stderr,
        )
        return 2
    try:
        generate(config, out, progress=lambda msg: print(msg, file=sys.stderr))
    except OSError as exc:
        print(
            f"customer-analytics generate: error: cannot write to {out} ({exc.strerror}).",
            file=sys.stderr,
        )
        return 1
    return 0


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmark dbt build vs the engine and I/O floors, pandas, Polars, GX",
        description=(
            "Generate a data set (or use the shipped seeds at scale S), then measure on it: the "
            "generator, a full dbt build, the engine floor (compiled SQL in one DuckDB "
            "connection), Dagster, the pandas and Polars peers (each checked equal to the marts), "
            "the I/O floor (one DuckDB scan of every raw column as text), the GX suites, "
            "the CLV fit (customer-analytics clv), "
            "and the daily incremental run after appending the last day, against a full build. "
            "Writes benchmarks/results/<scale>.json and .md."
        ),
    )
    p.add_argument("--scale", choices=("S", "M", "L", "XL"), default="S", help="default: S")
    p.add_argument(
        "--customers", type=whole_number, default=None, help="generate this many customers instead"
    )
    p.add_argument(
        "--threads",
        type=whole_number,
        default=None,
        help="dbt threads: models built at once (default: the profile's); DuckDB itself uses "
        "every core",
    )
    p.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit (default 4GB)")
    p.add_argument("--out", type=Path, default=None, help="results folder")
    p.add_argument(
        "--steps",
        type=_steps,
        default=DEFAULT,
        help=f"comma-separated subset of: {','.join(NAMES)} (default: all but "
        f"{','.join(OPT_IN)}; spark builds the same data on the Spark target, docs/spark.md)",
    )
    p.set_defaults(handler=_run_bench)


def _steps(value: str) -> tuple[str, ...]:
    chosen = tuple(step.strip() for step in value.split(",") if step.strip())
    unknown = sorted(set(chosen) - set(NAMES))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown step(s) {', '.join(unknown) or '(none given)'}: choose from {','.join(NAMES)}"
        )
    return chosen


def _run_bench(args: argparse.Namespace) -> int:
    from tooling.bench.run import WorkFolderBusy, run

    try:
        result = run(
            scale=args.scale,
            customers=args.customers,
            out=args.out,
            threads=args.threads,
            memory_limit=args.memory_limit,
            steps=args.steps,
        )
    except WorkFolderBusy as busy:
        print(f"customer-analytics bench: {busy}", file=sys.stderr)
        return 2
    failed = [step.name for step in result.steps if not step.ok]
    if failed or result.peers_differ():
        print(f"customer-analytics bench: failed steps {failed or 'none'}", file=sys.stderr)
        return 1
    return 0


def _command(add: Callable[[argparse._SubParsersAction], None], name: str) -> Callable:
    def main(argv: list[str]) -> int:
        parser = CommandParser(prog="customer-analytics")
        add(parser.add_subparsers(dest="command", required=True, parser_class=CommandParser))
        args = parser.parse_args([name, *argv])
        return args.handler(args)

    return main


generate = _command(_add_generate, "generate")
"""`customer-analytics generate …` (entry point)."""
bench = _command(_add_bench, "bench")
"""`customer-analytics bench …` (entry point)."""
