"""The daily schedule: cron and time zone from the environment; each tick lands yesterday's
partition."""

import datetime as dt
from zoneinfo import ZoneInfo

import dagster as dg

from orchestration.defs.automation.jobs import daily_refresh
from orchestration.lib.settings import DATA_TESTS_TAG, WEEKDAYS, Settings

_settings = Settings.from_env()


@dg.schedule(
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
        "Refreshes everything every day, landing yesterday's day partition (the day before the "
        "tick, in the schedule's time zone) and every changed whole-table file; "
        "CUSTOMER_ANALYTICS_SCHEDULE_CRON (default '0 6 * * *') and "
        "CUSTOMER_ANALYTICS_SCHEDULE_TIMEZONE (default Europe/Berlin) change when. On the "
        "weekday CUSTOMER_ANALYTICS_FULL_DATA_TESTS_DAY (default sunday) the run checks every "
        "row with every data test (tag customer_analytics/data_tests=all); on other days the "
        "scoped tests of the incremental models check the keys the run wrote."
    ),
)
def daily_refresh_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    tick = context.scheduled_execution_time.astimezone(ZoneInfo(_settings.schedule_timezone))
    yesterday = tick.date() - dt.timedelta(days=1)
    full = _settings.full_data_tests_day in ("every", WEEKDAYS[tick.weekday()])
    return dg.RunRequest(
        partition_key=yesterday.isoformat(),
        tags={DATA_TESTS_TAG: "all" if full else "changed"},
    )
