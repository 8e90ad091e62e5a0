"""Data quality: Great Expectations suites (suites.py), their runner (validate.py) and the
readable report (report.py). Dagster runs them as asset checks (orchestration/defs/quality)."""
