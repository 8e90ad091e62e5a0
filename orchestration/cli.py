"""The `customer-analytics` console script."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from orchestration.lib.bench import STEPS


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one sentence on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        text = message[0].upper() + message[1:] if message else "Invalid arguments"
        self.exit(2, f"{self.prog}: error: {text.rstrip('.')}.\n")


def _date(text: str) -> dt.date:
    try:
        if len(text) != 10:
            raise ValueError
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


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
    p.add_argument("--customers", type=_int, default=2000, metavar="N", help="default: 2000")
    p.add_argument("--seed", type=_int, default=42, metavar="S", help="default: 42")
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
    from orchestration.lib.generator import ConfigError, GeneratorConfig, generate

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


def _add_publish(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "publish",
        help="publish the built, tested marts to the serving file and Parquet exports",
        description=(
            "Copy the marts of the build file (CUSTOMER_ANALYTICS_DB) into a new serving file "
            "(CUSTOMER_ANALYTICS_SERVING_DB) and Parquet exports (CUSTOMER_ANALYTICS_EXPORTS_DIR), "
            "then swap them into place atomically. Run it only after a successful dbt build and "
            "customer-analytics validate: it refuses (exit code 1, the served marts unchanged) "
            "a build whose last validation failed an ERROR rule, or with an empty mart."
        ),
    )
    p.add_argument("--build-id", default=None, help="id of this publication (default: UTC time)")
    p.add_argument("--keep-backups", type=_int, default=3, help="served files kept (default 3)")
    p.set_defaults(handler=_run_publish)


def _add_restore(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "restore",
        help="serve a kept backup again",
        description="Atomically serve <serving dir>/backups/<BUILD_ID>.duckdb again.",
    )
    p.add_argument("build_id", help="the build id of a kept backup")
    p.set_defaults(handler=_run_restore)


def _run_publish(args: argparse.Namespace) -> int:
    from orchestration.lib.publish import EmptyMartError, publish
    from orchestration.lib.settings import Settings

    settings = Settings.from_env()
    if not settings.database.exists():
        print(
            f"customer-analytics publish: error: no build file {settings.database}; "
            "run `make build` (or dbt build) first.",
            file=sys.stderr,
        )
        return 2
    from orchestration.lib.quality.report import blocking_failures

    failed = blocking_failures(settings.quality_dir, settings.database)
    if failed:
        print(
            f"customer-analytics publish: error: the last validation of {settings.database} "
            f"failed ERROR rules in {', '.join(failed)}: nothing published (the served marts "
            "are unchanged); fix the data, build again and run customer-analytics validate "
            f"(report: {settings.quality_dir / 'index.html'}).",
            file=sys.stderr,
        )
        return 1
    from dashboard.report import offline_report_writer
    from orchestration.lib.serving import build_reference_date

    reference_date = build_reference_date(settings.database)
    build_id = args.build_id or dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    try:
        publication = publish(
            settings.database,
            settings.serving_database,
            settings.exports_dir,
            build_id,
            reference_date=reference_date,
            keep_backups=args.keep_backups,
            report_writers=[offline_report_writer(settings.quality_dir)],
        )
    except EmptyMartError as exc:
        print(f"customer-analytics publish: error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"customer-analytics publish: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"published build {publication.build_id}: {len(publication.row_counts)} marts -> "
        f"{publication.serving_file} and {settings.exports_dir / 'current'}/",
        file=sys.stderr,
    )
    return 0


def _run_restore(args: argparse.Namespace) -> int:
    from orchestration.lib.publish import restore
    from orchestration.lib.settings import Settings

    settings = Settings.from_env()
    try:
        backup = restore(settings.serving_database, args.build_id, settings.exports_dir)
    except FileNotFoundError as exc:
        print(f"customer-analytics restore: error: {exc}", file=sys.stderr)
        return 2
    print(f"serving {backup} again as {settings.serving_database}", file=sys.stderr)
    return 0


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="run the Great Expectations suites on the build file, without Dagster",
        description=(
            "Run the data-quality suites (orchestration/lib/quality/suites.py) on the build "
            "file (CUSTOMER_ANALYTICS_DB), comparing with the served publication "
            "(CUSTOMER_ANALYTICS_SERVING_DB), and write the HTML report to "
            "CUSTOMER_ANALYTICS_QUALITY_DIR. Exit code 1 when an ERROR rule fails."
        ),
    )
    p.add_argument(
        "suites", nargs="*", metavar="SUITE", help="suites to run (default: all), e.g. fct_orders"
    )
    p.add_argument(
        "--jobs",
        type=_int,
        default=None,
        help="suites validated at once, each in its own process (default: one per core)",
    )
    p.set_defaults(handler=_run_validate)


def _run_validate(args: argparse.Namespace) -> int:
    from orchestration.lib.quality.report import write_reports
    from orchestration.lib.quality.suites import SUITES
    from orchestration.lib.quality.validate import run_suites
    from orchestration.lib.settings import Settings

    settings = Settings.from_env()
    unknown = [name for name in args.suites if name not in SUITES]
    if unknown:
        print(
            f"customer-analytics validate: error: no suite {', '.join(unknown)}; "
            f"suites: {', '.join(SUITES)}.",
            file=sys.stderr,
        )
        return 2
    if not settings.database.exists():
        print(
            f"customer-analytics validate: error: no build file {settings.database}; "
            "run `make build` (or dbt build) first.",
            file=sys.stderr,
        )
        return 2
    names = args.suites or list(SUITES)
    outcomes = run_suites(names, settings.database, settings.serving_database, args.jobs)
    failed: list[str] = []
    for name, outcome in zip(names, outcomes, strict=True):
        write_reports(outcome, settings.quality_dir, settings.exports_dir, settings.database)
        if outcome.skipped:
            print(f"skipped {name}: {outcome.skipped}", flush=True)
            continue
        label = {None: "passed ", "warn": "WARNING", "error": "FAILED "}[outcome.severity]
        print(f"{label} {name}: {outcome.rows:,} rows; {outcome.counts_text()}", flush=True)
        for message in outcome.messages():
            print(f"        {message}")
        for reason, rules in outcome.skip_reasons().items():
            print(f"        skipped {len(rules)}: {reason}")
        if outcome.severity == "error":
            failed.append(name)
    index = settings.quality_dir / "index.html"
    if failed:
        print(
            f"customer-analytics validate: error: ERROR rules failed in {len(failed)} suite(s) "
            f"({', '.join(failed)}): do not publish; fix the data or the build, run it again, "
            f"and see {index} for each rule.",
            file=sys.stderr,
        )
        return 1
    print(f"report: {index}", file=sys.stderr)
    return 0


def _add_bench(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "bench",
        help="benchmark dbt build against the engine floor, pandas and the GX suites",
        description=(
            "Generate a data set (or use the shipped seeds at scale S), then measure on it: the "
            "generator, a full dbt build, the engine floor (compiled SQL in one DuckDB "
            "connection), Dagster, the pandas peer (checked equal to the marts), the GX suites, "
            "and the daily incremental run after appending the last day, against a full build. "
            "Writes benchmarks/results/<scale>.json and .md."
        ),
    )
    p.add_argument("--scale", choices=("S", "M", "L", "XL"), default="S", help="default: S")
    p.add_argument(
        "--customers", type=_int, default=None, help="generate this many customers instead"
    )
    p.add_argument(
        "--threads",
        type=_int,
        default=None,
        help="dbt threads: models built at once (default: the profile's); DuckDB itself uses "
        "every core",
    )
    p.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit (default 4GB)")
    p.add_argument("--out", type=Path, default=None, help="results folder")
    p.add_argument(
        "--steps",
        type=_steps,
        default=STEPS,
        help=f"comma-separated subset of: {','.join(STEPS)} (default: all)",
    )
    p.set_defaults(handler=_run_bench)


def _steps(value: str) -> tuple[str, ...]:
    chosen = tuple(step.strip() for step in value.split(",") if step.strip())
    unknown = sorted(set(chosen) - set(STEPS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"unknown step(s) {', '.join(unknown) or '(none given)'}: choose from {','.join(STEPS)}"
        )
    return chosen


def _run_bench(args: argparse.Namespace) -> int:
    from orchestration.lib.bench import run

    result = run(
        scale=args.scale,
        customers=args.customers,
        out=args.out,
        threads=args.threads,
        memory_limit=args.memory_limit,
        steps=args.steps,
    )
    failed = [step.name for step in result.steps if not step.ok]
    if failed or result.pandas_equals_marts is False:
        print(f"customer-analytics bench: failed steps {failed or 'none'}", file=sys.stderr)
        return 1
    return 0


def _port(text: str) -> int:
    port = _int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port between 1 and 65535")
    return port


_HOST_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"


def _host(text: str) -> str:
    """An IP address or a host name (RFC 1123 labels), nothing else."""
    import ipaddress
    import re

    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        pass
    if len(text) <= 253 and re.fullmatch(rf"{_HOST_LABEL}(\.{_HOST_LABEL})*", text):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is not an IP address or a host name")


def _add_dev(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dev",
        help="the Dagster UI and daemon (dg dev) for this project; Ctrl-C or SIGTERM stops all",
        description=(
            "Start `dg dev` (webserver, daemon and code server of the customer_analytics code "
            "location) with DAGSTER_HOME as set. Ctrl-C or SIGTERM stops it and every process "
            "it started within seconds."
        ),
    )
    p.add_argument(
        "--host", type=_host, default="127.0.0.1", help="address to listen on (default 127.0.0.1)"
    )
    p.add_argument("--port", type=_port, default=3000, help="port of the UI (default 3000)")
    p.set_defaults(handler=_run_dev)


def _run_dev(args: argparse.Namespace) -> int:
    import os

    from orchestration.lib.settings import Settings
    from orchestration.lib.supervise import supervise

    settings = Settings.from_env()
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "DAGSTER_HOME": str(settings.dagster_home),
        "VIRTUAL_ENV": str(bin_dir.parent),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [str(bin_dir / "dg"), "dev", "--host", args.host, "--port", str(args.port)]
    return supervise(command, env=env)


def build_parser() -> argparse.ArgumentParser:
    """The `customer-analytics` command line: every subcommand and how its options parse."""
    parser = _Parser(prog="customer-analytics")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_generate(sub)
    _add_publish(sub)
    _add_restore(sub)
    _add_validate(sub)
    _add_bench(sub)
    _add_dev(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `customer-analytics` command."""
    args = build_parser().parse_args(argv)
    from orchestration.lib.settings import SettingError

    try:
        return args.handler(args)
    except SettingError as exc:  # a bad environment variable: one sentence, no traceback
        print(f"customer-analytics {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
