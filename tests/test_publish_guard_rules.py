"""The publish guard's rules on hand-made records: which dbt outcomes and which quality
records block publishing, and the sentence that says so (orchestration/lib/publish_guard.py;
the same rules on real builds: tests/test_publish_guard.py)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from orchestration.lib.publish_guard import (
    Invocation,
    NodeResult,
    dbt_problems,
    quality_problems,
    refusal,
)
from orchestration.lib.quality.report import build_stamp, suite_verdicts
from orchestration.lib.quality.suites import SUITES

pytestmark = pytest.mark.unit

T0 = dt.datetime(2026, 1, 5, 6, 0, 0)
ORDERS = "model.customer_analytics.fct_orders"
CUSTOMERS = "model.customer_analytics.dim_customers"
FINISHED = [Invocation("build", T0, T0 + dt.timedelta(minutes=1))]


def at(seconds: int) -> dt.datetime:
    return T0 + dt.timedelta(seconds=seconds)


def model(unique_id: str, seconds: int, status: str = "success") -> NodeResult:
    return NodeResult(
        unique_id, "model", status, at(seconds), (), f"marts.{unique_id.rsplit('.', 1)[-1]}"
    )


def data_test(name: str, seconds: int | None, status: str = "pass", *tested: str) -> NodeResult:
    finished = None if seconds is None else at(seconds)
    return NodeResult(f"test.customer_analytics.{name}.0a1b2c", "test", status, finished, tested)


def test_a_build_whose_tests_passed_after_their_tables_is_clean() -> None:
    nodes = [
        model(ORDERS, 10),
        model(CUSTOMERS, 20),
        data_test("unique_fct_orders_order_id", 11, "pass", ORDERS),
        # a warning does not block; a test of two tables runs after both
        data_test("relationships_fct_orders_customer_id", 21, "warn", ORDERS, CUSTOMERS),
    ]
    assert dbt_problems(FINISHED, nodes, ["fct_orders", "dim_customers"]) == []


def test_each_reason_to_refuse_is_named() -> None:
    nodes = [
        model(ORDERS, 30),  # rebuilt at 30 s (dbt run) after its tests ran at 11 s
        model(CUSTOMERS, 20, "error"),
        data_test("unique_fct_orders_order_id", 11, "pass", ORDERS),
        data_test("not_null_fct_orders_order_id", None, "not run", ORDERS),
        data_test("unique_dim_customers_customer_id", 21, "fail", CUSTOMERS),
        data_test("not_null_dim_customers_customer_id", 21, "skipped", CUSTOMERS),
    ]
    running = [*FINISHED, Invocation("run", at(120), None)]
    assert dbt_problems(running, nodes, ["fct_orders", "dim_customers", "old_mart"]) == [
        "its last dbt invocation (dbt run, started 2026-01-05 06:02:00 UTC) did not finish",
        "dbt models not built: dim_customers (error)",
        "dbt tests failed: not_null_dim_customers_customer_id (skipped), "
        "unique_dim_customers_customer_id (fail)",
        "dbt tests not run since their table was last built (e.g. by dbt run): "
        "not_null_fct_orders_order_id, unique_fct_orders_order_id",
        "tables that no model of the project built: marts.old_mart (left over from a removed "
        "or renamed model: drop them)",
    ]


def test_an_interrupted_invocation_followed_by_a_finished_one_does_not_block() -> None:
    killed_then_rebuilt = [
        Invocation("build", T0, None),
        Invocation("build", at(300), at(360)),
    ]
    nodes = [model(ORDERS, 310), data_test("unique_fct_orders_order_id", 311, "pass", ORDERS)]
    assert dbt_problems(killed_then_rebuilt, nodes) == []


def test_a_build_without_a_dbt_record_is_refused() -> None:
    (problem,) = dbt_problems(None, [])
    assert problem.startswith("it has no record of its dbt tests")


def test_long_lists_are_cut_and_counted() -> None:
    nodes = [model(ORDERS, 10)] + [
        data_test(f"check_{number:02}", 5, "pass", ORDERS) for number in range(12)
    ]
    (problem,) = dbt_problems(FINISHED, nodes)
    assert problem.endswith("check_00, check_01, check_02, check_03, check_04, check_05, "
                            "check_06, check_07 and 4 more")  # fmt: skip


def record(folder: Path, suite: str, build: Path, **fields) -> None:
    folder.mkdir(exist_ok=True)
    base = {"suite": suite, "build_file": str(build.resolve()), "severity": None}
    (folder / f"{suite}.json").write_text(json.dumps({**base, **fields}))


def test_only_a_record_of_this_state_or_of_this_dagster_run_counts(tmp_path: Path) -> None:
    build = tmp_path / "warehouse.duckdb"
    build.write_bytes(b"state one")
    other = tmp_path / "other.duckdb"
    other.write_bytes(b"state one")
    quality = tmp_path / "quality"
    stamp = build_stamp(build)
    record(quality, "fct_orders", build, build_stamp=stamp)
    record(quality, "dim_customers", build, build_stamp=stamp, severity="error")
    record(quality, "rpt_kpis_monthly", build, build_stamp=stamp, severity="warn")
    record(quality, "raw_orders", build, build_stamp="1:9", dagster_run_id="run-1")
    record(quality, "raw_customers", other, build_stamp=build_stamp(other))
    record(quality, "fct_sessions", build, build_stamp="1:9")
    record(quality, "raw_sessions", build, build_stamp=stamp, skipped="no raw schema")

    verdicts = suite_verdicts(quality, build)
    assert set(verdicts) == set(SUITES)
    assert {name: v for name, v in verdicts.items() if v != "not validated"} == {
        "fct_orders": "passed",
        "dim_customers": "failed",
        "rpt_kpis_monthly": "passed",
        "raw_customers": "another build file",
    }
    assert suite_verdicts(quality, build, run_id="run-1")["raw_orders"] == "passed"
    assert suite_verdicts(quality, build, run_id="run-2")["raw_orders"] == "not validated"

    build.write_bytes(b"state two, written by a later dbt run")
    verdicts = suite_verdicts(quality, build)
    assert verdicts.pop("raw_customers") == "another build file"
    assert set(verdicts.values()) == {"not validated"}


def test_records_of_another_warehouse_file_are_named_as_such() -> None:
    """Two warehouse files sharing one quality folder replace each other's records: the
    refusal says so and how to keep them apart, not that the file was never validated."""
    build = Path("/w/warehouse.duckdb")
    problems = quality_problems({"raw_orders": "another build file", "fct_orders": "passed"})
    assert refusal(build, [], problems) == (
        "/w/warehouse.duckdb is not published (the served marts are unchanged): the quality "
        "folder's latest records of these suites checked another warehouse file (one quality "
        "folder serves one warehouse file: give each its own CUSTOMER_ANALYTICS_QUALITY_DIR): "
        "raw_orders; run customer-analytics validate, then publish again."
    )


def test_the_remedy_follows_what_failed() -> None:
    build = Path("/w/warehouse.duckdb")
    unvalidated = quality_problems({"fct_orders": "not validated", "dim_customers": "passed"})
    assert refusal(build, [], unvalidated) == (
        "/w/warehouse.duckdb is not published (the served marts are unchanged): quality suites "
        "have no passing record for this state of the build file (never validated, or "
        "validated before the file last changed): fct_orders; run customer-analytics "
        "validate, then publish again."
    )
    failed = quality_problems({"fct_orders": "failed"})
    assert refusal(build, [], failed).endswith(
        ": quality suites failed ERROR rules: fct_orders; fix what failed and run make build "
        "(dbt build, customer-analytics clv, validate and publish)."
    )
    assert refusal(build, ["dbt tests failed: x (fail)"], unvalidated).endswith(
        "fix what failed and run make build (dbt build, customer-analytics clv, validate and "
        "publish)."
    )


def test_validate_records_nothing_when_the_file_changed_while_it_ran(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A record names the state it checked: results of a state that a dbt run replaced while
    the suites ran are not recorded for the new one."""
    import orchestration.lib.quality.validate as validate
    from orchestration.cli import main

    build = tmp_path / "warehouse.duckdb"
    build.write_bytes(b"the state validated")
    quality = tmp_path / "quality"
    for name, value in {
        "CUSTOMER_ANALYTICS_DB": build,
        "CUSTOMER_ANALYTICS_SERVING_DB": tmp_path / "served.duckdb",
        "CUSTOMER_ANALYTICS_EXPORTS_DIR": tmp_path / "exports",
        "CUSTOMER_ANALYTICS_QUALITY_DIR": quality,
    }.items():
        monkeypatch.setenv(name, str(value))

    def suites_while_dbt_writes(names, build_file, *_):
        build_file.write_bytes(b"a state a dbt run wrote meanwhile")
        return []

    monkeypatch.setattr(validate, "run_suites", suites_while_dbt_writes)
    assert main(["validate", "fct_orders"]) == 2
    assert "changed while it was validated" in capsys.readouterr().err
    assert not quality.exists()
