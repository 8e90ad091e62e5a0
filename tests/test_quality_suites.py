"""The Great Expectations suites: every suite passes on good data (the shipped seeds, and a freshly
generated shop compared with the seeds' publication), and every suite fails on a fault aimed at
it, with the severity and the rule documented for that fault. Faults are planted with SQL in a
copy of a real build file; the expected outcome is stated here, not computed by the suite.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from conftest import DbtResult, GeneratedBuild, pseudonym

from orchestration.lib.publish import publish
from orchestration.lib.quality.report import write_reports
from orchestration.lib.quality.suites import ERROR, SUITES, _between
from orchestration.lib.quality.validate import _raised, _validate_frame, run_suite, run_suites

pytestmark = pytest.mark.build


@pytest.fixture(scope="module")
def seeds_publication(seed_build: DbtResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped seeds' marts, published: the previous good run of these tests."""
    work = tmp_path_factory.mktemp("quality_baseline")
    publication = publish(seed_build.database, work / "served.duckdb", work / "exports", "base")
    return publication.serving_file


def test_every_suite_passes_on_the_shipped_seeds(
    seed_build: DbtResult, seeds_publication: Path
) -> None:
    outcomes = {name: run_suite(name, seed_build.database, seeds_publication) for name in SUITES}
    assert {name: outcome.messages() for name, outcome in outcomes.items()} == {
        name: [] for name in SUITES
    }
    # compared with itself, every ratio is exactly 1
    ratios = {
        f"{name}.{measure}": value
        for name, outcome in outcomes.items()
        for measure, value in outcome.measures.items()
        if measure.endswith("_ratio")
    }
    assert len(ratios) >= 10 and set(ratios.values()) == {1.0}
    assert outcomes["raw_orders"].rows == seed_build.query("select count(*) from raw.orders")[0][0]


def test_every_suite_passes_on_a_freshly_generated_shop(
    generated_build: GeneratedBuild, seeds_publication: Path, tmp_path: Path
) -> None:
    # the build landed the generated files as raw.<table>, as every entry point does
    database = generated_build.build.database
    outcomes = {name: run_suite(name, database, seeds_publication) for name in SUITES}
    assert not any(outcome.skipped for outcome in outcomes.values())
    assert {name: outcome.messages() for name, outcome in outcomes.items()} == {
        name: [] for name in SUITES
    }
    # it really was compared with the seeds' publication (1,500 vs 2,000 customers)
    assert outcomes["dim_customers"].measures["row_count_ratio"] == pytest.approx(0.75)


@dataclass(frozen=True)
class Fault:
    """SQL that plants a fault in a build file, and what the suite must say about it."""

    sql: str
    severity: str
    rule: str
    keys: list[str] | None = None


FAULTS: dict[str, Fault] = {
    "raw_customers": Fault(
        "alter table raw.customers drop column city",
        "error",
        "columns exactly as in the raw data contract",
    ),
    "raw_orders": Fault(
        "update raw.orders set gross_amount = replace(gross_amount, '.', ',')",
        "error",
        "gross_amount values parse",
    ),
    "raw_sessions": Fault(
        "delete from raw.sessions where hash(session_id) % 10 < 6",
        "error",
        "row count within ×0.5–×2.0 of the previous good run",
    ),
    "raw_survey_responses": Fault(
        "update raw.survey_responses set response_id = null where hash(submitted_at) % 10 = 0",
        "error",
        "of response_id empty",
    ),
    "raw_email_events": Fault(
        "update raw.email_events set occurred_at = 'yesterday'",
        "error",
        "occurred_at values parse",
    ),
    "dim_customers": Fault(
        "update marts.dim_customers set sessions = sessions * 2",
        "warn",
        "mean sessions per customer within",
    ),
    "fct_orders": Fault(
        "update marts.fct_orders set gross_amount_eur = -gross_amount_eur"
        " where order_id in ('{keys}')",
        "error",
        "gross_amount_eur between 0 and 50,000",
        keys=["first", "second"],
    ),
    "fct_sessions": Fault(
        "delete from marts.fct_sessions where session_date > (select reference_date - 30"
        " from staging.stg_shop__reference_date)",
        "warn",
        "latest session at most 7 days before the reference date",
    ),
    "fct_survey_responses": Fault(
        "delete from marts.fct_survey_responses where hash(response_id) % 10 < 6",
        "error",
        "row count within",
    ),
    "fct_email_events": Fault(
        "delete from marts.fct_email_events where occurred_date > (select reference_date - 60"
        " from staging.stg_shop__reference_date)",
        "warn",
        "latest email event at most 35 days before the reference date",
    ),
    "fct_customer_months": Fault(
        "update marts.fct_customer_months set months_since_first_order = -1"
        " where month = (select min(month) from marts.fct_customer_months)",
        "error",
        "months since first order ≥ 0",
    ),
    "rpt_data_quality": Fault(
        "update marts.rpt_data_quality set rows_quarantined = rows_read // 5"
        " where source_table = 'shop.orders'",
        "error",
        "at most 10% of a source table's rows quarantined",
        keys=["shop.orders"],
    ),
    "rpt_kpis_monthly": Fault(
        "update marts.rpt_kpis_monthly set net_revenue = -1"
        " where month = (select min(month) from marts.rpt_kpis_monthly)",
        "error",
        "monthly net revenue ≥ 0",
    ),
    "rpt_nps_monthly": Fault(
        "update marts.rpt_nps_monthly set nps_margin_of_error_95 = 80",
        "warn",
        "margin of error at most 50 NPS points",
    ),
    "rpt_nps_by_segment": Fault(
        "update marts.rpt_nps_by_segment set responses = 0 where dimension = 'loyalty'",
        "error",
        "responses ≥ 1",
        keys=["member", "non-member"],
    ),
    "rpt_retention_cohorts": Fault(
        "update marts.rpt_retention_cohorts set retention_rate = retention_rate / 2"
        " where months_since_first_order = 1",
        "warn",
        "mean month-1 retention within",
    ),
    "rpt_rfm_segments": Fault(
        "update marts.rpt_rfm_segments set share_of_net_revenue = 1.5"
        " where rfm_segment = 'Champions'",
        "error",
        "share of net revenue between 0 and 1",
        keys=["Champions"],
    ),
    "rpt_kpi_headlines": Fault(
        "delete from marts.rpt_kpi_headlines where kpi = 'nps'",
        "error",
        "six KPI tiles",
    ),
    "rpt_customer_lifecycle": Fault(
        "delete from marts.rpt_customer_lifecycle where hash(customer_key) % 3 = 0"
        " and month = (select max(month) from marts.rpt_customer_lifecycle)",
        "warn",
        "every customer has a stage at the reference month",
    ),
    "rpt_lifecycle_transitions": Fault(
        "update marts.rpt_lifecycle_transitions set customers = 0 where from_stage = 'signup'",
        "error",
        "customers ≥ 1 per flow",
    ),
    "rpt_replenishment_lists": Fault(
        "update marts.rpt_replenishment_lists set contactable_customers = customers + 1"
        " where replenishment_status = 'due'",
        "error",
        "contactable customers at most the list's customers",
    ),
    "rpt_repeat_purchase_ladder": Fault(
        "update marts.rpt_repeat_purchase_ladder set next_order_probability = 1.5"
        " where order_number = 3",
        "error",
        "probabilities between 0 and 1",
    ),
    "rpt_revenue_concentration": Fault(
        "update marts.rpt_revenue_concentration set top_revenue_share = 0.3"
        " where top_percent = 50 and period = 'all time'",
        "error",
        "the top 50 % of customers bring at least 50 % of net revenue",
    ),
    "rpt_programme_effects": Fault(
        "update marts.rpt_programme_effects set strata = 0 where metric = 'churn_rate'",
        "warn",
        "every comparison has signup months with both groups",
    ),
    # the seeds' build is dbt's alone: the CLV tables are empty and clv_fit_status says 'not
    # fitted' (the suites skip their volume rules). Claiming a fit plants the faults.
    "customer_clv_predictions": Fault(
        "update marts.clv_fit_status set fit_status = 'fitted';"
        " insert into marts.customer_clv_predictions select customer_key, date '2025-12-31',"
        " 0.5, 1.0, 1.5, 30, 20"
        " from marts.dim_customers where customer_key = 'C-first'",
        "error",
        "P(alive) between 0 and 1",
        keys=["C-first"],
    ),
    "clv_model_parameters": Fault(
        "update marts.clv_fit_status set fit_status = 'fitted'",
        "error",
        "parameters: at least one row",
    ),
    "rpt_clv_holdout": Fault(
        "update marts.clv_fit_status set fit_status = 'fitted'",
        "error",
        "holdout buckets: at least one row",
    ),
    "rpt_clv_by_segment": Fault(
        "update marts.clv_fit_status set fit_status = 'fitted without holdout'",
        "error",
        "segments: at least one row",
    ),
    "clv_fit_status": Fault(
        "update marts.clv_fit_status set fit_status = 'failed'",
        "warn",
        "the CLV models were fitted",
    ),
}


def test_the_fault_catalogue_covers_every_suite() -> None:
    assert sorted(FAULTS) == sorted(SUITES)


@pytest.fixture
def planted(seed_build: DbtResult, tmp_path: Path):
    """Plant SQL in a copy of the seeds' build file; returns the copy."""

    def plant(sql: str) -> Path:
        copy = tmp_path / "faulty.duckdb"
        shutil.copy(seed_build.database, copy)
        with duckdb.connect(str(copy)) as con:
            con.execute(sql)
        return copy

    return plant


@pytest.mark.parametrize("suite", sorted(FAULTS))
def test_each_suite_fails_on_its_targeted_fault(
    suite: str, planted, seed_build: DbtResult, seeds_publication: Path
) -> None:
    fault = FAULTS[suite]
    sql = fault.sql
    expected_keys = fault.keys
    if "C-first" in sql:  # the first CRM customer of the build, by its customer_key
        ((first,),) = seed_build.query("select min(customer_id) from staging.stg_crm__customers")
        sql = sql.replace("C-first", pseudonym(first))
        expected_keys = [pseudonym(first)]
    if "{keys}" in sql:
        expected_keys = [
            key
            for (key,) in seed_build.query(
                "select order_id from marts.fct_orders order by order_id limit 2"
            )
        ]
        sql = sql.replace("{keys}", "', '".join(expected_keys))
    outcome = run_suite(suite, planted(sql), seeds_publication)
    assert outcome.severity == fault.severity, outcome.messages()
    failing = [rule for rule in outcome.failures if fault.rule in rule.rule]
    assert failing, outcome.messages()
    assert all(rule.severity == fault.severity for rule in failing)
    if expected_keys:
        assert sorted(failing[0].sample_keys) == sorted(expected_keys)
    # and the same suite on the unchanged file passes: the fault, not the suite, failed it
    assert run_suite(suite, seed_build.database, seeds_publication).passed


def test_batches_bound_memory_and_give_the_same_counts(planted, seeds_publication: Path) -> None:
    faulty = planted(
        "update marts.fct_sessions set pageviews = -1 where hash(session_id) % 100 = 0"
    )
    with duckdb.connect(str(faulty), read_only=True) as con:
        (rows, negative) = con.execute(
            "select count(*), count(*) filter (where pageviews < 0) from marts.fct_sessions"
        ).fetchone()
    whole = run_suite("fct_sessions", faulty, seeds_publication)
    batched = run_suite("fct_sessions", faulty, seeds_publication, batch_rows=1_000)
    assert whole.batches == 1 and batched.batches == -(-rows // 1_000)
    for outcome in (whole, batched):
        (rule,) = [r for r in outcome.failures if r.column == "pageviews"]
        assert (rule.unexpected_count, rule.denominator) == (negative, rows)
        assert len(rule.sample_keys) == 5


def test_suites_in_parallel_give_the_same_outcomes_in_the_same_order(
    planted, seeds_publication: Path
) -> None:
    faulty = planted(
        "update marts.fct_sessions set pageviews = -1 where hash(session_id) % 50 = 0;"
        "update marts.fct_orders set item_count = 0 where hash(order_id) % 40 = 0;"
    )
    names = ["rpt_kpi_headlines", "fct_orders", "dim_customers", "fct_sessions", "raw_orders"]
    one_by_one = [run_suite(name, faulty, seeds_publication).to_dict() for name in names]
    parallel = [outcome.to_dict() for outcome in run_suites(names, faulty, seeds_publication, 2)]
    assert [outcome["suite"] for outcome in parallel] == names
    assert parallel == one_by_one
    failed = {outcome["suite"] for outcome in parallel if not outcome["passed"]}
    assert failed == {"fct_orders", "fct_sessions"}


@pytest.mark.parametrize(("threshold", "pooled"), [(10**12, False), (1, True)])
def test_by_default_suites_go_to_processes_only_on_large_tables(
    threshold: int,
    pooled: bool,
    seed_build: DbtResult,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The seeds' tables hold far fewer rows than a threshold of 10^12 (one process) and more
    than 1 (a process per core): the pool is started exactly when the threshold is reached."""
    from orchestration.lib.quality import validate

    started = []
    real_pool = validate.ProcessPoolExecutor

    def counting_pool(*args, **kwargs):
        started.append(args)
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(validate, "PARALLEL_FROM_ROWS", threshold)
    monkeypatch.setattr(validate, "ProcessPoolExecutor", counting_pool)
    monkeypatch.setattr(validate.os, "cpu_count", lambda: 2)
    names = ["rpt_kpi_headlines", "fct_orders"]
    outcomes = list(validate.run_suites(names, seed_build.database, tmp_path / "nothing.duckdb"))
    assert [outcome.suite for outcome in outcomes] == names
    assert all(outcome.passed for outcome in outcomes)
    assert bool(started) == pooled


def test_a_rule_that_raises_is_a_failure_not_a_pass() -> None:
    rule = _between("no_such_column", ERROR, "no_such_column ≥ 0", 0)
    (result,) = _validate_frame(pd.DataFrame({"other": [1, 2]}), [rule], None)
    assert _raised(result)


def test_without_a_previous_run_comparisons_are_skipped(
    seed_build: DbtResult, tmp_path: Path
) -> None:
    outcome = run_suite("fct_orders", seed_build.database, tmp_path / "nothing.duckdb")
    assert outcome.passed and outcome.baseline is None
    assert outcome.measures["row_count_ratio"] is None
    assert "nothing published yet" in outcome.baseline_note


def test_the_report_names_table_column_rule_count_and_keys_never_personal_data(
    planted, seed_build: DbtResult, seeds_publication: Path, tmp_path: Path
) -> None:
    faulty = planted(
        "update raw.customers set signup_at = 'soon' where customer_id in"
        " (select customer_id from raw.customers order by customer_id limit 200)"
    )
    outcome = run_suite("raw_customers", faulty, seeds_publication)
    (message,) = outcome.messages()
    first_keys = [
        key
        for (key,) in seed_build.query(
            "select customer_id from raw.customers order by customer_id limit 200"
        )
    ]
    (rule,) = [rule for rule in outcome.failures if rule.column == "signup_at"]
    assert rule.sample_keys and set(rule.sample_keys) <= set(first_keys)
    # the message (console, logs, Dagster) names no key: it points to the report, which does
    assert message.startswith("[ERROR] raw.customers.signup_at: at least 95% of signup_at")
    assert message.endswith("200 of 2,000 rows fail (a few customer_id values: see the report).")
    assert not any(re.search(rf"\b{re.escape(key)}\b", message) for key in rule.sample_keys)
    page = write_reports(outcome, tmp_path / "quality")
    text = page.read_text() + (tmp_path / "quality" / "index.html").read_text()
    assert "raw.customers" in text and "signup_at" in text and "200 of 2,000" in text
    assert f"<td>{', '.join(rule.sample_keys)}</td>" in page.read_text()
    for email, last_name, birth_date in seed_build.query(
        "select email, last_name, birth_date from raw.customers where email is not null"
    ):
        assert email not in text and f">{last_name}<" not in text
        assert not birth_date or birth_date not in text


def test_raw_suites_run_on_every_build_and_skip_only_a_file_without_raw_tables(
    generated_build: GeneratedBuild, tmp_path: Path
) -> None:
    # dbt read the generated files through raw_data_path: the raw models landed them
    outcome = run_suite("raw_orders", generated_build.build.database)
    assert not outcome.skipped and outcome.passed
    assert outcome.rows == generated_build.build.query("select count(*) from raw.orders")[0][0]
    # a build file from before the raw models (no raw schema): skipped, saying what to do
    old = tmp_path / "old.duckdb"
    shutil.copy(generated_build.build.database, old)
    with duckdb.connect(str(old)) as con:
        con.execute("drop schema raw cascade")
    outcome = run_suite("raw_orders", old)
    assert outcome.skipped and "run dbt build again" in outcome.skipped
