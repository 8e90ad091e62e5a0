"""The MetricFlow semantic layer validates, answers the same numbers as the marts, and is right
at every time grain and by customer dimensions: each metric is checked against a pandas
computation written here from the base facts (fct_orders, fct_survey_responses) and the
customer attributes of dim_customers, never from the tables the metrics read."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import itertools
import os
import shutil
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, REPO, DbtResult, run_clv

from orchestration.lib.publish import publish

pytestmark = pytest.mark.build

CHURN_WINDOW_DAYS = 180  # dbt var churn_window_days (default)
PROMOTER_MIN, PASSIVE_MIN = 9, 7  # dbt vars nps_promoter_min_score, nps_passive_min_score
METRICS = (
    "revenue",
    "orders",
    "average_order_value",
    "repeat_customer_rate",
    "nps",
    "active_customers",
    "churned_customers",
    "previously_active_customers",
    "churn_rate",
    "annual_churn_rate",
)
GRAINS = ("month", "quarter", "year")
SLICES = (("year", "customer__rfm_segment"), ("quarter", "customer__country"))
"""(grain, customer dimension) pairs queried with every metric."""


def make_mf_project(root: Path, env: dict[str, str]) -> Path:
    """A project folder for `mf`, parsed with `env` (its target and files).

    mf always reads <project>/target/semantic_manifest.json, so each gets a folder of its own
    whose project files are links to the repository's and whose target/ is its own.
    """
    root.mkdir(parents=True, exist_ok=True)
    for name in ("dbt_project.yml", "profiles.yml", "models", "macros", "seeds", "data-tests"):
        (root / name).symlink_to(REPO / name)
    parsed = subprocess.run(
        [str(BIN / "dbt"), "parse"],
        cwd=root,
        env={**env, "DBT_PROFILES_DIR": str(root), "DBT_PROJECT_DIR": str(root)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert parsed.returncode == 0, parsed.stdout[-3000:]
    return root


def mf_env(build: DbtResult, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("DBT_TARGET_PATH", "DBT_PROJECT_DIR", "DBT_LOG_PATH", "DBT_TARGET")
    }
    env.update(
        CUSTOMER_ANALYTICS_DB=str(build.database),
        DBT_SEND_ANONYMOUS_USAGE_STATS="false",
        **extra,
    )
    return env


def run_mf(args: list[str], env: dict[str, str], project: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "mf"), *args],
        cwd=project,
        env={**env, "DBT_PROFILES_DIR": str(project), "DBT_PROJECT_DIR": str(project)},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def mf_query(
    metrics: tuple[str, ...], group_by: list[str], env: dict[str, str], project: Path
) -> list[dict[str, str]]:
    """Rows of one `mf query`, written as CSV (values as text, '' for null)."""
    out = project / f"query_{len(list(project.glob('query_*.csv')))}.csv"
    result = run_mf(
        [
            "query",
            "--metrics",
            ",".join(metrics),
            "--group-by",
            ",".join(group_by),
            "--csv",
            str(out),
        ],
        env,
        project,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    with out.open() as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def mf_build(seed_build: DbtResult, tmp_path_factory: pytest.TempPathFactory) -> DbtResult:
    """A copy of the seed build for mf's target dev: dbt-duckdb opens that target's file
    read-write (DuckDB's one writer), and the session's seed build is read by other workers'
    tests meanwhile."""
    copy = tmp_path_factory.mktemp("mf_build") / seed_build.database.name
    shutil.copy(seed_build.database, copy)
    return DbtResult(0, seed_build.output, copy)


@pytest.fixture(scope="module")
def mf_project(mf_build: DbtResult, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mf project parsed against (a copy of) the seed build (target dev)."""
    return make_mf_project(tmp_path_factory.mktemp("mf") / "project", mf_env(mf_build))


@pytest.fixture(scope="module")
def answers(mf_build: DbtResult, mf_project: Path) -> dict[tuple[str, ...], list[dict]]:
    """Every metric at each grain, and by each customer dimension: one mf call per group-by."""
    env = mf_env(mf_build)
    queries = [(f"metric_time__{grain}",) for grain in GRAINS]
    queries += [(f"metric_time__{grain}", dimension) for grain, dimension in SLICES]
    return {group_by: mf_query(METRICS, list(group_by), env, mf_project) for group_by in queries}


# --- the independent computation --------------------------------------------------------------


def period_of(day: dt.date, grain: str) -> dt.date:
    if grain == "month":
        return day.replace(day=1)
    if grain == "quarter":
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def next_month(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def previous_month(month: dt.date) -> dt.date:
    return (month - dt.timedelta(days=1)).replace(day=1)


def month_end(month: dt.date) -> dt.date:
    return next_month(month) - dt.timedelta(days=1)


class Reference:
    """The metrics from the base facts, by (period, customer attribute or None)."""

    def __init__(self, build: DbtResult) -> None:
        self.attributes = {
            customer: {"customer__rfm_segment": segment, "customer__country": country}
            for customer, segment, country in build.query(
                "select customer_key, rfm_segment, country_code from marts.dim_customers"
            )
        }
        self.orders = build.query(
            "select customer_key, order_date, status, net_revenue from marts.fct_orders"
        )
        self.responses = build.query(
            "select customer_key, submitted_date, score from marts.fct_survey_responses"
        )
        ((self.reference_date,),) = build.query(
            "select reference_date from staging.stg_shop__reference_date"
        )
        self.activity = self._activity()

    def key(self, customer: str | None, day: dt.date, grain: str, dimension: str | None):
        value = None
        if dimension is not None:
            value = self.attributes[customer][dimension] if customer is not None else None
        return period_of(day, grain), value

    def _activity(self) -> dict[str, dict[dt.date, bool]]:
        """customer -> month -> active at the month's end (or the reference date), for every
        month from the customer's first completed order month to the reference month."""
        completed = defaultdict(list)
        for customer, day, status, _ in self.orders:
            if status == "completed":
                completed[customer].append(day)
        last_month = self.reference_date.replace(day=1)
        activity = {}
        for customer, days in completed.items():
            days.sort()
            month, months = min(days).replace(day=1), {}
            while month <= last_month:
                end = min(month_end(month), self.reference_date)
                last_order = max(day for day in days if day <= end)
                months[month] = (end - last_order).days < CHURN_WINDOW_DAYS
                month = next_month(month)
            activity[customer] = months
        return activity

    def aov(self, grain: str, dimension: str | None) -> dict:
        revenue, orders = defaultdict(Decimal), defaultdict(int)
        for customer, day, status, net_revenue in self.orders:
            if status == "completed":
                key = self.key(customer, day, grain, dimension)
                revenue[key] += net_revenue
                orders[key] += 1
        return {key: float(revenue[key]) / orders[key] for key in orders}

    def nps(self, grain: str, dimension: str | None) -> dict:
        counts = defaultdict(lambda: [0, 0, 0])  # promoters, detractors, responses
        for customer, day, score in self.responses:
            key = self.key(customer, day, grain, dimension)
            counts[key][0] += score >= PROMOTER_MIN
            counts[key][1] += score < PASSIVE_MIN
            counts[key][2] += 1
        return {key: 100.0 * (p - d) / n for key, (p, d, n) in counts.items()}

    def activity_metrics(self, grain: str, dimension: str | None) -> dict:
        """key -> (active at the period end, active at the period start, churned during it).

        Period end: the end of its last month, or the reference date. Period start: the end
        of the month before its first month. Churned during it: customers active at the end
        of the month before one of its months and not at that month's end (each once)."""
        result: dict = defaultdict(lambda: [0, 0, set()])
        for customer, months in self.activity.items():
            for period in {period_of(month, grain) for month in months}:
                entry = result[period, self.key(customer, period, grain, dimension)[1]]
                months_in = sorted(m for m in months if period_of(m, grain) == period)
                entry[0] += months[months_in[-1]]
                entry[1] += months.get(previous_month(period), False)
                for month in months_in:
                    if months.get(previous_month(month), False) and not months[month]:
                        entry[2].add(customer)
        return {key: (a, p, len(c)) for key, (a, p, c) in result.items()}

    def period_sets(self, grain: str = "quarter") -> dict[dt.date, tuple[set, set]]:
        """period -> (customers active at its start, customers churned during it)."""
        result: dict = defaultdict(lambda: (set(), set()))
        for customer, months in self.activity.items():
            for month, active in months.items():
                at_start, churned = result[period_of(month, grain)]
                if months.get(previous_month(period_of(month, grain)), False):
                    at_start.add(customer)
                if months.get(previous_month(month), False) and not active:
                    churned.add(customer)
        return result


@pytest.fixture(scope="module")
def reference(seed_build: DbtResult) -> Reference:
    return Reference(seed_build)


def keyed(rows: list[dict], grain: str, dimension: str | None) -> dict:
    """mf rows by (period, dimension value); rows with a null dimension value left out
    (anonymous NPS responses), as the reference has none of them for the customer metrics."""
    result = {}
    for row in rows:
        value = row[dimension] if dimension else None
        if dimension and value == "":
            continue
        period = dt.date.fromisoformat(row[f"metric_time__{grain}"][:10])
        assert (period, value) not in result, (period, value)
        result[(period, value)] = row
    return result


def number(text: str) -> float | None:
    return None if text == "" else float(text)


CASES = [(grain, None) for grain in GRAINS] + list(SLICES)


@pytest.mark.parametrize(("grain", "dimension"), CASES)
def test_metrics_equal_an_independent_computation(
    answers, reference: Reference, grain: str, dimension: str | None
) -> None:
    group_by = (f"metric_time__{grain}",) + ((dimension,) if dimension else ())
    rows = keyed(answers[group_by], grain, dimension)
    aov = reference.aov(grain, dimension)
    nps = reference.nps(grain, dimension)
    activity = reference.activity_metrics(grain, dimension)
    if dimension is not None:
        nps = {key: value for key, value in nps.items() if key[1] is not None}
        assert len({key[1] for key in activity}) >= 4
    assert len({key[0] for key in activity}) >= {"month": 30, "quarter": 10, "year": 3}[grain]

    for key, value in aov.items():
        assert number(rows[key]["average_order_value"]) == pytest.approx(value, rel=1e-9), key
    for key, value in nps.items():
        assert number(rows[key]["nps"]) == pytest.approx(value, rel=1e-9, abs=1e-9), key
    for key, (active, previously_active, churned) in activity.items():
        row = rows[key]
        assert number(row["active_customers"]) == active, key
        assert number(row["previously_active_customers"] or "0") == previously_active, key
        assert number(row["churned_customers"] or "0") == churned, key
        if previously_active:
            expected = churned / previously_active
            assert number(row["churn_rate"]) == pytest.approx(expected, rel=1e-9), key
        else:
            assert row["churn_rate"] == "", key
    # nothing else: every mf row with a value is one the reference has
    for key, row in rows.items():
        if row["average_order_value"]:
            assert key in aov, key
        if row["active_customers"]:
            assert key in activity, key


def test_lifecycle_customers_are_the_stage_counts_at_each_period_end(
    seed_build: DbtResult, mf_build: DbtResult, mf_project: Path
) -> None:
    """A stage count is a stock: a quarter's value is its last month's (or the reference
    month's), never a sum over its months."""
    rows = mf_query(
        ("lifecycle_customers",),
        ["metric_time__quarter", "customer_lifecycle_month__lifecycle_stage"],
        mf_env(mf_build),
        mf_project,
    )
    by_month = defaultdict(dict)
    for month, stage, customers in seed_build.query(
        "select month, lifecycle_stage, count(*) from marts.rpt_customer_lifecycle group by all"
    ):
        by_month[month][stage] = customers
    expected = {}
    for quarter in {period_of(month, "quarter") for month in by_month}:
        last = max(month for month in by_month if period_of(month, "quarter") == quarter)
        for stage, customers in by_month[last].items():
            expected[(quarter, stage)] = customers
    actual = {
        (
            dt.date.fromisoformat(row["metric_time__quarter"][:10]),
            row["customer_lifecycle_month__lifecycle_stage"],
        ): int(float(row["lifecycle_customers"]))
        for row in rows
    }
    assert actual == expected
    assert len({quarter for quarter, _ in expected}) >= 10


def test_predicted_clv_by_segment_equals_the_clv_mart(
    seed_build: DbtResult, mf_project: Path, tmp_path: Path
) -> None:
    """On a build the CLV step fitted (as make build leaves it), the CLV metrics by the
    customer's RFM segment equal rpt_clv_by_segment, written by the CLV step with pandas."""
    # the same file name: the parsed semantic manifest names its catalog after it
    fitted = tmp_path / "fitted" / seed_build.database.name
    fitted.parent.mkdir()
    shutil.copy(seed_build.database, fitted)
    done = run_clv(fitted)
    assert done.returncode == 0, done.stderr[-3000:]
    build = DbtResult(0, "", fitted)
    rows = mf_query(
        ("predicted_clv_12_months", "clv_customers", "average_predicted_clv"),
        ["customer__rfm_segment"],
        mf_env(build),
        mf_project,
    )
    expected = {
        segment: (total, customers)
        for segment, total, customers in build.query(
            "select rfm_segment, total_clv_12_months, customers from marts.rpt_clv_by_segment"
        )
    }
    assert len(expected) >= 5
    actual = {row["customer__rfm_segment"]: row for row in rows}
    assert sorted(actual) == sorted(expected)
    for segment, (total, customers) in expected.items():
        row = actual[segment]
        assert float(row["predicted_clv_12_months"]) == pytest.approx(total, rel=1e-9), segment
        assert int(float(row["clv_customers"])) == customers, segment
        assert float(row["average_predicted_clv"]) == pytest.approx(total / customers, rel=1e-9)


def test_churn_rate_at_quarter_grain_is_a_share_of_the_customers_active_at_its_start(
    answers, reference: Reference
) -> None:
    """The defect this replaces: a quarter divided by the sum of its three month-end stocks.
    Now the denominator is the stock at the quarter's start (the previous quarter's end), so
    it equals the previous quarter's active customers; and with a 180-day window nobody can
    become active and churn within one quarter, so every churned customer is one of them."""
    rows = sorted(answers[("metric_time__quarter",)], key=lambda row: row["metric_time__quarter"])
    assert len(rows) >= 10
    for previous, row in itertools.pairwise(rows):
        assert row["previously_active_customers"] == previous["active_customers"]
        assert 0 <= number(row["churn_rate"]) <= 1
    by_quarter = {dt.date.fromisoformat(row["metric_time__quarter"][:10]): row for row in rows}
    for quarter, (at_start, churned) in reference.period_sets().items():
        assert churned <= at_start, quarter
        row = by_quarter[quarter]
        assert number(row["churned_customers"] or "0") == len(churned & at_start), quarter
        assert number(row["previously_active_customers"] or "0") == len(at_start), quarter


def test_annual_churn_rate_is_the_share_of_the_customers_active_at_the_year_start(
    answers, reference: Reference
) -> None:
    """churn_rate by year also counts customers who became active and churned within the
    year; annual_churn_rate counts only those active when the year began."""
    rows = {row["metric_time__year"][:10]: row for row in answers[("metric_time__year",)]}
    checked, acquired_and_lost = 0, 0
    for year, (at_start, churned) in reference.period_sets("year").items():
        row = rows[year.isoformat()]
        if not at_start:
            assert row["annual_churn_rate"] == "", year
            continue
        expected = len(churned & at_start) / len(at_start)
        assert number(row["annual_churn_rate"]) == pytest.approx(expected, rel=1e-9), year
        assert 0 <= expected <= 1
        checked += 1
        acquired_and_lost += len(churned - at_start)
    assert checked >= 2
    # the two rates differ on this data: some customers are acquired and lost within a year
    assert acquired_and_lost > 0


def test_month_grain_equals_the_monthly_kpi_mart(answers, seed_build: DbtResult) -> None:
    rows = {row["metric_time__month"][:10]: row for row in answers[("metric_time__month",)]}
    mart = seed_build.query(
        "select cast(month as varchar), net_revenue, orders, average_order_value,"
        " repeat_customer_rate, nps, active_customers, churn_rate from marts.rpt_kpis_monthly"
        " where orders > 0"
    )
    assert len(mart) >= 30
    for month, revenue, orders, aov, repeat_rate, nps, active, churn_rate in mart:
        row = rows[month]
        assert Decimal(row["revenue"]).quantize(Decimal("0.01")) == revenue, month
        assert int(row["orders"]) == orders, month
        assert float(row["average_order_value"]) == pytest.approx(aov, rel=1e-9)
        assert float(row["repeat_customer_rate"]) == pytest.approx(repeat_rate, rel=1e-9)
        assert int(row["active_customers"]) == active, month
        if nps is not None:
            assert float(row["nps"]) == pytest.approx(nps, rel=1e-9, abs=1e-9)
        if churn_rate is not None:
            assert float(row["churn_rate"]) == pytest.approx(churn_rate, rel=1e-9, abs=1e-12)


def test_mf_validate_configs_passes(mf_build: DbtResult, mf_project: Path) -> None:
    result = run_mf(["validate-configs"], mf_env(mf_build), mf_project)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "ERRORS: 0" in result.stdout
    assert "Breaking issues" not in result.stdout


def test_mf_reads_the_served_file_read_only_while_a_bi_tool_reads_it(
    seed_build: DbtResult, mf_build: DbtResult, answers, tmp_path: Path
) -> None:
    """Target serving: mf answers from the published file, opened read-only, so a BI reader
    holding it is not locked out (nor is mf: DuckDB refuses a writer beside a reader), and
    the file is unchanged afterwards. It needs no table beyond the published marts."""
    serving = tmp_path / "serving" / "served.duckdb"
    publish(seed_build.database, serving, tmp_path / "exports", "b1")
    before = hashlib.sha256(serving.read_bytes()).hexdigest()
    env = mf_env(mf_build, DBT_TARGET="serving", CUSTOMER_ANALYTICS_SERVING_DB=str(serving))
    project = make_mf_project(tmp_path / "project", env)
    manifest = (project / "target" / "semantic_manifest.json").read_text()
    assert '"served"' in manifest and '"warehouse"' not in manifest  # the served file's tables

    bi_reader = duckdb.connect(str(serving), read_only=True)
    try:
        rows = mf_query(
            ("active_customers", "churn_rate", "nps"), ["metric_time__quarter"], env, project
        )
        # the served file (marts only, no time spine) is all the semantic layer needs
        validated = run_mf(["validate-configs"], env, project)
        assert validated.returncode == 0, validated.stdout[-3000:] + validated.stderr[-3000:]
        assert "ERRORS: 0" in validated.stdout
        assert "Successfully validated metrics against data warehouse" in validated.stdout
        assert bi_reader.execute("select count(*) from marts.fct_orders").fetchall()[0][0] > 0
    finally:
        bi_reader.close()
    expected = answers[("metric_time__quarter",)]
    assert len(rows) == len(expected) >= 10
    for row, build_row in zip(
        sorted(rows, key=lambda r: r["metric_time__quarter"]),
        sorted(expected, key=lambda r: r["metric_time__quarter"]),
        strict=True,
    ):
        for name in ("metric_time__quarter", "active_customers", "churn_rate", "nps"):
            assert row[name] == build_row[name], name
    assert hashlib.sha256(serving.read_bytes()).hexdigest() == before
    assert not serving.with_name("served.duckdb.wal").exists()
