"""Where things are: every path and setting the orchestration reads from the environment.

Pure and cheap to import. All paths are absolute; defaults stay inside the repository.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

RAW_TABLES: tuple[str, ...] = (
    "customers",
    "orders",
    "sessions",
    "survey_responses",
    "email_events",
)
"""The raw data contract's tables, in load order."""


@dataclass(frozen=True)
class Settings:
    """The orchestration's settings, read from environment variables (see README "Dagster")."""

    database: Path
    serving_database: Path
    exports_dir: Path
    quality_dir: Path
    landing_dir: Path
    csv_encoding: str
    schedule_cron: str
    schedule_timezone: str
    dagster_home: Path
    automation_on: bool

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        """Read the settings from `environ` (default: the process environment)."""
        env = os.environ if environ is None else environ
        return cls(
            database=Path(
                env.get(
                    "CUSTOMER_ANALYTICS_DB",
                    str(REPO_ROOT / "warehouse" / "customer_analytics.duckdb"),
                )
            ).resolve(),
            serving_database=Path(
                env.get(
                    "CUSTOMER_ANALYTICS_SERVING_DB",
                    str(REPO_ROOT / "warehouse" / "serving" / "customer_analytics.duckdb"),
                )
            ).resolve(),
            exports_dir=Path(
                env.get("CUSTOMER_ANALYTICS_EXPORTS_DIR", str(REPO_ROOT / "warehouse" / "exports"))
            ).resolve(),
            quality_dir=Path(
                env.get("CUSTOMER_ANALYTICS_QUALITY_DIR", str(REPO_ROOT / "warehouse" / "quality"))
            ).resolve(),
            landing_dir=Path(
                env.get("CUSTOMER_ANALYTICS_LANDING_DIR", str(REPO_ROOT / "seeds" / "raw"))
            ).resolve(),
            csv_encoding=env.get("CUSTOMER_ANALYTICS_CSV_ENCODING", "utf-8"),
            schedule_cron=env.get("CUSTOMER_ANALYTICS_SCHEDULE_CRON", "0 6 * * *"),
            schedule_timezone=env.get("CUSTOMER_ANALYTICS_SCHEDULE_TIMEZONE", "Europe/Berlin"),
            dagster_home=Path(env.get("DAGSTER_HOME", str(REPO_ROOT / ".dagster_home"))).resolve(),
            automation_on=env.get("CUSTOMER_ANALYTICS_AUTOMATION", "on").lower() != "off",
        )
