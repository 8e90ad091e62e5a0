"""Privacy by design (docs/privacy.md): the data inventory agrees with the dbt tags; audiences
hold only customers whose consent holds; sessions and email events age out; and an erasure
request removes a customer from every table, file and log a build and a Dagster run leave.

Expected values come from the raw files, read here with the csv module, and from
conftest.pseudonym (Python's hmac), never from the code under test.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, ERASURE_FILE_ENV, KEY_FILE_ENV, REPO, pseudonym, run_dbt

SEEDS = REPO / "data" / "raw"
PERSONAL_COLUMNS = {
    "customer_id": "identifier",
    "referred_by_customer_id": "identifier",
    "stitched_customer_id": "identifier",
    "email": "contact",
    "first_name": "name",
    "last_name": "name",
    "birth_date": "birth_date",
    "city": "location",
    "comment_text": "free_text",
    "comment": "free_text",
    "raw_values": "raw_row",
    "anonymous_id": "online_identifier",
    "customer_key": "pseudonym",
    "source_key": "identifier",
}
PUBLIC_CATEGORIES = {"pseudonym", "online_identifier", "location"}
"""What a public mart may carry (docs/privacy.md, Data inventory)."""


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def utc(text: str) -> dt.datetime:
    """An ISO 8601 timestamp of the shipped exports, in UTC without zone."""
    stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(dt.UTC).replace(tzinfo=None)
    return stamp


# --- the data inventory --------------------------------------------------------------------


@pytest.mark.unit
def test_every_personal_column_is_tagged_and_inventoried(tmp_path: Path) -> None:
    parsed = run_dbt(["parse", "--quiet"], tmp_path / "parse.duckdb", None, tmp_path)
    assert parsed.returncode == 0, parsed.output[-3000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    inventory = (REPO / "docs" / "privacy.md").read_text()
    tagged = 0
    for node in manifest["nodes"].values():
        if node["resource_type"] != "model" or node["package_name"] != "customer_analytics":
            continue
        layer = node["fqn"][1]
        for name, column in node["columns"].items():
            category = column.get("meta", {}).get("personal")
            expected = PERSONAL_COLUMNS.get(name) or (
                "pseudonym" if name.endswith("customer_key") else None
            )
            assert category == expected, f"{node['name']}.{name}: meta.personal {category!r}"
            if category is None:
                continue
            tagged += 1
            if layer == "marts":
                assert category in PUBLIC_CATEGORIES, f"{node['name']}.{name} is {category}"
            if layer != "activation":  # the audiences' columns are listed as "of every audience"
                assert f"{node['name']}.{name}" in inventory, f"{node['name']}.{name}"
            assert f"`{category}`" in inventory
    assert tagged >= 60
    # the raw contract marks the same personal columns (values never shown in messages)
    for source in manifest["sources"].values():
        for name, column in source["columns"].items():
            if PERSONAL_COLUMNS.get(name) in {"contact", "name", "birth_date", "location"}:
                assert column["meta"].get("personal"), f"{source['name']}.{name}"


# --- consent -------------------------------------------------------------------------------


def audience_members(database: Path) -> dict[str, set[str]]:
    """customer_key -> the audiences it is in."""
    members: dict[str, set[str]] = {}
    with duckdb.connect(str(database), read_only=True) as con:
        views = [
            name
            for (name,) in con.execute(
                "select view_name from duckdb_views() where schema_name = 'activation'"
            ).fetchall()
        ]
        for view in views:
            for (key,) in con.execute(f"select customer_key from activation.{view}").fetchall():
                members.setdefault(key, set()).add(view)
    assert len(views) == 6, views
    return members


def contactable_keys(landing: Path) -> set[str]:
    """Customers who may be contacted, from the raw files: consent true and no unsubscribe."""
    unsubscribed = {
        row["customer_id"]
        for row in read_rows(landing / "email_events.csv")
        if row["event_type"] == "unsubscribed"
    }
    return {
        pseudonym(row["customer_id"])
        for row in read_rows(landing / "customers.csv")
        if row["marketing_consent"] == "true"
        and row["customer_id"] not in unsubscribed
        and row["email"]
    }


@pytest.mark.build
def test_audiences_hold_only_consenting_customers_and_a_withdrawal_drops_them(
    tmp_path: Path,
) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(SEEDS, landing)
    database = tmp_path / "warehouse.duckdb"
    built = run_dbt(["build"], database, {"raw_data_path": str(landing)}, tmp_path)
    assert built.returncode == 0, built.output[-3000:]
    members = audience_members(database)
    assert len(members) >= 100
    assert set(members) <= contactable_keys(landing)
    customers = read_rows(landing / "customers.csv")
    by_key = {pseudonym(row["customer_id"]): row["customer_id"] for row in customers}
    assert not set(members) - set(by_key)
    # some customers without consent would qualify by their data alone (they exist and are
    # left out): the consent rule is what keeps them out
    with duckdb.connect(str(database), read_only=True) as con:
        (champions_without_consent,) = con.execute(
            "select count(*) from marts.dim_customers"
            " where rfm_segment = 'Champions' and not is_contactable"
        ).fetchone()
    assert champions_without_consent > 0

    # withdrawals: consent removed in the CRM for three members, an unsubscribe for two more
    members_sorted = sorted(members)
    withdrawn = {by_key[key] for key in members_sorted[:3]}
    unsubscribing = {by_key[key] for key in members_sorted[3:5]}
    for row in customers:
        if row["customer_id"] in withdrawn:
            row["marketing_consent"] = "false"
    write_rows(landing / "customers.csv", customers)
    events = read_rows(landing / "email_events.csv")
    for number, customer_id in enumerate(sorted(unsubscribing)):
        events.append(
            {
                "event_id": f"unsubscribe-{number}",
                "customer_id": customer_id,
                "campaign_id": "2025-12-newsletter",
                "event_type": "unsubscribed",
                "occurred_at": "2025-12-30T09:00:00Z",
            }
        )
    write_rows(landing / "email_events.csv", events)
    rebuilt = run_dbt(["build"], database, {"raw_data_path": str(landing)}, tmp_path)
    assert rebuilt.returncode == 0, rebuilt.output[-3000:]
    after = audience_members(database)
    gone = {pseudonym(customer_id) for customer_id in withdrawn | unsubscribing}
    assert not gone & set(after)
    assert set(after) <= contactable_keys(landing)
    # everybody else keeps their place: the rules did not change, only consent
    assert set(members) - gone <= set(after)


# --- retention -----------------------------------------------------------------------------


@pytest.mark.build
def test_sessions_and_email_events_older_than_the_window_leave_the_warehouse(
    dbt_build,
) -> None:
    days = 400
    built = dbt_build("retention", as_of_date="2025-12-31", event_retention_days=days)
    assert built.returncode == 0, built.output[-3000:]
    cutoff = dt.datetime(2025, 12, 31) - dt.timedelta(days=days)
    expected_sessions = {
        row["session_id"]
        for row in read_rows(SEEDS / "sessions.csv")
        if utc(row["started_at"]) >= cutoff
    }
    expected_events = {
        row["event_id"]
        for row in read_rows(SEEDS / "email_events.csv")
        if utc(row["occurred_at"]) >= cutoff
    }
    all_sessions = len(read_rows(SEEDS / "sessions.csv"))
    assert 0 < len(expected_sessions) < all_sessions  # the window removes some, not all
    ids = lambda sql: {row[0] for row in built.query(sql)}  # noqa: E731
    assert ids("select session_id from raw.sessions") == expected_sessions
    assert ids("select session_id from staging.base_web_analytics__sessions") == expected_sessions
    assert ids("select session_id from marts.fct_sessions") == expected_sessions
    assert ids("select event_id from raw.email_events") == expected_events
    assert ids("select event_id from marts.fct_email_events") == expected_events
    ((read,),) = built.query(
        "select rows_read from marts.rpt_data_quality where source_table = 'web_analytics.sessions'"
    )
    assert read == len(expected_sessions)


# --- erasure -------------------------------------------------------------------------------

ID = re.compile(r"^[0-9]+$")


def distinctive_shop(landing: Path) -> None:
    """The shipped exports with every customer id made distinctive (CUST-000123), so that a
    search for one customer's id finds nothing else; and a quarantined order (an unreadable
    amount) for 40 customers who have orders, sessions, survey answers and email events."""

    def cust(value: str) -> str:
        return f"CUST-{int(value):06d}" if ID.match(value) else value

    having = [
        {cust(row["customer_id"]) for row in read_rows(SEEDS / name)}
        for name in ("orders.csv", "sessions.csv", "survey_responses.csv", "email_events.csv")
    ]
    planted = sorted(set.intersection(*having) - {""})[:40]
    for name, columns in {
        "customers.csv": ("customer_id", "referred_by_customer_id"),
        "orders.csv": ("customer_id",),
        "sessions.csv": ("customer_id",),
        "survey_responses.csv": ("customer_id",),
        "email_events.csv": ("customer_id",),
    }.items():
        rows = read_rows(SEEDS / name)
        for row in rows:
            for column in columns:
                row[column] = cust(row[column])
        if name == "orders.csv":
            for number, customer_id in enumerate(planted):
                bad = dict(rows[0], order_id=f"bad-{number}", customer_id=customer_id)
                bad["gross_amount"] = "not an amount"
                rows.append(bad)
        write_rows(landing / name, rows)


MANY = 50
"""From this many needles on, a scan looks for whole values and tokens (emails, dates, two
capitalised words) rather than substrings, so that thousands of needles stay linear."""
TOKENS = re.compile(
    r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|[0-9]{4}-[0-9]{2}-[0-9]{2}"
    r"|\b(?=([^\W\d_][\w'-]* [^\W\d_][\w'-]*))"
)


def found_in(text: str, needles: list[str], needle_set: set[str]) -> list[str]:
    """The needles in `text`: substrings for a few needles, tokens for many."""
    if len(needles) < MANY:
        return [needle for needle in needles if needle in text]
    tokens = {match.group(1) or match.group(0) for match in TOKENS.finditer(text)}
    return sorted(tokens & needle_set)


def scan_database(path: Path, needles: Iterable[str]) -> list[str]:
    """Every table or view column of a DuckDB file holding one of `needles` in a value (a
    substring for a few needles; with many, a whole value or a token of one)."""
    needles = list(needles)
    needle_set = set(needles)
    hits = []
    with duckdb.connect(str(path), read_only=True) as con:
        columns = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns()"
            " where database_name = current_database()"
        ).fetchall()
        for schema, table, column in columns:
            relation = f'"{schema}"."{table}"'
            value = f'cast("{column}" as varchar)'
            if len(needles) < MANY:
                condition = " or ".join(f"{value} like ?" for _ in needles)
                (count,) = con.execute(
                    f"select count(*) from {relation} where {condition}",
                    [f"%{needle}%" for needle in needles],
                ).fetchone()
            else:
                values = con.execute(f"select distinct {value} from {relation}").fetchall()
                text = "\n".join(str(row[0]) for row in values if row[0] is not None)
                count = len(found_in(text, needles, needle_set))
            if count:
                hits.append(f"{path.name}:{schema}.{table}.{column}")
    return hits


def scan_files(folder: Path, needles: Iterable[str]) -> list[str]:
    """Every file under `folder` whose bytes hold one of `needles` (DuckDB files and Parquet
    read as tables)."""
    needles = list(needles)
    needle_set = set(needles)
    hits = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.suffix == ".duckdb":
            hits += scan_database(path, needles)
            continue
        if path.suffix == ".parquet":
            with duckdb.connect() as con:
                rows = con.execute("select * from read_parquet(?)", [str(path)]).fetchall()
            text = "\n".join("\n".join(str(value) for value in row) for row in rows)
        else:
            text = path.read_bytes().decode("utf-8", errors="replace")
        hits += [f"{path}: {needle[:12]}" for needle in found_in(text, needles, needle_set)]
    return hits


@pytest.fixture(scope="module")
def erased_site(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A site built by the Dagster job, then by `make build` (so a backup is kept), then
    `make erase` of two customers who have orders, sessions, survey answers, email
    events, a quarantined row and an audience membership."""
    work = tmp_path_factory.mktemp("erasure")
    landing = work / "landing"
    landing.mkdir()
    distinctive_shop(landing)
    home = work / "dagster_home"
    home.mkdir()
    shutil.copy(REPO / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "CUSTOMER_ANALYTICS_DB": str(work / "warehouse.duckdb"),
        "CUSTOMER_ANALYTICS_SERVING_DB": str(work / "serving" / "served.duckdb"),
        "CUSTOMER_ANALYTICS_EXPORTS_DIR": str(work / "exports"),
        "CUSTOMER_ANALYTICS_QUALITY_DIR": str(work / "quality"),
        "CUSTOMER_ANALYTICS_AUDIENCES_DIR": str(work / "audiences"),
        "CUSTOMER_ANALYTICS_LANDING_DIR": str(landing),
        ERASURE_FILE_ENV: str(work / "privacy" / "erasure-requests.csv"),
        "DAGSTER_HOME": str(home),
        "CUSTOMER_ANALYTICS_AUTOMATION": "off",
        "DBT_TARGET_PATH": str(work / "target"),
        "DBT_LOG_PATH": str(work / "logs"),
    }

    def run(args: list[str]) -> str:
        done = subprocess.run(
            args, cwd=REPO, env=env, capture_output=True, text=True, timeout=1800, check=False
        )
        output = done.stdout + done.stderr
        assert done.returncode == 0, (args, output[-5000:])
        return output

    run([str(BIN / "dagster"), "instance", "migrate"])
    run([str(BIN / "dagster"), "job", "execute", "-m", "orchestration.definitions", "-j",
         "daily_refresh"])  # fmt: skip
    run(["make", "--no-print-directory", "build"])

    database = work / "warehouse.duckdb"
    with duckdb.connect(str(database), read_only=True) as con:
        victims = [
            row[0]
            for row in con.execute(
                "select customer_id from staging.stg_crm__customers as customers"
                " where exists (select 1 from staging.stg_shop__orders as o"
                "   where o.customer_id = customers.customer_id)"
                " and exists (select 1 from staging.stg_web_analytics__sessions as s"
                "   where s.customer_id = customers.customer_id)"
                " and exists (select 1 from staging.stg_nps__survey_responses as r"
                "   where r.customer_id = customers.customer_id)"
                " and exists (select 1 from staging.stg_email__email_events as e"
                "   where e.customer_id = customers.customer_id)"
                " and exists (select 1 from staging.stg_quarantine__rejected_rows as q"
                "   where q.raw_values like '%' || customers.customer_id || '%')"
                " order by customer_id"
            ).fetchall()
        ]
    members = audience_members(database)
    victims = [customer for customer in victims if pseudonym(customer) in members][:2]
    assert len(victims) == 2, "no customer with every kind of data and an audience"
    people = {row["customer_id"]: row for row in read_rows(landing / "customers.csv")}
    needles = {
        "keys": victims,
        "hashes": [pseudonym(customer) for customer in victims],
        "emails": [people[customer]["email"] for customer in victims],
    }
    before = {
        "build": scan_database(database, [*needles["keys"], *needles["hashes"]]),
        "served": scan_files(work / "serving", needles["hashes"]),
        "audiences": scan_files(work / "audiences", needles["emails"]),
        "exports": scan_files(work / "exports", needles["hashes"]),
        "backups": len(list((work / "serving" / "backups").glob("*.duckdb"))),
    }
    output = run(["make", "--no-print-directory", "erase", f"CUSTOMER_IDS={' '.join(victims)}"])
    return {"work": work, "needles": needles, "before": before, "output": output, "home": home}


@pytest.mark.e2e
def test_the_scanner_finds_the_customers_before_the_erasure(erased_site: dict) -> None:
    before = erased_site["before"]
    assert any(":raw.customers." in hit for hit in before["build"]), before["build"]
    assert any("stg_quarantine__rejected_rows" in hit for hit in before["build"])
    assert any("marts.fct_orders" in hit for hit in before["build"])
    assert before["served"] and before["audiences"] and before["exports"]
    # make build kept the Dagster run's publication as a backup
    assert before["backups"] >= 1


@pytest.mark.e2e
def test_an_erased_customer_is_nowhere(erased_site: dict) -> None:
    work: Path = erased_site["work"]
    needles = [value for values in erased_site["needles"].values() for value in values]
    hits = scan_database(work / "warehouse.duckdb", needles)
    for folder in ("serving", "exports", "audiences", "quality", "target", "logs"):
        hits += scan_files(work / folder, needles)
    hits += scan_files(erased_site["home"], needles)
    assert hits == []
    # the erasure rebuilt and published: the served file and audiences are new, and no
    # backup from before the erasure is kept
    assert "published build" in erased_site["output"]
    backups = list((work / "serving" / "backups").glob("*.duckdb"))
    assert backups == []
    assert (work / "audiences" / "current" / "manifest.json").exists()


@pytest.mark.e2e
def test_the_key_is_in_no_file_of_the_repo_or_the_dagster_home(erased_site: dict) -> None:
    key = Path(os.environ[KEY_FILE_ENV]).read_text().strip()
    assert len(key) >= 32
    hits = scan_files(erased_site["home"], [key])
    hits += scan_files(erased_site["work"], [key])
    for path in REPO.rglob("*"):
        if ".venv" in path.parts or ".git" in path.parts or not path.is_file():
            continue
        if path.stat().st_size < 50_000_000 and key.encode() in path.read_bytes():
            hits.append(str(path))
    assert hits == []


@pytest.mark.build
def test_publish_refuses_a_build_read_before_the_erasure_requests_changed(
    seed_build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.lib.publish import StaleBuildError, publish

    database = tmp_path / "warehouse.duckdb"
    shutil.copy(seed_build.database, database)
    requests = tmp_path / "erasure-requests.csv"
    requests.write_text("customer_id,requested_on\n1,2026-01-15\n", encoding="utf-8")
    monkeypatch.setenv(ERASURE_FILE_ENV, str(requests))
    serving = tmp_path / "serving" / "served.duckdb"
    with pytest.raises(StaleBuildError, match="built before the erasure requests"):
        publish(database, serving, tmp_path / "exports", "after-erasure")
    assert not serving.exists()  # nothing was published
    env = {**os.environ, "CUSTOMER_ANALYTICS_DB": str(database),
           "CUSTOMER_ANALYTICS_SERVING_DB": str(serving),
           "CUSTOMER_ANALYTICS_EXPORTS_DIR": str(tmp_path / "exports"),
           "CUSTOMER_ANALYTICS_QUALITY_DIR": str(tmp_path / "quality")}  # fmt: skip
    done = subprocess.run(
        [str(BIN / "customer-analytics"), "publish"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "build again" in done.stderr and not serving.exists()


@pytest.mark.e2e
def test_no_personal_value_reaches_a_published_file_report_log_or_dagster(
    erased_site: dict,
) -> None:
    """The leak scan: every email, full name and birth date of the raw customers file, searched
    in everything but the build file and the audiences (which carry email and first name by
    design): the served file and its backups, the Parquet exports and the offline report, the
    GX reports, target/, logs/ and the Dagster home (event storage and captured output)."""
    work: Path = erased_site["work"]
    customers = read_rows(work / "landing" / "customers.csv")
    needles = sorted(
        {row["email"] for row in customers if row["email"]}
        | {f"{row['first_name']} {row['last_name']}" for row in customers if row["last_name"]}
        | {row["birth_date"] for row in customers if row["birth_date"]}
    )
    assert len(needles) > 3000
    # the scan can fail: the audiences hold emails, by design
    assert scan_files(work / "audiences", needles)
    hits: list[str] = []
    for folder in ("serving", "exports", "quality", "target", "logs"):
        hits += scan_files(work / folder, needles)
    hits += scan_files(erased_site["home"], needles)
    assert hits == []
