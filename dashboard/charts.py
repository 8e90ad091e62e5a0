"""The dashboard's figures and number formats, shared by the Streamlit app and the HTML report.

Pure: DataFrames in, Plotly figures or strings out. Presentation only; every number is a
mart value.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

CHART_TITLES = {
    "revenue": "Net revenue by month (EUR)",
    "nps": "NPS by month (with 95 % margin of error)",
    "cohorts": "Retention by first-order cohort (% of cohort active, months 1+)",
    "rfm": "RFM(E) segments: size = customers, colour = share of net revenue",
    "nps_by_segment": "NPS by segment (last 12 months, with 95 % margin of error)",
    "lifecycle": "Lifecycle flows in the latest complete month (stage at the month before → now)",
    "replenishment": "Replenishment lists: customers by reorder status, and who may be contacted",
    "programme_effects": "Programme effects: ratio to the other customers (95 % interval)",
    "repeat_ladder": "Repeat-purchase ladder: P(order n+1 | order n)",
    "concentration": "Revenue concentration: share of net revenue from the top customers",
    "clv_by_segment": "Predicted 12-month CLV by RFM segment (EUR; box 25-75 %, whiskers 10-90 %)",
}
"""Chart titles; the browser tests look for them."""

_INCOMPLETE = "#b0bec5"
_COMPLETE = "#1f77b4"


def is_missing(value: object) -> bool:
    """None, NaN or pandas NA: a value the mart left undefined."""
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def format_value(value: object, unit: str) -> str:
    """A KPI value as shown on a tile: EUR €1,234.56 · count 1,234 · share 12.3 % · points 41.2."""
    if is_missing(value):
        return "–"
    number = float(value)
    if unit == "EUR":
        return f"€{number:,.2f}"
    if unit == "count":
        return f"{number:,.0f}"
    if unit == "share":
        return f"{number * 100:.1f} %"
    return f"{number:.1f}"


def format_change(absolute_change: object, relative_change: object, unit: str) -> str | None:
    """Month-over-month change as shown under a tile, or None when there is none.

    Amounts and counts change by a percentage (+12.3 %), or by their own unit when the previous
    month was zero; shares change by percentage points (+1.2 pp), NPS by points (+3.4 pts).
    A negative change starts with '-' (Streamlit reads the arrow from the sign).
    """
    if is_missing(absolute_change):
        return None
    if unit == "share":
        return f"{float(absolute_change) * 100:+.1f} pp"
    if unit == "points":
        return f"{float(absolute_change):+.1f} pts"
    if is_missing(relative_change):
        sign = "+" if float(absolute_change) >= 0 else "-"
        return sign + format_value(abs(float(absolute_change)), unit)
    return f"{float(relative_change) * 100:+.1f} %"


def _month_labels(months: pd.Series) -> list[str]:
    return [pd.Timestamp(month).strftime("%Y-%m") for month in months]


def _layout(figure: go.Figure, title: str, height: int = 380) -> go.Figure:
    figure.update_layout(
        title={"text": title, "x": 0.01},
        height=height,
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        template="plotly_white",
    )
    return figure


def revenue_trend(kpis_monthly: pd.DataFrame) -> go.Figure:
    """Net revenue per month; the incomplete reference month in grey."""
    colours = [_INCOMPLETE if flag else _COMPLETE for flag in kpis_monthly["is_incomplete_month"]]
    figure = go.Figure(
        go.Bar(
            x=_month_labels(kpis_monthly["month"]),
            y=kpis_monthly["net_revenue"].astype(float),
            marker_color=colours,
            name="Net revenue",
            hovertemplate="%{x}: €%{y:,.2f}<extra></extra>",
        )
    )
    figure.update_yaxes(tickprefix="€")
    return _layout(figure, CHART_TITLES["revenue"])


def nps_trend(nps_monthly: pd.DataFrame) -> go.Figure:
    """NPS per month with its 95 % margin of error; months without responses are gaps."""
    figure = go.Figure(
        go.Scatter(
            x=_month_labels(nps_monthly["month"]),
            y=nps_monthly["nps"],
            error_y={"type": "data", "array": nps_monthly["nps_margin_of_error_95"]},
            mode="lines+markers",
            name="NPS",
            customdata=nps_monthly["responses"],
            hovertemplate="%{x}: NPS %{y:.1f} (%{customdata} responses)<extra></extra>",
        )
    )
    figure.update_yaxes(range=[-100, 100])
    return _layout(figure, CHART_TITLES["nps"])


def cohort_heatmap(cohorts: pd.DataFrame) -> go.Figure:
    """Retention rate by first-order month (rows) and months since the first order (columns,
    from 1: month 0 is 100 % by definition and would wash out the colour scale). Cells of the
    incomplete reference month are left empty: that month is not over."""
    complete = cohorts.loc[
        ~cohorts["is_incomplete_month"].astype(bool) & (cohorts["months_since_first_order"] >= 1)
    ]
    grid = complete.pivot(
        index="cohort_month", columns="months_since_first_order", values="retention_rate"
    ).sort_index()
    sizes = complete.groupby("cohort_month")["cohort_size"].first().reindex(grid.index)
    labels = [
        f"{pd.Timestamp(month).strftime('%Y-%m')} (n={size})"
        for month, size in zip(grid.index, sizes, strict=True)
    ]
    percent = grid.to_numpy(dtype=float) * 100
    figure = go.Figure(
        go.Heatmap(
            z=percent,
            x=[int(column) for column in grid.columns],
            y=labels,
            colorscale="Blues",
            zmin=0,
            colorbar={"title": "%"},
            hovertemplate="cohort %{y}, month %{x}: %{z:.1f} %<extra></extra>",
        )
    )
    figure.update_xaxes(title="months since first order", tick0=1, dtick=3)
    figure.update_yaxes(autorange="reversed")
    return _layout(figure, CHART_TITLES["cohorts"], height=max(380, 14 * len(labels) + 120))


def rfm_treemap(rfm_segments: pd.DataFrame) -> go.Figure:
    """RFM(E) segments as a treemap: area = customers, colour = share of net revenue."""
    text = [
        f"{customers:,} customers ({share_customers:.1%})<br>{share_revenue:.1%} of revenue"
        for customers, share_customers, share_revenue in zip(
            rfm_segments["customers"],
            rfm_segments["share_of_customers"],
            rfm_segments["share_of_net_revenue"].fillna(0.0),
            strict=True,
        )
    ]
    figure = go.Figure(
        go.Treemap(
            labels=rfm_segments["rfm_segment"],
            parents=[""] * len(rfm_segments),
            values=rfm_segments["customers"],
            text=text,
            textinfo="label+text",
            marker={
                "colors": rfm_segments["share_of_net_revenue"].fillna(0.0) * 100,
                "colorscale": "Greens",
                "colorbar": {"title": "% revenue"},
            },
            hovertemplate="%{label}<br>%{text}<extra></extra>",
        )
    )
    return _layout(figure, CHART_TITLES["rfm"], height=460)


def nps_by_segment_bars(nps_by_segment: pd.DataFrame) -> go.Figure:
    """NPS per segment value with its margin of error, grouped by dimension."""
    rows = nps_by_segment.dropna(subset=["nps"])
    labels = [
        f"{dimension}: {value}"
        for dimension, value in zip(rows["dimension"], rows["dimension_value"], strict=True)
    ]
    figure = go.Figure(
        go.Bar(
            x=rows["nps"],
            y=labels,
            orientation="h",
            error_x={"type": "data", "array": rows["nps_margin_of_error_95"]},
            customdata=rows["responses"],
            hovertemplate="%{y}: NPS %{x:.1f} (%{customdata} responses)<extra></extra>",
        )
    )
    figure.update_xaxes(range=[-100, 100])
    figure.update_yaxes(autorange="reversed")
    return _layout(figure, CHART_TITLES["nps_by_segment"], height=max(380, 22 * len(labels) + 100))


STAGES = ("signup", "prospect", "new", "active", "loyal", "lapsing", "reactivated", "churned")
"""Lifecycle stages in display order ('signup' is a flow's origin only)."""


def latest_complete_month(transitions: pd.DataFrame) -> pd.Timestamp | None:
    """The last month of rpt_lifecycle_transitions that is over (None without one)."""
    complete = transitions.loc[~transitions["is_incomplete_month"].astype(bool), "month"]
    return None if complete.empty else pd.Timestamp(complete.max())


def lifecycle_sankey(transitions: pd.DataFrame) -> go.Figure:
    """The flows of the latest complete month, one link per (from_stage, to_stage) row."""
    month = latest_complete_month(transitions)
    rows = transitions[pd.to_datetime(transitions["month"]) == month] if month else transitions[:0]
    sources = [f"{stage} (before)" for stage in STAGES]
    targets = [f"{stage} (now)" for stage in STAGES[1:]]
    labels = sources + targets
    figure = go.Figure(
        go.Sankey(
            node={"label": labels, "pad": 12},
            link={
                "source": [sources.index(f"{stage} (before)") for stage in rows["from_stage"]],
                "target": [len(sources) + targets.index(f"{s} (now)") for s in rows["to_stage"]],
                "value": rows["customers"].astype(int).tolist(),
                "customdata": rows["net_revenue"].astype(float).tolist(),
                "hovertemplate": "%{source.label} → %{target.label}: %{value:,} customers, "
                "€%{customdata:,.2f}<extra></extra>",
            },
        )
    )
    title = CHART_TITLES["lifecycle"]
    if month is not None:
        title = f"{title}: {month:%Y-%m}"
    return _layout(figure, title, height=460)


def replenishment_bars(lists: pd.DataFrame) -> go.Figure:
    """Customers and contactable customers per replenishment status."""
    figure = go.Figure(
        [
            go.Bar(x=lists["replenishment_status"], y=lists["customers"], name="customers"),
            go.Bar(
                x=lists["replenishment_status"],
                y=lists["contactable_customers"],
                name="contactable (consent, not unsubscribed)",
            ),
        ]
    )
    figure.update_layout(barmode="group")
    return _layout(figure, CHART_TITLES["replenishment"])


def programme_effects_chart(effects: pd.DataFrame) -> go.Figure:
    """Each comparison's ratio with its 95 % interval; 1 = no difference."""
    rows = effects.dropna(subset=["ratio"])
    labels = [f"{p}: {m}" for p, m in zip(rows["programme"], rows["metric"], strict=True)]
    figure = go.Figure(
        go.Scatter(
            x=rows["ratio"],
            y=labels,
            mode="markers",
            error_x={
                "type": "data",
                "symmetric": False,
                "array": rows["ratio_ci_upper_95"] - rows["ratio"],
                "arrayminus": rows["ratio"] - rows["ratio_ci_lower_95"],
            },
            hovertemplate="%{y}: × %{x:.3f}<extra></extra>",
        )
    )
    figure.add_vline(x=1, line_dash="dot")
    figure.update_yaxes(autorange="reversed")
    return _layout(figure, CHART_TITLES["programme_effects"])


def repeat_ladder_chart(ladder: pd.DataFrame) -> go.Figure:
    """P(order n+1 | order n) by n, overall and per acquisition channel."""
    figure = go.Figure(
        [
            go.Scatter(
                x=group["order_number"],
                y=group["next_order_probability"],
                mode="lines+markers",
                name=value,
                line={"width": 4 if dimension == "overall" else 1.5},
            )
            for (dimension, value), group in ladder.groupby(
                ["dimension", "dimension_value"], sort=False
            )
        ]
    )
    figure.update_xaxes(title="n (completed orders so far)", dtick=1)
    figure.update_yaxes(range=[0, 1], tickformat=".0%")
    return _layout(figure, CHART_TITLES["repeat_ladder"])


def concentration_bars(concentration: pd.DataFrame) -> go.Figure:
    """Share of net revenue from the top p % of customers, per period."""
    figure = go.Figure(
        [
            go.Bar(
                x=[f"top {p} %" for p in group["top_percent"]],
                y=group["top_revenue_share"],
                name=period + (" (so far)" if group["is_incomplete_year"].any() else ""),
            )
            for period, group in concentration.groupby("period", sort=True)
        ]
    )
    figure.update_layout(barmode="group")
    figure.update_yaxes(range=[0, 1], tickformat=".0%")
    return _layout(figure, CHART_TITLES["concentration"])


def clv_by_segment_boxes(by_segment: pd.DataFrame) -> go.Figure:
    """The distribution of 12-month CLV per segment, drawn from the mart's percentiles."""
    figure = go.Figure(
        go.Box(
            x=by_segment["rfm_segment"],
            lowerfence=by_segment["p10_clv_12_months"],
            q1=by_segment["p25_clv_12_months"],
            median=by_segment["median_clv_12_months"],
            q3=by_segment["p75_clv_12_months"],
            upperfence=by_segment["p90_clv_12_months"],
            mean=by_segment["mean_clv_12_months"],
            name="12-month CLV",
        )
    )
    figure.update_yaxes(tickprefix="€")
    return _layout(figure, CHART_TITLES["clv_by_segment"])
