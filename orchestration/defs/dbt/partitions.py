"""The landing's day partitions (docs/dagster.md, "Day partitions and backfills")."""

from __future__ import annotations

import dagster as dg

from orchestration.lib.settings import Settings


def landing_partitions(settings: Settings | None = None) -> dg.DailyPartitionsDefinition:
    """One partition per day, from CUSTOMER_ANALYTICS_PARTITIONS_START (default 2023-01-01) to
    yesterday, in the schedule's time zone: a partition is the day partitions of the landing
    (`<table>/<YYYY-MM-DD>.csv`) of that day."""
    settings = settings or Settings.from_env()
    return dg.DailyPartitionsDefinition(
        start_date=settings.partitions_start.isoformat(),
        timezone=settings.schedule_timezone,
    )


def run_days(tags: dict[str, str]) -> tuple[str | None, str | None]:
    """The first and last partition key of a run from its tags (one partition, or the range of
    a single-run backfill); (None, None) for a run without partitions."""
    if key := tags.get("dagster/partition"):
        return key, key
    return (
        tags.get("dagster/asset_partition_range_start"),
        tags.get("dagster/asset_partition_range_end"),
    )
