"""The I/O floor: every column of every raw file read once, as text, by DuckDB, and nothing
else computed. No way of building the marts can read its input faster on this machine, so
each step's time reads as a distance to this limit."""

from __future__ import annotations

import json
from pathlib import Path

from tooling.bench.data import raw_reader


def scan_query(path: Path, columns: list[str]) -> str:
    """One scan of `path` that needs every value of every column as text: the row count and
    the total length of each column's text (an aggregate per column, so no column is pruned,
    and one that no file statistics can answer)."""
    lengths = ", ".join(
        f'sum(length(cast("{name.replace(chr(34), chr(34) * 2)}" as varchar)))' for name in columns
    )
    return f"select count(*), {lengths} from {raw_reader(path)}"


def io_floor(raw: Path, out: Path, memory_limit: str) -> int:
    """Scan every raw file (CSV as text, Parquet cast to text, as the raw models read them)
    in one DuckDB connection with the build's settings; write the rows, columns and
    characters read per file to `out` (JSON)."""
    import duckdb

    config = {"memory_limit": memory_limit, "preserve_insertion_order": False}
    report = {}
    with duckdb.connect(config=config) as con:
        con.execute("set TimeZone = 'UTC'")  # as the dbt profile: timestamps as UTC text
        for path in sorted([*raw.glob("*.parquet"), *raw.glob("*.csv")]):
            source = {"source": str(path)}
            columns = [
                name
                for (name, *_) in con.execute(
                    f"describe select * from {raw_reader(path)}", source
                ).fetchall()
            ]
            rows, *lengths = con.execute(scan_query(path, columns), source).fetchone()
            report[path.name] = {
                "rows": rows,
                "columns": len(columns),
                "characters": sum(length or 0 for length in lengths),
            }
    out.write_text(json.dumps(report, indent=2))
    print(f"read {sum(file['rows'] for file in report.values())} rows", flush=True)
    return 0
