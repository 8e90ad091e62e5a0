"""Privacy by design on the shipped seeds: the public marts name a customer only by customer_key,
HMAC-SHA256 of the CRM customer_id under the key in CUSTOMER_ANALYTICS_PSEUDONYM_KEY_FILE.

Expected keys come from conftest.pseudonym (Python's hmac under the run's key, not the
project's code). Three builds of the seeds: the session's `seed_build` (the run's key), one
with the same key text in another file (surrounded by blanks, which are not part of the key)
and one with another key. The key is read at run time only: its text is in none of a build's
files (target/, logs/, dbt's output, the DuckDB file).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import duckdb
import pytest
from conftest import KEY_FILE_ENV, DbtResult, pseudonym, run_dbt

pytestmark = pytest.mark.build

MAPPING = "intermediate.int_customers_pseudonymised"


def mart_customer_columns(build: DbtResult) -> list[tuple[str, str]]:
    """(table, column) of every text column of the marts named like a customer's."""
    return build.query(
        "select table_name, column_name from duckdb_columns()"
        " where schema_name = 'marts' and column_name like '%customer%'"
        " and data_type = 'VARCHAR' order by all"
    )


def key_columns(build: DbtResult) -> list[tuple[str, str]]:
    """(table, column) of every marts column that names a customer by its pseudonym."""
    return [(t, c) for t, c in mart_customer_columns(build) if c.endswith("customer_key")]


def mart_names(build: DbtResult) -> list[str]:
    return [
        name
        for (name,) in build.query(
            "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
        )
    ]


def crm_customers(build: DbtResult) -> dict[str, str | None]:
    """CRM customer_id -> referred_by_customer_id of every accepted customer (staging)."""
    return dict(
        build.query("select customer_id, referred_by_customer_id from staging.stg_crm__customers")
    )


# --- (1) no CRM id in the marts; every key is the customer's pseudonym ------------------------


def test_the_marts_hold_no_crm_id_and_name_customers_by_their_pseudonym(
    seed_build: DbtResult,
) -> None:
    customers = crm_customers(seed_build)
    assert len(customers) == 2000
    expected = {customer_id: pseudonym(customer_id) for customer_id in customers}

    # the restricted mapping: every accepted customer, under the run's key
    assert dict(seed_build.query(f"select customer_id, customer_key from {MAPPING}")) == expected

    # no marts column is a CRM key by name, and none named like a customer's holds a CRM id
    assert (
        seed_build.query(
            "select table_name, column_name from duckdb_columns()"
            " where schema_name = 'marts' and column_name like '%customer_id%'"
        )
        == []
    )
    columns = mart_customer_columns(seed_build)
    assert len(key_columns(seed_build)) >= 10  # every fact and report keyed by customer
    pseudonyms = set(expected.values())
    for table, column in columns:
        values = {
            value
            for (value,) in seed_build.query(
                f"select distinct {column} from marts.{table} where {column} is not null"
            )
        }
        assert not values & set(customers), f"marts.{table}.{column} holds CRM customer ids"
        if column.endswith("customer_key"):
            assert values <= pseudonyms, f"marts.{table}.{column}: not a customer's pseudonym"

    # dim_customers: one row per customer under its pseudonym; the referrer's pseudonym when
    # the referrer is an accepted customer, else null
    rows = seed_build.query(
        "select customer_key, referred_by_customer_key from marts.dim_customers"
    )
    assert sorted(key for key, _ in rows) == sorted(pseudonyms)
    referrers = {
        expected[customer_id]: expected.get(referrer) if referrer else None
        for customer_id, referrer in customers.items()
    }
    assert dict(rows) == referrers
    assert sum(value is not None for value in referrers.values()) > 50  # referrals exercised


# --- (2) the same key gives the same marts; another key changes every key, nothing else --------


@pytest.fixture(scope="module")
def rebuilds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[DbtResult, str]]:
    """Two more builds of the seeds, each with a key file of its own outside its build folder:
    "same" holds the run's key between blanks, "other" a new key. name -> (build, key text)."""
    keys = tmp_path_factory.mktemp("keys")
    run_key = Path(os.environ[KEY_FILE_ENV]).read_text(encoding="utf-8").strip()
    texts = {"same": f"  \n{run_key}\t\n\n", "other": secrets.token_hex(32) + "\n"}
    builds = {}
    for name, text in texts.items():
        key_file = keys / f"{name}.key"
        key_file.write_text(text, encoding="utf-8")
        work = tmp_path_factory.mktemp(f"{name}_key_build")
        with pytest.MonkeyPatch.context() as env:
            env.setenv(KEY_FILE_ENV, str(key_file))
            build = run_dbt(["build"], work / "warehouse.duckdb", None, work, file_log="debug")
        assert build.returncode == 0, build.output[-5000:]
        builds[name] = (build, text.strip())
    return builds


def compare(left: DbtResult, right: DbtResult, relation: str, exclude: list[str]) -> list[tuple]:
    """Rows of `relation` in only one of two build files (all columns but `exclude`)."""
    columns = f"* exclude ({', '.join(exclude)})" if exclude else "*"
    with duckdb.connect() as con:
        con.execute(f"attach '{left.database}' as left_build (read_only)")
        con.execute(f"attach '{right.database}' as right_build (read_only)")
        return con.execute(
            f"(select {columns} from left_build.{relation}"
            f" except all select {columns} from right_build.{relation})"
            f" union all (select {columns} from right_build.{relation}"
            f" except all select {columns} from left_build.{relation})"
        ).fetchall()


def test_the_same_key_gives_the_same_keys_in_every_mart(
    seed_build: DbtResult, rebuilds: dict[str, tuple[DbtResult, str]]
) -> None:
    same, _ = rebuilds["same"]
    names = mart_names(seed_build)
    assert names == mart_names(same)
    for relation in [MAPPING, *(f"marts.{name}" for name in names)]:
        assert compare(seed_build, same, relation, []) == [], relation


def test_another_key_changes_every_customer_key_and_nothing_else(
    seed_build: DbtResult,
    rebuilds: dict[str, tuple[DbtResult, str]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    other, other_key = rebuilds["other"]
    customers = crm_customers(seed_build)
    key_file = tmp_path / "other.key"
    key_file.write_text(other_key, encoding="utf-8")
    monkeypatch.setenv(KEY_FILE_ENV, str(key_file))  # conftest.pseudonym under the other key
    expected = {customer_id: pseudonym(customer_id) for customer_id in customers}
    assert dict(other.query(f"select customer_id, customer_key from {MAPPING}")) == expected
    run_keys = {key for (key,) in seed_build.query(f"select customer_key from {MAPPING}")}
    assert not run_keys & set(expected.values())  # no customer keeps its key

    by_table: dict[str, list[str]] = {}
    for table, column in key_columns(seed_build):
        by_table.setdefault(table, []).append(column)
    assert key_columns(other) == key_columns(seed_build)
    for table, columns in by_table.items():
        used = {
            value
            for column in columns
            for (value,) in other.query(f"select distinct {column} from marts.{table}")
            if value is not None
        }
        assert used <= set(expected.values()), table
        assert not used & run_keys, table
    for name in mart_names(seed_build):
        relation = f"marts.{name}"
        assert compare(seed_build, other, relation, by_table.get(name, [])) == [], relation


# --- (3) the key is never written down --------------------------------------------------------


def test_no_build_file_holds_the_key(
    seed_build: DbtResult, rebuilds: dict[str, tuple[DbtResult, str]]
) -> None:
    run_key = Path(os.environ[KEY_FILE_ENV]).read_text(encoding="utf-8").strip()
    keys = {run_key, *(key for _, key in rebuilds.values())}
    assert len(keys) == 2 and all(len(key) >= 32 for key in keys)
    folders = [
        seed_build.database.parent,
        *(build.database.parent for build, _ in rebuilds.values()),
    ]
    for folder in folders:
        files = [path for path in folder.rglob("*") if path.is_file()]
        names = {path.relative_to(folder).parts[0] for path in files}
        assert {"target", "logs", "warehouse.duckdb"} <= names, folder  # what a build writes
        for path in files:
            content = path.read_bytes()
            for key in keys:
                assert key.encode("utf-8") not in content, f"the key is in {path}"
