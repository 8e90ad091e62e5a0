"""The daily schedule: cron and time zone from the environment."""

import dagster as dg

from orchestration.defs.automation.jobs import daily_refresh
from orchestration.lib.settings import Settings

_settings = Settings.from_env()

daily_refresh_schedule = dg.ScheduleDefinition(
    name="daily_refresh_schedule",
    job=daily_refresh,
    cron_schedule=_settings.schedule_cron,
    execution_timezone=_settings.schedule_timezone,
    default_status=(
        dg.DefaultScheduleStatus.RUNNING
        if _settings.automation_on
        else dg.DefaultScheduleStatus.STOPPED
    ),
    description=(
        "Refreshes everything every day; CUSTOMER_ANALYTICS_SCHEDULE_CRON (default '0 6 * * *') "
        "and CUSTOMER_ANALYTICS_SCHEDULE_TIMEZONE (default Europe/Berlin) change when."
    ),
)
