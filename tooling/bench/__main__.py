"""`python -m tooling.bench floor|dagster|pandas|polars|io_floor|spark_marts …`: the measured
child processes."""

from __future__ import annotations

import sys
from pathlib import Path

from tooling.bench.floor import floor
from tooling.bench.io_floor import io_floor
from tooling.bench.peers import REFERENCES, dagster_build, reference_peer
from tooling.bench.spark import spark_marts_differ


def main(argv: list[str]) -> int:
    if argv and argv[0] == "floor":
        return floor(Path(argv[1]), Path(argv[2]), argv[3])
    if argv and argv[0] == "dagster":
        return dagster_build(Path(argv[1]), Path(argv[2]))
    if argv and argv[0] in REFERENCES:
        return reference_peer(argv[0], Path(argv[1]), Path(argv[2]))
    if argv and argv[0] == "io_floor":
        return io_floor(Path(argv[1]), Path(argv[2]), argv[3])
    if argv and argv[0] == "spark_marts":
        return spark_marts_differ(Path(argv[1]), Path(argv[2]))
    raise SystemExit(
        f"unknown child {argv[:1]!r}: floor, dagster, pandas, polars, io_floor or spark_marts"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
