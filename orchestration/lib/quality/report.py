"""The validation report a person reads: one self-contained HTML page per suite and an index.

Written to the quality folder (CUSTOMER_ANALYTICS_QUALITY_DIR, default warehouse/quality) after
each run: `<suite>.html` and `<suite>.json` (the latest result of that suite) and `index.html`
(every suite's latest result). Plain HTML and inline CSS: it opens offline. It names tables,
columns, rules, counts and keys, never values (a value may be personal data).
"""

from __future__ import annotations

import html
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.lib.quality.validate import SuiteOutcome

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:24px;color:#222}"
    "table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ddd;padding:4px 8px;"
    "text-align:left;vertical-align:top}.passed{color:#1b7f3b}.error{color:#c62828;"
    "font-weight:600}.warn{color:#b26a00;font-weight:600}code{background:#f4f4f4}"
)


def _status(severity: str | None) -> str:
    label = {None: "passed", "warn": "warning", "error": "failed"}[severity]
    return f'<span class="{severity or "passed"}">{label}</span>'


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return html.escape(str(value))


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"{body}</body></html>\n"
    )


def render_suite(outcome: dict[str, Any], checked_at: str) -> str:
    """One suite's page: status, every rule with its result, the measures and the baseline."""
    rows = "".join(
        "<tr>"
        f"<td>{_status(None if rule['success'] else rule['severity'])}</td>"
        f"<td>{rule['severity'].upper()}</td><td>{_cell(rule['column'])}</td>"
        f"<td>{html.escape(rule['rule'])}<br><code>{html.escape(rule['expectation'])}</code></td>"
        f"<td>{_cell(rule['observed']) if rule['observed'] is not None else ''}"
        f"{_cell(rule['error']) if rule['error'] else ''}"
        f"{'' if rule['observed'] is not None or rule['error'] else _counts(rule)}</td>"
        f"<td>{html.escape(', '.join(rule['sample_keys']))}</td>"
        "</tr>"
        for rule in outcome["rules"]
    )
    measures = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{_cell(value)}</td>"
        f"<td>{_cell((outcome['baseline'] or {}).get(name))}</td></tr>"
        for name, value in outcome["measures"].items()
    )
    body = (
        f"<p><a href='index.html'>All suites</a></p><h1>{html.escape(outcome['suite'])} "
        f"{_status(outcome['severity'])}</h1>"
        f"<p>Table <code>{html.escape(outcome['relation'])}</code>, {outcome['rows']:,} rows in "
        f"{outcome['batches']} batch(es), checked {html.escape(checked_at)}.</p>"
        "<table><tr><th>result</th><th>severity</th><th>column</th><th>rule</th>"
        f"<th>observed</th><th>offending {html.escape(outcome['key'] or 'keys')}</th></tr>"
        f"{rows}</table>"
    )
    if measures:
        body += (
            "<h2>Measures</h2><table><tr><th>measure</th><th>this run</th>"
            f"<th>previous good run</th></tr>{measures}</table>"
            f"<p>{html.escape(outcome['baseline_note'])}</p>"
        )
    return _page(f"{outcome['suite']}: data quality", body)


def _counts(rule: dict[str, Any]) -> str:
    if not rule["denominator"]:
        return "no rows"
    return f"{rule['unexpected_count']:,} of {rule['denominator']:,} rows fail"


def render_index(outcomes: list[dict[str, Any]]) -> str:
    """Every suite's latest result, failed first."""
    order = {"error": 0, "warn": 1, None: 2}
    rows = "".join(
        f"<tr><td>{_status(outcome['severity'])}</td>"
        f"<td><a href='{html.escape(outcome['suite'])}.html'>{html.escape(outcome['suite'])}</a>"
        f"</td><td>{outcome['rows']:,}</td><td>{html.escape(outcome['checked_at'])}</td>"
        f"<td>{'<br>'.join(html.escape(m) for m in outcome['messages'])}</td></tr>"
        for outcome in sorted(outcomes, key=lambda o: (order[o["severity"]], o["suite"]))
    )
    return _page(
        "Data quality",
        "<h1>Data quality</h1><p>The latest result of every Great Expectations suite. "
        "ERROR rules block everything downstream (nothing is published); WARN rules are "
        "reported and the run goes on.</p><table><tr><th>result</th><th>suite</th><th>rows</th>"
        f"<th>checked</th><th>failures</th></tr>{rows}</table>",
    )


def _write_atomically(path: Path, text: str) -> None:
    staged = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staged.write_text(text, encoding="utf-8")
    os.replace(staged, path)


def write_reports(outcome: SuiteOutcome, folder: Path) -> Path:
    """Write `<suite>.html` and `.json` for `outcome`, refresh index.html; returns the page."""
    folder.mkdir(parents=True, exist_ok=True)
    checked_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    record = {**outcome.to_dict(), "checked_at": checked_at, "messages": outcome.messages()}
    page = folder / f"{outcome.suite}.html"
    _write_atomically(folder / f"{outcome.suite}.json", json.dumps(record, default=str))
    _write_atomically(page, render_suite(record, checked_at))
    records = []
    for sidecar in sorted(folder.glob("*.json")):
        try:
            records.append(json.loads(sidecar.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    _write_atomically(folder / "index.html", render_index(records))
    return page
