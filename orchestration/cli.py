"""The `customer-analytics` console script."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
from pathlib import Path


class CommandParser(argparse.ArgumentParser):
    """argparse, but a usage error is one sentence on stderr and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        text = message[0].upper() + message[1:] if message else "Invalid arguments"
        self.exit(2, f"{self.prog}: error: {text.rstrip('.')}.\n")


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def _add_publish(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "publish",
        help="publish the built, tested marts to the serving file and Parquet exports",
        description=(
            "Copy the marts of the build file (CUSTOMER_ANALYTICS_DB) into a new serving file "
            "(CUSTOMER_ANALYTICS_SERVING_DB) and Parquet exports (CUSTOMER_ANALYTICS_EXPORTS_DIR), "
            "then swap them into place atomically. Only what passed is published: it refuses "
            "(exit code 1, the served marts unchanged, one sentence naming what failed and what "
            "to do) a build with an empty mart, a build whose own dbt record (schema audit, "
            "written by dbt's hooks) shows a data test that did not pass after its table was "
            "last built (a failed test, or dbt run after dbt build), and a build whose current "
            "state customer-analytics validate did not pass in every suite (its records in "
            "CUSTOMER_ANALYTICS_QUALITY_DIR). Run it after dbt build, customer-analytics clv "
            'and customer-analytics validate, as make build does (docs/serving.md, "Publish '
            'only what passed").'
        ),
    )
    p.add_argument("--build-id", default=None, help="id of this publication (default: UTC time)")
    p.add_argument(
        "--keep-backups", type=whole_number, default=3, help="served files kept (default 3)"
    )
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
    from orchestration.lib.publish import (
        EmptyMartError,
        StaleBuildError,
        UntestedBuildError,
        publish,
    )
    from orchestration.lib.settings import Settings

    settings = Settings.from_env()
    if not settings.database.exists():
        print(
            f"customer-analytics publish: error: no build file {settings.database}; "
            "run `make build` (or dbt build) first.",
            file=sys.stderr,
        )
        return 2
    from orchestration.lib.serving import build_reference_date, report_writers

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
            report_writers=report_writers(settings.quality_dir),
            quality_dir=settings.quality_dir,
            audiences_root=settings.audiences_dir,
        )
    except (EmptyMartError, StaleBuildError, UntestedBuildError) as exc:
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
        type=whole_number,
        default=None,
        help="suites validated at once, each in its own process (default: one per core from"
        " 1,000,000 rows, else 1)",
    )
    p.set_defaults(handler=_run_validate)


def _run_validate(args: argparse.Namespace) -> int:
    from orchestration.lib.quality.report import build_stamp, write_reports
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
    validated = build_stamp(settings.database)
    outcomes = run_suites(names, settings.database, settings.serving_database, args.jobs)
    if build_stamp(settings.database) != validated:
        # the records name the state they checked: publish must never take these for the new one
        print(
            f"customer-analytics validate: error: {settings.database} changed while it was "
            "validated (a dbt run or the CLV step wrote it): nothing recorded; run "
            "customer-analytics validate again once that has finished.",
            file=sys.stderr,
        )
        return 2
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


def _add_clv(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "clv",
        help="fit the CLV models (BG/NBD, Gamma-Gamma) on the build file; write the CLV marts",
        description=(
            "Fit BG/NBD and Gamma-Gamma by maximum likelihood (pymc-marketing) on the build "
            "file's CLV inputs (CUSTOMER_ANALYTICS_DB, after dbt build), fit them again up to "
            "the holdout cut-off, and write the CLV marts (customer_clv_predictions, "
            "clv_model_parameters, rpt_clv_holdout, rpt_clv_by_segment, clv_fit_status) "
            "(docs/clv.md). Exit code 1 when the shop is too small to fit or the fit does not "
            "converge (no numbers written, the status says why), 2 when the build file is "
            "missing, not built or busy."
        ),
    )
    p.set_defaults(handler=_run_clv)


def _run_clv(args: argparse.Namespace) -> int:
    from orchestration.lib.clv_tables import ClvBuildError, run_clv
    from orchestration.lib.settings import Settings

    settings = Settings.from_env()

    def progress(message: str) -> None:
        print(f"customer-analytics clv: {message}", file=sys.stderr, flush=True)

    try:
        outcome = run_clv(settings.database, settings.clv_discount_rate, progress)
    except ClvBuildError as exc:
        print(f"customer-analytics clv: error: {exc}", file=sys.stderr)
        return 2
    if not outcome.fitted:
        print(
            f"customer-analytics clv: error: {outcome.message} The other marts can still be "
            "published; the mart clv_fit_status says 'failed' and the CLV marts stay empty.",
            file=sys.stderr,
        )
        return 1
    estimates = ", ".join(f"{name} {value:.4g}" for name, value in outcome.parameters.items())
    print(
        f"customer-analytics clv: {outcome.status} in {outcome.fit_seconds:.1f} s: "
        f"{outcome.message} Estimates: {estimates}.",
        file=sys.stderr,
    )
    return 0


def _add_erase(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "erase",
        help="file erasure requests (right to erasure); `make erase` also applies them",
        description=(
            "Add an erasure request for each CRM customer id given (or listed one per line in "
            "--from-file) to the erasure requests (CUSTOMER_ANALYTICS_ERASURE_FILE, default "
            "$XDG_CONFIG_HOME/customer-analytics/erasure-requests.csv). Every later build "
            "leaves these customers out of every table, and publishing removes the backups and "
            "exports that still hold them. `make erase CUSTOMER_IDS=...` adds the requests and "
            "runs the build and publish at once (docs/privacy.md)."
        ),
    )
    p.add_argument("customer_ids", nargs="*", metavar="CUSTOMER_ID", help="CRM customer ids")
    p.add_argument(
        "--from-file", type=Path, default=None, help="a text file with one customer id per line"
    )
    p.add_argument(
        "--requested-on",
        type=dt.date.fromisoformat,
        default=None,
        help="the date of the request, YYYY-MM-DD (default: today, UTC)",
    )
    p.set_defaults(handler=_run_erase)


def _add_privacy_key(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "privacy-key",
        help="create the pseudonymisation key if it is missing, and say where it is",
        description=(
            "Create the pseudonymisation key (CUSTOMER_ANALYTICS_PSEUDONYM_KEY_FILE, default "
            "$XDG_CONFIG_HOME/customer-analytics/pseudonym.key; 256 random bits, mode 0600) if "
            "it does not exist, check it, and print its path, never the key. DuckDB builds "
            "create it themselves; a build on Spark reads it and needs it to exist "
            "(docs/spark.md, docs/privacy.md)."
        ),
    )
    p.set_defaults(handler=_run_privacy_key)


def _add_engine(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "engine",
        help="check the engine settings and print the dbt target to build with",
        description=(
            "Validate CUSTOMER_ANALYTICS_ENGINE (duckdb, the default, or spark) and the Spark "
            "target's settings, create the pseudonymisation key if it is missing (a build on "
            "Spark reads it) and Spark's folder (mode 0700), and print the dbt target of the "
            "engine (dev or spark), as make build uses it (docs/spark.md)."
        ),
    )
    p.set_defaults(handler=_run_engine)


def _run_engine(args: argparse.Namespace) -> int:
    from orchestration.lib.settings import Settings
    from orchestration.lib.warehouse import prepare_spark_build

    settings = Settings.from_env()
    if settings.engine == "spark":
        prepare_spark_build(settings.spark_dir)
    print(settings.dbt_target)
    return 0


def _add_import_spark(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-spark",
        help="copy what dbt built on Spark into the build file (nothing to do on DuckDB)",
        description=(
            "With CUSTOMER_ANALYTICS_ENGINE=spark, after dbt build --target spark: copy every "
            "table Spark built (CUSTOMER_ANALYTICS_SPARK_DIR) into the build file "
            "(CUSTOMER_ANALYTICS_DB), create the views on them, and take Spark's dbt record, so "
            "that customer-analytics clv, validate and publish work as on DuckDB. One "
            "transaction: on failure the build file is unchanged. On DuckDB it does nothing "
            "(docs/spark.md)."
        ),
    )
    p.add_argument(
        "--vars",
        default="{}",
        help="the --vars the dbt build ran with (YAML or JSON), for the views (default: none)",
    )
    p.set_defaults(handler=_run_import_spark)


def _run_import_spark(args: argparse.Namespace) -> int:
    from orchestration.lib.dbt_project import DBT_PROJECT_DIR, dbt_executable
    from orchestration.lib.settings import Settings
    from orchestration.lib.warehouse import WarehouseImportError, import_spark_build, spark_source

    settings = Settings.from_env()
    if settings.engine != "spark":  # dbt built the build file itself
        return 0
    print(
        f"Copying Spark's tables from {spark_source(settings.spark_dir, settings.spark_remote)}"
        f" into {settings.database} …"
    )
    try:
        copied = import_spark_build(
            settings.database,
            settings.spark_dir,
            Path(dbt_executable()),
            DBT_PROJECT_DIR,
            # under dbt's target path, as the build's own: DBT_TARGET_PATH, else target/
            DBT_PROJECT_DIR / (os.environ.get("DBT_TARGET_PATH") or "target") / "import-spark",
            args.vars,
            remote=settings.spark_remote,
        )
    except WarehouseImportError as exc:
        print(f"customer-analytics import-spark: error: {exc}", file=sys.stderr)
        return 1
    print(f"Copied {len(copied)} tables, {sum(copied.values()):,} rows, and created the views.")
    return 0


def _run_privacy_key(args: argparse.Namespace) -> int:
    from orchestration.lib import privacy

    path = privacy.key_file()
    privacy.load_key(path)
    print(path)
    return 0


def _run_erase(args: argparse.Namespace) -> int:
    from orchestration.lib import privacy

    ids = list(args.customer_ids)
    if args.from_file is not None:
        try:
            lines = args.from_file.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            print(
                f"customer-analytics erase: error: cannot read {args.from_file} "
                f"({type(exc).__name__}): give a UTF-8 text file, one customer id per line.",
                file=sys.stderr,
            )
            return 2
        ids += [line.strip() for line in lines if line.strip()]
    if not ids:
        print(
            "customer-analytics erase: error: give at least one customer id (or --from-file).",
            file=sys.stderr,
        )
        return 2
    requested_on = args.requested_on or dt.datetime.now(dt.UTC).date()
    try:
        path = privacy.erasure_file()
        added = privacy.add_erasure_requests(path, ids, requested_on)
        total = len(privacy.erased_ids(path))
    except privacy.PrivacySettingError as exc:
        print(f"customer-analytics erase: error: {exc}", file=sys.stderr)
        return 2
    print(
        f"customer-analytics erase: {added} new request(s) recorded in {path} ({total} in all; "
        f"{len(set(ids)) - added} already requested). The next build leaves them out of every "
        "table, and its publication removes the backups and exports that still hold them: "
        "run make build now (make erase does both).",
        file=sys.stderr,
    )
    return 0


def _port(text: str) -> int:
    port = whole_number(text)
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

    import dagster as dg

    from orchestration.defs.resources import reserve_warehouse_pool
    from orchestration.lib.settings import Settings
    from orchestration.lib.supervise import supervise

    settings = Settings.from_env()
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        reserve_warehouse_pool(instance)
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "DAGSTER_HOME": str(settings.dagster_home),
        "VIRTUAL_ENV": str(bin_dir.parent),
        "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    command = [str(bin_dir / "dg"), "dev", "--host", args.host, "--port", str(args.port)]
    return supervise(command, env=env)


DEV_COMMANDS = {
    "generate": "write the synthetic raw data set (CRM, shop, web, NPS, e-mail) [dev tooling]",
    "bench": "benchmark dbt build vs the engine and I/O floors, pandas, Polars, GX [dev tooling]",
}
"""Commands of the dev-tooling package, found by name in the entry points group
`customer_analytics.dev_commands` (pyproject.toml) and imported only when called."""


def run_dev_command(name: str, argv: list[str]) -> int:
    """Load the dev command `name` from its entry point and run it with `argv`."""
    from importlib.metadata import entry_points

    found = entry_points(group="customer_analytics.dev_commands", name=name)
    if not found:
        print(
            f"customer-analytics {name}: error: this is a dev command and the dev tooling is not "
            "installed in this environment; install the project with `make setup` "
            "(pip install -e '.[dev]').",
            file=sys.stderr,
        )
        return 2
    return next(iter(found)).load()(argv)


def build_parser() -> argparse.ArgumentParser:
    """The `customer-analytics` command line: every subcommand and how its options parse."""
    parser = CommandParser(prog="customer-analytics")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CommandParser)
    for name, summary in DEV_COMMANDS.items():  # listed here, parsed by the dev tooling
        sub.add_parser(name, help=summary, add_help=False)
    _add_publish(sub)
    _add_restore(sub)
    _add_validate(sub)
    _add_clv(sub)
    _add_erase(sub)
    _add_privacy_key(sub)
    _add_engine(sub)
    _add_import_spark(sub)
    _add_dev(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `customer-analytics` command."""
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in DEV_COMMANDS:
        return run_dev_command(argv[0], argv[1:])
    args = build_parser().parse_args(argv)
    from orchestration.lib.settings import SettingError

    try:
        return args.handler(args)
    except SettingError as exc:  # a bad environment variable: one sentence, no traceback
        print(f"customer-analytics {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
