"""The benchmark's data: scales, the generator arguments, raw row counts and the held-back last
day that the incremental step appends."""

from __future__ import annotations

from pathlib import Path

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


def raw_reader(path: Path) -> str:
    """DuckDB's reader of one raw file, CSV (every column as text) or Parquet: the file is the
    bound parameter `$source`."""
    if path.suffix == ".parquet":
        return "read_parquet($source)"
    return "read_csv($source, all_varchar = true, header = true)"


def raw_row_counts(raw: Path) -> dict[str, int]:
    """Rows per raw file, counted by DuckDB (CSV or Parquet)."""
    import duckdb

    counts = {}
    for path in sorted([*raw.glob("*.parquet"), *raw.glob("*.csv")]):
        (counts[path.stem],) = duckdb.execute(
            f"select count(*) from {raw_reader(path)}", {"source": str(path)}
        ).fetchone()
    return counts


def hold_back_last_day(
    complete: Path, raw: Path, last_day: str, day_partitions: Path | None = None
) -> int:
    """Copy the raw files of `complete` to `raw` without the rows dated on or after
    `last_day` (UTC; unreadable dates are kept), nor the rows pointing at a held-back order
    (a session just before midnight that ends in an order just after): the day the
    incremental step appends. With `day_partitions`, also write the held-back rows of the
    event tables there as that day's partitions (<table>/<last_day>.<format>, the daily step's
    landing). Returns the number of rows held back."""
    import duckdb

    raw.mkdir(parents=True, exist_ok=True)
    held_back = 0
    paths = sorted(complete.iterdir(), key=lambda path: path.stem != "orders")  # orders first
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'UTC'")
        con.execute("create table held_back_orders (order_id varchar)")
        for path in paths:
            parquet, reader = path.suffix == ".parquet", raw_reader(path)
            column = TIMESTAMP_COLUMNS[path.stem]
            source = {"source": str(path)}
            bound = {**source, "held_back_from": f"{last_day} 00:00:00+00"}
            condition = (
                f"(try_cast({column} as timestamptz) is null"
                f" or try_cast({column} as timestamptz) < cast($held_back_from as timestamptz))"
            )
            if path.stem in ("sessions", "survey_responses"):
                condition += (
                    " and (order_id is null or cast(order_id as varchar) not in"
                    " (select order_id from held_back_orders where order_id is not null))"
                )
            kept = f"select * from {reader} where {condition}"
            if path.stem == "orders":
                con.execute(
                    f"insert into held_back_orders select cast(order_id as varchar) from {reader}"
                    f" except all select cast(order_id as varchar) from ({kept})",
                    bound,
                )
            options = "format parquet" if parquet else "format csv, header true"
            con.execute(
                f"copy ({kept}) to $target ({options})", {**bound, "target": str(raw / path.name)}
            )
            if day_partitions is not None and path.stem != "customers":
                folder = day_partitions / path.stem
                folder.mkdir(parents=True, exist_ok=True)
                held = f"select * from {reader} where not coalesce({condition}, false)"
                target = folder / f"{last_day}{'.parquet' if parquet else '.csv'}"
                con.execute(
                    f"copy ({held}) to $target ({options})", {**bound, "target": str(target)}
                )
            (total,) = con.execute(f"select count(*) from {reader}", source).fetchone()
            (written,) = con.execute(f"select count(*) from ({kept})", bound).fetchone()
            held_back += total - written
    return held_back
