"""The shipped dashboard and offline report, on real served data.

Expected tile values are derived here straight from `rpt_kpis_monthly` (latest complete month
against the month before), not from `rpt_kpi_headlines`, and formatted by the documented rules
(EUR €1,234.56 · count 1,234 · share 12.3 % / +1.2 pp · NPS 41.2 / +3.4 pts · others ±12.3 %).
The browser test drives Debian's Chromium (installed by `make test`) against the running app and
the report file, with every request off this machine refused; the report's charts are measured
in 1,000, 1,400 and 1,920 px windows (and across a resize): nothing may stick out of its box or
the window, and the monthly charts must reach the month of the latest order in the build.
"""

from __future__ import annotations

import base64
import contextlib
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pytest
from conftest import REPO, DbtResult, run_clv, run_validate
from streamlit.proto.Metric_pb2 import Metric as MetricProto
from streamlit.testing.v1 import AppTest

from dashboard.charts import format_change, format_value
from dashboard.report import offline_report_writer
from orchestration.lib.publish import publish
from orchestration.lib.serving import REPORT_NAME

pytestmark = pytest.mark.e2e

APP = REPO / "dashboard" / "app.py"
ARTIFACTS = REPO / "warehouse" / "test-artifacts"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass(frozen=True)
class Served:
    serving_file: Path
    exports: Path
    build_id: str


@pytest.fixture(scope="module")
def served(seed_build: DbtResult, tmp_path_factory: pytest.TempPathFactory) -> Served:
    """The shipped seeds' build, published exactly as `make build` publishes it (after the
    CLV step and validate, on a copy: the session's seed build is shared read-only)."""
    work = tmp_path_factory.mktemp("served")
    (reference_date,) = seed_build.query(
        "select cast(reference_date as varchar) from staging.stg_shop__reference_date"
    )[0]
    build = work / "build.duckdb"
    shutil.copy(seed_build.database, build)
    fitted = run_clv(build)
    assert fitted.returncode == 0, fitted.stderr[-3000:]
    validated = run_validate(build)
    assert validated.returncode == 0, validated.stdout[-3000:]
    publication = publish(
        build,
        work / "serving" / "served.duckdb",
        work / "exports",
        "dash-1",
        reference_date=reference_date,
        report_writers=[offline_report_writer()],
    )
    return Served(publication.serving_file, work / "exports", "dash-1")


def _query(serving_file: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(serving_file), read_only=True) as con:
        return con.execute(sql).fetchall()


def expected_tiles(serving_file: Path) -> dict[str, tuple[str, str | None]]:
    """Tile label → (value, month-over-month change), derived from rpt_kpis_monthly."""
    return {label: (value, change) for label, (value, change, _) in _expected(serving_file).items()}


def expected_verdicts(serving_file: Path) -> dict[str, str]:
    """Tile label → good, bad or neutral: whether the change is good news. Worked out here:
    churn is the one KPI where less is better; no change is neither."""
    return {label: verdict for label, (_, _, verdict) in _expected(serving_file).items()}


def _expected(serving_file: Path) -> dict[str, tuple[str, str, str]]:
    current, previous = _query(
        serving_file,
        "select net_revenue, orders, active_customers, average_order_value, churn_rate, nps"
        " from marts.rpt_kpis_monthly where not is_incomplete_month order by month desc limit 2",
    )
    revenue, orders, active, aov, churn, nps = (float(v) for v in current)
    p_revenue, p_orders, p_active, p_aov, p_churn, p_nps = (float(v) for v in previous)

    def relative(now: float, before: float) -> str:
        return f"{(now - before) / abs(before) * 100:+.1f} %"

    def verdict(now: float, before: float, less_is_better: bool = False) -> str:
        if now == before:
            return "neutral"
        return "good" if (now > before) != less_is_better else "bad"

    return {
        "Net revenue": (
            f"€{revenue:,.2f}",
            relative(revenue, p_revenue),
            verdict(revenue, p_revenue),
        ),
        "Orders": (f"{orders:,.0f}", relative(orders, p_orders), verdict(orders, p_orders)),
        "Active customers": (
            f"{active:,.0f}",
            relative(active, p_active),
            verdict(active, p_active),
        ),
        "Average order value": (f"€{aov:,.2f}", relative(aov, p_aov), verdict(aov, p_aov)),
        "Churn rate": (
            f"{churn * 100:.1f} %",
            f"{(churn - p_churn) * 100:+.1f} pp",
            verdict(churn, p_churn, less_is_better=True),
        ),
        "NPS": (f"{nps:.1f}", f"{nps - p_nps:+.1f} pts", verdict(nps, p_nps)),
    }


# --- number formats (hand-worked) -----------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "shown"),
    [
        (1234.5, "EUR", "€1,234.50"),
        (0.004, "EUR", "€0.00"),
        (1234567, "count", "1,234,567"),
        (0.1234, "share", "12.3 %"),
        (-12.25, "points", "-12.2"),
        (None, "EUR", "–"),
        (float("nan"), "count", "–"),
    ],
)
def test_tile_values_are_formatted_by_unit(value, unit, shown) -> None:
    assert format_value(value, unit) == shown


@pytest.mark.parametrize(
    ("absolute", "relative", "unit", "shown"),
    [
        (50.0, 0.5, "EUR", "+50.0 %"),
        (-2.0, -0.2, "count", "-20.0 %"),
        (5.0, None, "count", "+5"),
        (-7.5, None, "EUR", "-€7.50"),
        (-0.0046, -0.038, "share", "-0.5 pp"),
        (3.44, 0.1, "points", "+3.4 pts"),
        (None, None, "points", None),
    ],
)
def test_changes_are_formatted_by_unit(absolute, relative, unit, shown) -> None:
    assert format_change(absolute, relative, unit) == shown


# --- the Streamlit app, in process (streamlit.testing) --------------------------------------


def _run_app(serving_file: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("CUSTOMER_ANALYTICS_SERVING_DB", str(serving_file))
    # Streamlit installs the app as sys.modules["__main__"] and leaves it there; a later
    # spawned process (the parallel GX suites) would then re-run the app. Put it back after.
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])
    app = AppTest.from_file(str(APP), default_timeout=120)
    app.run()
    return app


def test_app_tiles_equal_the_mart_values(served: Served, monkeypatch) -> None:
    app = _run_app(served.serving_file, monkeypatch)
    assert not app.exception, app.exception
    assert not app.error
    tiles = {metric.label: (metric.value, metric.delta) for metric in app.metric}
    expected = expected_tiles(served.serving_file)
    assert {label: tiles[label] for label in expected} == expected
    colours = {"good": "GREEN", "bad": "RED", "neutral": "GRAY"}
    shown = {m.label: MetricProto.MetricColor.Name(m.proto.color) for m in app.metric}
    verdicts = expected_verdicts(served.serving_file)
    assert {label: shown[label] for label in verdicts} == {
        label: colours[verdict] for label, verdict in verdicts.items()
    }
    (month, previous) = _query(
        served.serving_file,
        "select strftime(month, '%B %Y'), strftime(month - interval 1 month, '%B %Y')"
        " from marts.rpt_kpis_monthly where not is_incomplete_month order by month desc limit 1",
    )[0]
    assert f"{month} vs {previous}" in [subheader.value for subheader in app.subheader]


def _array(value: list | dict) -> np.ndarray:
    """A Plotly JSON array: a plain list, or base64 'bdata' with dtype and shape (Plotly 6+)."""
    if isinstance(value, list):
        return np.array(value, dtype=float)
    data = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
    shape = [int(n) for n in str(value.get("shape", len(data))).split(",")]
    return data.astype(float).reshape(shape)


def test_app_charts_show_the_mart_values(served: Served, monkeypatch) -> None:
    app = _run_app(served.serving_file, monkeypatch)
    charts = {
        chart.proto.id.rsplit("-", 1)[-1]: json.loads(chart.proto.spec)
        for chart in app.get("plotly_chart")
    }
    assert sorted(charts) == sorted(
        [
            "cohorts", "nps", "nps_by_segment", "revenue", "rfm",
            "lifecycle", "replenishment", "programme_effects", "repeat_ladder", "concentration",
            "clv_by_segment",
        ]
    )  # fmt: skip

    (heatmap,) = charts["cohorts"]["data"]
    assert heatmap["type"] == "heatmap"
    cells = {
        (row, int(column)): value
        for row, values in zip(heatmap["y"], _array(heatmap["z"]).tolist(), strict=True)
        for column, value in zip(_array(heatmap["x"]).tolist(), values, strict=True)
        if not math.isnan(value)
    }
    expected_cells = {
        (f"{cohort} (n={size})", months): rate * 100
        for cohort, size, months, rate in _query(
            served.serving_file,
            "select strftime(cohort_month, '%Y-%m'), cohort_size, months_since_first_order,"
            " retention_rate from marts.rpt_retention_cohorts"
            " where not is_incomplete_month and months_since_first_order >= 1",
        )
    }
    assert cells.keys() == expected_cells.keys()
    assert all(cells[key] == pytest.approx(value) for key, value in expected_cells.items())

    (revenue,) = charts["revenue"]["data"]
    assert _array(revenue["y"]).tolist() == pytest.approx(
        [
            float(v)
            for (v,) in _query(
                served.serving_file, "select net_revenue from marts.rpt_kpis_monthly order by month"
            )
        ]
    )
    (treemap,) = charts["rfm"]["data"]
    assert dict(zip(treemap["labels"], _array(treemap["values"]).tolist(), strict=True)) == dict(
        _query(served.serving_file, "select rfm_segment, customers from marts.rpt_rfm_segments")
    )


def test_app_lifecycle_and_value_charts_show_the_mart_values(served: Served, monkeypatch) -> None:
    app = _run_app(served.serving_file, monkeypatch)
    assert not app.exception, app.exception
    charts = {
        chart.proto.id.rsplit("-", 1)[-1]: json.loads(chart.proto.spec)
        for chart in app.get("plotly_chart")
    }
    served_file = served.serving_file

    (sankey,) = charts["lifecycle"]["data"]
    labels = sankey["node"]["label"]
    links = {
        (
            labels[int(source)].removesuffix(" (before)"),
            labels[int(target)].removesuffix(" (now)"),
        ): value
        for source, target, value in zip(
            _array(sankey["link"]["source"]).tolist(),
            _array(sankey["link"]["target"]).tolist(),
            _array(sankey["link"]["value"]).tolist(),
            strict=True,
        )
    }
    assert links == {
        (from_stage, to_stage): customers
        for from_stage, to_stage, customers in _query(
            served_file,
            "select from_stage, to_stage, customers from marts.rpt_lifecycle_transitions"
            " where month = (select max(month) from marts.rpt_lifecycle_transitions"
            " where not is_incomplete_month)",
        )
    }

    customers, contactable = charts["replenishment"]["data"]
    expected = _query(
        served_file,
        "select replenishment_status, customers, contactable_customers"
        " from marts.rpt_replenishment_lists order by status_order",
    )
    assert list(customers["x"]) == [status for status, _, _ in expected]
    assert _array(customers["y"]).tolist() == [n for _, n, _ in expected]
    assert _array(contactable["y"]).tolist() == [n for _, _, n in expected]

    (effects,) = charts["programme_effects"]["data"]
    expected = _query(
        served_file,
        "select programme || ': ' || metric, ratio, ratio_ci_lower_95, ratio_ci_upper_95"
        " from marts.rpt_programme_effects where ratio is not null order by metric_order",
    )
    assert list(effects["y"]) == [label for label, *_ in expected]
    assert _array(effects["x"]).tolist() == pytest.approx([r for _, r, _, _ in expected])
    assert _array(effects["error_x"]["arrayminus"]).tolist() == pytest.approx(
        [r - low for _, r, low, _ in expected]
    )

    ladder = {
        trace["name"]: _array(trace["y"]).tolist() for trace in charts["repeat_ladder"]["data"]
    }
    for value, probabilities in ladder.items():
        assert probabilities == pytest.approx(
            [
                p
                for (p,) in _query(
                    served_file,
                    "select next_order_probability from marts.rpt_repeat_purchase_ladder"
                    f" where dimension_value = '{value}' order by order_number",
                )
            ]
        )
    assert "all customers" in ladder

    shares = {
        trace["name"].removesuffix(" (so far)"): _array(trace["y"]).tolist()
        for trace in charts["concentration"]["data"]
    }
    for period, values in shares.items():
        assert values == pytest.approx(
            [
                v
                for (v,) in _query(
                    served_file,
                    "select top_revenue_share from marts.rpt_revenue_concentration"
                    f" where period = '{period}' order by top_percent",
                )
            ]
        )

    (boxes,) = charts["clv_by_segment"]["data"]
    expected = _query(
        served_file,
        "select rfm_segment, median_clv_12_months, p90_clv_12_months"
        " from marts.rpt_clv_by_segment order by mean_clv_12_months desc, rfm_segment",
    )
    assert list(boxes["x"]) == [segment for segment, _, _ in expected]
    assert _array(boxes["median"]).tolist() == pytest.approx([m for _, m, _ in expected])
    assert _array(boxes["upperfence"]).tolist() == pytest.approx([p for _, _, p in expected])


def test_app_says_why_predicted_clv_is_missing(
    seed_build: DbtResult, tmp_path: Path, monkeypatch
) -> None:
    """A build published without the CLV step (a plain dbt build, then publish) shows the
    status instead of a CLV chart."""
    publication = publish(
        seed_build.database, tmp_path / "served.duckdb", tmp_path / "exports", "no-clv"
    )
    app = _run_app(publication.serving_file, monkeypatch)
    assert not app.exception, app.exception
    charts = {chart.proto.id.rsplit("-", 1)[-1] for chart in app.get("plotly_chart")}
    assert "clv_by_segment" not in charts and "lifecycle" in charts
    (message,) = [w.value for w in app.warning if "Predicted CLV" in w.value]
    assert "not available for this build" in message and "customer-analytics clv" in message


def test_app_shows_freshness_of_the_publication(served: Served, monkeypatch) -> None:
    app = _run_app(served.serving_file, monkeypatch)
    (published_at, reference_date) = _query(
        served.serving_file,
        "select strftime(max(published_at), '%Y-%m-%d %H:%M'), cast(max(reference_date) as varchar)"
        " from marts.publication",
    )[0]
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Last publication"] == f"{published_at} UTC"
    assert metrics["Reference date"] == reference_date
    assert any(served.build_id in caption.value for caption in app.caption)


def test_app_without_a_publication_says_what_to_do(tmp_path: Path, monkeypatch) -> None:
    missing = tmp_path / "nothing" / "served.duckdb"
    app = _run_app(missing, monkeypatch)
    assert not app.exception
    (error,) = app.error
    assert str(missing) in error.value and "make build" in error.value
    assert not app.metric


# --- the offline report ---------------------------------------------------------------------


def test_every_publish_writes_a_self_contained_report(served: Served) -> None:
    report = served.exports / "current" / REPORT_NAME
    page = report.read_text(encoding="utf-8")
    assert f"<meta name='build-id' content='{served.build_id}'>" in page
    # nothing loaded from elsewhere: no external scripts, styles, images or frames
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", page)
    assert page.count('<script type="text/javascript">/**\n* plotly.js') <= 1
    assert "plotly.js v" in page  # the library itself is inline
    tiles = dict(
        re.findall(
            r'<div class="label">([^<]+)</div><div class="value">([^<]+)</div>',
            page,
        )
    )
    expected = expected_tiles(served.serving_file)
    assert tiles == {label: value for label, (value, _) in expected.items()}
    verdicts = expected_verdicts(served.serving_file)
    for label, (_, change) in expected.items():
        assert re.search(
            rf'<div class="label">{re.escape(label)}</div><div class="value">[^<]+</div>'
            rf'<div class="change {verdicts[label]}">{re.escape(change)} vs ',
            page,
        ), (label, verdicts[label])
    for chart in ["revenue", "nps", "cohorts", "rfm", "nps_by_segment"]:
        assert f'id="chart-{chart}"' in page


# --- real browser: Debian's Chromium against the running app and the report file ------------


def _chromium() -> str:
    path = shutil.which("chromium") or "/usr/bin/chromium"
    if not os.access(path, os.X_OK):
        pytest.fail(
            "Debian's chromium is not installed: run `make test` (it installs it), or "
            "`apt-get install chromium`."
        )
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def running_app(served: Served, tmp_path: Path):
    """`streamlit run dashboard/app.py` as `make dashboard` starts it, on a free local port."""
    port = _free_port()
    log = (tmp_path / "streamlit.log").open("w")
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "streamlit"),
            "run",
            str(APP),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            "--browser.gatherUsageStats",
            "false",
        ],
        cwd=REPO,
        env={**os.environ, "CUSTOMER_ANALYTICS_SERVING_DB": str(served.serving_file)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read() == b"ok":
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError((tmp_path / "streamlit.log").read_text()[-3000:]) from None
                time.sleep(0.5)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def _not_blank(png: Path) -> int:
    """Distinct colours in a screenshot (a blank or error page has a handful)."""
    from PIL import Image

    with Image.open(png) as image:
        return len(image.convert("RGB").getcolors(maxcolors=1 << 20) or [])


def test_chromium_renders_the_app_and_the_report(served: Served, running_app: str) -> None:
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    expected = expected_tiles(served.serving_file)
    refused: list[str] = []
    page_errors: list[str] = []

    def only_this_machine(route) -> None:
        url = route.request.url
        if url.startswith(("http://127.0.0.1:", "file://", "data:", "blob:")):
            route.continue_()
        else:
            refused.append(url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1800})
            page.route("**/*", only_this_machine)
            page.on("pageerror", lambda error: page_errors.append(str(error)))

            page.goto(running_app)
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot').length >= 5"
                " && document.querySelector('.js-plotly-plot .heatmaplayer image') !== null",
                timeout=90_000,
            )
            page.wait_for_timeout(1_000)  # let the last charts finish drawing
            app_png = ARTIFACTS / "dashboard.png"
            page.screenshot(path=str(app_png), full_page=True)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.locator('[data-testid="stAlertContentError"]').count() == 0
            labels = page.locator('[data-testid="stMetricLabel"]').all_inner_texts()
            values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
            tiles = dict(zip((label.strip() for label in labels), values, strict=True))
            assert {label: tiles.get(label) for label in expected} == {
                label: value for label, (value, _) in expected.items()
            }
            titles = page.locator(".js-plotly-plot .gtitle").all_text_contents()
            assert any(title.startswith("Retention by first-order cohort") for title in titles)

            report = served.exports / "current" / REPORT_NAME
            page.goto(report.as_uri())
            page.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot').length == 5"
                " && document.querySelector('#chart-cohorts .heatmaplayer image') !== null"
                " && document.querySelector('#chart-rfm .treemaplayer path') !== null",
                timeout=60_000,
            )
            report_png = ARTIFACTS / "report.png"
            page.screenshot(path=str(report_png), full_page=True)
            report_tiles = {
                tile.locator(".label").inner_text(): tile.locator(".value").inner_text()
                for tile in page.locator(".tile").all()
            }
            assert report_tiles == {label: value for label, (value, _) in expected.items()}
        finally:
            browser.close()

    assert refused == [], "the dashboard or report tried to reach another machine"
    assert page_errors == []
    assert _not_blank(app_png) > 200 and _not_blank(report_png) > 200


# --- real browser: every report chart whole at common window widths -------------------------

CHART_GEOMETRY = """() => {
    const viewport = document.documentElement.clientWidth;
    const box = (element) => {
        const rect = element.getBoundingClientRect();
        return {left: rect.left, right: rect.right, width: rect.width};
    };
    return {
        viewport: viewport,
        page_width: document.documentElement.scrollWidth,
        charts: Array.from(document.querySelectorAll('.js-plotly-plot')).map((gd) => {
            const container = gd.closest('.chart') || gd.parentElement;
            const svgs = Array.from(gd.querySelectorAll('.main-svg')).map(box);
            const plotArea = gd.querySelector('.draglayer .nsewdrag');
            const texts = Array.from(gd.querySelectorAll('.main-svg text'))
                .filter((text) => text.textContent.trim() !== '' && text.getBBox().width > 0)
                .map((text) => ({text: text.textContent, ...box(text)}));
            const xaxis = gd._fullLayout.xaxis;
            const lastX = gd.data[0].x && gd.data[0].x.length ? gd.data[0].x.at(-1) : null;
            let lastXPixel = null;
            if (xaxis && typeof lastX === 'string') {
                const svgLeft = gd.querySelector('.main-svg').getBoundingClientRect().left;
                lastXPixel = svgLeft + xaxis._offset + xaxis.l2p(xaxis.d2l(lastX));
            }
            return {
                id: gd.id,
                container: box(container),
                svgs: svgs,
                plot_area: plotArea ? box(plotArea) : null,
                texts: texts,
                last_x: lastX,
                last_x_pixel: lastXPixel,
                xaxis_range: xaxis && xaxis.range ? xaxis.range.map(String) : null,
            };
        }),
    };
}"""

REPORT_RENDERED = (
    "document.querySelectorAll('.js-plotly-plot').length == 5"
    " && Array.from(document.querySelectorAll('.js-plotly-plot'))"
    "      .every((gd) => gd._fullLayout && gd.querySelector('.main-svg'))"
    " && document.querySelector('#chart-revenue .trace.bars path') !== null"
    " && document.querySelector('#chart-cohorts .heatmaplayer image') !== null"
    " && document.querySelector('#chart-rfm .treemaplayer path') !== null"
)


def _clipped(geometry: dict, slack: float = 1.0) -> list[str]:
    """What sticks out of its chart's box or the window, as readable findings (none: whole)."""
    viewport = geometry["viewport"]
    findings = []
    if geometry["page_width"] > viewport + slack:
        findings.append(f"the page is {geometry['page_width']} px wide in a {viewport} px window")
    for chart in geometry["charts"]:
        left = max(chart["container"]["left"], 0) - slack
        right = min(chart["container"]["right"], viewport) + slack
        named = [("plot", svg) for svg in chart["svgs"]]
        named += [("plot area", chart["plot_area"])] if chart["plot_area"] else []
        named += [(f"text {text['text']!r}", text) for text in chart["texts"]]
        for name, part in named:
            if part["left"] < left or part["right"] > right:
                findings.append(
                    f"{chart['id']}: {name} spans {part['left']:.0f}-{part['right']:.0f} px,"
                    f" outside the visible {left + slack:.0f}-{right - slack:.0f} px"
                )
        if chart["svgs"][0]["width"] < chart["container"]["width"] - 2 * slack:
            findings.append(
                f"{chart['id']}: drawn {chart['svgs'][0]['width']:.0f} px wide in a"
                f" {chart['container']['width']:.0f} px box"
            )
        if chart["last_x_pixel"] is not None and not left <= chart["last_x_pixel"] <= right:
            findings.append(
                f"{chart['id']}: the last month {chart['last_x']} is drawn at"
                f" {chart['last_x_pixel']:.0f} px, outside the visible"
                f" {left + slack:.0f}-{right - slack:.0f} px"
            )
    return list(dict.fromkeys(findings))


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless, one for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=_chromium(), args=CHROMIUM_FLAGS)
        try:
            yield chromium
        finally:
            chromium.close()


CHARTS_SETTLED = (
    f"(() => {{ const geometry = ({CHART_GEOMETRY})();"
    " return geometry.page_width <= geometry.viewport + 1"
    " && geometry.charts.every((chart) => chart.svgs.every((svg) =>"
    " svg.left >= chart.container.left - 1 && svg.right <= chart.container.right + 1"
    " && svg.width >= chart.container.width - 2)); })()"
)
"""Every chart drawn at its box's width, and nothing wider than the window."""


def _report_geometry(browser, report: Path, widths: list[int]) -> dict:
    """Open the report in a window `widths[0]` px wide, resize it to each further width, and
    measure the charts once they have settled at the last one (or after a generous deadline)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_page(viewport={"width": widths[0], "height": 900})
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("file://", "data:", "blob:"))
            else route.abort()
        ),
    )
    try:
        page.goto(report.as_uri())
        page.wait_for_function(REPORT_RENDERED, timeout=60_000)
        for width in widths[1:]:
            page.set_viewport_size({"width": width, "height": 900})
            page.wait_for_function(
                f"document.documentElement.clientWidth == {width}", timeout=20_000
            )
        # Plotly redraws a chart a moment after its box changes: wait for that, with a
        # generous deadline; the caller's assertions say what is still wrong after it.
        with contextlib.suppress(PlaywrightTimeout):
            page.wait_for_function(CHARTS_SETTLED, timeout=20_000)
        geometry = page.evaluate(CHART_GEOMETRY)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        name = "-".join(str(width) for width in widths)
        page.screenshot(path=str(ARTIFACTS / f"report-{name}.png"), full_page=True)
    finally:
        page.close()
    assert page_errors == []
    assert [chart["id"] for chart in geometry["charts"]] == [
        "chart-revenue",
        "chart-nps",
        "chart-cohorts",
        "chart-rfm",
        "chart-nps_by_segment",
    ]
    return geometry


def _last_order_month(seed_build: DbtResult) -> str:
    """The last month of the data (YYYY-MM): the month of the latest order in the build."""
    ((month,),) = seed_build.query(
        "select strftime(max(ordered_at), '%Y-%m') from staging.stg_shop__orders"
    )
    return month


def _assert_whole(geometry: dict, last_month: str, label: str) -> None:
    findings = _clipped(geometry)
    assert not findings, f"{label}:\n" + "\n".join(findings)
    charts = {chart["id"]: chart for chart in geometry["charts"]}
    for monthly in ["chart-revenue", "chart-nps"]:
        assert charts[monthly]["last_x"] == last_month, monthly
        assert charts[monthly]["xaxis_range"][1][:7] >= last_month, monthly


@pytest.mark.parametrize("width", [1000, 1400, 1920])
def test_report_charts_are_whole_at_every_window_width(
    served: Served, seed_build: DbtResult, browser, width: int
) -> None:
    """Every chart of the report lies inside its box and the window, and the monthly charts
    reach the last month of the data (the month of the latest order, read from the build)."""
    geometry = _report_geometry(browser, served.exports / "current" / REPORT_NAME, [width])
    _assert_whole(geometry, _last_order_month(seed_build), f"at {width} px")


@pytest.mark.parametrize("widths", [[1000, 1920], [1920, 1000]], ids=["wider", "narrower"])
def test_report_charts_refit_when_the_window_is_resized(
    served: Served, seed_build: DbtResult, browser, widths: list[int]
) -> None:
    """After a resize every chart is redrawn at its new box's width, still whole."""
    geometry = _report_geometry(browser, served.exports / "current" / REPORT_NAME, widths)
    _assert_whole(geometry, _last_order_month(seed_build), f"resized {widths[0]} → {widths[1]} px")
