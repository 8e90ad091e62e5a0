"""Incremental runs: after new days (and late rows) land, an incremental `dbt build` gives the
same tables, row for row, as a full refresh of the same raw files."""

from __future__ import annotations

import csv
import re
import shutil
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import (
    BIN,
    REFERENCE_BUILD,
    REPO,
    DbtResult,
    mart_tables,
    pseudonym,
    reference_build,
    run_dbt,
    scope_keys,
)

pytestmark = pytest.mark.build

START, END = "2024-01-01", "2024-04-30"
NEW_FROM = datetime(2024, 4, 29, tzinfo=UTC)
"""Rows dated from here on arrive only in the second run."""
LATE_FROM = datetime(2024, 4, 27, tzinfo=UTC)
"""Every third order, session and email event dated in [LATE_FROM, NEW_FROM) arrives late: it is
held back from the first run, yet dated inside the default 3-day lookback of the second."""
TIMESTAMPS = {
    "customers": "signup_at",
    "orders": "ordered_at",
    "sessions": "started_at",
    "survey_responses": "submitted_at",
    "email_events": "occurred_at",
}
LATE_TABLES = {"orders", "sessions", "email_events"}
NEW_CUSTOMER = "9001"
"""Signs up in the new days; an old session and an old order of theirs are quarantined until
then."""
OLD_SESSION_OF_NEW_CUSTOMER = "900002"
OLD_ORDER_OF_NEW_CUSTOMER = "900003"
LOGIN_SESSION = "900001"
"""A new identified session on a cookie that until then had only old anonymous sessions."""


def parsed(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def is_valid_session(row: dict[str, str]) -> bool:
    return (
        row["pageviews"].isdigit()
        and int(row["pageviews"]) >= 1
        and row["duration_seconds"].isdigit()
        and row["traffic_source"] == row["traffic_source"].strip().lower() != ""
        and row["device"] in {"desktop", "mobile", "tablet"}
        and parsed(row["started_at"]) is not None
        and row["anonymous_id"].strip() != ""
    )


def is_valid_order(row: dict[str, str]) -> bool:
    return (
        row["status"] in {"completed", "returned", "cancelled"}
        and row["sales_channel"] in {"web", "app", "store"}
        and row["currency"] in {"EUR", "CHF", "GBP", "USD"}
        and row["item_count"].isdigit()
        and int(row["item_count"]) >= 1
        and parsed(row["ordered_at"]) is not None
        and all(
            row[amount].replace(".", "", 1).isdigit()
            for amount in ("gross_amount", "discount_amount", "shipping_amount")
        )
        and float(row["discount_amount"]) <= float(row["gross_amount"])
    )


def plant(full: dict[str, tuple[list[str], list[list[str]]]]) -> dict[str, str]:
    """Add the changes an incremental run must carry back into old rows; return their keys."""
    header, sessions = full["sessions"]
    as_dicts = [dict(zip(header, row, strict=True)) for row in sessions]
    counts = Counter(row["session_id"] for row in as_dicts)

    # 1. A late conflicting copy of an accepted session dated inside the lookback.
    conflicted = next(
        row
        for row in as_dicts
        if counts[row["session_id"]] == 1
        and is_valid_session(row)
        and LATE_FROM <= parsed(row["started_at"]) < NEW_FROM
    )
    copy = {**conflicted, "pageviews": str(int(conflicted["pageviews"]) + 1)}

    # 2. A cookie seen only anonymously, long before the window, logs in on a new day.
    by_cookie: dict[str, list[dict[str, str]]] = {}
    for row in as_dicts:
        by_cookie.setdefault(row["anonymous_id"], []).append(row)
    cookie = next(
        cookie
        for cookie, rows in sorted(by_cookie.items())
        if all(row["customer_id"] == "" and is_valid_session(row) for row in rows)
        and all(parsed(row["started_at"]) < datetime(2024, 3, 1, tzinfo=UTC) for row in rows)
        and all(counts[row["session_id"]] == 1 for row in rows)
    )
    login = {
        **by_cookie[cookie][0],
        "session_id": LOGIN_SESSION,
        "customer_id": "1",
        "order_id": "",
        "started_at": "2024-04-30T10:00:00Z",
    }

    # 3. An old session of a customer whose CRM record only arrives with the new days.
    old_session = {
        **conflicted,
        "session_id": OLD_SESSION_OF_NEW_CUSTOMER,
        "anonymous_id": "planted-cookie",
        "customer_id": NEW_CUSTOMER,
        "order_id": "",
        "started_at": "2024-02-01T10:00:00Z",
    }
    customer_header, customers = full["customers"]
    new_customer = dict(zip(customer_header, customers[0], strict=True))
    new_customer.update(
        customer_id=NEW_CUSTOMER,
        email=f"planted.{NEW_CUSTOMER}@example.com",
        signup_at="2024-04-30T09:00:00Z",
        referred_by_customer_id="",
    )
    customers.append([new_customer[column] for column in customer_header])
    for row in (copy, login, old_session):
        sessions.append([row[column] for column in header])

    # 4. A late conflicting copy of an accepted order dated inside the lookback (one that no
    #    session points at), and an old order of the customer who arrives with the new days.
    order_header, orders = full["orders"]
    order_dicts = [dict(zip(order_header, row, strict=True)) for row in orders]
    order_counts = Counter(row["order_id"] for row in order_dicts)
    with_sessions = {row["order_id"] for row in as_dicts}
    conflicted_order = next(
        row
        for row in order_dicts
        if order_counts[row["order_id"]] == 1
        and row["order_id"] not in with_sessions
        and row["customer_id"].isdigit()
        and is_valid_order(row)
        and LATE_FROM <= parsed(row["ordered_at"]) < NEW_FROM
    )
    order_copy = {**conflicted_order, "item_count": str(int(conflicted_order["item_count"]) + 1)}
    old_order = {
        **conflicted_order,
        "order_id": OLD_ORDER_OF_NEW_CUSTOMER,
        "customer_id": NEW_CUSTOMER,
        "ordered_at": "2024-02-02T10:00:00Z",
    }
    for row in (order_copy, old_order):
        orders.append([row[column] for column in order_header])
    return {
        "conflicted": conflicted["session_id"],
        "cookie": cookie,
        "conflicted_order": conflicted_order["order_id"],
    }


def land(raw: Path, full: dict[str, tuple[list[str], list[list[str]]]], first_run: bool) -> None:
    """Write the raw files as they stand before (first_run) or after the new days arrive."""
    for table, (header, rows) in full.items():
        column = header.index(TIMESTAMPS[table])
        kept = []
        late_seen = 0
        for row in rows:
            moment = parsed(row[column])
            if first_run and moment is not None and moment >= NEW_FROM:
                continue
            if first_run and table in LATE_TABLES and moment and LATE_FROM <= moment < NEW_FROM:
                late_seen += 1
                if late_seen % 3 == 0:
                    continue
            kept.append(row)
        write(raw / f"{table}.csv", header, kept)


def build(database: Path, raw: Path | None, *args: str) -> str:
    result = run_dbt(["build", *args], database, {"raw_data_path": str(raw)} if raw else None)
    assert result.returncode == 0, result.output[-5000:]
    return result.output


LANDING_LOG = {
    "staging.raw_loads",
    "staging.raw_file_state",
    "staging.raw_changed_keys",
    "staging.data_test_scopes",
    "staging.model_runs",
    "staging.model_changed_keys",
    "staging.model_change_reads",
    "staging.relationship_parent_keys",
}
"""The raw models' record of each landing run (load ids, times), the keys the last
incremental run wrote and the parent keys at the relationships tests' last passes (for its data
tests) and the change feeds between models (run numbers, keys not yet read): a log of how the
warehouse got here, which differs between any two histories by design."""


def tables(con: duckdb.DuckDBPyConnection, catalog: str) -> set[str]:
    """Every table dbt's models and hooks built, but the build's record of its dbt runs (schema
    audit: invocation ids and times, which differ between any two builds) and the landing log."""
    return {
        f"{schema}.{name}"
        for schema, name in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = ?"
            " and schema_name <> 'audit'",
            [catalog],
        ).fetchall()
    } - LANDING_LOG


def columns_compared(name: str) -> str:
    """What is compared of a table: every column, but for the incremental models' state the
    raw loads each read (load ids, part of the landing log)."""
    return "model_name, built_from" if name == "staging.incremental_model_state" else "*"


def test_incremental_run_equals_full_refresh(tmp_path: Path, seed_build: DbtResult) -> None:
    generated = tmp_path / "generated"
    arguments = ["--customers=400", "--seed=11", f"--start={START}", f"--end={END}"]
    arguments += ["--defects=0.02", "--out", str(generated)]
    completed = subprocess.run(
        [str(BIN / "customer-analytics"), "generate", *arguments],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    full = {table: read(generated / f"{table}.csv") for table in TIMESTAMPS}
    planted = plant(full)

    raw = tmp_path / "raw"
    raw.mkdir()
    incremental = tmp_path / "incremental" / "warehouse.duckdb"
    incremental.parent.mkdir()
    land(raw, full, first_run=True)
    # First the shipped seeds into the same file (a copy of the session's `dbt build` of them):
    # the switch to raw_data_path must not mix their rows (same keys, other dates) into the
    # incremental models.
    assert "Raw source changed" not in seed_build.output
    shutil.copy(seed_build.database, incremental)
    switched = build(incremental, raw)
    assert "Raw source changed (customers was built from" in switched
    assert "; orders was built from" in switched
    assert "; sessions was built from" in switched
    with duckdb.connect(str(incremental), read_only=True) as con:
        first = con.execute(
            "select rejection_reason from staging.base_web_analytics__sessions"
            " where session_id = ?",
            [OLD_SESSION_OF_NEW_CUSTOMER],
        ).fetchall()
        assert first == [("unknown_customer",)]
        assert con.execute(
            "select rejection_reason from staging.base_shop__orders where order_id = ?",
            [OLD_ORDER_OF_NEW_CUSTOMER],
        ).fetchall() == [("unknown_customer",)]
        assert con.execute("select count(*) from marts.fct_sessions").fetchone()[0] > 1000

    land(raw, full, first_run=False)
    assert "Raw source changed" not in build(incremental, raw)
    refreshed = tmp_path / "refreshed" / "warehouse.duckdb"
    refreshed.parent.mkdir()
    shutil.copy(incremental, refreshed)
    build(refreshed, raw, "--full-refresh", *REFERENCE_BUILD[1:])

    with duckdb.connect() as con:
        con.execute(f"attach '{incremental}' as incremental (read_only)")
        con.execute(f"attach '{refreshed}' as refreshed (read_only)")
        names = tables(con, "incremental")
        assert names == tables(con, "refreshed")
        assert {
            "staging.base_shop__orders",
            "staging.base_web_analytics__sessions",
            "marts.fct_email_events",
        } <= names
        for name in sorted(names):
            for left, right in (("incremental", "refreshed"), ("refreshed", "incremental")):
                extra = con.execute(
                    f"select {columns_compared(name)} from {left}.{name} except all"
                    f" select {columns_compared(name)} from {right}.{name}"
                ).fetchall()
                assert extra == [], f"{name}: rows only in the {left} build: {extra[:3]}"

        # The planted changes reached the incremental build (so the comparison is not vacuous).
        stitched = con.execute(
            "select distinct stitched_customer_key from incremental.marts.fct_sessions"
            " where anonymous_id = ? and session_id <> ?",
            [planted["cookie"], LOGIN_SESSION],
        ).fetchall()
        assert stitched == [(pseudonym("1"),)]
        assert con.execute(
            "select rejection_reason from incremental.staging.base_web_analytics__sessions"
            " where session_id = ?",
            [planted["conflicted"]],
        ).fetchall() == [("duplicate_conflicting",), ("duplicate_conflicting",)]
        assert con.execute(
            "select customer_key from incremental.marts.fct_sessions where session_id = ?",
            [OLD_SESSION_OF_NEW_CUSTOMER],
        ).fetchall() == [(pseudonym(NEW_CUSTOMER),)]
        assert con.execute(
            "select rejection_reason from incremental.staging.base_shop__orders where order_id = ?",
            [planted["conflicted_order"]],
        ).fetchall() == [("duplicate_conflicting",), ("duplicate_conflicting",)]
        assert con.execute(
            "select customer_key from incremental.marts.fct_orders where order_id = ?",
            [OLD_ORDER_OF_NEW_CUSTOMER],
        ).fetchall() == [(pseudonym(NEW_CUSTOMER),)]


@pytest.mark.slow
def test_a_partial_run_or_a_new_setting_never_leaves_the_incremental_models_stale(
    tmp_path: Path,
) -> None:
    """Two ways an incremental model could keep rows judged from another source or with other
    settings: (1) a build of only the staging models with a new raw_data_path, while
    raw.<table> still holds the old file, then a full build; (2) a full build with another
    earliest_valid_date. Each must end equal to a clean build of the same input and settings."""
    shop_a = tmp_path / "a"
    subprocess.run(
        [str(BIN / "customer-analytics"), "generate", "--customers", "150", "--seed", "5",
         "--start", "2024-01-01", "--end", "2025-03-31", "--out", str(shop_a)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    shop_b = tmp_path / "b"
    shutil.copytree(shop_a, shop_b)
    header, rows = read(shop_b / "orders.csv")
    write(shop_b / "orders.csv", header, rows[: len(rows) * 3 // 4])  # B lost a quarter

    database = tmp_path / "one" / "warehouse.duckdb"
    database.parent.mkdir()
    build(database, shop_a)
    partial = build(database, shop_b, "--select", "base_shop__orders", "base_email__email_events")
    assert "Raw source changed" not in partial  # raw.orders still holds A: nothing to redo
    assert "Raw source changed (customers was built from" in build(database, shop_b)
    clean = tmp_path / "clean" / "warehouse.duckdb"
    reference_build(clean, {"raw_data_path": str(shop_b)})
    assert mart_tables(database) == mart_tables(clean)

    later = "2024-06-01"
    changed = run_dbt(
        ["build"], database, {"raw_data_path": str(shop_b), "earliest_valid_date": later}
    )
    assert changed.returncode == 0, changed.output[-3000:]
    assert "is now read or judged with other settings" in changed.output
    later_settings = {"raw_data_path": str(shop_b), "earliest_valid_date": later}
    clean_later = mart_tables(reference_build(clean, later_settings).database)
    with duckdb.connect(str(database), read_only=True) as con:
        (early,) = con.execute(
            "select count(*) from staging.base_shop__orders where rejection_reason = 'out_of_range'"
            f" and ordered_at < '{later}'"
        ).fetchone()
    assert early > 0  # the new setting did reach the old rows
    assert mart_tables(database) == clean_later

    # (3) another lifecycle threshold: the lifecycle alone is rebuilt, in full (the unit tests
    # are left out: their expected rows hold for the default thresholds)
    loyal = {
        "raw_data_path": str(shop_b),
        "earliest_valid_date": later,
        "lifecycle_loyal_min_orders": 2,
    }
    relabelled = run_dbt(["build", "--exclude", "test_type:unit"], database, loyal)
    assert relabelled.returncode == 0, relabelled.output[-3000:]
    assert "rpt_customer_lifecycle's own settings changed" in relabelled.output
    assert re.findall(r"\): rebuilt (\w+) in full", relabelled.output) == ["rpt_customer_lifecycle"]
    relabelled_marts = mart_tables(database)
    assert relabelled_marts == mart_tables(reference_build(clean, loyal).database)
    lifecycle = "rpt_customer_lifecycle"
    assert relabelled_marts[lifecycle] != clean_later[lifecycle]


@pytest.mark.slow
def test_fct_sessions_catches_up_on_every_run_of_its_change_feed(
    tmp_path: Path, seed_build: DbtResult
) -> None:
    """fct_sessions reads int_sessions_stitched's change feed (docs/incremental.md, "Change
    feeds"): the sessions written by runs that left it out are read by its next run, a full
    refresh of int_sessions_stitched alone makes it read every session, and a run with nothing
    new reads none. Each time it holds every stitched session with the pseudonyms of its
    customers (computed here with hmac)."""
    land = tmp_path / "raw"
    shutil.copytree(REPO / "data" / "raw", land)
    database = tmp_path / "warehouse.duckdb"
    shutil.copy(seed_build.database, database)
    build(database, land)  # another raw_data_path: built in full, the feed's read recorded
    header, rows = read(land / "sessions.csv")
    at = {name: header.index(name) for name in header}
    # an anonymous cookie with a login on it: new anonymous sessions are stitched to its owner
    cookie = next(row[at["anonymous_id"]] for row in reversed(rows) if row[at["customer_id"]])
    template = next(row for row in rows if row[at["anonymous_id"]] == cookie)

    def session(number: int, day: str) -> list[str]:
        new = list(template)
        new[at["session_id"]] = str(990_000 + number)
        new[at["customer_id"]] = new[at["order_id"]] = ""
        new[at["started_at"]] = f"{day}T10:00:00+01:00"
        return new

    # the first, late, lies outside the lookback of the second run, which does not write it
    # again: fct_sessions must read it from the first run's keys
    stitched_sessions = "int_sessions_stitched"
    for number, day in ((1, "2025-12-01"), (2, "2025-12-31")):
        partition = land / "sessions" / f"date={day}"
        partition.mkdir(parents=True)
        write(partition / "part-0.csv", header, [session(number, day)])
        build(database, land, "--exclude", "fct_sessions+")

    def held() -> tuple[set[str], set[str]]:
        """(fct_sessions' data test scope, the sessions whose fct_sessions row is wrong or
        missing)."""
        with duckdb.connect(str(database), read_only=True) as con:
            stitched = con.execute(
                "select session_id, customer_id, stitched_customer_id"
                f" from intermediate.{stitched_sessions}"
            ).fetchall()
            marts = {
                row[0]: row[1:]
                for row in con.execute(
                    "select session_id, customer_key, stitched_customer_key from marts.fct_sessions"
                ).fetchall()
            }
        scope = scope_keys(database, "fct_sessions")
        expected = {
            session_id: tuple(pseudonym(c) if c else None for c in customers)
            for session_id, *customers in stitched
        }
        wrong = {
            key for key in expected.keys() | marts.keys() if expected.get(key) != marts.get(key)
        }
        return scope, wrong

    build(database, land)
    scope, wrong = held()
    assert {"990001", "990002"} <= scope  # both runs it missed
    assert not wrong
    with duckdb.connect(str(database), read_only=True) as con:
        ((sessions,),) = con.execute("select count(*) from marts.fct_sessions").fetchall()
    assert len(scope) < sessions / 4  # not every session

    build(database, land, "--full-refresh", "--select", stitched_sessions)
    build(database, land, "--select", "fct_sessions")
    scope, wrong = held()
    assert len(scope) == sessions and not wrong
    build(database, land, "--select", "fct_sessions")
    assert held() == (set(), set())


@pytest.mark.slow
def test_a_daily_run_sums_the_lifecycle_windows_a_full_build_sorts(tmp_path: Path) -> None:
    """The lifecycle's daily run (one or two months rebuilt) takes its windows' sums grouped
    per customer and month, a full build the windows themselves (docs/incremental.md, "Sums,
    not windows, on a daily run"). Over 19 months of a generated shop, every window reaches
    back into months the daily run sums: the marts of a run that rebuilds December alone, then
    of one across the month's end (December and January), equal a full build of the files."""
    generated = tmp_path / "generated"
    subprocess.run(
        [
            str(BIN / "customer-analytics"), "generate", "--customers", "400", "--seed", "8",
            "--start", "2024-06-01", "--end", "2026-01-01", "--out", str(generated),
        ],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    land = tmp_path / "landing"
    land.mkdir()
    for table in TIMESTAMPS.keys() - {"orders"}:
        shutil.copy(generated / f"{table}.csv", land / f"{table}.csv")
    header, orders = read(generated / "orders.csv")
    column = header.index("ordered_at")
    by_day: dict[str, list[list[str]]] = {}
    for row in orders:  # the generator writes every order time readable
        by_day.setdefault(str(parsed(row[column]).astimezone(UTC).date()), []).append(row)
    last_days = ("2025-12-31", "2026-01-01")
    history = [row for day, rows in by_day.items() if day < last_days[0] for row in rows]

    write(land / "orders.csv", header, history)
    database = tmp_path / "daily" / "warehouse.duckdb"
    database.parent.mkdir()
    build(database, land)
    for day, rebuilt in zip(last_days, ({"2025-12-01"}, {"2025-12-01", "2026-01-01"}), strict=True):
        assert by_day[day]
        (land / "orders").mkdir(exist_ok=True)
        write(land / "orders" / f"{day}.csv", header, by_day[day])
        build(database, land)
        months = scope_keys(database, "rpt_customer_lifecycle")
        with duckdb.connect(str(database), read_only=True) as con:
            # the rows the daily run summed hold what only months far back give them: orders
            # more than 11 months before, in the previous trend window, returns there
            ((before_12_months, previous_orders, previous_returns),) = con.execute(
                "select"
                " count(*) filter (completed_orders_to_date > completed_orders_last_12_months),"
                " count(*) filter (orders_previous > 0),"
                " count(*) filter (return_share_previous > 0)"
                " from marts.rpt_customer_lifecycle where list_contains(?, cast(month as varchar))",
                [sorted(rebuilt)],
            ).fetchall()
        assert months == rebuilt, day
        assert min(before_12_months, previous_orders, previous_returns) > 0, day
        full = reference_build(tmp_path / "full" / "warehouse.duckdb", {"raw_data_path": str(land)})
        expected, actual = mart_tables(full.database), mart_tables(database)
        differing = [name for name in expected if actual.get(name) != expected[name]]
        assert not differing, f"after {day}, marts differ from a full build: {differing}"
