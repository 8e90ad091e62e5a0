"""customer-analytics: the Python side of the project (CLI, data generator, Dagster definitions)."""
