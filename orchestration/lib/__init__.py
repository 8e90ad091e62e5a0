"""Pure helpers: no Dagster, no dbt imports; unit-tested in tests/."""
