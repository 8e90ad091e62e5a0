"""The offline report: the dashboard's headline tiles and charts as one self-contained HTML file.

Written by every publish next to the Parquet exports (<exports>/current/report.html): the
Dagster publish asset and `customer-analytics publish` hand `offline_report_writer` to the
publisher, which runs it on the staged serving file before the swap. Plotly's
JavaScript is embedded once, inline: the file opens from disk with no server and no network.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable
from pathlib import Path

from dashboard.charts import (
    cohort_heatmap,
    format_change,
    format_value,
    is_missing,
    nps_by_segment_bars,
    nps_trend,
    revenue_trend,
    rfm_treemap,
)
from dashboard.data import DashboardData, load
from orchestration.lib.serving import REPORT_NAME

_STYLE = """
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; }
.tiles { display: flex; flex-wrap: wrap; gap: 12px; margin: 12px 0 24px; }
.tile { border: 1px solid #ddd; border-radius: 8px; padding: 12px 16px; min-width: 150px; }
.tile .label { font-size: 0.85em; color: #555; }
.tile .value { font-size: 1.6em; font-weight: 600; }
.tile .good { color: #1b7f3b; } .tile .bad { color: #c62828; } .tile .neutral { color: #666; }
html { overflow-y: scroll; }
.charts { display: grid; gap: 16px;
  grid-template-columns: repeat(auto-fill, minmax(min(520px, 100%), 1fr)); }
.chart { min-width: 0; overflow: hidden; }
footer { margin-top: 24px; font-size: 0.85em; color: #555; }
"""
# Each chart is drawn as soon as its <script> is parsed, sized to its box at that moment. The
# grid's columns must therefore not depend on how many charts exist yet (auto-fill, not
# auto-fit: with auto-fit the first chart alone spans the whole row, then its column shrinks and
# the right of the chart, the latest months, is cut off), and the vertical scrollbar's room is
# reserved from the start (html overflow-y). Plotly's `responsive` follows only window resizes;
# the observer below redraws a chart whenever its box changes width for any other reason.

_FIT_CHARTS_TO_THEIR_BOXES = """
(function () {
  if (!("ResizeObserver" in window) || !window.Plotly) { return; }
  var observer = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var plot = entry.target.querySelector(".js-plotly-plot");
      if (plot && plot._fullLayout
          && Math.abs(plot._fullLayout.width - entry.contentRect.width) >= 1) {
        Plotly.Plots.resize(plot).catch(function () {});
      }
    });
  });
  document.querySelectorAll(".chart").forEach(function (chart) { observer.observe(chart); });
})();
"""


def _tile(
    kpi: str, label: str, value: str, change: str | None, is_good: object, month_text: str
) -> str:
    """One KPI tile; the change is coloured by the mart's verdict (is_good_change)."""
    change_html = ""
    if change is not None:
        verdict = "neutral" if is_missing(is_good) else ("good" if is_good else "bad")
        change_html = (
            f'<div class="change {verdict}">{html.escape(change)}'
            f" vs {html.escape(month_text)}</div>"
        )
    return (
        f'<div class="tile" data-kpi="{html.escape(kpi)}"><div class="label">'
        f'{html.escape(label)}</div><div class="value">{html.escape(value)}</div>'
        f"{change_html}</div>"
    )


def _tiles(data: DashboardData) -> str:
    if data.headlines.empty:
        return "<p>No complete month yet: KPI tiles appear once the first month is over.</p>"
    headlines = data.headlines
    previous_text = f"{headlines['previous_month'].iloc[0]:%b %Y}"
    tiles = "".join(
        _tile(
            row.kpi,
            row.kpi_label,
            format_value(row.current_value, row.unit),
            format_change(row.absolute_change, row.relative_change, row.unit),
            row.is_good_change,
            previous_text,
        )
        for row in headlines.itertuples()
    )
    return (
        f"<h2>{headlines['month'].iloc[0]:%B %Y}</h2>"
        f'<div class="tiles" id="kpi-tiles">{tiles}</div>'
    )


def render_report(data: DashboardData, quality_href: str | None = None) -> str:
    """The report as one HTML document (Plotly's JavaScript inline, no external resources);
    with `quality_href`, the footer links to the data-quality report (a relative path)."""
    figures = {
        "revenue": revenue_trend(data.kpis_monthly),
        "nps": nps_trend(data.nps_monthly),
        "cohorts": cohort_heatmap(data.cohorts),
        "rfm": rfm_treemap(data.rfm_segments),
        "nps_by_segment": nps_by_segment_bars(data.nps_by_segment),
    }
    charts = "".join(
        f'<div class="chart" data-chart="{name}">'
        + figure.to_html(
            full_html=False,
            include_plotlyjs=index == 0,
            div_id=f"chart-{name}",
            config={"displaylogo": False, "responsive": True},
        )
        + "</div>"
        for index, (name, figure) in enumerate(figures.items())
    )
    reference = data.reference_date or "–"
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='build-id' content='{html.escape(data.build_id)}'>"
        "<title>Customer analytics report</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>Customer analytics</h1>"
        f"{_tiles(data)}<div class='charts'>{charts}</div>"
        f"<script>{_FIT_CHARTS_TO_THEIR_BOXES}</script>"
        f"<footer id='freshness'>Build {html.escape(data.build_id)} · published "
        f"{data.published_at:%Y-%m-%d %H:%M} UTC · reference date {reference}. "
        "Generated by customer-analytics publish from the serving file."
        + (
            f" <a id='quality-report' href='{html.escape(quality_href)}'>Data quality report</a>"
            " of the build."
            if quality_href
            else ""
        )
        + "</footer>"
        "</body></html>\n"
    )


def write_report(data: DashboardData, path: Path, quality_href: str | None = None) -> Path:
    """Write the report to `path` (UTF-8) and return it."""
    path.write_text(render_report(data, quality_href), encoding="utf-8")
    return path


def offline_report_writer(quality_dir: Path | None = None) -> Callable[[Path, Path], None]:
    """A report writer for the publisher: writes REPORT_NAME into a publication's exports
    folder from exactly the tables about to be served. With `quality_dir`, the report links to
    the quality report's index.html there (a path relative to the exports folder, which the
    swap renames in place, so the link stays right)."""

    def write(staged_serving_file: Path, exports_dir: Path) -> None:
        href = (
            Path(
                os.path.relpath(
                    Path(os.path.abspath(quality_dir)) / "index.html",
                    Path(os.path.abspath(exports_dir)),
                )
            ).as_posix()
            if quality_dir is not None
            else None
        )
        write_report(load(staged_serving_file), exports_dir / REPORT_NAME, href)

    return write
