"""Day-partitioned landing: a generated shop landed day by day (late rows, a conflicting copy
of an old order, days out of order, a past day landed again, a day deleted) gives, after each
incremental `dbt build`, marts equal to a full build of the same files in a fresh warehouse;
and each incremental run reads only the files that are new or changed."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import re
import shutil
import subprocess
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from conftest import (
    BIN,
    NO_DATA_TESTS,
    REPO,
    mart_tables,
    reference_build,
    run_dbt,
    scope_keys,
)

from orchestration.lib.clv_tables import CLV_TABLES, STATUS
from orchestration.lib.landing import built_from, fingerprint, warehouse_sources

pytestmark = pytest.mark.build

START, END = "2025-10-01", "2025-12-31"
TIMESTAMPS = {
    "orders": "ordered_at",
    "sessions": "started_at",
    "email_events": "occurred_at",
}
WHOLE_ORDERS_UNTIL = date(2025, 12, 20)
"""Orders up to this day arrive as one whole-table history file (orders.csv), later ones as
day partitions beside it (orders/<day>.csv)."""
FIRST_LANDING_UNTIL = date(2025, 12, 27)
MONTH_END = date(2025, 11, 30)


def day_of(value: str) -> date | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).date()


def read(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    return rows[0], rows[1:]


def write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def partition_path(land: Path, table: str, day: date) -> Path:
    """Sessions in Hive style, the other event tables named by their day."""
    if table == "sessions":
        return land / table / f"date={day.isoformat()}" / "part-0.csv"
    return land / table / f"{day.isoformat()}.csv"


class Shop:
    """The generated raw rows, split by the UTC day of their timestamp (rows without a
    readable one go to the first day); what each landing step writes."""

    def __init__(self, generated: Path) -> None:
        self.headers: dict[str, list[str]] = {}
        self.days: dict[str, dict[date, list[list[str]]]] = {}
        self.whole: dict[str, list[list[str]]] = {}
        first = date.fromisoformat(START)
        _, defects = read(generated / "_defects.csv")
        self.defective = {(table, key) for table, key, *_ in defects}
        """(table, key) of every row the generator made defective (its manifest)."""
        for path in sorted(generated.glob("*.csv")):
            if path.name.startswith("_"):
                continue
            table = path.stem
            header, rows = read(path)
            self.headers[table] = header
            if table not in TIMESTAMPS:
                self.whole[table] = rows
                continue
            column = header.index(TIMESTAMPS[table])
            by_day: dict[date, list[list[str]]] = {}
            for row in rows:
                day = day_of(row[column]) or first
                by_day.setdefault(max(day, first), []).append(row)
            self.days[table] = by_day

    def land_whole(self, land: Path) -> None:
        for table, rows in self.whole.items():
            write(land / f"{table}.csv", self.headers[table], rows)

    def land_day(self, land: Path, table: str, day: date, extra: list[list[str]] = ()) -> None:
        rows = self.days[table].get(day, []) + list(extra)
        write(partition_path(land, table, day), self.headers[table], rows)

    def land_order_history(self, land: Path, until: date = WHOLE_ORDERS_UNTIL) -> None:
        rows = [
            row
            for day, rows_of_day in sorted(self.days["orders"].items())
            if day <= until
            for row in rows_of_day
        ]
        write(land / "orders.csv", self.headers["orders"], rows)


def build(database: Path, land: Path, *args: str) -> str:
    result = run_dbt(["build", *args], database, {"raw_data_path": str(land)})
    assert result.returncode == 0, result.output[-5000:]
    return result.output


def run_dbt_query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def files_read(output: str, table: str) -> tuple[int, int]:
    """(files read, files landed) of raw.<table> in a dbt run's log."""
    found = re.search(rf"Raw {table}: (?:landed in full from|read) (\d+) of (\d+) file", output)
    assert found, f"no landing line for {table}"
    return int(found.group(1)), int(found.group(2))


def lifecycle_months_rebuilt(database: Path) -> set[date]:
    """The months of the rpt_customer_lifecycle rows the last incremental run wrote (its data
    test scope, keyed by month: the run rebuilds whole months)."""
    return {date.fromisoformat(key) for key in scope_keys(database, "rpt_customer_lifecycle")}


def transition_months_rebuilt(database: Path) -> set[date]:
    """The months of the rpt_lifecycle_transitions rows the last incremental run wrote."""
    return {date.fromisoformat(key) for key in scope_keys(database, "rpt_lifecycle_transitions")}


def read_from_the_change_feeds(database: Path) -> dict[str, set[str]]:
    """fct_sessions read (and wrote) exactly the sessions int_sessions_stitched wrote in the
    same run (its change feed), a few of all the sessions, and fct_email_events the accepted
    events of those base_email__email_events wrote: the keys both read."""
    written = scope_keys(database, "int_sessions_stitched")
    ((sessions,),) = run_dbt_query(database, "select count(*) from marts.fct_sessions")
    assert written and len(written) < sessions / 4, (len(written), sessions)
    assert scope_keys(database, "fct_sessions") == written
    # and fct_email_events the accepted events of those base_email__email_events wrote
    events = scope_keys(database, "base_email__email_events")
    accepted = {
        event_id
        for (event_id,) in run_dbt_query(
            database, "select event_id from staging.stg_email__email_events"
        )
    }
    assert scope_keys(database, "fct_email_events") == events & accepted
    return {"sessions": written, "email_events": events & accepted}


def orders_sequenced_by_customer(database: Path) -> dict[str, set[tuple[str, str]]]:
    """Each customer's orders in int_orders_sequenced: (order_id, every column as text)."""
    by_customer: dict[str, set[tuple[str, str]]] = {}
    for customer, order_id, row in run_dbt_query(
        database,
        "select customer_id, order_id, cast(sequenced as varchar)"
        " from intermediate.int_orders_sequenced as sequenced",
    ):
        by_customer.setdefault(customer, set()).add((order_id, row))
    return by_customer


def sequenced_again(database: Path, before: dict[str, set[tuple[str, str]]]) -> set[str]:
    """int_orders_sequenced (incremental by customer) sequenced again exactly the customers
    of the orders base_shop__orders wrote in the same run (as accepted now) and the customers
    who lost an order since `before`, few of all; every customer whose orders changed is among
    them. Returns them."""
    written = scope_keys(database, "base_shop__orders")
    owners = {
        customer
        for (customer, order_id) in run_dbt_query(
            database, "select customer_id, order_id from staging.stg_shop__orders"
        )
        if order_id in written
    }
    now = orders_sequenced_by_customer(database)
    held_now = {order_id for rows in now.values() for order_id, _ in rows}
    lost = {
        customer
        for customer, rows in before.items()
        for order_id, _ in rows
        if order_id not in held_now or order_id in written
    }
    sequenced = scope_keys(database, "int_orders_sequenced")
    assert sequenced == (owners | lost) & set(now), (len(sequenced), len(owners), len(lost))
    changed = {c for c in set(before) | set(now) if before.get(c) != now.get(c)}
    assert changed - set(now) <= lost  # a customer without orders now has no row to write
    assert changed & set(now) <= sequenced
    assert len(sequenced) < len(now) / 4, (len(sequenced), len(now))
    return sequenced


EmailMessages = tuple[dict[str, str], dict[str, set[str]]]


def email_messages(database: Path) -> EmailMessages:
    """int_email_messages_rolled_up's rows (message_id: every column as text) and each
    message's accepted events (message_id: event ids), the id computed here as documented,
    the MD5 of customer_id|campaign_id."""
    rows = dict(
        run_dbt_query(
            database,
            "select message_id, cast(messages as varchar)"
            " from intermediate.int_email_messages_rolled_up as messages",
        )
    )
    events: dict[str, set[str]] = {}
    for customer, campaign, event_id in run_dbt_query(
        database, "select customer_id, campaign_id, event_id from staging.stg_email__email_events"
    ):
        message = hashlib.md5(f"{customer}|{campaign}".encode()).hexdigest()
        events.setdefault(message, set()).add(event_id)
    return rows, events


def messages_rolled_up_again(database: Path, before: EmailMessages) -> tuple[set[str], set[str]]:
    """int_email_messages_rolled_up (incremental by message) rolled up again exactly the
    messages of the accepted events base_email__email_events wrote in the same run and the
    messages that lost an accepted event since `before` (none is past the retention window),
    few of all; every message whose row changed is among them. Returns (the messages of the
    events written, the messages that lost one)."""
    rows_before, events_before = before
    rows_now, events_now = email_messages(database)
    written = scope_keys(database, "base_email__email_events")
    of_written = {message for message, ids in events_now.items() if ids & written}
    lost = {
        message for message, ids in events_before.items() if ids - events_now.get(message, set())
    }
    rolled_up = scope_keys(database, "int_email_messages_rolled_up")
    assert rolled_up == of_written | lost, (len(rolled_up), len(of_written), len(lost))
    changed = {
        m for m in rows_before.keys() | rows_now.keys() if rows_before.get(m) != rows_now.get(m)
    }
    assert changed <= rolled_up
    assert len(rolled_up) < len(rows_now) / 4, (len(rolled_up), len(rows_now))
    assert set(rows_now) == set(events_now)  # a message without accepted events has no row
    return of_written, lost


def full_build_equals(land: Path, incremental: Path, work: Path, step: str) -> None:
    fresh = work / "full" / "warehouse.duckdb"
    reference_build(fresh, {"raw_data_path": str(land)})
    expected = mart_tables(fresh)
    actual = mart_tables(incremental)
    assert set(actual) == set(expected)
    differing = [name for name in expected if actual[name] != expected[name]]
    assert not differing, f"after {step}, marts differ from a full build: {differing}"
    # and the orders sequenced by customer and the email messages, which the marts aggregate
    assert orders_sequenced_by_customer(incremental) == orders_sequenced_by_customer(fresh), step
    assert email_messages(incremental) == email_messages(fresh), step


@pytest.fixture
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    """A generated shop of 150 customers over three months, fresh for each test (the tests
    change its rows)."""
    generated = tmp_path_factory.mktemp("generated")
    subprocess.run(
        [
            str(BIN / "customer-analytics"), "generate", "--customers", "150", "--seed", "21",
            "--start", START, "--end", END, "--defects", "0.02", "--out", str(generated),
        ],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return Shop(generated)


def test_a_shop_landed_day_by_day_equals_a_full_build(shop: Shop, tmp_path: Path) -> None:
    land = tmp_path / "landing"
    database = tmp_path / "incremental" / "warehouse.duckdb"
    database.parent.mkdir()
    days = sorted({day for by_day in shop.days.values() for day in by_day})
    late_day = date(2025, 12, 5)  # far outside the 3-day lookback of the later runs

    # Late rows: a third of the orders, sessions and email events of late_day are held back
    # from their own day and land with 2025-12-29.
    held_back: dict[str, list[list[str]]] = {}
    for table in TIMESTAMPS:
        rows = shop.days[table].get(late_day, [])
        held_back[table] = rows[::3]
        shop.days[table][late_day] = [row for i, row in enumerate(rows) if i % 3]
    assert all(held_back.values())

    # step 0: the history and the days up to November's end; then (across the month's end:
    # the reference month moves on) the history and the days up to FIRST_LANDING_UNTIL
    shop.land_whole(land)
    shop.land_order_history(land, until=MONTH_END)
    for table in TIMESTAMPS:
        for day in days:
            if day <= MONTH_END and table != "orders":
                shop.land_day(land, table, day)
    # (the two set-up builds leave the data tests out: the daily runs below run them)
    build(database, land, *NO_DATA_TESTS)
    shop.land_order_history(land)
    for table in TIMESTAMPS:
        for day in days:
            if day <= FIRST_LANDING_UNTIL and not (table == "orders" and day <= WHOLE_ORDERS_UNTIL):
                shop.land_day(land, table, day)
    output = build(database, land, *NO_DATA_TESTS)
    assert files_read(output, "orders")[0] == files_read(output, "orders")[1]

    # step 1: 2025-12-29 lands before 2025-12-28, carrying the late rows
    late_day_orders = {row[0] for row in held_back["orders"]}
    for table in TIMESTAMPS:
        shop.land_day(land, table, date(2025, 12, 29), held_back[table])
    output = build(database, land)
    for table in TIMESTAMPS:
        read_now, landed = files_read(output, table)
        assert read_now == 1 and landed > 1, (table, read_now, landed)
    accepted = {
        order_id
        for (order_id,) in run_dbt_query(database, "select order_id from staging.stg_shop__orders")
    }
    assert late_day_orders & accepted  # the late orders were judged and (mostly) accepted

    # step 2: 2025-12-28 lands, with a conflicting copy of an old accepted order
    header = shop.headers["orders"]
    counts = Counter(row[0] for rows in shop.days["orders"].values() for row in rows)
    old = next(
        row
        for day, rows in sorted(shop.days["orders"].items())
        if day < date(2025, 11, 1)
        for row in rows
        if counts[row[0]] == 1 and row[0] in accepted
    )
    copy = list(old)
    copy[header.index("item_count")] = str(int(old[header.index("item_count")]) + 1)
    for table in TIMESTAMPS:
        shop.land_day(land, table, date(2025, 12, 28), [copy] if table == "orders" else [])
    # and the sessions of the day after the reference date (accepted: within the future
    # tolerance), to be judged again when the reference date moves back (step 3)
    ((reference_before,),) = run_dbt_query(
        database, "select reference_date from staging.stg_shop__reference_date"
    )
    next_day = reference_before + timedelta(days=1)
    shop.land_day(land, "sessions", next_day)
    before = orders_sequenced_by_customer(database)
    messages_before = email_messages(database)
    build(database, land)
    messages_rolled_up_again(database, messages_before)
    # the old order's customer lost it: their orders are sequenced again
    old_customer = old[header.index("customer_id")]
    sequenced = sequenced_again(database, before)
    assert old_customer in sequenced or old_customer not in orders_sequenced_by_customer(database)
    # the lifecycle is rebuilt from the old order's month on (the order left the accepted
    # orders), every customer's rows of that month and after; the earlier months are kept
    old_month = day_of(old[header.index("ordered_at")]).replace(day=1)
    months_rebuilt = lifecycle_months_rebuilt(database)
    assert min(months_rebuilt) == old_month, (sorted(months_rebuilt), old_month)
    assert max(months_rebuilt) == date(2025, 12, 1)
    # and the flows between stages of those months alone (the lifecycle's change feed)
    assert transition_months_rebuilt(database) == months_rebuilt
    ((next_day_accepted,),) = run_dbt_query(
        database,
        "select count(*) from staging.base_web_analytics__sessions"
        f" where cast(started_at as date) = '{next_day}' and rejection_reason is null",
    )
    assert next_day_accepted > 0

    # step 3: 2025-12-28 lands again without the copy (the old order is accepted again), a
    # past email day is deleted, and a past session day lands again with one session fewer.
    # Judgements that depend on other tables change however old the rows: a customer with
    # October orders and email events leaves the CRM export (their rows become
    # unknown_customer), and the latest order day's partition is deleted, so the reference
    # date moves back and the next day's sessions landed in step 2 now lie beyond the future
    # limit (future_timestamp).
    shop.land_day(land, "orders", date(2025, 12, 28))
    email_day = partition_path(land, "email_events", date(2025, 11, 2))
    email_day.unlink()
    session_day = date(2025, 11, 3)
    dropped = shop.days["sessions"][session_day].pop(0)
    shop.land_day(land, "sessions", session_day)
    gone = next(
        customer
        for (customer,) in run_dbt_query(
            database,
            "select customer_id from staging.stg_shop__orders where ordered_at < '2025-11-01'"
            " intersect select customer_id from staging.base_email__email_events"
            " where rejection_reason is null and occurred_at < '2025-11-01' order by 1",
        )
    )
    accepted_before = run_dbt_query(
        database,
        "select 'email ' || event_id from staging.base_email__email_events"
        f" where customer_id = '{gone}' and rejection_reason is null"
        " and cast(occurred_at as date) <> '2025-11-02'"
        " union all select 'order ' || order_id from staging.base_shop__orders"
        f" where customer_id = '{gone}' and rejection_reason is null"
        " and ordered_at < '2025-12-01'",
    )
    crm = shop.headers["customers"]
    write(
        land / "customers.csv",
        crm,
        [row for row in shop.whole["customers"] if row[crm.index("customer_id")] != gone],
    )
    partition_path(land, "orders", reference_before).unlink()
    before = orders_sequenced_by_customer(database)
    messages_before = email_messages(database)
    output = build(database, land)
    assert old_customer in sequenced_again(database, before)  # accepted again
    # the messages of the deleted email day and of the customer gone from the CRM export
    # lost events the change feed does not name (found by their counts): rolled up again
    of_written, lost = messages_rolled_up_again(database, messages_before)
    assert lost - of_written
    assert gone in before and gone not in orders_sequenced_by_customer(database)
    assert files_read(output, "orders")[0] == (0 if reference_before == date(2025, 12, 28) else 1)
    assert files_read(output, "sessions")[0] == 1
    assert files_read(output, "email_events")[0] == 0
    judged_now = dict(
        run_dbt_query(
            database,
            "select 'email ' || event_id, rejection_reason from staging.base_email__email_events"
            f" where customer_id = '{gone}' union all select 'order ' || order_id,"
            f" rejection_reason from staging.base_shop__orders where customer_id = '{gone}'",
        )
    )
    assert accepted_before
    assert {judged_now[key] for (key,) in accepted_before} == {"unknown_customer"}
    ((reference_after,),) = run_dbt_query(
        database, "select reference_date from staging.stg_shop__reference_date"
    )
    assert reference_after < reference_before
    # the next day's sessions accepted before lie beyond the future limit now (as do those
    # rejected before for a reason that comes later in the order of the checks)
    ((beyond, accepted_now),) = run_dbt_query(
        database,
        "select count(*) filter (rejection_reason = 'future_timestamp'),"
        " count(*) filter (rejection_reason is null) from staging.base_web_analytics__sessions"
        f" where cast(started_at as date) = '{next_day}'",
    )
    assert accepted_now == 0 and beyond >= next_day_accepted
    full_build_equals(
        land, database, tmp_path, "a customer left the CRM, the reference date moved back"
    )
    assert run_dbt_query(
        database, f"select count(*) from staging.stg_shop__orders where order_id = '{old[0]}'"
    ) == [(1,)]
    assert run_dbt_query(
        database,
        "select count(*) from staging.base_web_analytics__sessions"
        f" where session_id = '{dropped[0]}'",
    ) == [(0,)]

    # step 4: the last two days, and the latest order day again
    shop.land_day(land, "orders", reference_before)
    for table in TIMESTAMPS:
        for day in (date(2025, 12, 30), date(2025, 12, 31)):
            shop.land_day(land, table, day)
    before = orders_sequenced_by_customer(database)
    messages_before = email_messages(database)
    output = build(database, land)
    sequenced_again(database, before)
    messages_rolled_up_again(database, messages_before)
    assert files_read(output, "orders")[0] == len(
        {reference_before, *(date(2025, 12, d) for d in (30, 31))}
    )
    # every accepted row of the new days was read from the change feeds
    read_from_the_feeds = read_from_the_change_feeds(database)
    for table, fact, key in (
        ("sessions", "fct_sessions", "session_id"),
        ("email_events", "fct_email_events", "event_id"),
    ):
        held = {value for (value,) in run_dbt_query(database, f"select {key} from marts.{fact}")}
        new_days = {
            row[0]
            for day in (date(2025, 12, 30), date(2025, 12, 31))
            for row in shop.days[table].get(day, [])
        }
        assert new_days & held <= read_from_the_feeds[table], table
        # (the shop sent no email on those days; test_incremental.py has late email events)
        assert new_days & held or table == "email_events"
    # the landing sensor's view of the folder (Python, hashlib) matches what the raw models
    # recorded (SQL), so a sensor does not start a run for files already landed
    assert built_from(fingerprint(land), warehouse_sources(database))
    (land / "orders" / "2025-12-31.csv").write_text(
        (land / "orders" / "2025-12-31.csv").read_text() + "\n", encoding="utf-8"
    )
    assert not built_from(fingerprint(land), warehouse_sources(database))
    (land / "orders" / "2025-12-31.csv").write_text(
        (land / "orders" / "2025-12-31.csv").read_text()[:-1], encoding="utf-8"
    )

    # step 5: one more completed order on the last day of a customer with two completed
    # orders before it (the population median interval, of second orders, stays), the
    # first order of a prospect who signed up before December, and an order of the last day
    # moved to that first customer (not a second completed order: the median stays): only
    # December's rows change (the prospect's earlier months stay prospect months), so the
    # lifecycle rebuilds December alone and keeps the rest
    ((template_id, orders_before),) = run_dbt_query(
        database,
        "select min(order_id), count(*) from staging.stg_shop__orders where status = 'completed'"
        " group by customer_id having count(*) >= 2 and max(ordered_at) < '2025-12-31'"
        " order by customer_id limit 1",
    )
    assert orders_before >= 2
    header = shop.headers["orders"]
    template = next(
        row for rows in shop.days["orders"].values() for row in rows if row[0] == template_id
    )
    extra = dict(zip(header, template, strict=True))  # the same customer, currency, amounts
    extra.update(order_id=str(10**9), ordered_at="2025-12-31T09:00:00+00:00")
    crm_ids = {
        row[shop.headers["customers"].index("customer_id")] for row in shop.whole["customers"]
    }
    prospect = next(
        customer
        for (customer,) in run_dbt_query(
            database,
            "select customer_id from staging.stg_crm__customers where signup_at < '2025-12-01'"
            " and customer_id not in (select customer_id from staging.base_shop__orders"
            " where customer_id is not null) order by 1",
        )
        if customer in crm_ids
    )
    first = {**extra, "order_id": str(10**9 + 1), "customer_id": prospect}
    ((moved_id, donor),) = run_dbt_query(
        database,
        "select order_id, customer_id from intermediate.int_orders_sequenced"
        " where order_date = '2025-12-31' and coalesce(completed_order_number, 0) <> 2"
        f" and customer_id not in ('{extra['customer_id']}', '{prospect}') and customer_id in"
        " (select customer_id from intermediate.int_orders_sequenced group by 1"
        " having count(*) > 1) order by 1 limit 1",
    )
    moved = next(row for row in shop.days["orders"][date(2025, 12, 31)] if row[0] == moved_id)
    moved[header.index("customer_id")] = extra["customer_id"]
    months_before = {
        month
        for (month,) in run_dbt_query(
            database, "select distinct month from marts.rpt_customer_lifecycle"
        )
    }
    shop.land_day(
        land,
        "orders",
        date(2025, 12, 31),
        [[row[name] for name in header] for row in (extra, first)],
    )
    before = orders_sequenced_by_customer(database)
    build(database, land)
    # the donor of the moved order holds it no more: their orders are sequenced again
    assert {extra["customer_id"], prospect, donor} <= sequenced_again(database, before)
    assert run_dbt_query(
        database,
        f"select customer_id from intermediate.int_orders_sequenced where order_id = '{moved_id}'",
    ) == [(extra["customer_id"],)]
    assert run_dbt_query(
        database,
        "select count(*) from staging.stg_shop__orders"
        f" where order_id in ('{10**9}', '{10**9 + 1}')",
    ) == [(2,)]
    assert len(months_before) > 1
    assert lifecycle_months_rebuilt(database) == {date(2025, 12, 1)}
    assert transition_months_rebuilt(database) == {date(2025, 12, 1)}
    read_from_the_change_feeds(database)
    full_build_equals(land, database, tmp_path, "one more order")


def test_a_partition_not_named_by_its_day_fails_before_anything_is_built(
    tmp_path: Path,
) -> None:
    land = tmp_path / "landing"
    shutil.copytree(Path(__file__).parents[1] / "data" / "raw", land)
    (land / "orders").mkdir()
    (land / "orders" / "latest.csv").write_text("order_id\n", encoding="utf-8")
    result = run_dbt(["build"], tmp_path / "w.duckdb", {"raw_data_path": str(land)})
    assert result.returncode != 0
    assert "latest.csv is not named by its day" in result.output


ORDERS_ONLY = ["build", "--select", "+stg_shop__orders", "--indirect-selection=cautious"]
"""A build of the orders' staging and what it reads, with the tests of those models only."""


def test_hidden_folders_are_skipped_and_a_path_is_one_folder_however_spelt(
    tmp_path: Path,
) -> None:
    """A notebook's checkpoint folder and a Spark _temporary folder in a table's partition
    folder are not partitions; raw_data_path with doubled slashes, or relative to dbt's
    working directory, names the same folder; a
    day written in other digits than 0-9 is not a day; a suffix in capitals is named."""
    land = tmp_path / "landing"
    shutil.copytree(Path(__file__).parents[1] / "data" / "raw", land)
    for hidden in (".ipynb_checkpoints/2025-12-27-checkpoint.csv", "_temporary/0/part-0.csv"):
        (land / "orders" / hidden).parent.mkdir(parents=True)
        (land / "orders" / hidden).write_text("not,an,export\n", encoding="utf-8")
    spelt = "//" + str(land).strip("/").replace("/", "//") + "//"
    database = tmp_path / "w.duckdb"
    result = run_dbt(ORDERS_ONLY, database, {"raw_data_path": spelt})
    assert result.returncode == 0, result.output[-3000:]
    assert files_read(result.output, "orders") == (1, 1)  # orders.csv alone
    # and relative to dbt's working directory (as plain dbt build's ./data/raw is make
    # build's <repo>/data/raw): the same folder, nothing landed again
    relative = os.path.relpath(land, REPO)
    assert not relative.startswith("/")
    result = run_dbt(ORDERS_ONLY, database, {"raw_data_path": relative})
    assert result.returncode == 0, result.output[-3000:]
    assert "Raw source changed" not in result.output, result.output[-3000:]
    assert "Raw orders:" not in result.output  # no file read (logged only when one is)

    (land / "orders" / "\uff12\uff10\uff12\uff15-12-28.csv").write_text(
        "order_id\n", encoding="utf-8"
    )
    result = run_dbt(ORDERS_ONLY, database, {"raw_data_path": spelt})
    assert result.returncode != 0
    assert "-12-28.csv is not named by its day" in result.output

    (land / "orders" / "\uff12\uff10\uff12\uff15-12-28.csv").unlink()
    (land / "orders" / "2025-12-28.CSV").write_text("order_id\n", encoding="utf-8")
    result = run_dbt(ORDERS_ONLY, database, {"raw_data_path": spelt})
    assert result.returncode != 0
    assert "2025-12-28.CSV has its suffix in capitals" in result.output


def test_linked_day_files_and_day_folders_are_read(tmp_path: Path) -> None:
    """A day file and a Hive day folder that are symbolic links to elsewhere (DuckDB's
    recursive glob skips links: their rows were lost without a word) are partitions like any
    other, in a landing folder that is itself a link."""
    land = tmp_path / "landing"
    shutil.copytree(Path(__file__).parents[1] / "data" / "raw", land)
    lines = (land / "orders.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    header, history, moved = lines[0], lines[1:-4], lines[-4:]
    (land / "orders.csv").write_text(header + "".join(history), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "date=2025-12-29").mkdir(parents=True)
    (elsewhere / "day.csv").write_text(header + "".join(moved[:2]), encoding="utf-8")
    (elsewhere / "date=2025-12-29" / "part-0.csv").write_text(
        header + "".join(moved[2:]), encoding="utf-8"
    )
    (land / "orders").mkdir()
    (land / "orders" / "2025-12-30.csv").symlink_to(elsewhere / "day.csv")
    (land / "orders" / "date=2025-12-29").symlink_to(elsewhere / "date=2025-12-29")
    linked = tmp_path / "linked-landing"
    linked.symlink_to(land)
    database = tmp_path / "w.duckdb"
    result = run_dbt(ORDERS_ONLY, database, {"raw_data_path": str(linked)})
    assert result.returncode == 0, result.output[-3000:]
    assert files_read(result.output, "orders") == (3, 3)
    moved_ids = sorted(line.split(",", 1)[0] for line in moved)
    quoted = ", ".join(f"'{order_id}'" for order_id in moved_ids)
    assert run_dbt_query(
        database, f"select order_id from raw.orders where order_id in ({quoted}) order by 1"
    ) == [(order_id,) for order_id in moved_ids]
    assert run_dbt_query(database, "select count(*) from raw.orders") == [(len(lines) - 1,)]


def test_parquet_day_files_of_other_types_are_each_read_with_their_own(tmp_path: Path) -> None:
    """Two Parquet day files of orders, one with integer ids and counts and decimal amounts,
    the next with every number a float (as pandas writes a column holding a null): each is
    read with its own types (one scan would read the second with the first's, a count of 2.5
    as 2), a whole float id or count is that integer ('9000004', not '9000004.0'), and a row
    delivered in both is one row, kept as the first file delivered it."""
    land = tmp_path / "landing"
    shutil.copytree(REPO / "data" / "raw", land)
    (land / "orders").mkdir()
    columns = (
        "order_id, customer_id, ordered_at, status, sales_channel, currency, gross_amount,"
        " discount_amount, shipping_amount, item_count"
    )
    integers = "select * from (values"
    integers += " (9000001, 3, timestamptz '2025-12-30 10:00:00+00', 'completed', 'web', 'EUR',"
    integers += " 10.00::decimal(12, 2), 0.00::decimal(12, 2), 4.95::decimal(12, 2), 1),"
    integers += " (9000003, 999999, timestamptz '2025-12-30 11:00:00+00', 'completed', 'web',"
    integers += " 'EUR', 10.00::decimal(12, 2), 0.00::decimal(12, 2), 4.95::decimal(12, 2), 3)"
    integers += f") as t({columns})"
    floats = "select order_id::double as order_id, customer_id::double as customer_id,"
    floats += " ordered_at, status, sales_channel, currency, gross_amount::double as gross_amount,"
    floats += " discount_amount::double as discount_amount,"
    floats += " shipping_amount::double as shipping_amount, item_count::double as item_count"
    floats += " from (values"
    floats += " (9000002.0, 3.0, timestamptz '2025-12-30 12:00:00+00', 'completed', 'web', 'EUR',"
    floats += " 10.0, 0.0, 4.95, 2.5),"
    floats += " (9000003.0, 999999.0, timestamptz '2025-12-30 11:00:00+00', 'completed', 'web',"
    floats += " 'EUR', 10.0, 0.0, 4.95, 3.0),"
    floats += " (9000004.0, 3.0, timestamptz '2025-12-30 13:00:00+00', 'completed', 'web', 'EUR',"
    floats += " 10.0, 0.0, 4.95, 2.0)"
    floats += f") as t({columns})"
    first, second = land / "orders" / "2025-12-30.parquet", land / "orders" / "2025-12-31.parquet"
    with duckdb.connect() as con:
        for path, sql in ((first, integers), (second, floats)):
            con.execute(f"copy ({sql}) to '{path}' (format parquet)")
        types = {
            path.name: dict(con.execute(
                f"select column_name, column_type from (describe select * from '{path}')"
            ).fetchall())
            for path in (first, second)
        }  # fmt: skip
    assert types[first.name]["item_count"] == "INTEGER"
    assert types[second.name]["item_count"] == types[second.name]["order_id"] == "DOUBLE"

    database = tmp_path / "w.duckdb"
    result = run_dbt(ORDERS_ONLY, database, {"raw_data_path": str(land)})
    assert result.returncode == 0, result.output[-3000:]
    assert run_dbt_query(
        database,
        "select order_id, customer_id, item_count, gross_amount from raw.orders"
        f" where _source_file = '{second}' order by 1",
    ) == [
        ("9000002", "3", "2.5", "10.0"),
        ("9000003", "999999", "3", "10.0"),
        ("9000004", "3", "2", "10.0"),
    ]
    judged = run_dbt_query(
        database,
        "select order_id, rejection_reason, source_row_count, _source_file,"
        " json_extract_string(raw_values, '$.gross_amount')"
        " from staging.base_shop__orders where order_id like '900000_' order by 1",
    )
    assert judged == [
        ("9000001", None, 1, str(first), None),
        ("9000002", "unparseable_value", 1, str(second), "10.0"),
        ("9000003", "unknown_customer", 2, str(first), "10.00"),
        ("9000004", None, 1, str(second), None),
    ]


def land_history_and_days(shop: Shop, land: Path) -> list[date]:
    """The customers and the other whole tables, the order history as orders.csv and every
    later day's orders as a day partition; the days landed as partitions."""
    shop.land_whole(land)
    shop.land_order_history(land)
    days = sorted(day for day in shop.days["orders"] if day > WHOLE_ORDERS_UNTIL)
    for day in days:
        shop.land_day(land, "orders", day)
    return days


def data_quality_of_orders(database: Path) -> dict[str, int]:
    (row,) = run_dbt_query(
        database,
        "select rows_read, rows_accepted, rows_quarantined, rows_collapsed_duplicates"
        " from marts.rpt_data_quality where source_table = 'shop.orders'",
    )
    return dict(zip(["read", "accepted", "quarantined", "collapsed"], row, strict=True))


def build_with_and_without_copies(
    plain: Path, copied: Path, work: Path
) -> tuple[dict[str, Path], dict[str, dict[str, int]]]:
    """Both landings built in fresh warehouses, which must pass and give equal marts but
    rpt_data_quality; the warehouses and the orders' data quality, by landing."""
    built = {}
    for name, land in (("plain", plain), ("copied", copied)):
        built[name] = work / f"{name}-build" / "warehouse.duckdb"
        built[name].parent.mkdir()
        build(built[name], land)  # asserts that the build passed
    marts = {name: mart_tables(database) for name, database in built.items()}
    assert marts["plain"].keys() == marts["copied"].keys()
    differing = [
        mart
        for mart in marts["plain"]
        if mart != "rpt_data_quality" and marts["plain"][mart] != marts["copied"][mart]
    ]
    assert not differing
    return built, {name: data_quality_of_orders(database) for name, database in built.items()}


def missing_keys(database: Path) -> dict[str, int]:
    """The rows without a key (quarantined as missing_key) of the orders' and the sessions'
    base models."""
    return {
        table: run_dbt_query(
            database,
            f"select count(*) from staging.{model} where rejection_reason = 'missing_key'",
        )[0][0]
        for table, model in (
            ("orders", "base_shop__orders"),
            ("sessions", "base_web_analytics__sessions"),
        )
    }


def test_a_row_without_a_key_leaves_with_the_day_file_that_held_it(
    shop: Shop, tmp_path: Path
) -> None:
    """The last day's orders and sessions each arrive with one more row, its key blanked (a
    copy of the day's first row: quarantined as missing_key), the only row without a key of
    its table; then the shop delivers both days again without it. The daily run keeps no row
    without a key (delete+insert alone kept the old one: no raw row without a key was left to
    replace it), and its base models and marts equal a full build of the same files."""
    land = tmp_path / "landing"
    days = land_history_and_days(shop, land)
    last = days[-1]
    for table in ("sessions", "email_events"):
        for day in sorted(shop.days[table]):
            shop.land_day(land, table, day)
    # the generator's defects include rows without a key: none is left but the planted one
    for table, key in (("orders", "order_id"), ("sessions", "session_id")):
        for path in [*land.glob(f"{table}.csv"), *(land / table).rglob("*.csv")]:
            header, rows = read(path)
            write(path, header, [row for row in rows if row[header.index(key)].strip()])
    clean = {}
    for table, key in (("orders", "order_id"), ("sessions", "session_id")):
        header, rows = read(partition_path(land, table, last))
        keyless = list(rows[0])
        keyless[header.index(key)] = ""
        clean[table] = (header, rows)
        write(partition_path(land, table, last), header, [*rows, keyless])
    database = tmp_path / "incremental" / "warehouse.duckdb"
    database.parent.mkdir()
    build(database, land)
    assert missing_keys(database) == {"orders": 1, "sessions": 1}

    for table, (header, rows) in clean.items():
        write(partition_path(land, table, last), header, rows)
    output = build(database, land)
    assert files_read(output, "orders")[0] == 1 and files_read(output, "sessions")[0] == 1
    assert " in full" not in output  # a daily run: every model incremental
    full = tmp_path / "full" / "warehouse.duckdb"
    reference_build(full, {"raw_data_path": str(land)})

    assert missing_keys(database) == {"orders": 0, "sessions": 0} == missing_keys(full)
    for schema in ("staging", "marts"):
        incremental, reference = mart_tables(database, schema), mart_tables(full, schema)
        compared = [
            name
            for name in ("base_shop__orders", "base_web_analytics__sessions", "rpt_data_quality")
            if name in reference
        ]
        assert compared
        assert all(incremental[name] == reference[name] for name in compared), compared
    assert mart_tables(database) == mart_tables(full)


def test_a_row_repeated_in_another_file_is_one_row_counted_twice(
    shop: Shop, tmp_path: Path
) -> None:
    """A day partition repeating rows of the history file unchanged, and a day delivered
    twice (by its day name and in a Hive folder), collapse like copies inside one file: the
    build passes, the marts are those of the landing without the copies, and the data
    quality report counts every copy."""
    plain, copied = tmp_path / "plain", tmp_path / "copied"
    days = land_history_and_days(shop, plain)
    shutil.copytree(plain, copied)
    header, history = read(plain / "orders.csv")
    repeated = history[-5:]  # the history's last orders, in the first day file again
    _, first_day = read(partition_path(copied, "orders", days[0]))
    write(partition_path(copied, "orders", days[0]), header, first_day + repeated)
    _, last_day = read(partition_path(copied, "orders", days[-1]))
    hive = copied / "orders" / f"date={days[-1].isoformat()}"
    hive.mkdir()
    shutil.copy(partition_path(copied, "orders", days[-1]), hive / "part-0.csv")
    copies = len(repeated) + len(last_day)
    assert copies > 5

    _, quality = build_with_and_without_copies(plain, copied, tmp_path)
    assert quality["copied"] == {
        "read": quality["plain"]["read"] + copies,
        "accepted": quality["plain"]["accepted"],
        "quarantined": quality["plain"]["quarantined"],
        "collapsed": quality["plain"]["collapsed"] + copies,
    }


def test_a_day_as_csv_and_as_typed_parquet_is_copies_and_a_cent_apart_conflicts(
    shop: Shop, tmp_path: Path
) -> None:
    """The last days' orders delivered again as typed Parquet (instants, decimals, doubles,
    integers: '2025-12-30 05:53:32.000000Z' for '2025-12-30T06:53:32+01:00', '0.0' for '0.00') in
    Hive folders beside the CSV day files are copies, compared by value: the marts are those
    of the CSV files alone, and the data quality report counts each copy. One order whose
    Parquet copy is a cent dearer is a conflict: both copies go to the quarantine."""
    plain, copied = tmp_path / "plain", tmp_path / "copied"
    days = land_history_and_days(shop, plain)
    shutil.copytree(plain, copied)
    header, _ = read(partition_path(plain, "orders", days[0]))
    column = {name: index for index, name in enumerate(header)}
    cents = re.compile(r"[0-9]+[.][0-9]{2}")
    iso = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}")
    all_orders = Counter(row[0] for rows in shop.days["orders"].values() for row in rows)

    def typed_copy_keeps_its_values(row: list[str]) -> bool:
        amounts = [
            row[column[name]] for name in ("gross_amount", "discount_amount", "shipping_amount")
        ]
        return (
            iso.fullmatch(row[column["ordered_at"]]) is not None
            and all(cents.fullmatch(amount) for amount in amounts)
            and row[column["item_count"]].isdigit()
        )

    typed: dict[date, list[list[str]]] = {}
    for day in days[-4:]:
        _, rows = read(partition_path(plain, "orders", day))
        typed[day] = [row for row in rows if typed_copy_keeps_its_values(row)]
    copies = sum(len(rows) for rows in typed.values())
    assert copies >= 10
    conflict = next(
        row
        for rows in typed.values()
        for row in rows
        if all_orders[row[0]] == 1
        and ("orders", row[0]) not in shop.defective
        and ("customers", row[column["customer_id"]]) not in shop.defective
    )
    # the plain landing without that order: in the copied one, the conflict quarantines it
    day_of_conflict = next(day for day, rows in typed.items() if conflict in rows)
    _, rows = read(partition_path(plain, "orders", day_of_conflict))
    write(
        partition_path(plain, "orders", day_of_conflict),
        header,
        [row for row in rows if row[0] != conflict[0]],
    )

    staging = tmp_path / "typed.csv"
    with duckdb.connect() as con:
        for day, rows in typed.items():
            dearer = [
                [*row[: column["gross_amount"]], f"{float(row[column['gross_amount']]) + 0.01:.2f}",
                 *row[column["gross_amount"] + 1 :]] if row is conflict else row
                for row in rows
            ]  # fmt: skip
            write(staging, header, dearer)
            target = copied / "orders" / f"date={day.isoformat()}" / "part-0.parquet"
            target.parent.mkdir(parents=True)
            con.execute(
                f"""copy (
                    select * replace (
                        cast(ordered_at as timestamptz) as ordered_at,
                        cast(gross_amount as decimal(12, 2)) as gross_amount,
                        cast(discount_amount as double) as discount_amount,
                        cast(shipping_amount as double) as shipping_amount,
                        cast(item_count as bigint) as item_count)
                    from read_csv('{staging}', all_varchar = true)
                ) to '{target}' (format parquet)"""
            )
        described = con.execute(f"describe select * from '{target}'").fetchall()
    assert {name: kind for name, kind, *_ in described}["ordered_at"] == "TIMESTAMP WITH TIME ZONE"

    built, quality = build_with_and_without_copies(plain, copied, tmp_path)
    assert quality["copied"] == {
        "read": quality["plain"]["read"] + 1 + copies,
        "accepted": quality["plain"]["accepted"],
        "quarantined": quality["plain"]["quarantined"] + 2,
        "collapsed": quality["plain"]["collapsed"] + copies - 1,
    }
    assert run_dbt_query(
        built["copied"],
        "select rejection_reason, count(*) from staging.stg_quarantine__rejected_rows"
        f" where source_table = 'shop.orders' and source_key = '{conflict[0]}' group by all",
    ) == [("duplicate_conflicting", 2)]


def test_a_day_partition_in_another_format_stops_the_build_naming_it(
    shop: Shop, tmp_path: Path
) -> None:
    """One day file exported as a German spreadsheet (semicolons, decimal commas) among
    files in the table's format is a whole file in the wrong format: its rows are a small
    share of the table, yet the build fails naming that file, and the marts stay as the last
    good build left them."""
    land = tmp_path / "landing"
    days = land_history_and_days(shop, land)
    database = tmp_path / "warehouse.duckdb"
    build(database, land)
    good = mart_tables(database)

    header, rows = [], []
    for day in days:  # every day after the history, in one late export
        header, rows_of_day = read(partition_path(land, "orders", day))
        rows += rows_of_day
    amount, key = header.index("gross_amount"), header.index("order_id")
    for row in rows:  # new orders (not copies of the landed ones) with decimal commas
        row[amount] = row[amount].replace(".", ",")
        row[key] = f"DE-{row[key]}"
    german = land / "orders" / "2026-01-01.csv"
    with german.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=";", lineterminator="\n").writerows([header, *rows])
    assert len(rows) >= 20  # rejection_alarm_min_rows

    result = run_dbt(["build"], database, {"raw_data_path": str(land)})
    assert result.returncode != 0
    said = " ".join(result.output.split())  # dbt wraps long messages
    found = re.search(
        rf"Raw file {re.escape(str(german))}: (\d+) of (\d+) rows \([0-9.]+ %\) were"
        " quarantined as unparseable_value in column gross_amount, e.g. '",
        said,
    )
    assert found, said[-3000:]
    assert int(found.group(2)) == len(rows) and int(found.group(1)) >= len(rows) / 2
    assert "export this file as they are" in said and "decimal commas" in said
    assert mart_tables(database) == good


BACKFILL = (date(2025, 11, 10), date(2025, 11, 12))
"""The first and last day of the backfill."""
OUTSIDE = date(2025, 11, 20)
"""A day changed as well, but outside the backfill: it stays as landed."""


@pytest.mark.e2e
def test_a_dagster_backfill_lands_exactly_its_days(shop: Shop, tmp_path: Path) -> None:
    """A warehouse built by plain `dbt build` from the landing directory (as an analytics
    engineer starts), then three past days landed again (one order's amount changed, a
    session removed, an email event added) and a fourth day outside the range changed too;
    the run a single-run backfill of the three days launches (the job with the partition range
    tags) lands exactly those days, and the marts equal a full dbt build of the files as they
    stand but for the fourth day."""
    land = tmp_path / "landing"
    shop.land_whole(land)
    for table in TIMESTAMPS:
        for day in sorted(shop.days[table]):
            shop.land_day(land, table, day)
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    database = tmp_path / "warehouse.duckdb"
    env = {
        **os.environ,
        "CUSTOMER_ANALYTICS_DB": str(database),
        "CUSTOMER_ANALYTICS_SERVING_DB": str(tmp_path / "serving" / "served.duckdb"),
        "CUSTOMER_ANALYTICS_EXPORTS_DIR": str(tmp_path / "exports"),
        "CUSTOMER_ANALYTICS_QUALITY_DIR": str(tmp_path / "quality"),
        "CUSTOMER_ANALYTICS_AUDIENCES_DIR": str(tmp_path / "audiences"),
        "CUSTOMER_ANALYTICS_LANDING_DIR": str(land),
        "CUSTOMER_ANALYTICS_PARTITIONS_START": START,
        "DAGSTER_HOME": str(home),
        "CUSTOMER_ANALYTICS_AUTOMATION": "off",
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }

    def dagster(*args: str) -> str:
        done = subprocess.run(
            [str(BIN / "dagster"), *args], cwd=REPO, env=env, capture_output=True, text=True,
            timeout=1800, check=False,
        )  # fmt: skip
        assert done.returncode == 0, (args, (done.stdout + done.stderr)[-5000:])
        return done.stdout + done.stderr

    first = subprocess.run(
        [str(BIN / "dbt"), "build", "--exclude-resource-type", "unit_test"], cwd=REPO,
        env={**env, "DBT_LOG_LEVEL_FILE": "none"}, capture_output=True, text=True, timeout=1200,
        check=False,
    )  # fmt: skip
    assert first.returncode == 0, (first.stdout + first.stderr)[-5000:]
    job = ["job", "execute", "-m", "orchestration.definitions", "-j", "daily_refresh"]
    dagster("instance", "migrate")

    # three past days and one outside the range land again, changed
    header = shop.headers["orders"]
    amount = header.index("gross_amount")
    changed_order = shop.days["orders"][BACKFILL[0]][0]
    changed_order[amount] = f"{float(changed_order[amount]) + 1:.2f}"
    shop.land_day(land, "orders", BACKFILL[0])
    middle = BACKFILL[0] + timedelta(days=1)
    removed_session = shop.days["sessions"][middle].pop(0)
    shop.land_day(land, "sessions", middle)
    late_event = list(shop.days["email_events"][min(shop.days["email_events"])][0])
    late_event[0] = "late-event-1"
    shop.land_day(land, "email_events", BACKFILL[1], [late_event])
    outside_before = partition_path(land, "orders", OUTSIDE).read_bytes()
    outside_order = shop.days["orders"][OUTSIDE][0]
    outside_order[amount] = f"{float(outside_order[amount]) + 1:.2f}"
    shop.land_day(land, "orders", OUTSIDE)

    tags = {
        "dagster/asset_partition_range_start": BACKFILL[0].isoformat(),
        "dagster/asset_partition_range_end": BACKFILL[1].isoformat(),
    }
    dagster(*job, "--tags", json.dumps(tags))

    # Dagster recorded exactly those partitions of the raw assets
    instance_env = {"DAGSTER_HOME": str(home)}
    for table in ("orders", "sessions", "email_events"):
        materialized = dagster_partitions(instance_env, ["raw", table])
        assert materialized == {
            (BACKFILL[0] + timedelta(days=offset)).isoformat() for offset in range(3)
        }, table
    # the raw models read the three days' files, the changed day outside the range not
    with duckdb.connect(str(database), read_only=True) as con:
        files_read = dict(
            con.execute(
                "select table_name, files_read from staging.raw_loads"
                " qualify load_id = max(load_id) over (partition by table_name)"
            ).fetchall()
        )
        in_range = {
            table: sum(
                partition_path(land, table, BACKFILL[0] + timedelta(days=offset)).is_file()
                for offset in range(3)
            )
            for table in TIMESTAMPS
        }
        assert in_range["orders"] == in_range["sessions"] == 3
        assert {table: files_read[table] for table in TIMESTAMPS} == in_range
        assert con.execute(
            "select count(*) from staging.base_email__email_events where event_id = 'late-event-1'"
        ).fetchone() == (1,)
        assert con.execute(
            "select count(*) from staging.base_web_analytics__sessions where session_id = ?",
            [removed_session[0]],
        ).fetchone() == (0,)

    # the marts equal a full build of the files as landed (the outside day as it was before)
    as_landed = tmp_path / "as-landed"
    shutil.copytree(land, as_landed)
    partition_path(as_landed, "orders", OUTSIDE).write_bytes(outside_before)
    fresh = tmp_path / "full" / "warehouse.duckdb"
    reference_build(fresh, {"raw_data_path": str(as_landed)})
    # the dbt marts (the job's CLV step writes its own tables after dbt, a dbt build does not)
    clv_step = {*CLV_TABLES, STATUS}
    expected = {n: rows for n, rows in mart_tables(fresh).items() if n not in clv_step}
    actual = mart_tables(database)
    assert len(expected) > 15
    differing = [name for name in expected if actual.get(name) != expected[name]]
    assert not differing, f"marts differ from a full build of the landed days: {differing}"


def dagster_partitions(env: dict[str, str], key: list[str]) -> set[str]:
    """The partitions of an asset the Dagster instance in env's DAGSTER_HOME records as
    materialized (read in a subprocess, as the instance is configured by the environment)."""
    code = (
        "import json, dagster as dg\n"
        "with dg.DagsterInstance.get() as instance:\n"
        f"    keys = instance.get_materialized_partitions(dg.AssetKey({key!r}))\n"
        "print(json.dumps(sorted(keys)))\n"
    )
    done = subprocess.run(
        [str(BIN / "python"), "-c", code], env={**os.environ, **env}, capture_output=True,
        text=True, timeout=300, check=True,
    )  # fmt: skip
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.slow
def test_a_table_without_any_file_lands_daily_like_the_others(shop: Shop, tmp_path: Path) -> None:
    """A shop that exports no email events at all: its empty table is a landing like any other,
    so the next day's orders are a daily run (it once forced every incremental model to
    rebuild in full at every run: no file was taken for no record), equal to a full build."""
    land = tmp_path / "landing"
    days = land_history_and_days(shop, land)
    partition_path(land, "orders", days[-1]).unlink()
    for day in sorted(shop.days["sessions"]):
        shop.land_day(land, "sessions", day)
    assert not [*land.glob("email_events*")]
    database = tmp_path / "incremental" / "warehouse.duckdb"
    database.parent.mkdir()
    build(database, land)
    assert run_dbt_query(database, "select count(*) from raw.email_events") == [(0,)]

    shop.land_day(land, "orders", days[-1])
    output = build(database, land)
    assert files_read(output, "orders") == (1, len(days) + 1)  # and orders.csv
    assert "Raw source changed" not in output and " in full" not in output, output[-3000:]
    full = tmp_path / "full" / "warehouse.duckdb"
    reference_build(full, {"raw_data_path": str(land)})
    assert mart_tables(database) == mart_tables(full)


RETENTION_DAYS = 30
"""The shortest retention window: of the shop's three months of sessions and email events,
those before December leave the warehouse."""


def build_with_retention(database: Path, land: Path, **settings: str) -> str:
    result = run_dbt(
        ["build"],
        database,
        {"raw_data_path": str(land), "event_retention_days": RETENTION_DAYS, **settings},
    )
    assert result.returncode == 0, result.output[-5000:]
    return result.output


def session_days(database: Path) -> list[date | None]:
    """The UTC day of every raw session row in the warehouse."""
    return [
        day_of(value) for (value,) in run_dbt_query(database, "select started_at from raw.sessions")
    ]


def reference_date(database: Path) -> date:
    ((value,),) = run_dbt_query(
        database, "select reference_date from staging.stg_shop__reference_date"
    )
    return value


@pytest.mark.slow
def test_rows_the_retention_window_removed_come_back_when_a_full_build_keeps_them(
    shop: Shop, tmp_path: Path
) -> None:
    """Sessions and email events land day by day under a 30-day window, which deletes the older
    rows from the warehouse. Then, in one daily run, (1) the shop withdraws its last four days of
    orders: the reference date moves back four days and the window keeps four more days of
    sessions, which a full build reads from their files; and (2) a copy of an expired session
    with another device arrives with the last day's sessions (a full build quarantines both
    copies as duplicate_conflicting), and an exact copy of another (a full build expires it
    again). Then (3) the rows are judged under a later earliest_valid_date: the base models are
    rebuilt in full from raw tables without the deleted rows, where a full build quarantines the
    sessions now dated too early as out_of_range (a defect of their own: they stay). After each
    run, the daily run's raw tables, base models and marts equal a full build's."""
    land = tmp_path / "landing"
    order_days = land_history_and_days(shop, land)
    for table in ("sessions", "email_events"):
        for day in sorted(shop.days[table]):
            shop.land_day(land, table, day)
    database = tmp_path / "incremental" / "warehouse.duckdb"
    database.parent.mkdir()
    build_with_retention(database, land)
    cutoff = reference_date(database) - timedelta(days=RETENTION_DAYS)
    landed_before = sum(len(rows) for day, rows in shop.days["sessions"].items() if day < cutoff)
    # the window deleted old rows (quarantined ones stay)
    assert sum(1 for day in session_days(database) if day and day < cutoff) < landed_before

    settings: dict[str, str] = {}

    def equals_a_full_build(step: str) -> None:
        full = tmp_path / "full" / "warehouse.duckdb"
        reference_build(
            full,
            {"raw_data_path": str(land), "event_retention_days": RETENTION_DAYS, **settings},
        )
        for schema in ("raw", "staging"):
            incremental, reference = mart_tables(database, schema), mart_tables(full, schema)
            for name in ("sessions", "email_events", "base_web_analytics__sessions",
                         "base_email__email_events"):  # fmt: skip
                if name in reference:
                    assert incremental[name] == reference[name], (step, name)
        assert mart_tables(database) == mart_tables(full), step

    # (1) the last four days of orders withdrawn: the window starts four days earlier
    for day in order_days[-4:]:
        partition_path(land, "orders", day).unlink()
    # (2) late copies of sessions expired three weeks before the cutoff (whatever the reference
    # date): one with another device, one exact
    header = shop.headers["sessions"]
    rows = [row for rows_of_day in shop.days["sessions"].values() for row in rows_of_day]
    key, device = header.index("session_id"), header.index("device")
    seen = Counter(row[key] for row in rows)
    expired = [
        row for row in rows
        if seen[row[key]] == 1 and row[key].strip() and ("sessions", row[key]) not in shop.defective
        and (day_of(row[header.index("started_at")]) or cutoff) < cutoff - timedelta(days=21)
    ]  # fmt: skip
    conflicting, exact = list(expired[0]), list(expired[1])
    conflicting[device] = "tablet" if conflicting[device] != "tablet" else "desktop"
    last_day = max(shop.days["sessions"])
    shop.land_day(land, "sessions", last_day, [conflicting, exact])
    output = build_with_retention(database, land)
    assert files_read(output, "sessions")[0] == 1
    moved_back = reference_date(database) - timedelta(days=RETENTION_DAYS)
    assert cutoff - timedelta(days=21) < moved_back < cutoff
    kept_again = sum(
        len(rows) for day, rows in shop.days["sessions"].items() if moved_back <= day < cutoff
    )
    # every row of the days the window keeps again is back in the warehouse
    back = [day for day in session_days(database) if day and moved_back <= day < cutoff]
    assert len(back) == kept_again > 0
    judged = run_dbt_query(
        database,
        "select session_id, rejection_reason from staging.base_web_analytics__sessions"
        f" where session_id in ('{conflicting[key]}', '{exact[key]}')",
    )
    assert sorted(judged) == [(conflicting[key], "duplicate_conflicting")] * 2
    assert "expired key(s) of raw.sessions judged again" in output
    equals_a_full_build("reference-date-back-and-late-copies")

    # (3) judged under a later earliest_valid_date: the first two weeks are out of range
    settings["earliest_valid_date"] = "2025-10-15"
    too_early = {
        row[key] for row in rows
        if seen[row[key]] == 1 and row[key].strip() and ("sessions", row[key]) not in shop.defective
        and date(2025, 10, 1) <= (day_of(row[header.index("started_at")]) or moved_back)
        < date(2025, 10, 15)
    }  # fmt: skip
    assert too_early
    output = build_with_retention(database, land, **settings)
    assert " in full" in output  # the base models judge every row again
    out_of_range = run_dbt_query(
        database,
        "select session_id from staging.base_web_analytics__sessions"
        " where rejection_reason = 'out_of_range'",
    )
    assert too_early <= {session_id for (session_id,) in out_of_range}
    equals_a_full_build("earliest-valid-date")
