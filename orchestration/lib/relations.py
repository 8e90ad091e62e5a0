"""Where the Python side finds what dbt builds: one map from model to relation.

The schemas are set by folder in dbt_project.yml (models/raw -> raw, models/staging ->
staging, models/marts -> marts); tests/test_dag_rules.py checks every model named through
`mart`, `raw_table` and `staging_model` against the manifest, so a renamed or moved model fails
a test rather than a query at run time.
"""

from __future__ import annotations

RAW_SCHEMA = "raw"
"""The raw layer: raw.<table> holds a raw file as exported (restricted: personal data)."""

STAGING_SCHEMA = "staging"
"""Staging (restricted): parsed and judged rows, the quarantine, the reference date."""

INTERMEDIATE_SCHEMA = "intermediate"
"""Intermediate models (protected): e.g. the CLV inputs the CLV step fits on."""

ACTIVATION_SCHEMA = "activation"
"""The audiences (restricted: email, first name): never published, exported as CSV at each
publish (orchestration.lib.audiences)."""

MART_SCHEMA = "marts"
"""The marts: the only schema that is published (orchestration.lib.serving.PUBLIC_SCHEMA)."""

RAW_SOURCE_STATE = f"{STAGING_SCHEMA}.raw_source_state"
"""Which file each raw table holds, its SHA-256 and dialect (the raw models' post-hook)."""

AUDIT_SCHEMA = "audit"
"""The build's own record of its dbt runs (restricted, never published; macros/audit/)."""

DBT_INVOCATIONS = f"{AUDIT_SCHEMA}.dbt_invocations"
"""One row per dbt invocation on the build file: started, and completed once its on-run-end
hook ran (record_dbt_invocation, record_dbt_results)."""

DBT_NODE_RESULTS = f"{AUDIT_SCHEMA}.dbt_node_results"
"""The latest outcome of every model, seed, snapshot and data test (record_dbt_results)."""


def mart(name: str) -> str:
    """The relation of the mart model `name`, in the build file and in the served file."""
    return f"{MART_SCHEMA}.{name}"


def raw_table(table: str) -> str:
    """The relation of the raw table `table` (model raw_<table>)."""
    return f"{RAW_SCHEMA}.{table}"


def staging_model(name: str) -> str:
    """The relation of the staging model `name`."""
    return f"{STAGING_SCHEMA}.{name}"


def intermediate_model(name: str) -> str:
    """The relation of the intermediate model `name` (in the build file only)."""
    return f"{INTERMEDIATE_SCHEMA}.{name}"


def sql_string(value: str) -> str:
    """`value` as an SQL string literal, quotes doubled: only for the few statements that take
    no bound parameters (ATTACH, COPY … TO, COMMENT ON); every other value is bound with `?`."""
    return "'" + value.replace("'", "''") + "'"
