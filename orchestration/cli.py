"""The `customer-analytics` console script."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path


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


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `customer-analytics` command."""
    parser = _Parser(prog="customer-analytics")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _add_generate(sub)
    args = parser.parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
