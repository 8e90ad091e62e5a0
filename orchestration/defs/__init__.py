"""Dagster definitions, one folder per area: raw landing, dbt, automation."""
