"""Comparing marts: dbt's build with another build (the floor, Dagster, a full run), and the
pandas and Polars peers with the marts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any


def marts_that_differ(build: Path, floor_db: Path) -> list[str]:
    """Marts whose rows differ between dbt's build and the floor's (as multisets)."""
    import duckdb

    from orchestration.lib.relations import sql_string

    differing = []
    with duckdb.connect(":memory:") as con:
        con.execute(f"attach {sql_string(str(build))} as dbt_build (read_only)")
        con.execute(f"attach {sql_string(str(floor_db))} as engine_floor (read_only)")
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
            a = f'select {listed} from dbt_build.marts."{table}"'
            b = f'select {listed} from engine_floor.marts."{table}"'
            if rows_differ(con, a, b):
                differing.append(table)
    return differing


def rows_differ(con: Any, a: str, b: str) -> int:
    """How many rows the queries `a` and `b` do not share, as multisets (`except all` both
    ways), on the DuckDB connection `con`."""
    (count,) = con.execute(
        f"select count(*) from (({a} except all {b}) union all ({b} except all {a}))"
    ).fetchone()
    return count


COMPARED = {
    "kpis_monthly": ("marts.rpt_kpis_monthly", "month"),
    "nps_monthly": ("marts.rpt_nps_monthly", "month"),
    "retention_cohorts": ("marts.rpt_retention_cohorts", "cohort_month, months_since_first_order"),
}


def compare_with_marts(reference_pickle: Path, database: Path, peer: str = "pandas") -> list[str]:
    """Cells where a reference peer (`peer`: pandas or polars, pickled by
    tooling.bench.peers) and the marts disagree (empty: they are equal).

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
            mismatches += _compare_frames(relation, built, expected, peer)
        # the marts name customers by customer_key; the restricted mapping gives their CRM id
        built = con.execute(
            "select customer_keys.customer_id, customers.recency_score,"
            " customers.frequency_score, customers.monetary_score, customers.engagement_score,"
            " customers.rfm_segment from marts.dim_customers as customers"
            " inner join intermediate.int_customers_pseudonymised as customer_keys"
            " on customers.customer_key = customer_keys.customer_key"
            " order by customer_keys.customer_id"
        ).df()
        columns = [c for c in built.columns if c in reference.customers.columns]
        expected = reference.customers[columns].sort_values("customer_id")
        mismatches += _compare_frames("marts.dim_customers", built[columns], expected, peer)
    return mismatches


def _compare_frames(name: str, built, expected, peer: str) -> list[str]:
    import numpy as np
    import pandas as pd

    shared = [column for column in expected.columns if column in built.columns]
    if len(built) != len(expected):
        return [f"{name}: {len(built)} rows built, {len(expected)} in {peer}"]
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
                mismatches.append(f"{name}.{column} row {index}: marts {a!r}, {peer} {b!r}")
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
