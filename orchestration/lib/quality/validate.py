"""Run a suite: DuckDB batches into pandas (Arrow), validated by Great Expectations.

GX's SQL datasource does not work on DuckDB (GX issues 10738 / 11579), so rows are streamed from
DuckDB as Arrow record batches of at most `batch_rows` rows, each validated as a pandas batch,
and the per-batch results are summed: memory is bounded by one batch, whatever the table size.
Table-level measures (volume, quantiles, freshness) are computed by DuckDB and validated as a
one-row frame. A result that raised (GX `exception_info`) is a failure, never a pass.

Every rule ends passed, failed or skipped. A rule is skipped, with the reason, when there is
nothing to check: a comparison with no previous good run, a measure that is empty (null), a row
rule with no rows or only empty values. A skipped rule never blocks; an empty table is caught by
its own rule ("at least one row"), which is never skipped.
"""

from __future__ import annotations

import copy
import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from orchestration.lib.quality.numbers import format_count, format_number, is_missing
from orchestration.lib.quality.suites import (
    ERROR,
    RAW_SOURCES,
    SUITES,
    WARN,
    Rule,
    Suite,
    asset_key_path,
)
from orchestration.lib.relations import RAW_SCHEMA, RAW_SOURCE_STATE, mart

BATCH_ROWS = 250_000
"""Rows per Arrow batch handed to GX: bounds memory on large tables."""
LINEAGE_COLUMN = "_source_file"
SAMPLE_KEYS = 5
"""Offending keys named per failed rule (keys only: values may be personal data)."""


@dataclass
class RuleOutcome:
    """One rule's result over the whole table."""

    rule: str
    severity: str
    expectation: str
    column: str | None
    success: bool
    element_count: int = 0
    unexpected_count: int = 0
    denominator: int = 0
    mostly: float = 1.0
    observed: Any = None
    sample_keys: list[str] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None
    """Why the rule was not evaluated (then it neither passed nor failed), else None."""
    current: Any = None
    previous: Any = None
    """For a comparison (`<measure>_ratio`): the measure this run and on the previous good run."""

    @property
    def status(self) -> str:
        """'passed', 'failed' or 'skipped'."""
        if self.skipped and self.success:
            return "skipped"
        return "passed" if self.success else "failed"

    def message(self, relation: str, key: str | None) -> str:
        """One sentence: table, column, rule and count. Never a key or value: the sentence goes
        to the console, logs and Dagster's event storage, which an erasure cannot reach; the
        offending keys are only in the quality folder's report (rewritten by each validation)."""
        where = f"{relation}.{self.column}" if self.column else relation
        if self.error:
            return f"{where}: {self.rule}: could not be checked ({self.error})."
        if self.skipped and self.success:
            return f"{where}: {self.rule}: skipped: {self.skipped}."
        if self.observed is not None:
            return f"{where}: {self.rule}: observed {self.observed_text()}."
        keys = f" (a few {key} values: see the report)" if self.sample_keys and key else ""
        return (
            f"{where}: {self.rule}: {format_count(self.unexpected_count)} of "
            f"{format_count(self.denominator)} rows fail{keys}."
        )

    def observed_text(self) -> str:
        """The observed measure for a person: '0.399 times the previous good run (1,210
        rows; previous 3,030)', '39,736', '31.2%'."""
        if isinstance(self.observed, str):
            return self.observed
        if is_missing(self.observed):
            return "nothing (null)"
        text = format_number(self.observed, self.column or "")
        if (self.column or "").endswith("_ratio"):
            measure = (self.column or "").removesuffix("_ratio")
            text += (
                f" times the previous good run ({format_number(self.current, measure)} "
                f"{'rows' if measure == 'row_count' else measure.replace('_', ' ')}; "
                f"previous {format_number(self.previous, measure)})"
            )
        return text


@dataclass
class SuiteOutcome:
    """A suite's result: every rule, the measures and the baseline it compared against."""

    suite: str
    relation: str
    key: str | None
    rows: int
    batches: int
    rules: list[RuleOutcome]
    measures: dict[str, Any] = field(default_factory=dict)
    baseline: dict[str, Any] | None = None
    baseline_note: str = ""
    skipped: str | None = None
    table: str | None = None
    """The table whose count(*) is `rows` (the relation, or the table a query reads)."""

    @property
    def failures(self) -> list[RuleOutcome]:
        return [rule for rule in self.rules if not rule.success]

    def counts(self) -> dict[str, int]:
        """Rules passed, failed and skipped."""
        statuses = [rule.status for rule in self.rules]
        return {status: statuses.count(status) for status in ("passed", "failed", "skipped")}

    def counts_text(self) -> str:
        """'5 rules: 3 passed, 0 failed, 2 skipped'."""
        counts = self.counts()
        return f"{len(self.rules)} rules: " + ", ".join(
            f"{number} {status}" for status, number in counts.items()
        )

    def skip_reasons(self) -> dict[str, list[str]]:
        """Reason -> the rules skipped for it."""
        reasons: dict[str, list[str]] = {}
        for rule in self.rules:
            if rule.status == "skipped":
                reasons.setdefault(rule.skipped or "", []).append(rule.rule)
        return reasons

    @property
    def severity(self) -> str | None:
        """'error' if a hard rule failed, 'warn' if only soft ones did, None if all passed."""
        severities = {rule.severity for rule in self.failures}
        return ERROR if ERROR in severities else WARN if severities else None

    @property
    def passed(self) -> bool:
        return not self.failures

    def messages(self) -> list[str]:
        """The failure sentences, hard rules first."""
        ordered = sorted(self.failures, key=lambda rule: rule.severity != ERROR)
        return [
            f"[{rule.severity.upper()}] {rule.message(self.relation, self.key)}" for rule in ordered
        ]

    def summary(self) -> str:
        """One line for logs and the Dagster UI."""
        if self.skipped:
            return f"{self.suite}: skipped: {self.skipped}."
        head = f"{self.suite}: {format_count(self.rows)} rows; {self.counts_text()}."
        if self.passed:
            return head
        return f"{head} " + " ".join(self.messages())

    def to_dict(self) -> dict[str, Any]:
        rules = [{**asdict(rule), "status": rule.status} for rule in self.rules]
        return {
            **asdict(self),
            "rules": rules,
            "severity": self.severity,
            "passed": self.passed,
            "counts": self.counts(),
        }


@cache
def _batch_definition():
    """An ephemeral GX context with one pandas dataframe asset (built once per process)."""
    import os

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every pandas batch under HASH_THRESHOLD bytes by hashing all its values
    # (a batch marker this module never reads): about half of the raw suites' time at 1,000,000
    # customers. Each batch here is a fresh frame validated once, so skip it. A private GX
    # constant: check it when upgrading GX (requirements/constraints.txt pins the version).
    pandas_execution_engine.HASH_THRESHOLD = 0

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    asset = context.data_sources.add_pandas("duckdb_batches").add_dataframe_asset("table")
    return asset.add_batch_definition_whole_dataframe("whole_frame")


def _validate_frame(frame, rules: list[Rule], key: str | None):
    """GX results for `rules` on one pandas frame, in rule order."""
    import great_expectations as gx

    expectations = []
    for index, rule in enumerate(rules):
        expectation = copy.deepcopy(rule.expectation)
        expectation.meta = {"rule_index": index}
        expectations.append(expectation)
    suite = gx.ExpectationSuite(name="batch", expectations=expectations)
    result_format: dict[str, Any] = {
        "result_format": "SUMMARY",
        "partial_unexpected_count": SAMPLE_KEYS,
    }
    if key and key in frame.columns:
        result_format["unexpected_index_column_names"] = [key]
    validation = (
        _batch_definition()
        .get_batch(batch_parameters={"dataframe": frame})
        .validate(suite, result_format=result_format)
    )
    by_index = {
        result.expectation_config.meta["rule_index"]: result for result in validation.results
    }
    return [by_index[index] for index in range(len(rules))]


def _raised(result) -> str | None:
    """The exception message of a GX result that raised, else None."""
    info = result.exception_info or {}
    candidates = [info] + [value for value in info.values() if isinstance(value, dict)]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            return str(candidate.get("exception_message") or "exception")[:300]
    return None


def _new_outcome(rule: Rule) -> RuleOutcome:
    expectation = rule.expectation
    return RuleOutcome(
        rule=rule.rule,
        severity=rule.severity,
        expectation=expectation.expectation_type
        if hasattr(expectation, "expectation_type")
        else type(expectation).__name__,
        column=getattr(expectation, "column", None),
        success=True,
        mostly=float(getattr(expectation, "mostly", 1.0) or 1.0),
    )


def _add_row_result(outcome: RuleOutcome, result, key: str | None) -> None:
    error = _raised(result)
    if error:
        outcome.error = error
        return
    details = result.result or {}
    element_count = int(details.get("element_count") or 0)
    missing = int(details.get("missing_count") or 0)
    unexpected = int(details.get("unexpected_count") or 0)
    outcome.element_count += element_count
    outcome.unexpected_count += unexpected
    not_null_rule = (
        "not_be_null" in outcome.expectation.lower() or "NotBeNull" in outcome.expectation
    )
    outcome.denominator += element_count if not_null_rule else element_count - missing
    if key and len(outcome.sample_keys) < SAMPLE_KEYS:
        for entry in details.get("partial_unexpected_index_list") or []:
            if isinstance(entry, dict) and key in entry and len(outcome.sample_keys) < SAMPLE_KEYS:
                outcome.sample_keys.append(str(entry[key]))


def _finish(outcome: RuleOutcome) -> None:
    if outcome.error:
        outcome.success = False
        return
    if outcome.denominator == 0:
        outcome.success = True
        outcome.skipped = (
            "no rows to check"
            if outcome.element_count == 0
            else f"every {outcome.column} is empty (null): nothing to check"
        )
        return
    outcome.success = outcome.unexpected_count / outcome.denominator <= 1 - outcome.mostly + 1e-12


def _describe(con, relation: str) -> dict[str, str]:
    return {
        name: str(column_type)
        for name, column_type, *_ in con.execute(f"describe select * from {relation}").fetchall()
    }


def _schema_exists(con, schema: str) -> bool:
    (count,) = con.execute(
        "select count(*) from duckdb_schemas() where schema_name = ?", [schema]
    ).fetchone()
    return count > 0


def _measures(con, sql: str, parameters: tuple[str, ...] = ()) -> dict[str, Any]:
    cursor = con.execute(sql, list(parameters))
    names = [column[0] for column in cursor.description]
    row = cursor.fetchone()
    values = dict(zip(names, row, strict=True)) if row else dict.fromkeys(names)
    return {name: float(value) if value is not None else None for name, value in values.items()}


NO_PREVIOUS_RUN = "no previous good run to compare with (nothing published yet)"


def _baseline(suite: Suite, serving_file: Path | None) -> tuple[dict[str, Any] | None, str]:
    """The suite's measures on the previous good run (the served publication), and a note:
    what was compared with, or why nothing was."""
    import duckdb

    if not suite.compared:
        return None, ""
    if serving_file is None or not serving_file.exists():
        return None, NO_PREVIOUS_RUN
    try:
        with duckdb.connect(str(serving_file), read_only=True) as con:
            if suite.baseline_sql:
                baseline = _measures(con, suite.baseline_sql, suite.baseline_parameters)
            else:
                baseline = _measures(con, suite.measures_sql or "")
            return baseline, f"compared with the publication in {serving_file}"
    except duckdb.Error as error:
        return None, f"the previous good run is unreadable ({str(error).splitlines()[0]})"


def _skip_reason(
    column: str | None, measures: dict[str, Any], baseline: dict[str, Any] | None, note: str
) -> str | None:
    """Why a measure rule on `column` cannot be evaluated, or None if it can."""
    column = column or ""
    if not is_missing(measures.get(column)):
        return None
    if column.endswith("_ratio"):
        measure = column.removesuffix("_ratio")
        if baseline is None:
            return note
        if is_missing(measures.get(measure)):
            return f"no {measure} this run (nothing to measure)"
        return f"the previous good run has no {measure} to compare with (empty or zero)"
    return f"nothing to measure: {column} is empty (null) this run"


def _optional_source_is_empty(con, suite: Suite, rows: int) -> str | None:
    """Why `suite`'s table may rightly be empty (its optional raw table has no rows), or None.
    A raw suite reads its own table; a mart reads the build's row balance (rpt_data_quality)."""
    import duckdb

    table = suite.optional_source
    if suite.relation.startswith(f"{RAW_SCHEMA}."):
        read = rows
    else:
        source, _ = RAW_SOURCES[table]
        try:
            # no row for the source (e.g. an emptied balance) means unknown: the rule holds
            read = con.execute(
                f"select sum(rows_read) from {mart('rpt_data_quality')} where source_table = ?",
                [f"{source}.{table}"],
            ).fetchone()[0]
        except duckdb.Error:
            return None
    if read is None or read > 0:
        return None
    return (
        f"the optional raw table {table} has no rows (no file landed, or a header only): "
        "an empty table is expected"
    )


def raw_dialect(build_file: Path, suite_name: str) -> dict | None:
    """The export dialect the build read a raw table with (recorded by dbt's raw-source hook
    in staging.raw_source_state), so that "values parse" means what staging parses."""
    import json

    import duckdb

    table = suite_name.removeprefix("raw_")
    with duckdb.connect(str(build_file), read_only=True) as con:
        if not con.execute(
            "select count(*) from duckdb_tables()"
            " where schema_name = 'staging' and table_name = 'raw_source_state'"
        ).fetchone()[0]:
            return None
        row = con.execute(
            f"select raw_format from {RAW_SOURCE_STATE} where table_name = ?", [table]
        ).fetchone()
    return json.loads(row[0]) if row else None


def run_suite(
    name: str,
    build_file: Path,
    serving_file: Path | None = None,
    batch_rows: int = BATCH_ROWS,
) -> SuiteOutcome:
    """Validate suite `name` on `build_file` (read-only), comparing with `serving_file`."""
    import duckdb
    import pandas as pd

    if name not in SUITES:
        raise KeyError(f"No suite {name!r}; suites: {', '.join(SUITES)}.")
    suite = (
        SUITES[name](raw_dialect(build_file, name)) if name.startswith("raw_") else SUITES[name]()
    )
    row_outcomes = [_new_outcome(rule) for rule in suite.row_rules]
    rules_out: list[RuleOutcome] = []
    rows = batches = 0
    with duckdb.connect(str(build_file), read_only=True) as con:
        try:
            types = _describe(con, suite.relation)
        except duckdb.CatalogException as error:
            if suite.relation.startswith(f"{RAW_SCHEMA}.") and not _schema_exists(con, RAW_SCHEMA):
                return SuiteOutcome(
                    suite.name,
                    suite.relation,
                    suite.key,
                    0,
                    0,
                    [],
                    skipped="no raw schema in this build file (it was built before the raw "
                    "models existed): run dbt build again",
                )
            message = str(error).splitlines()[0]
            missing = RuleOutcome(
                rule="the table exists",
                severity=ERROR,
                expectation="table_exists",
                column=None,
                success=False,
                error=message,
            )
            return SuiteOutcome(suite.name, suite.relation, suite.key, 0, 0, [missing])
        except duckdb.Error as error:
            message = str(error).splitlines()[0]
            missing = RuleOutcome(
                rule="the table exists",
                severity=ERROR,
                expectation="table_exists",
                column=None,
                success=False,
                error=message,
            )
            return SuiteOutcome(suite.name, suite.relation, suite.key, 0, 0, [missing])

        (rows,) = con.execute(f"select count(*) from {suite.counted}").fetchone()

        if suite.schema is not None:
            import great_expectations as gx

            schema_rule = Rule(
                gx.expectations.ExpectTableColumnsToMatchOrderedList(
                    column_list=list(suite.schema)
                ),
                ERROR,
                "columns exactly as in the raw data contract",
            )
            # the landing adds _source_file (the file each row came from): not a contract column
            columns = [column for column in types if column != LINEAGE_COLUMN]
            (result,) = _validate_frame(pd.DataFrame(columns=columns), [schema_rule], None)
            schema_outcome = _new_outcome(schema_rule)
            schema_outcome.success = bool(result.success) and not _raised(result)
            schema_outcome.error = _raised(result)
            if not schema_outcome.success and not schema_outcome.error:
                missing_columns = [c for c in suite.schema if c not in columns]
                extra_columns = [c for c in columns if c not in suite.schema]
                schema_outcome.observed = (
                    f"missing {missing_columns or 'none'}, unexpected {extra_columns or 'none'}"
                )
            rules_out.append(schema_outcome)

        present = [column for column in suite.columns if column in types]
        checkable = [
            (rule, outcome)
            for rule, outcome in zip(suite.row_rules, row_outcomes, strict=True)
            if outcome.column is None or outcome.column in types
        ]
        for outcome in row_outcomes:
            if outcome.column is not None and outcome.column not in types:
                outcome.error = f"column {outcome.column} is missing"
        if present and checkable:
            select = ", ".join(
                f'cast("{column}" as double) as "{column}"'
                if types[column].upper().startswith("DECIMAL")
                else f'"{column}"'
                for column in present
            )
            reader = con.execute(f"select {select} from {suite.relation}").fetch_record_batch(
                batch_rows
            )
            for record_batch in reader:
                frame = record_batch.to_pandas()
                batches += 1
                results = _validate_frame(frame, [rule for rule, _ in checkable], suite.key)
                for (_, outcome), result in zip(checkable, results, strict=True):
                    _add_row_result(outcome, result, suite.key)
        for outcome in row_outcomes:
            _finish(outcome)
        rules_out.extend(row_outcomes)

        measures: dict[str, Any] = {}
        if suite.measures_sql:
            measures = _measures(con, suite.measures_sql)
        # the table's own row count (count(*)), whatever the measures' query says
        measures.setdefault("row_count", float(rows))
        expected_empty = (
            _optional_source_is_empty(con, suite, rows) if suite.optional_source else None
        )
        if suite.expected_empty_sql and not expected_empty:
            reason = con.execute(suite.expected_empty_sql).fetchone()
            expected_empty = reason[0] if reason else None

    baseline, note = _baseline(suite, serving_file)
    for measure in suite.compared:
        previous = (baseline or {}).get(measure)
        current = measures.get(measure)
        measures[f"{measure}_ratio"] = (
            current / previous
            if not is_missing(current) and not is_missing(previous) and previous != 0
            else None
        )
    if suite.measure_rules:
        frame = pd.DataFrame([measures]).astype(float)
        results = _validate_frame(frame, list(suite.measure_rules), None)
        for rule, result in zip(suite.measure_rules, results, strict=True):
            outcome = _new_outcome(rule)
            outcome.observed = measures.get(outcome.column)
            if (outcome.column or "").endswith("_ratio"):
                measure = (outcome.column or "").removesuffix("_ratio")
                outcome.current = measures.get(measure)
                outcome.previous = (baseline or {}).get(measure)
            outcome.error = _raised(result)
            outcome.skipped = _skip_reason(outcome.column, measures, baseline, note)
            if expected_empty and outcome.column == "row_count" and not rows:
                outcome.skipped = expected_empty
            outcome.success = outcome.error is None and (
                outcome.skipped is not None or bool(result.success)
            )
            rules_out.append(outcome)
    return SuiteOutcome(
        suite=suite.name,
        relation=suite.relation,
        key=suite.key,
        rows=rows,
        batches=batches,
        rules=rules_out,
        measures=measures,
        baseline=baseline,
        table=suite.counted,
        baseline_note=note if baseline is not None or not note else f"{note}: comparisons skipped",
    )


PARALLEL_FROM_ROWS = 1_000_000
"""Rows (all suites' tables together) from which run_suites validates on every core."""


def run_suites(
    names: list[str],
    build_file: Path,
    serving_file: Path | None = None,
    jobs: int | None = None,
) -> Iterator[SuiteOutcome]:
    """Validate suites `names` on `jobs` processes; yields each outcome in the order of `names`.

    Each suite reads the build file read-only in its own process (memory stays bounded by one
    batch per process). The largest tables start first, so that no core idles at the end. By
    default, one process per core once the tables hold PARALLEL_FROM_ROWS rows or more; below
    that, in this process: starting a process and importing Great Expectations in it costs
    more than the validation it takes over.
    """
    sizes = _table_sizes(build_file)
    if jobs is None:
        rows = sum(sizes.get(tuple(asset_key_path(name)), 0) for name in names)
        jobs = (os.cpu_count() or 1) if rows >= PARALLEL_FROM_ROWS else 1
    jobs = min(jobs, len(names))
    if jobs <= 1:
        for name in names:
            yield run_suite(name, build_file, serving_file)
        return
    largest_first = sorted(names, key=lambda name: -sizes.get(tuple(asset_key_path(name)), 0))
    # spawn, not fork: the caller may be a multi-threaded process (a Dagster step)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context) as pool:
        futures = {
            name: pool.submit(run_suite, name, build_file, serving_file) for name in largest_first
        }
        for name in names:
            yield futures[name].result()


def _table_sizes(build_file: Path) -> dict[tuple[str, str], int]:
    """Estimated rows of every table in the build file, by (schema, table)."""
    import duckdb

    with duckdb.connect(str(build_file), read_only=True) as con:
        rows = con.execute(
            "select schema_name, table_name, estimated_size from duckdb_tables()"
        ).fetchall()
    return {(schema, table): size for schema, table, size in rows}
