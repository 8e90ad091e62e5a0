"""The quality report a person reads: real row counts, rules passed / failed / skipped (a skipped
rule says why), numbers written for people, a summary line, links to the dashboard's report; and
an empty public mart fails as an ERROR and is never published.

Row counts are counted here with SQL on the build file; the formatted numbers and the expected
statuses are written out by hand.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, REPO, DbtResult, mart_tables, run_validate

from orchestration.lib.publish import EmptyMartError, publish
from orchestration.lib.quality.numbers import format_number
from orchestration.lib.quality.report import write_reports
from orchestration.lib.quality.suites import CLV_SUITES, ERROR, SUITES
from orchestration.lib.quality.validate import RuleOutcome, run_suite, run_suites

pytestmark = pytest.mark.e2e

NO_PREVIOUS_RUN = "no previous good run to compare with (nothing published yet)"


def table_of(suite: str) -> str:
    """The table a suite is named after (README: raw_<table> checks raw.<table>)."""
    if suite.startswith("raw_"):
        return f"raw.{suite.removeprefix('raw_')}"
    return f"marts.{suite}"


def page_rows(page: Path) -> str:
    """The row count shown on a suite's page."""
    (shown,) = re.findall(r"<span id='rows'>([^<]*)</span>", page.read_text())
    return shown


def index_row(index: Path, suite: str) -> list[str]:
    """The cells of `suite`'s row in index.html, as text."""
    (row,) = re.findall(rf"<tr id='{suite}'>(.*?)</tr>", index.read_text())
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row)]


def test_numbers_are_written_for_people() -> None:
    assert format_number(39736.0, "row_count") == "39,736"
    assert format_number(1_234_567, "rows") == "1,234,567"
    assert format_number(0.3123, "month_1_retention") == "31.2%"
    assert format_number(0.39936, "row_count_ratio") == "0.399"
    assert format_number(1.0, "row_count_ratio") == "1"
    assert format_number(45.8512, "order_value_median") == "45.85"
    assert format_number(None, "row_count") == "–"
    ratio = RuleOutcome(
        rule="orders: row count within ×0.5–×2.0 of the previous good run",
        severity=ERROR,
        expectation="expect_column_values_to_be_between",
        column="row_count_ratio",
        success=False,
        observed=12_000 / 30_050,
        current=12_000.0,
        previous=30_050.0,
    )
    assert ratio.message("marts.fct_orders", "order_id") == (
        "marts.fct_orders.row_count_ratio: orders: row count within ×0.5–×2.0 of the previous"
        " good run: observed 0.399 times the previous good run (12,000 rows; previous 30,050)."
    )
    assert "e+" not in ratio.message("marts.fct_orders", "order_id")


@pytest.fixture(scope="module")
def first_run(seed_build: DbtResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every suite on the seeds' build with nothing published yet; returns the quality folder."""
    quality = tmp_path_factory.mktemp("first_run") / "quality"
    nothing = quality.parent / "serving" / "never_published.duckdb"
    for outcome in run_suites(list(SUITES), seed_build.database, nothing, jobs=1):
        write_reports(outcome, quality)
    return quality


def test_row_counts_in_the_report_are_the_tables_counts(
    seed_build: DbtResult, first_run: Path
) -> None:
    for suite in SUITES:
        ((count,),) = seed_build.query(f"select count(*) from {table_of(suite)}")
        record = json.loads((first_run / f"{suite}.json").read_text())
        assert record["rows"] == count, suite
        assert page_rows(first_run / f"{suite}.html") == f"{count:,}", suite
        assert index_row(first_run / "index.html", suite)[3] == f"{count:,}", suite
    # the table the first user saw as "0 rows": 39,736 rows, thousands separated
    ((email_events,),) = seed_build.query("select count(*) from marts.fct_email_events")
    assert email_events > 1000
    assert page_rows(first_run / "fct_email_events.html") == f"{email_events:,}"
    assert "e+0" not in (first_run / "index.html").read_text()


def test_comparisons_are_skipped_without_a_previous_run_and_evaluated_after_one(
    seed_build: DbtResult, first_run: Path, tmp_path: Path
) -> None:
    comparing = "of the previous good run"  # the wording of every comparison rule
    first = {suite: json.loads((first_run / f"{suite}.json").read_text()) for suite in SUITES}
    not_fitted = 0  # dbt's build alone: the CLV step has not filled the CLV tables
    for suite, record in first.items():
        for rule in record["rules"]:
            if comparing in rule["rule"]:
                assert rule["status"] == "skipped", (suite, rule["rule"])
                assert rule["skipped"] == NO_PREVIOUS_RUN
            elif suite in CLV_SUITES and rule["status"] == "skipped":
                # the empty CLV tables: the volume rule says why, the others have nothing
                assert "did not fit this build" in rule["skipped"] or (
                    rule["skipped"].startswith(("no rows to check", "nothing to measure"))
                ), (suite, rule)
                not_fitted += 1
            else:
                assert rule["status"] == "passed", (suite, rule["rule"], rule["skipped"])
    assert not_fitted >= 4  # at least the volume rules of the four CLV tables
    skipped = sum(comparing in r["rule"] for record in first.values() for r in record["rules"])
    assert skipped >= 12  # a volume comparison per table, and the drift rules
    # the page and the index say "skipped" and why, never "passed"
    page = (first_run / "fct_orders.html").read_text()
    assert page.count("<tr data-rule-status='skipped'>") == 3
    assert f"skipped: {NO_PREVIOUS_RUN}" in page
    assert index_row(first_run / "index.html", "fct_orders")[4:7] == ["6", "0", "3"]
    summary = re.search(r"<p id='summary'>(.*?)</p>", (first_run / "index.html").read_text())
    assert summary and f"{skipped + not_fitted} skipped" in summary.group(1)
    assert f"{len(SUITES)} suites" in summary.group(1)
    assert f"{len(SUITES)} passed" in summary.group(1)

    # the first run is published: the second run compares with it (the same data: ratio 1)
    published = publish(seed_build.database, tmp_path / "served.duckdb", tmp_path / "exp", "one")
    second = tmp_path / "quality"
    for outcome in run_suites(list(SUITES), seed_build.database, published.serving_file, 1):
        write_reports(outcome, second)
        for rule in outcome.rules:
            if outcome.suite in CLV_SUITES and rule.status == "skipped":
                continue  # dbt's build alone: the CLV step has not filled these tables
            assert rule.status == "passed", (outcome.suite, rule.rule, rule.skipped)
            if comparing in rule.rule:
                assert rule.observed == 1.0, (outcome.suite, rule.rule)
    assert index_row(second / "index.html", "fct_orders")[4:7] == ["9", "0", "0"]


def test_every_public_mart_has_a_suite_whose_volume_rule_fails_an_empty_mart(
    seed_build: DbtResult, tmp_path: Path
) -> None:
    marts = sorted(mart_tables(seed_build.database))
    assert len(marts) >= 12 and set(marts) <= set(SUITES)
    emptied = tmp_path / "emptied.duckdb"
    shutil.copy(seed_build.database, emptied)
    with duckdb.connect(str(emptied)) as con:
        for mart in marts:
            con.execute(f"delete from marts.{mart}")
    for mart in marts:
        outcome = run_suite(mart, emptied, tmp_path / "never_published.duckdb")
        assert outcome.rows == 0 and outcome.severity == ERROR, mart
        (volume,) = [rule for rule in outcome.rules if rule.rule.endswith("at least one row")]
        assert (volume.status, volume.severity, volume.observed) == ("failed", ERROR, 0.0), mart
        assert volume.message(outcome.relation, outcome.key).endswith(
            "at least one row: observed 0."
        )


def _run(command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "customer-analytics"), *command],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_emptied_mart_fails_validate_and_publish_keeps_the_last_good_marts(
    seed_build: DbtResult, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse"  # the layout of `make build`
    serving = warehouse / "serving" / "customer_analytics.duckdb"
    exports, quality = warehouse / "exports", warehouse / "quality"
    env = {
        "CUSTOMER_ANALYTICS_SERVING_DB": str(serving),
        "CUSTOMER_ANALYTICS_EXPORTS_DIR": str(exports),
        "CUSTOMER_ANALYTICS_QUALITY_DIR": str(quality),
    }
    good = {**env, "CUSTOMER_ANALYTICS_DB": str(seed_build.database)}
    # every suite: publish requires a passing record of each for this state of the build
    validated = _run(["validate", "--jobs", "1"], good)
    assert validated.returncode == 0, validated.stderr[-2000:]
    published = _run(["publish", "--build-id", "good"], good)
    assert published.returncode == 0, published.stderr[-2000:]
    served_before, export_before = _digest(serving), os.readlink(exports / "current")

    # the links: index -> dashboard report, suite page -> index and report, report -> index
    index = quality / "index.html"
    (href,) = set(re.findall(r"id='dashboard-report' href='([^']+)'", index.read_text()))
    assert href == "../exports/current/report.html"
    assert (index.parent / href).resolve() == (exports / "good" / "report.html").resolve()
    page = (quality / "fct_orders.html").read_text()
    assert "href='index.html'" in page and f"href='{href}'" in page
    report = exports / "current" / "report.html"
    (back,) = re.findall(r"id='quality-report' href='([^']+)'", report.read_text())
    # a browser resolves it against the URL's folder (current/), not the link's target
    assert os.path.normpath(report.parent / back) == str(index)

    emptied = warehouse / "emptied.duckdb"
    shutil.copy(seed_build.database, emptied)
    with duckdb.connect(str(emptied)) as con:
        con.execute("delete from marts.fct_orders")
    bad = {**env, "CUSTOMER_ANALYTICS_DB": str(emptied)}
    failed = _run(["validate", "--jobs", "1", "fct_orders", "rpt_kpis_monthly"], bad)
    assert failed.returncode == 1
    assert "[ERROR] marts.fct_orders.row_count: orders: at least one row: observed 0." in (
        failed.stdout
    )
    assert "ERROR rules failed in 1 suite(s) (fct_orders)" in failed.stderr
    assert str(index) in failed.stderr
    fct_orders = json.loads((quality / "fct_orders.json").read_text())
    assert (fct_orders["severity"], fct_orders["rows"]) == (ERROR, 0)

    refused = _run(["publish", "--build-id", "bad"], bad)
    assert refused.returncode == 1
    assert "fct_orders" in refused.stderr and "nothing published" in refused.stderr
    assert _digest(serving) == served_before
    assert os.readlink(exports / "current") == export_before
    assert not (exports / "bad").exists()

    # the last guard, also under Dagster's publish asset: publish itself refuses an empty mart
    with pytest.raises(EmptyMartError, match=r"marts\.fct_orders in .* is empty"):
        publish(emptied, serving, exports, "bad")
    assert _digest(serving) == served_before
    assert os.readlink(exports / "current") == export_before


def test_under_dagster_an_emptied_mart_fails_its_blocking_check_and_nothing_is_served(
    seed_build: DbtResult, tmp_path: Path
) -> None:
    import dagster as dg

    from orchestration.defs.quality.checks import build_layer_checks, check_key
    from orchestration.defs.resources import WarehouseResource
    from orchestration.defs.serving.assets import build_published_marts

    serving = tmp_path / "serving" / "served.duckdb"
    exports = tmp_path / "exports"
    publish(seed_build.database, serving, exports, "good")  # the last good publication
    served_before, export_before = _digest(serving), os.readlink(exports / "current")
    emptied = tmp_path / "emptied.duckdb"
    shutil.copy(seed_build.database, emptied)
    with duckdb.connect(str(emptied)) as con:
        con.execute("delete from marts.fct_orders")
    fct_orders = dg.AssetKey(["marts", "fct_orders"])
    checks = build_layer_checks("gx_mart_suites", ["fct_orders"], "the mart suites")
    published = build_published_marts([fct_orders], ["analytics-engineering@example.com"])
    warehouse = WarehouseResource(
        database=str(emptied),
        landing_dir=str(tmp_path),
        serving_database=str(serving),
        exports_dir=str(exports),
        quality_dir=str(tmp_path / "quality"),
    )

    def run(selection: dg.AssetSelection) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            [published, checks],
            selection=selection,
            resources={"warehouse": warehouse},
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )

    # the check runs before publish, as in daily_refresh: it fails as an ERROR and blocks
    result = run(
        dg.AssetSelection.assets(published) | dg.AssetSelection.checks(check_key("fct_orders"))
    )
    assert not result.success
    (evaluation,) = [
        event.event_specific_data
        for event in result.all_events
        if event.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert (evaluation.passed, evaluation.severity) == (False, dg.AssetCheckSeverity.ERROR)
    metadata = {name: value.value for name, value in evaluation.metadata.items()}
    assert metadata["rows"] == 0 and metadata["failed_rules"] == 2
    assert "orders: at least one row: observed 0." in metadata["failures"]
    assert all(isinstance(value, float) for value in metadata["measures"].values())
    assert not result.get_asset_materialization_events()
    # no personal value in what Dagster stores (e-mails, names of the seeds' customers)
    text = json.dumps(metadata, default=str)
    for email, last_name in seed_build.query(
        "select email, last_name from raw.customers where email is not null"
    ):
        assert email not in text and f" {last_name} " not in text
    assert _digest(serving) == served_before

    # publish on its own (no check in the run) still refuses the empty mart, at once: a
    # refusal for the data is not retried like a busy file
    alone = run(dg.AssetSelection.assets(published))
    assert not alone.success and not alone.get_asset_materialization_events()
    events = [event.event_type_value for event in alone.all_events]
    assert events.count("STEP_FAILURE") == 1 and "STEP_UP_FOR_RETRY" not in events, events
    (failure,) = [e.step_failure_data.error.message for e in alone.all_events if e.is_step_failure]
    assert "marts.fct_orders" in failure and "is empty: nothing published" in failure
    assert _digest(serving) == served_before
    assert os.readlink(exports / "current") == export_before


def test_a_shop_without_the_optional_files_validates_and_publishes(
    dbt_build, tmp_path: Path
) -> None:
    """Only the required customers and orders: the marts built from an optional table alone
    are rightly empty, so their "at least one row" rules are skipped with that reason, no
    ERROR stops the run, and publish serves them empty; every other mart still has rows."""
    landing = tmp_path / "landing"
    landing.mkdir()
    for table in ("customers", "orders"):
        shutil.copy(REPO / "data" / "raw" / f"{table}.csv", landing)
    build = dbt_build("required_only", raw_data_path=str(landing))
    assert build.returncode == 0, build.output[-3000:]
    marts = mart_tables(build.database)
    # the row balance records each optional table with no rows read
    balance = dict(build.query("select source_table, rows_read from marts.rpt_data_quality"))
    assert {balance[t] for t in ("web_analytics.sessions", "nps.survey_responses")} == {0}
    assert balance["email.email_events"] == 0
    empty = {name for name, rows in marts.items() if not rows}
    # the marts read from sessions, survey responses or email events alone (worked out from
    # the model SQL: each selects from one of those staging tables)
    # (and the CLV tables, which the CLV step fills after dbt)
    clv_tables = {"customer_clv_predictions", "clv_model_parameters", "rpt_clv_holdout"}
    clv_tables.add("rpt_clv_by_segment")
    assert empty == {
        "fct_sessions",
        "fct_survey_responses",
        "fct_email_events",
        "rpt_nps_monthly",
        "rpt_nps_by_segment",
        *clv_tables,
    }
    outcomes = {
        outcome.suite: outcome
        for outcome in run_suites(sorted(marts), build.database, tmp_path / "none.duckdb", 1)
    }
    assert not [name for name, outcome in outcomes.items() if outcome.severity == ERROR]
    for name in empty:
        (volume,) = [r for r in outcomes[name].rules if r.rule.endswith("at least one row")]
        assert volume.status == "skipped", name
        if name in clv_tables:
            assert "the CLV step did not fit this build" in volume.skipped
        else:
            assert "optional raw table" in volume.skipped and "no rows" in volume.skipped
    (orders_volume,) = [
        r for r in outcomes["fct_orders"].rules if r.rule.endswith("at least one row")
    ]
    assert orders_volume.status == "passed"
    # publish requires every suite validated on this build (the raw suites too)
    validated = run_validate(build.database)
    assert validated.returncode == 0, validated.stdout[-3000:]
    served = tmp_path / "serving" / "served.duckdb"
    publish(build.database, served, tmp_path / "exports", "required-only")
    assert {name for name, rows in mart_tables(served).items() if not rows} >= empty
    assert mart_tables(served)["fct_orders"]
