"""Publish only what passed: what `publish()` checks before it copies anything.

A build file is published only when its own records show, for exactly its current state:

- dbt (audit.dbt_node_results and audit.dbt_invocations, written into the build file by dbt's
  own hooks, macros/audit/, whichever way dbt ran: dbt CLI, make build, Dagster): the last dbt
  invocation on the file finished; every model, seed and snapshot was last built successfully;
  every data test of them last passed (or warned), after the table it tests was last built
  (so a failed test, or a `dbt run` after the build, blocks); and every table of the public
  schema is a model of the project.
- quality: every Great Expectations suite (each is blocking: each has ERROR rules) has a
  passing record, no ERROR rule failed, for exactly this state of the build file (the quality
  folder's <suite>.json, written by `customer-analytics validate` and by Dagster's checks; the
  records a Dagster run's own checks wrote count for that run's publish step, whose later
  steps rewrote other tables of the file).

Otherwise UntestedBuildError, whose message is one sentence naming the tests, models and
suites (never a data value) and what to do. DuckDB and the filesystem only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration.lib.relations import AUDIT_SCHEMA, DBT_INVOCATIONS, DBT_NODE_RESULTS
from orchestration.lib.serving import PUBLIC_SCHEMA

BUILT = ("model", "seed", "snapshot")
"""Resource types that build a table (their tests must run after them)."""
PASSING_TESTS = ("pass", "warn")
NAMED = 8
"""Names listed per problem; more are counted."""


class UntestedBuildError(ValueError):
    """The build's own records do not show that every dbt test and every blocking quality
    suite passed on this state of the build file: nothing is published."""


@dataclass(frozen=True)
class Invocation:
    """One dbt invocation on the build file (audit.dbt_invocations)."""

    command: str
    started_at: dt.datetime
    completed_at: dt.datetime | None


@dataclass(frozen=True)
class NodeResult:
    """The latest outcome of one dbt node (audit.dbt_node_results)."""

    unique_id: str
    resource_type: str
    status: str
    completed_at: dt.datetime | None
    tested_models: tuple[str, ...] = ()
    relation_name: str = ""

    @property
    def name(self) -> str:
        """The node's name: 'not_null_fct_orders_order_id' for
        'test.customer_analytics.not_null_fct_orders_order_id.2b5d8a1f43'."""
        parts = self.unique_id.split(".")
        return parts[2] if len(parts) > 2 else self.unique_id


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:NAMED])
    return shown + (f" and {len(items) - NAMED} more" if len(items) > NAMED else "")


def dbt_problems(
    invocations: Sequence[Invocation] | None,
    nodes: Sequence[NodeResult],
    public_tables: Sequence[str] = (),
) -> list[str]:
    """What the dbt record of a build file (None: it has none) says stands in the way of
    publishing it, each as a clause naming models and tests; [] when nothing does.
    `public_tables` are the tables of the public schema (each must be a model built by dbt)."""
    if not invocations:
        return [
            "it has no record of its dbt tests (schema audit, written by this project's dbt "
            "hooks: it was built without them, or before they existed)"
        ]
    problems = []
    last = max(invocations, key=lambda invocation: invocation.started_at)
    if last.completed_at is None:
        problems.append(
            f"its last dbt invocation (dbt {last.command}, started "
            f"{last.started_at:%Y-%m-%d %H:%M:%S} UTC) did not finish"
        )
    built = {node.unique_id: node for node in nodes if node.resource_type in BUILT}
    not_built = sorted(
        f"{node.name} ({node.status})" for node in built.values() if node.status != "success"
    )
    if not_built:
        problems.append(f"dbt models not built: {_names(not_built)}")
    tests = [node for node in nodes if node.resource_type == "test"]
    failed = sorted(
        f"{test.name} ({test.status})"
        for test in tests
        if test.status not in (*PASSING_TESTS, "not run")
    )
    if failed:
        problems.append(f"dbt tests failed: {_names(failed)}")
    stale = sorted(
        test.name
        for test in tests
        if test.status == "not run"
        or (
            test.status in PASSING_TESTS
            and any(
                parent in built
                and built[parent].completed_at is not None
                and (test.completed_at is None or test.completed_at < built[parent].completed_at)
                for parent in test.tested_models
            )
        )
    )
    if stale:
        problems.append(
            f"dbt tests not run since their table was last built (e.g. by dbt run): {_names(stale)}"
        )
    modelled = {node.relation_name for node in built.values()}
    unknown = sorted(
        f"{PUBLIC_SCHEMA}.{table}"
        for table in public_tables
        if f"{PUBLIC_SCHEMA}.{table}" not in modelled
    )
    if unknown:
        problems.append(
            f"tables that no model of the project built: {_names(unknown)} (left over from a "
            "removed or renamed model: drop them)"
        )
    return problems


def read_dbt_record(
    con: duckdb.DuckDBPyConnection, catalog: str
) -> tuple[list[Invocation] | None, list[NodeResult]]:
    """The dbt record of the attached build file `catalog`: (invocations or None when it has
    no record, node results)."""
    (tables,) = con.execute(
        "select count(*) from duckdb_tables() where database_name = ? and schema_name = ?"
        " and table_name in ('dbt_invocations', 'dbt_node_results')",
        [catalog, AUDIT_SCHEMA],
    ).fetchone()
    if tables < 2:
        return None, []
    invocations = [
        Invocation(*row)
        for row in con.execute(
            f"select command, started_at, completed_at from {catalog}.{DBT_INVOCATIONS}"
        ).fetchall()
    ]
    nodes = [
        NodeResult(
            unique_id,
            resource_type,
            status,
            completed_at,
            tuple(name for name in (tested or "").split(",") if name),
            relation or "",
        )
        for unique_id, resource_type, status, completed_at, tested, relation in con.execute(
            "select unique_id, resource_type, status, completed_at, tested_models, relation_name"
            f" from {catalog}.{DBT_NODE_RESULTS}"
        ).fetchall()
    ]
    return invocations or None, nodes


def quality_problems(verdicts: Mapping[str, str]) -> list[str]:
    """Clauses for the suites whose verdict (orchestration.lib.quality.report.suite_verdicts)
    is not 'passed'."""
    problems = []
    failed = sorted(name for name, verdict in verdicts.items() if verdict == "failed")
    if failed:
        problems.append(f"quality suites failed ERROR rules: {_names(failed)}")
    unchecked = sorted(name for name, verdict in verdicts.items() if verdict == "not validated")
    if unchecked:
        problems.append(
            "quality suites have no passing record for this state of the build file (never "
            f"validated, or validated before the file last changed): {_names(unchecked)}"
        )
    elsewhere = sorted(
        name for name, verdict in verdicts.items() if verdict == "another build file"
    )
    if elsewhere:
        problems.append(
            "the quality folder's latest records of these suites checked another warehouse "
            "file (one quality folder serves one warehouse file: give each its own "
            f"CUSTOMER_ANALYTICS_QUALITY_DIR): {_names(elsewhere)}"
        )
    return problems


def refusal(build_file: Path, dbt: Sequence[str], quality: Sequence[str]) -> str:
    """The one sentence of an UntestedBuildError: what failed and what to do."""
    if dbt or any(problem.startswith("quality suites failed") for problem in quality):
        remedy = (
            "fix what failed and run make build (dbt build, customer-analytics clv, validate "
            "and publish)"
        )
    else:
        remedy = "run customer-analytics validate, then publish again"
    return (
        f"{build_file} is not published (the served marts are unchanged): "
        f"{'; '.join([*dbt, *quality])}; {remedy}."
    )


def refuse_untested(build_file: Path, quality_dir: Path, run_id: str | None = None) -> str:
    """Raise UntestedBuildError unless the records of `build_file` show that every dbt test
    and every quality suite passed on its current state (see the module); returns that state
    (orchestration.lib.quality.report.build_stamp), which the caller must find unchanged when
    it copies the file. With `run_id` (a Dagster run), the records that run's checks wrote
    count too."""
    from orchestration.lib.quality.report import build_stamp, suite_verdicts

    stamp = build_stamp(build_file)
    with duckdb.connect(":memory:") as con:
        con.execute(f"attach '{_escaped(build_file)}' as build (read_only)")
        invocations, nodes = read_dbt_record(con, "build")
        public = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where database_name = 'build'"
                " and schema_name = ? order by 1",
                [PUBLIC_SCHEMA],
            ).fetchall()
        ]
        con.execute("detach build")
    dbt = dbt_problems(invocations, nodes, public)
    quality = quality_problems(suite_verdicts(quality_dir, build_file, run_id))
    if dbt or quality:
        raise UntestedBuildError(refusal(build_file, dbt, quality))
    return stamp


def _escaped(path: Path) -> str:
    return str(path).replace("'", "''")
