"""Read what the dashboard shows from the serving file, through the locked-down reader.

Every number comes from a mart as published; nothing here computes a metric. The marts read
are small aggregates (the largest, the cohort table, has about months² / 2 rows), so they are
read whole.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from orchestration.lib.relations import mart
from orchestration.lib.serving import PUBLICATION_TABLE

MARTS: dict[str, str] = {
    "headlines": f"select * from {mart('rpt_kpi_headlines')} order by display_order",
    "kpis_monthly": f"select * from {mart('rpt_kpis_monthly')} order by month",
    "nps_monthly": f"select * from {mart('rpt_nps_monthly')} order by month",
    "cohorts": (
        f"select * from {mart('rpt_retention_cohorts')}"
        " order by cohort_month, months_since_first_order"
    ),
    "rfm_segments": (
        f"select * from {mart('rpt_rfm_segments')} order by net_revenue desc, rfm_segment"
    ),
    "nps_by_segment": (
        f"select * from {mart('rpt_nps_by_segment')} order by dimension, nps desc, dimension_value"
    ),
    "data_quality": f"select * from {mart('rpt_data_quality')} order by source_table",
    "publication": f"select * from {mart(PUBLICATION_TABLE)} order by table_name",
    "lifecycle_transitions": (
        f"select * from {mart('rpt_lifecycle_transitions')} order by month, from_stage, to_stage"
    ),
    "replenishment_lists": (
        f"select * from {mart('rpt_replenishment_lists')} order by status_order"
    ),
    "programme_effects": f"select * from {mart('rpt_programme_effects')} order by metric_order",
    "repeat_ladder": (
        f"select * from {mart('rpt_repeat_purchase_ladder')}"
        " order by dimension desc, dimension_value, order_number"
    ),
    "revenue_concentration": (
        f"select * from {mart('rpt_revenue_concentration')} order by period, top_percent"
    ),
    "clv_by_segment": (
        f"select * from {mart('rpt_clv_by_segment')} order by mean_clv_12_months desc, rfm_segment"
    ),
    "clv_fit_status": f"select * from {mart('clv_fit_status')}",
}
"""What the dashboard reads: one query per published table, each in a total order."""

ADDED_LATER = frozenset(
    {
        "lifecycle_transitions",
        "replenishment_lists",
        "programme_effects",
        "repeat_ladder",
        "revenue_concentration",
        "clv_by_segment",
        "clv_fit_status",
    }
)
"""Marts added after the first release: a publication made before them lacks them, and the
dashboard then shows their sections as "not in this publication" (empty frames)."""


class ServingFileMissing(FileNotFoundError):
    """No publication yet: the serving file does not exist."""


@dataclass(frozen=True)
class DashboardData:
    """The published tables the dashboard shows, as pandas DataFrames."""

    headlines: pd.DataFrame
    kpis_monthly: pd.DataFrame
    nps_monthly: pd.DataFrame
    cohorts: pd.DataFrame
    rfm_segments: pd.DataFrame
    nps_by_segment: pd.DataFrame
    data_quality: pd.DataFrame
    publication: pd.DataFrame
    lifecycle_transitions: pd.DataFrame
    replenishment_lists: pd.DataFrame
    programme_effects: pd.DataFrame
    repeat_ladder: pd.DataFrame
    revenue_concentration: pd.DataFrame
    clv_by_segment: pd.DataFrame
    clv_fit_status: pd.DataFrame

    @property
    def build_id(self) -> str:
        """The build id of the publication (one per serving file)."""
        return str(self.publication["build_id"].iloc[0])

    @property
    def published_at(self) -> pd.Timestamp:
        """When the publication was written (UTC)."""
        return pd.Timestamp(self.publication["published_at"].iloc[0])

    @property
    def reference_date(self) -> dt.date | None:
        """The reference date ("today") of the build, or None if it was not recorded."""
        value = self.publication["reference_date"].iloc[0]
        return None if pd.isna(value) else pd.Timestamp(value).date()


def load(serving_file: Path) -> DashboardData:
    """Read every table the dashboard shows from `serving_file` (read-only, locked down)."""
    from orchestration.lib.serving import locked_down_connection

    if not serving_file.exists():
        raise ServingFileMissing(
            f"No served marts at {serving_file}: run `make build` (or a Dagster run that "
            "publishes) first, or point CUSTOMER_ANALYTICS_SERVING_DB at a serving file."
        )
    import duckdb

    frames = {}
    with locked_down_connection(serving_file) as con:
        for name, query in MARTS.items():
            try:
                frames[name] = con.execute(query).df()
            except duckdb.CatalogException:
                if name not in ADDED_LATER:
                    raise
                frames[name] = pd.DataFrame()
    return DashboardData(**frames)
