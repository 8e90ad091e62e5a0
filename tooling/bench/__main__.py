"""`python -m tooling.bench floor|dagster|pandas …`: the measured child processes."""

from __future__ import annotations

import sys
from pathlib import Path

from tooling.bench.floor import floor
from tooling.bench.peers import dagster_build, pandas_peer


def main(argv: list[str]) -> int:
    if argv and argv[0] == "floor":
        return floor(Path(argv[1]), Path(argv[2]), argv[3])
    if argv and argv[0] == "dagster":
        return dagster_build(Path(argv[1]), Path(argv[2]))
    if argv and argv[0] == "pandas":
        return pandas_peer(Path(argv[1]), Path(argv[2]))
    raise SystemExit(f"unknown child {argv[:1]!r}: floor, dagster or pandas")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
