"""The Great Expectations suites: one builder per table, named after it.

dbt tests keys, relationships, accepted values, the ranges of computed rates and NPS, and (with
enforced contracts) the marts' schema. These suites check what dbt does not, and nothing twice:

- raw tables (after landing, before dbt): schema against the raw data contract, volume against
  the previous good run, null-rate ceilings of keys, the share of values that parse;
- marts: ranges of amounts and counts, volume against the previous good run, freshness against
  the reference date, drift of headline distributions against the previous good run, null-rate
  ceilings, and the quarantine share per source table.

"The previous good run" is the publication being served (the serving file): only a run whose
every blocking check passed is ever published. With no publication yet, comparisons are skipped.

Every table's volume has two rules: "at least one row" (ERROR, always evaluated: an empty
public mart is never published) and "within ×0.5–×2 of the previous good run" (ERROR, skipped
with its reason when there is no previous good run).

A rule is ERROR (blocks everything downstream: dbt after a raw suite, publish after a mart
suite) or WARN (reported; the run goes on). Every threshold is a constant here, documented in
the README ("Data quality"). GX is imported only when a suite is built.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from orchestration.lib.relations import mart, raw_table, staging_model
from orchestration.lib.settings import REPO_ROOT

ERROR: Literal["error"] = "error"
WARN: Literal["warn"] = "warn"

VOLUME_RATIO = (0.5, 2.0)
"""Row count / the previous good run's row count must lie in this band (ERROR)."""
DRIFT_RATIO = (0.8, 1.25)
"""A headline quantile / the previous good run's must lie in this band (WARN)."""
QUARANTINE_SHARE_WARN = 0.02
QUARANTINE_SHARE_ERROR = 0.10
"""Quarantined / read rows of a source table: above 2 % warns, above 10 % fails."""
PARSEABLE_SHARE = 0.95
"""At least this share of a raw column's non-empty values must parse (ERROR below)."""
KEY_NULL_SHARE = 0.05
"""At most this share of a raw table's keys may be empty (ERROR above)."""
MAX_AMOUNT_EUR = 50_000
"""No single order amount above this (ERROR): a unit or currency mix-up, not a sale."""

RAW_SOURCES = {
    "customers": ("crm", "customer_id"),
    "orders": ("shop", "order_id"),
    "sessions": ("web_analytics", "session_id"),
    "survey_responses": ("nps", "response_id"),
    "email_events": ("email", "event_id"),
}
"""Raw table -> (dbt source, key column)."""

EMPTY_WITHOUT = {
    "fct_sessions": "sessions",
    "fct_survey_responses": "survey_responses",
    "fct_email_events": "email_events",
    "rpt_nps_monthly": "survey_responses",
    "rpt_nps_by_segment": "survey_responses",
}
"""Public mart -> the optional raw table it is built from alone: with no rows in that table
(its file was not landed, or holds only a header) the mart is rightly empty, so its "at least
one row" rule is skipped (with that reason) and publishing it empty is allowed."""

# Raw text that staging can parse. Written with [0-9] and explicit blanks, not \d and \s:
# pandas then matches them in Arrow (RE2) instead of calling Python's re once per value (about
# 6 times slower per match; raw_email_events at 1,000,000 customers took 19.4 s, not 11.9 s).
BLANKS = r"[ \t\r\n]*"
NUMBER = "^" + BLANKS + r"[-+]?[0-9]+(?:\.[0-9]+)?" + BLANKS + "$"
TIMESTAMP = (
    "^" + BLANKS + r"[0-9]{4}-[0-9]{2}-[0-9]{2}"  # date
    r"(?:[ T][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?)?"  # optional time
    + BLANKS
    + r"(?:Z|[+-][0-9]{2}(?::?[0-9]{2})?)?"  # optional offset
    + BLANKS
    + "$"
)
INTEGER = "^" + BLANKS + "[0-9]+" + BLANKS + "$"

_STRPTIME_FIELDS = {
    "%d": "[0-9]{1,2}",
    "%m": "[0-9]{1,2}",
    "%Y": "[0-9]{4}",
    "%H": "[0-9]{1,2}",
    "%M": "[0-9]{2}",
    "%S": "[0-9]{2}",
}


def value_regex(kind: str, fmt: dict[str, str] | None = None) -> str:
    """The raw text staging can parse as `kind` (timestamp, date, amount, integer) in the
    export dialect `fmt` (the table's raw_format, as recorded by the build; None: defaults)."""
    fmt = fmt or {}
    if kind == "integer":
        return INTEGER
    if kind == "amount":
        decimal = fmt.get("decimal_separator", ".")
        thousands = fmt.get("thousands_separator", "")
        if decimal == "." and not thousands:
            return NUMBER
        whole = "[0-9]+"
        if thousands:
            whole = f"(?:[0-9]+|[0-9]{{1,3}}(?:[{thousands}][0-9]{{3}})+)"
        return "^" + BLANKS + rf"[-+]?{whole}(?:[{decimal}][0-9]+)?" + BLANKS + "$"
    pattern = fmt.get("timestamp_format" if kind == "timestamp" else "date_format", "")
    if not pattern:
        return TIMESTAMP
    parts = [
        _STRPTIME_FIELDS.get(token, f"[{token}]")
        for token in re.findall(r"%[dmYHMS]|.", pattern, flags=re.DOTALL)
    ]
    return "^" + BLANKS + "".join(parts) + BLANKS + "$"


@dataclass(frozen=True)
class Rule:
    """One expectation, how bad its failure is, and the rule in words."""

    expectation: Any
    severity: Literal["error", "warn"]
    rule: str


@dataclass(frozen=True)
class Suite:
    """What to check on one table.

    `row_rules` run on every row, batch by batch (bounded memory). `measures_sql` computes one
    row of table-level measures in DuckDB; `baseline_sql` the same measures on the serving file
    (the previous good run), with the values `baseline_parameters` bound to its `?`; each name
    in `compared` also gets `<name>_ratio` = current / previous. `measure_rules` check that one
    row.
    """

    name: str
    relation: str
    key: str | None
    row_rules: tuple[Rule, ...] = ()
    table: str | None = None
    """The table whose rows are counted (`row_count`), if `relation` is a query on it."""
    schema: tuple[str, ...] | None = None
    measures_sql: str | None = None
    baseline_sql: str | None = None
    baseline_parameters: tuple[str, ...] = ()
    compared: tuple[str, ...] = ()
    measure_rules: tuple[Rule, ...] = field(default=())
    optional_source: str | None = None
    """An optional raw table (RAW_SOURCES) whose having no rows makes this table rightly empty:
    its "at least one row" rule is then skipped, with that reason."""
    expected_empty_sql: str | None = None
    """A query on the build file returning, when the table may rightly be empty, one row with
    the reason (its "at least one row" rule is then skipped with it), else no row."""

    @property
    def counted(self) -> str:
        """The table (or query) whose count(*) is the suite's row count."""
        return self.table or self.relation

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the row rules read (plus the key)."""
        names = [self.key] if self.key else []
        for rule in self.row_rules:
            column = getattr(rule.expectation, "column", None)
            if column and column not in names:
                names.append(column)
        return tuple(names)


def _gx():
    import great_expectations as gx

    return gx


def _between(column: str, severity, rule: str, low=None, high=None, mostly: float = 1.0) -> Rule:
    gx = _gx()
    return Rule(
        gx.expectations.ExpectColumnValuesToBeBetween(
            column=column, min_value=low, max_value=high, mostly=mostly
        ),
        severity,
        rule,
    )


def _not_null(column: str, severity, rule: str, mostly: float = 1.0) -> Rule:
    gx = _gx()
    return Rule(
        gx.expectations.ExpectColumnValuesToNotBeNull(column=column, mostly=mostly), severity, rule
    )


def _matches(column: str, regex: str, rule: str, mostly: float = PARSEABLE_SHARE) -> Rule:
    gx = _gx()
    return Rule(
        gx.expectations.ExpectColumnValuesToMatchRegex(column=column, regex=regex, mostly=mostly),
        ERROR,
        rule,
    )


def _volume(what: str) -> Rule:
    low, high = VOLUME_RATIO
    return _between(
        "row_count_ratio",
        ERROR,
        f"{what}: row count within ×{low}–×{high} of the previous good run",
        low,
        high,
    )


def _not_empty(what: str) -> Rule:
    """The table holds at least one row (ERROR): never skipped, no previous run needed."""
    return _between("row_count", ERROR, f"{what}: at least one row", 1)


def _drift(measure: str, what: str) -> Rule:
    low, high = DRIFT_RATIO
    return _between(
        f"{measure}_ratio",
        WARN,
        f"{what} within ×{low}–×{high} of the previous good run",
        low,
        high,
    )


def _fresh(days: int, what: str) -> Rule:
    return _between(
        "days_behind_reference_date",
        WARN,
        f"latest {what} at most {days} days before the reference date",
        None,
        days,
    )


@cache
def _raw_contract_table(table: str) -> dict[str, Any]:
    """The raw data contract's declaration of `table` (models/staging/<source>/)."""
    import yaml

    source, _ = RAW_SOURCES[table]
    path = REPO_ROOT / "models" / "staging" / source / f"_{source}__sources.yml"
    document = yaml.safe_load(Path(path).read_text())
    for declared in document["sources"]:
        for declared_table in declared["tables"]:
            if declared_table["name"] == table:
                return declared_table
    raise KeyError(f"{table} is not in {path}")


def raw_contract_columns(table: str) -> tuple[str, ...]:
    """The raw data contract's columns of `table`, in order."""
    return tuple(column["name"] for column in _raw_contract_table(table)["columns"])


def raw_table_required(table: str) -> bool:
    """Whether the raw data contract requires a file for `table` (meta.required)."""
    return bool((_raw_contract_table(table).get("meta") or {}).get("required", True))


PARSED_KINDS = {
    "timestamp": "timestamp",
    "date": "date",
    "amount": "amount",
    "integer": "integer",
    "count": "integer",
}
"""Raw contract type (a column's meta.type) -> the kind of text (value_regex) it must parse as.
Keys, text, enums and booleans are judged by staging alone."""


def raw_parsed_kinds(table: str) -> dict[str, str]:
    """The columns of `table` whose values must parse, with their kind, in contract order: every
    column the raw data contract declares as a timestamp, date, amount, integer or count."""
    kinds = {}
    for column in _raw_contract_table(table)["columns"]:
        kind = PARSED_KINDS.get((column.get("meta") or {}).get("type"))
        if kind:
            kinds[column["name"]] = kind
    return kinds


def _raw_suite(table: str, fmt: dict[str, str] | None) -> Suite:
    """A raw table's suite: its contract columns, volume, empty keys, and that the values of
    every column the contract declares as parsed (raw_parsed_kinds) parse in the table's export
    dialect `fmt`."""
    source, key = RAW_SOURCES[table]
    row_rules = [
        _not_null(
            key,
            ERROR,
            f"at most {KEY_NULL_SHARE:.0%} of {key} empty (single empty keys are quarantined)",
            mostly=1 - KEY_NULL_SHARE,
        ),
        *(
            _matches(
                column,
                value_regex(kind, fmt),
                f"at least {PARSEABLE_SHARE:.0%} of {column} values parse",
            )
            for column, kind in raw_parsed_kinds(table).items()
        ),
    ]
    return Suite(
        name=f"raw_{table}",
        relation=raw_table(table),
        key=key,
        row_rules=tuple(row_rules),
        schema=raw_contract_columns(table),
        measures_sql=f"select count(*) as row_count from raw.{table}",
        baseline_sql=(
            f"select max(rows_read) as row_count from {mart('rpt_data_quality')}"
            " where source_table = ?"
        ),
        baseline_parameters=(f"{source}.{table}",),
        compared=("row_count",),
        measure_rules=(_not_empty(f"raw {table}"), _volume(f"raw {table}")),
        optional_source=None if raw_table_required(table) else table,
    )


def raw_customers(fmt: dict[str, str] | None = None) -> Suite:
    """CRM export: contract columns, volume, keys, parseable dates and timestamps."""
    return _raw_suite("customers", fmt)


def raw_orders(fmt: dict[str, str] | None = None) -> Suite:
    """Shop export: contract columns, volume, keys, parseable timestamps, amounts and counts."""
    return _raw_suite("orders", fmt)


def raw_sessions(fmt: dict[str, str] | None = None) -> Suite:
    """Web sessions: contract columns, volume, keys, parseable start times and counts."""
    return _raw_suite("sessions", fmt)


def raw_survey_responses(fmt: dict[str, str] | None = None) -> Suite:
    """NPS responses: contract columns, volume, keys, parseable times and scores."""
    return _raw_suite("survey_responses", fmt)


def raw_email_events(fmt: dict[str, str] | None = None) -> Suite:
    """Email events: contract columns, volume, keys, parseable times."""
    return _raw_suite("email_events", fmt)


_REFERENCE_DATE = f"(select max(reference_date) from {staging_model('stg_shop__reference_date')})"


def _mart_measures(table: str, extra: str = "") -> str:
    return f"select count(*) as row_count{extra} from {mart(table)}"


def dim_customers() -> Suite:
    """Customer 360: volume, non-negative counts and revenue, drift of sessions per customer."""
    return Suite(
        name="dim_customers",
        relation=mart("dim_customers"),
        key="customer_key",
        row_rules=(
            _between("orders", ERROR, "orders ≥ 0", 0),
            _between("sessions", ERROR, "sessions ≥ 0", 0),
            _between("gross_lifetime_revenue", ERROR, "gross lifetime revenue ≥ 0", 0),
            _not_null(
                "country_code", WARN, "at most 5 % of customers without a country", mostly=0.95
            ),
        ),
        measures_sql=_mart_measures("dim_customers", ", avg(sessions) as sessions_per_customer"),
        compared=("row_count", "sessions_per_customer"),
        measure_rules=(
            _not_empty("customers"),
            _volume("customers"),
            _drift("sessions_per_customer", "mean sessions per customer"),
        ),
    )


def fct_orders() -> Suite:
    """Orders: volume, amounts ≥ 0 and below a ceiling, freshness, order-value drift."""
    amounts = ("gross_amount_eur", "discount_amount_eur", "shipping_amount_eur")
    return Suite(
        name="fct_orders",
        relation=mart("fct_orders"),
        key="order_id",
        row_rules=(
            *(
                _between(
                    column, ERROR, f"{column} between 0 and {MAX_AMOUNT_EUR:,}", 0, MAX_AMOUNT_EUR
                )
                for column in amounts
            ),
            _between("item_count", ERROR, "item_count ≥ 1", 1),
        ),
        measures_sql=(
            "select count(*) as row_count,"
            " quantile_cont(case when is_completed then net_revenue end, 0.5)"
            " as order_value_median,"
            " quantile_cont(case when is_completed then net_revenue end, 0.9) as order_value_p90,"
            f" {_REFERENCE_DATE} - max(order_date) as days_behind_reference_date"
            f" from {mart('fct_orders')}"
        ),
        baseline_sql=(
            "select count(*) as row_count,"
            " quantile_cont(case when is_completed then net_revenue end, 0.5)"
            " as order_value_median,"
            " quantile_cont(case when is_completed then net_revenue end, 0.9) as order_value_p90"
            f" from {mart('fct_orders')}"
        ),
        compared=("row_count", "order_value_median", "order_value_p90"),
        measure_rules=(
            _not_empty("orders"),
            _volume("orders"),
            _drift("order_value_median", "median completed-order value"),
            _drift("order_value_p90", "90th percentile of completed-order value"),
            _fresh(7, "order"),
        ),
    )


def fct_sessions() -> Suite:
    """Sessions: volume, non-negative duration and pageviews, freshness."""
    return Suite(
        name="fct_sessions",
        optional_source=EMPTY_WITHOUT["fct_sessions"],
        relation=mart("fct_sessions"),
        key="session_id",
        row_rules=(
            _between("duration_seconds", ERROR, "duration_seconds ≥ 0", 0),
            _between("pageviews", ERROR, "pageviews ≥ 0", 0),
        ),
        measures_sql=(
            "select count(*) as row_count,"
            f" {_REFERENCE_DATE} - max(session_date) as days_behind_reference_date"
            f" from {mart('fct_sessions')}"
        ),
        baseline_sql=_mart_measures("fct_sessions"),
        compared=("row_count",),
        measure_rules=(_not_empty("sessions"), _volume("sessions"), _fresh(7, "session")),
    )


def fct_survey_responses() -> Suite:
    """Survey responses: volume, freshness, responses linked to a customer."""
    return Suite(
        name="fct_survey_responses",
        optional_source=EMPTY_WITHOUT["fct_survey_responses"],
        relation=mart("fct_survey_responses"),
        key="response_id",
        row_rules=(
            _not_null(
                "customer_key", WARN, "at most 5 % of responses without a customer", mostly=0.95
            ),
        ),
        measures_sql=(
            "select count(*) as row_count,"
            f" {_REFERENCE_DATE} - max(submitted_date) as days_behind_reference_date"
            f" from {mart('fct_survey_responses')}"
        ),
        baseline_sql=_mart_measures("fct_survey_responses"),
        compared=("row_count",),
        measure_rules=(
            _not_empty("survey responses"),
            _volume("survey responses"),
            _fresh(31, "survey response"),
        ),
    )


def fct_email_events() -> Suite:
    """Email events: volume and freshness (dbt tests their keys and customers)."""
    return Suite(
        name="fct_email_events",
        optional_source=EMPTY_WITHOUT["fct_email_events"],
        relation=mart("fct_email_events"),
        key="event_id",
        measures_sql=(
            "select count(*) as row_count,"
            f" {_REFERENCE_DATE} - max(occurred_date) as days_behind_reference_date"
            f" from {mart('fct_email_events')}"
        ),
        baseline_sql=_mart_measures("fct_email_events"),
        compared=("row_count",),
        measure_rules=(
            _not_empty("email events"),
            _volume("email events"),
            _fresh(35, "email event"),
        ),
    )


def fct_customer_months() -> Suite:
    """Customer activity by month: volume and month offsets ≥ 0 (dbt tests the keys and that
    churned = active before and not now)."""
    return Suite(
        name="fct_customer_months",
        relation=mart("fct_customer_months"),
        key="customer_key",
        row_rules=(_between("months_since_first_order", ERROR, "months since first order ≥ 0", 0),),
        measures_sql=_mart_measures("fct_customer_months"),
        compared=("row_count",),
        measure_rules=(_not_empty("customer-months"), _volume("customer-months")),
    )


def rpt_data_quality() -> Suite:
    """The quarantine share per source table: above 2 % warns, above 10 % fails."""
    return Suite(
        name="rpt_data_quality",
        relation=(
            "(select source_table, rows_quarantined * 1.0 / nullif(rows_read, 0)"
            f" as quarantine_share from {mart('rpt_data_quality')})"
        ),
        table=mart("rpt_data_quality"),
        key="source_table",
        row_rules=(
            _between(
                "quarantine_share",
                ERROR,
                f"at most {QUARANTINE_SHARE_ERROR:.0%} of a source table's rows quarantined",
                0,
                QUARANTINE_SHARE_ERROR,
            ),
            _between(
                "quarantine_share",
                WARN,
                f"at most {QUARANTINE_SHARE_WARN:.0%} of a source table's rows quarantined",
                0,
                QUARANTINE_SHARE_WARN,
            ),
        ),
        measure_rules=(_not_empty("source tables"),),
    )


def rpt_kpis_monthly() -> Suite:
    """Monthly KPIs: revenue and counts ≥ 0, months kept, NPS mostly defined."""
    return Suite(
        name="rpt_kpis_monthly",
        relation=mart("rpt_kpis_monthly"),
        key="month",
        row_rules=(
            _between("net_revenue", ERROR, "monthly net revenue ≥ 0", 0),
            _between("active_customers", ERROR, "active customers ≥ 0", 0),
            _not_null("nps", WARN, "NPS defined in at least 80 % of months", mostly=0.8),
        ),
        measures_sql=_mart_measures("rpt_kpis_monthly"),
        compared=("row_count",),
        measure_rules=(_not_empty("months"), _volume("months")),
    )


def rpt_nps_monthly() -> Suite:
    """Monthly NPS: counts ≥ 0, enough responses in most months."""
    return Suite(
        name="rpt_nps_monthly",
        optional_source=EMPTY_WITHOUT["rpt_nps_monthly"],
        relation=mart("rpt_nps_monthly"),
        key="month",
        row_rules=(
            _between("responses", ERROR, "responses ≥ 0", 0),
            _between(
                "nps_margin_of_error_95",
                WARN,
                "margin of error at most 50 NPS points in at least 80 % of months",
                0,
                50,
                mostly=0.8,
            ),
        ),
        measure_rules=(_not_empty("months"),),
    )


def rpt_nps_by_segment() -> Suite:
    """NPS by segment: each segment's NPS rests on enough responses (mostly)."""
    return Suite(
        name="rpt_nps_by_segment",
        optional_source=EMPTY_WITHOUT["rpt_nps_by_segment"],
        relation=mart("rpt_nps_by_segment"),
        key="dimension_value",
        row_rules=(
            _between("responses", ERROR, "responses ≥ 1", 1),
            _between(
                "responses",
                WARN,
                "at least 10 responses in 80 % of segments",
                10,
                mostly=0.8,
            ),
        ),
        measure_rules=(_not_empty("segments"),),
    )


def rpt_retention_cohorts() -> Suite:
    """Cohorts: sizes ≥ 1, drift of month-1 retention."""
    return Suite(
        name="rpt_retention_cohorts",
        relation=mart("rpt_retention_cohorts"),
        key="cohort_month",
        row_rules=(_between("cohort_size", ERROR, "cohort size ≥ 1", 1),),
        measures_sql=(
            f"select avg(retention_rate) as month_1_retention from {mart('rpt_retention_cohorts')}"
            " where months_since_first_order = 1 and not is_incomplete_month"
        ),
        compared=("month_1_retention",),
        measure_rules=(
            _not_empty("cohort months"),
            _drift("month_1_retention", "mean month-1 retention"),
        ),
    )


def rpt_rfm_segments() -> Suite:
    """RFM(E) segments: no segment swallows the customer base (a scoring failure)."""
    return Suite(
        name="rpt_rfm_segments",
        relation=mart("rpt_rfm_segments"),
        key="rfm_segment",
        row_rules=(
            _between("share_of_net_revenue", ERROR, "share of net revenue between 0 and 1", 0, 1),
            _between(
                "share_of_customers", WARN, "no segment holds more than 60 % of customers", 0, 0.6
            ),
        ),
        measure_rules=(_not_empty("segments"),),
    )


def rpt_kpi_headlines() -> Suite:
    """KPI tiles: the headline values are defined."""
    return Suite(
        name="rpt_kpi_headlines",
        relation=mart("rpt_kpi_headlines"),
        key="kpi",
        row_rules=(
            _not_null("current_value", WARN, "every headline KPI has a value", mostly=1.0),
            _not_null("previous_value", WARN, "every headline KPI has a previous value"),
        ),
        measures_sql=f"select count(*) as tiles from {mart('rpt_kpi_headlines')}",
        measure_rules=(
            _not_empty("KPI tiles"),
            _between("tiles", ERROR, "six KPI tiles (a complete month exists)", 6, 6),
        ),
    )


def rpt_customer_lifecycle() -> Suite:
    """Lifecycle stages: every customer has a stage at the reference month, and no stage holds
    nearly everyone (thresholds that do not fit the shop). Measured in SQL: no row rules on a
    table of customers × months."""
    relation = mart("rpt_customer_lifecycle")
    latest = f"(select max(month) from {relation})"
    return Suite(
        name="rpt_customer_lifecycle",
        relation=relation,
        key=None,
        measures_sql=(
            f"select (select count(*) from {mart('dim_customers')}) - count(*)"
            " as customers_without_stage,"
            " max(stage_customers) * 1.0 / nullif(count(*), 0) as largest_stage_share"
            " from (select customer_key, count(*) over (partition by lifecycle_stage)"
            f" as stage_customers from {relation} where month = {latest}) as latest_month"
        ),
        measure_rules=(
            _not_empty("customer-months"),
            _between(
                "customers_without_stage",
                WARN,
                "every customer has a stage at the reference month",
                0,
                0,
            ),
            _between(
                "largest_stage_share",
                WARN,
                "no stage holds more than 95 % of the customers at the reference month",
                0,
                0.95,
            ),
        ),
    )


def rpt_lifecycle_transitions() -> Suite:
    """Lifecycle flows: every row counts at least one customer."""
    return Suite(
        name="rpt_lifecycle_transitions",
        relation=mart("rpt_lifecycle_transitions"),
        key="month",
        row_rules=(_between("customers", ERROR, "customers ≥ 1 per flow", 1),),
        measure_rules=(_not_empty("flows"),),
    )


def rpt_replenishment_lists() -> Suite:
    """Replenishment lists: a list never has more contactable customers than customers."""
    relation = mart("rpt_replenishment_lists")
    return Suite(
        name="rpt_replenishment_lists",
        relation=relation,
        key="replenishment_status",
        measures_sql=(
            "select count(case when contactable_customers > customers then 1 end)"
            f" as lists_over_contacted from {relation}"
        ),
        measure_rules=(
            _not_empty("lists"),
            _between(
                "lists_over_contacted",
                ERROR,
                "contactable customers at most the list's customers",
                0,
                0,
            ),
        ),
    )


def rpt_repeat_purchase_ladder() -> Suite:
    """Repeat ladder: probabilities between 0 and 1, and a first repeat rate that is neither
    0 nor 1 (a counting failure)."""
    relation = mart("rpt_repeat_purchase_ladder")
    return Suite(
        name="rpt_repeat_purchase_ladder",
        relation=relation,
        key="order_number",
        row_rules=(
            _between("next_order_probability", ERROR, "probabilities between 0 and 1", 0, 1),
        ),
        measures_sql=(
            "select max(next_order_probability) as first_repeat_probability"
            f" from {relation} where dimension = 'overall' and order_number = 1"
        ),
        measure_rules=(
            _not_empty("rungs"),
            _between(
                "first_repeat_probability",
                WARN,
                "P(2nd order | 1st) between 2 % and 98 %",
                0.02,
                0.98,
            ),
        ),
    )


def rpt_revenue_concentration() -> Suite:
    """Revenue concentration: shares between 0 and 1, and the top half of the customers bring
    at least half the revenue (true of any ranking by revenue: else the ranking is broken)."""
    relation = mart("rpt_revenue_concentration")
    return Suite(
        name="rpt_revenue_concentration",
        relation=relation,
        key="period",
        row_rules=(_between("top_revenue_share", ERROR, "shares between 0 and 1", 0, 1),),
        measures_sql=(
            "select count(case when top_revenue_share < 0.5 then 1 end)"
            f" as periods_below_half from {relation} where top_percent = 50"
        ),
        measure_rules=(
            _not_empty("shares"),
            _between(
                "periods_below_half",
                ERROR,
                "the top 50 % of customers bring at least 50 % of net revenue",
                0,
                0,
            ),
        ),
    )


def rpt_programme_effects() -> Suite:
    """Programme effects: every comparison has cohorts with both groups (else no estimate)."""
    relation = mart("rpt_programme_effects")
    return Suite(
        name="rpt_programme_effects",
        relation=relation,
        key="metric",
        measures_sql=(
            f"select count(case when strata = 0 then 1 end) as comparisons_without_data"
            f" from {relation}"
        ),
        measure_rules=(
            _not_empty("comparisons"),
            _between(
                "comparisons_without_data",
                WARN,
                "every comparison has signup months with both groups",
                0,
                0,
            ),
        ),
    )


def _clv_not_fitted(statuses: str = "fit_status not like 'fitted%'") -> str:
    """The reason a CLV table may rightly be empty: the CLV step did not fit this build."""
    return (
        "select 'the CLV step did not fit this build (clv_fit_status: ' || fit_status"
        f" || '): no rows are expected' from {mart('clv_fit_status')} where {statuses}"
    )


def clv_model_parameters() -> Suite:
    """CLV parameters: seven positive, finite estimates when fitted."""
    relation = mart("clv_model_parameters")
    return Suite(
        name="clv_model_parameters",
        relation=relation,
        key="parameter",
        row_rules=(
            _between("estimate", ERROR, "estimates positive", 0),
            _not_null("estimate", ERROR, "estimates present"),
        ),
        measures_sql=(
            "select max(fit.expected) - count(distinct parameter) as missing_parameters"
            f" from {relation} cross join (select case when fit_status like 'fitted%' then 7"
            f" else 0 end as expected from {mart('clv_fit_status')}) as fit"
        ),
        measure_rules=(
            _not_empty("parameters"),
            _between("missing_parameters", ERROR, "r, alpha, a, b, p, q, v when fitted", 0, 0),
        ),
        expected_empty_sql=_clv_not_fitted(),
    )


def rpt_clv_holdout() -> Suite:
    """CLV holdout: the predictions track what happened (a warning, not an error: a model that
    fits the shop badly is worth knowing about, and its numbers may still rank customers)."""
    relation = mart("rpt_clv_holdout")
    return Suite(
        name="rpt_clv_holdout",
        relation=relation,
        key="frequency_bucket",
        measures_sql=(
            "select max(abs(relative_error)) as overall_relative_error"
            f" from {relation} where frequency_bucket = 'all'"
        ),
        measure_rules=(
            _not_empty("holdout buckets"),
            _between(
                "overall_relative_error",
                WARN,
                "holdout: predicted purchases within 25 % of the actual ones overall",
                0,
                0.25,
            ),
        ),
        expected_empty_sql=_clv_not_fitted("fit_status != 'fitted'"),
    )


def rpt_clv_by_segment() -> Suite:
    """CLV by segment: every segment has customers when fitted."""
    return Suite(
        name="rpt_clv_by_segment",
        relation=mart("rpt_clv_by_segment"),
        key="rfm_segment",
        row_rules=(_between("customers", ERROR, "customers ≥ 1 per segment", 1),),
        measure_rules=(_not_empty("segments"),),
        expected_empty_sql=_clv_not_fitted(),
    )


def clv_fit_status() -> Suite:
    """CLV status: the CLV step did not fail (too small a shop, or no convergence)."""
    relation = mart("clv_fit_status")
    return Suite(
        name="clv_fit_status",
        relation=relation,
        key="fit_status",
        measures_sql=(
            "select count(case when fit_status = 'failed' then 1 end) as failed_fits"
            f" from {relation}"
        ),
        measure_rules=(
            _not_empty("CLV status"),
            _between("row_count", ERROR, "one status row at most", 0, 1),
            _between(
                "failed_fits",
                WARN,
                "the CLV models were fitted (clv_fit_status.message says why not)",
                0,
                0,
            ),
        ),
    )


def customer_clv_predictions() -> Suite:
    """Predicted CLV, as the CLV step wrote it after dbt (dbt's tests see the empty table):
    probabilities between 0 and 1, nothing negative, 365-day purchases at least the 90-day
    ones, and a prediction for every customer of the CLV inputs when the build was fitted."""
    relation = mart("customer_clv_predictions")
    status = mart("clv_fit_status")
    return Suite(
        name="customer_clv_predictions",
        relation=relation,
        key="customer_key",
        row_rules=(
            _between("probability_alive", ERROR, "P(alive) between 0 and 1", 0, 1),
            _between("expected_purchases_90_days", ERROR, "90-day purchases not negative", 0),
            _between("expected_purchases_365_days", ERROR, "365-day purchases not negative", 0),
            _between("expected_order_value", ERROR, "expected order value not negative", 0),
            _between("clv_12_months", ERROR, "12-month CLV not negative", 0),
        ),
        measures_sql=(
            "select count(case when expected_purchases_365_days < expected_purchases_90_days"
            " then 1 end) as shrinking_predictions,"
            " max(fit.missing) - count(*) as missing_predictions"
            f" from {relation}"
            " cross join (select case when fit_status like 'fitted%' then customers else 0 end"
            f" as missing from {status}) as fit"
        ),
        measure_rules=(
            _not_empty("CLV predictions"),
            _between(
                "shrinking_predictions", ERROR, "365-day purchases at least the 90-day ones", 0, 0
            ),
            _between(
                "missing_predictions", ERROR, "one prediction per customer of the CLV inputs", 0, 0
            ),
        ),
        expected_empty_sql=_clv_not_fitted(),
    )


CLV_SUITES = (
    "customer_clv_predictions",
    "clv_model_parameters",
    "rpt_clv_holdout",
    "rpt_clv_by_segment",
    "clv_fit_status",
)
"""Suites of tables the CLV step writes after dbt: Dagster runs them in the CLV asset (as its
checks), `customer-analytics validate` with the others."""


SUITES: dict[str, Callable[[], Suite]] = {
    builder.__name__: builder
    for builder in (
        raw_customers,
        raw_orders,
        raw_sessions,
        raw_survey_responses,
        raw_email_events,
        dim_customers,
        fct_orders,
        fct_sessions,
        fct_survey_responses,
        fct_email_events,
        fct_customer_months,
        rpt_data_quality,
        rpt_kpis_monthly,
        rpt_nps_monthly,
        rpt_nps_by_segment,
        rpt_retention_cohorts,
        rpt_rfm_segments,
        rpt_kpi_headlines,
        rpt_customer_lifecycle,
        rpt_lifecycle_transitions,
        rpt_replenishment_lists,
        rpt_repeat_purchase_ladder,
        rpt_revenue_concentration,
        rpt_programme_effects,
        customer_clv_predictions,
        clv_model_parameters,
        rpt_clv_holdout,
        rpt_clv_by_segment,
        clv_fit_status,
    )
}
"""Every suite by name (= the table it checks, raw tables prefixed raw_)."""


def asset_key_path(suite_name: str) -> list[str]:
    """The Dagster asset key (as a path) of the table a suite checks."""
    if suite_name.startswith("raw_"):
        return ["raw", suite_name.removeprefix("raw_")]
    if suite_name in CLV_SUITES:
        return ["clv", "customer_clv_fit"]  # orchestration.defs.clv.assets.CLV_FIT_KEY
    return ["marts", suite_name]
