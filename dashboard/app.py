"""The customer analytics dashboard (Streamlit). Start it with `make dashboard`.

Reads only the serving file (CUSTOMER_ANALYTICS_SERVING_DB), read-only and locked down, so it
never blocks a build; a new publication shows up on the next page load.
"""

import datetime as dt

import streamlit as st

from dashboard.charts import (
    clv_by_segment_boxes,
    cohort_heatmap,
    concentration_bars,
    format_change,
    format_value,
    lifecycle_sankey,
    nps_by_segment_bars,
    nps_trend,
    programme_effects_chart,
    repeat_ladder_chart,
    replenishment_bars,
    revenue_trend,
    rfm_treemap,
)
from dashboard.data import DashboardData, ServingFileMissing, load
from orchestration.lib.settings import Settings


@st.cache_data(show_spinner="Reading the served marts…")
def _load(serving_file: str, modified_ns: int) -> DashboardData:
    """Cached per publication: the key changes when a publish swaps in a new file."""
    from pathlib import Path

    return load(Path(serving_file))


def _kpi_tiles(data: DashboardData) -> None:
    headlines = data.headlines
    if headlines.empty:
        st.info("No complete month yet: the KPI tiles appear once the first month is over.")
        return
    month = headlines["month"].iloc[0]
    previous = headlines["previous_month"].iloc[0]
    st.subheader(f"{month:%B %Y} vs {previous:%B %Y}")
    for column, row in zip(st.columns(len(headlines)), headlines.itertuples(), strict=True):
        column.metric(
            label=row.kpi_label,
            value=format_value(row.current_value, row.unit),
            delta=format_change(row.absolute_change, row.relative_change, row.unit),
            # the mart says which direction is good news (rpt_kpi_headlines.good_direction)
            delta_color="inverse" if row.good_direction == "down" else "normal",
            help=f"{row.kpi} in rpt_kpi_headlines: latest complete month vs the month before.",
            border=True,
        )


def _lifecycle_and_value(data: DashboardData) -> None:
    st.header("Lifecycle and value")
    if data.lifecycle_transitions.empty and data.clv_fit_status.empty:
        st.info("This publication predates the lifecycle and CLV marts: run `make build` again.")
        return
    left, right = st.columns(2)
    left.plotly_chart(lifecycle_sankey(data.lifecycle_transitions), key="lifecycle")
    right.plotly_chart(replenishment_bars(data.replenishment_lists), key="replenishment")
    left, right = st.columns(2)
    left.plotly_chart(programme_effects_chart(data.programme_effects), key="programme_effects")
    right.plotly_chart(repeat_ladder_chart(data.repeat_ladder), key="repeat_ladder")
    st.caption(
        "Programme effects are associations, not causal effects: members and referred customers "
        "differ in more than the programme (docs/lifecycle.md)."
    )
    left, right = st.columns(2)
    left.plotly_chart(concentration_bars(data.revenue_concentration), key="concentration")
    status = data.clv_fit_status
    if not status.empty and str(status["fit_status"].iloc[0]).startswith("fitted"):
        right.plotly_chart(clv_by_segment_boxes(data.clv_by_segment), key="clv_by_segment")
    else:
        reason = status["message"].iloc[0] if not status.empty else "no CLV status published"
        right.warning(f"Predicted CLV is not available for this build: {reason}")


def _freshness(data: DashboardData, serving_file: str) -> None:
    st.header("Data freshness")
    published = data.published_at
    age = dt.datetime.now(dt.UTC).replace(tzinfo=None) - published.to_pydatetime()
    hours = age.total_seconds() / 3600
    left, middle, right = st.columns(3)
    left.metric("Last publication", f"{published:%Y-%m-%d %H:%M} UTC", border=True)
    middle.metric("Age", f"{hours:,.1f} h", border=True)
    right.metric("Reference date", str(data.reference_date or "–"), border=True)
    st.caption(f"Build id `{data.build_id}` · serving file `{serving_file}`")
    st.subheader("Rows read, accepted and quarantined per source table")
    st.dataframe(
        data.data_quality[
            [
                "source_table",
                "rows_read",
                "rows_accepted",
                "rows_quarantined",
                "rows_collapsed_duplicates",
            ]
        ],
        hide_index=True,
    )


def main() -> None:
    """Render the dashboard."""
    st.set_page_config(page_title="Customer analytics", layout="wide")
    st.title("Customer analytics")
    serving_file = Settings.from_env().serving_database
    try:
        data = _load(str(serving_file), serving_file.stat().st_mtime_ns)
    except (FileNotFoundError, ServingFileMissing):
        st.error(
            f"No served marts at {serving_file}: run `make build` first (it builds, tests and "
            "publishes), or set CUSTOMER_ANALYTICS_SERVING_DB to a serving file."
        )
        st.stop()
    _kpi_tiles(data)
    left, right = st.columns(2)
    left.plotly_chart(revenue_trend(data.kpis_monthly), key="revenue")
    right.plotly_chart(nps_trend(data.nps_monthly), key="nps")
    st.plotly_chart(cohort_heatmap(data.cohorts), key="cohorts")
    left, right = st.columns(2)
    left.plotly_chart(rfm_treemap(data.rfm_segments), key="rfm")
    right.plotly_chart(nps_by_segment_bars(data.nps_by_segment), key="nps_by_segment")
    _lifecycle_and_value(data)
    _freshness(data, str(serving_file))


main()
