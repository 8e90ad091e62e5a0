"""The engine floor: the compiled SQL of every model and data test of a dbt build, run in DAG
order in one DuckDB connection, no dbt (only the project's SQL functions that the dbt profile's
plugin registers: the compiled SQL calls them, e.g. for the pseudonyms)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def copy_seeds(build: Path, floor_db: Path) -> None:
    """The floor starts where dbt's models start: with the reference seeds loaded."""
    import duckdb

    from orchestration.lib.relations import sql_string

    with duckdb.connect(str(floor_db)) as con:
        con.execute(f"attach {sql_string(str(build))} as source (read_only)")
        for schema, table in con.execute(
            "select schema_name, table_name from duckdb_tables() where database_name = 'source'"
            " and schema_name = 'reference'"
        ).fetchall():
            con.execute(f'create schema if not exists "{schema}"')
            con.execute(f'create table "{schema}"."{table}" as from source."{schema}"."{table}"')
        con.execute("detach source")


def _register_project_functions(con: Any, database: Path) -> None:
    """The SQL functions of the project's dbt-duckdb plugin (orchestration/dbt_plugin.py, as
    profiles.yml configures it): the raw reader's and the pseudonymisation's."""
    from orchestration.dbt_plugin import Plugin

    plugin = Plugin.create("orchestration.dbt_plugin", config={"cache_dir": f"{database}.raw-utf8"})
    plugin.configure_connection(con)


def floor(manifest_path: Path, database: Path, memory_limit: str) -> int:
    """Execute the compiled SQL of every model, then every data test, in DAG order, one at a
    time; DuckDB uses every core (its default, as under dbt)."""
    import duckdb

    manifest = json.loads(manifest_path.read_text())
    nodes = {
        unique_id: node
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] in ("model", "test") and node.get("compiled_code")
    }
    order: list[str] = []
    seen: set[str] = set()

    def visit(unique_id: str) -> None:
        if unique_id in seen or unique_id not in nodes:
            return
        seen.add(unique_id)
        for parent in nodes[unique_id]["depends_on"]["nodes"]:
            visit(parent)
        order.append(unique_id)

    for unique_id in sorted(nodes, key=lambda key: nodes[key]["resource_type"] != "model"):
        visit(unique_id)
    config = {
        "memory_limit": memory_limit,
        "preserve_insertion_order": False,
    }
    executed = 0
    with duckdb.connect(str(database), config=config) as con:
        con.execute("set TimeZone = 'UTC'")  # as the dbt profile
        _register_project_functions(con, database)
        for unique_id in order:
            node = nodes[unique_id]
            sql = node["compiled_code"]
            if node["resource_type"] == "test":
                con.execute(f"select count(*) from ({sql}) as failures").fetchone()
            else:
                kind = "view" if node["config"]["materialized"] == "view" else "table"
                con.execute(f'create schema if not exists "{node["schema"]}"')
                con.execute(f"create or replace {kind} {node['relation_name']} as {sql}")
            executed += 1
    print(f"executed {executed} compiled nodes", flush=True)
    return 0
