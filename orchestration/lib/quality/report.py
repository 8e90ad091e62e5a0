"""The validation report a person reads: one self-contained HTML page per suite and an index.

Written to the quality folder (CUSTOMER_ANALYTICS_QUALITY_DIR, default warehouse/quality) after
each run: `<suite>.html` and `<suite>.json` (the latest result of that suite) and `index.html`
(every suite's latest result, with a one-line summary at the top). Every page links to the
index and to the dashboard's offline report (<exports>/current/report.html, written by each
publish), by a path relative to the quality folder. Plain HTML and inline CSS: it opens offline.
It names tables, columns, rules, counts and keys, never values (a value may be personal data).
"""

from __future__ import annotations

import html
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from orchestration.lib.quality.numbers import format_count, format_number
from orchestration.lib.quality.validate import SuiteOutcome

_STYLE = (
    "body{font-family:system-ui,sans-serif;margin:24px;color:#222}"
    "table{border-collapse:collapse;margin:12px 0}td,th{border:1px solid #ddd;padding:4px 8px;"
    "text-align:left;vertical-align:top}td.number{text-align:right}.passed{color:#1b7f3b}"
    ".error,.failed{color:#c62828;font-weight:600}.warn{color:#b26a00;font-weight:600}"
    ".skipped{color:#666}code{background:#f4f4f4}nav{margin-bottom:12px}"
    "#summary{font-size:1.1em}"
)
STATUSES = ("passed", "failed", "skipped")


def _status(severity: str | None) -> str:
    label = {None: "passed", "warn": "warning", "error": "failed"}[severity]
    return f'<span class="{severity or "passed"}">{label}</span>'


def _rule_status(rule: dict[str, Any]) -> str:
    status = rule.get("status") or ("passed" if rule["success"] else "failed")
    if status == "failed":
        return f'<span class="{rule["severity"]}">failed</span>'
    return f'<span class="{status}">{status}</span>'


def _text(value: Any) -> str:
    return "–" if value is None else html.escape(str(value))


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
        f"{body}</body></html>\n"
    )


def _nav(report_href: str | None, index: bool = True) -> str:
    """Links to the index and to the dashboard's offline report."""
    links = ["<a href='index.html'>All suites</a>"] if index else []
    if report_href:
        links.append(
            f"<a id='dashboard-report' href='{html.escape(report_href)}'>Dashboard report</a>"
            " (the marts served now, written by each publish)"
        )
    return f"<nav>{' · '.join(links)}</nav>" if links else ""


def _counts(outcome: dict[str, Any]) -> dict[str, int]:
    """Rules passed / failed / skipped (also for a record written before counts existed)."""
    counts = dict.fromkeys(STATUSES, 0)
    for rule in outcome["rules"]:
        status = rule.get("status") or ("passed" if rule["success"] else "failed")
        counts[status] += 1
    return counts


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{counts[status]:,} {status}" for status in STATUSES)


def _observed(rule: dict[str, Any]) -> str:
    """The observed measure, the failing rows, the error or why the rule was skipped."""
    if rule.get("status") == "skipped":
        return f"<span class='skipped'>skipped: {html.escape(rule['skipped'] or '')}</span>"
    if rule["error"]:
        return f"could not be checked: {html.escape(rule['error'])}"
    if rule["observed"] is not None:
        from orchestration.lib.quality.validate import RuleOutcome

        fields = {name: rule.get(name) for name in RuleOutcome.__dataclass_fields__}
        return html.escape(RuleOutcome(**fields).observed_text())
    if not rule["denominator"]:
        return "no rows"
    return (
        f"{format_count(rule['unexpected_count'])} of {format_count(rule['denominator'])} rows fail"
    )


def render_suite(outcome: dict[str, Any], checked_at: str, report_href: str | None = None) -> str:
    """One suite's page: status, rules passed / failed / skipped, every rule with its result
    (a skipped rule says why), the measures and the baseline."""
    rows = "".join(
        f"<tr data-rule-status='{html.escape(rule.get('status') or '')}'>"
        f"<td>{_rule_status(rule)}</td>"
        f"<td>{rule['severity'].upper()}</td><td>{_text(rule['column'])}</td>"
        f"<td>{html.escape(rule['rule'])}<br><code>{html.escape(rule['expectation'])}</code></td>"
        f"<td>{_observed(rule)}</td>"
        f"<td>{html.escape(', '.join(rule['sample_keys']))}</td>"
        "</tr>"
        for rule in outcome["rules"]
    )
    measures = "".join(
        f"<tr><td>{html.escape(name)}</td><td class='number'>{format_number(value, name)}</td>"
        f"<td class='number'>{format_number((outcome['baseline'] or {}).get(name), name)}</td>"
        "</tr>"
        for name, value in outcome["measures"].items()
    )
    counts = _counts(outcome)
    body = (
        f"{_nav(report_href)}<h1>{html.escape(outcome['suite'])} "
        f"{_status(outcome['severity'])}</h1>"
        f"<p id='summary'>Table <code>{html.escape(outcome['relation'])}</code>: "
        f"<span id='rows'>{format_count(outcome['rows'])}</span> rows; "
        f"{len(outcome['rules'])} rules: {_counts_text(counts)}. "
        f"Checked {html.escape(checked_at)} (rows read in {outcome['batches']:,} "
        "batch(es)).</p>"
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


def summary_line(outcomes: list[dict[str, Any]]) -> str:
    """One line: suites passed / with warnings / failed, and rules passed / failed / skipped."""
    suites = {
        label: sum(1 for outcome in outcomes if outcome["severity"] == severity)
        for label, severity in (("passed", None), ("with warnings", "warn"), ("failed", "error"))
    }
    rules = dict.fromkeys(STATUSES, 0)
    for outcome in outcomes:
        for status, number in _counts(outcome).items():
            rules[status] += number
    verdict = (
        "an ERROR rule failed: nothing is published until it passes"
        if suites["failed"]
        else "no ERROR rule failed"
    )
    latest = max((outcome.get("checked_at") or "" for outcome in outcomes), default="")
    return (
        f"{len(outcomes)} suites (latest check {latest or 'never'}): {suites['passed']} "
        f"passed, {suites['with warnings']} with "
        f"warnings, {suites['failed']} failed ({verdict}). {sum(rules.values()):,} rules: "
        f"{_counts_text(rules)}."
    )


def render_index(outcomes: list[dict[str, Any]], report_href: str | None = None) -> str:
    """A one-line summary, then every suite's latest result, failed first."""
    order = {"error": 0, "warn": 1, None: 2}
    rows = ""
    for outcome in sorted(outcomes, key=lambda o: (order[o["severity"]], o["suite"])):
        counts = _counts(outcome)
        notes = [html.escape(message) for message in outcome["messages"]]
        if outcome.get("skipped"):
            notes.append(f"<span class='skipped'>skipped: {html.escape(outcome['skipped'])}</span>")
        reasons = sorted(
            {
                rule.get("skipped") or ""
                for rule in outcome["rules"]
                if rule.get("status") == "skipped"
            }
        )
        notes += [f"<span class='skipped'>skipped: {html.escape(r)}</span>" for r in reasons]
        suite = html.escape(outcome["suite"])
        rows += (
            f"<tr id='{suite}'><td>{_status(outcome['severity'])}</td>"
            f"<td><a href='{suite}.html'>{suite}</a></td>"
            f"<td><code>{html.escape(outcome.get('table') or outcome['relation'])}</code></td>"
            f"<td class='number'>{format_count(outcome['rows'])}</td>"
            + "".join(f"<td class='number'>{counts[status]:,}</td>" for status in STATUSES)
            + f"<td>{html.escape(outcome['checked_at'])}</td><td>{'<br>'.join(notes)}</td></tr>"
        )
    return _page(
        "Data quality",
        f"<h1>Data quality</h1><p id='summary'>{html.escape(summary_line(outcomes))}</p>"
        f"{_nav(report_href, index=False)}"
        "<p>The latest result of every Great Expectations suite. ERROR rules block everything "
        "downstream (nothing is published); WARN rules are reported and the run goes on. A "
        "skipped rule had nothing to check (for example no previous good run to compare "
        "with) and blocks nothing.</p>"
        "<table><tr><th>result</th><th>suite</th><th>table</th><th>rows</th>"
        "<th>rules passed</th><th>failed</th><th>skipped</th><th>checked</th>"
        f"<th>failures and skipped rules</th></tr>{rows}</table>",
    )


def _write_atomically(path: Path, text: str) -> None:
    staged = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    staged.write_text(text, encoding="utf-8")
    os.replace(staged, path)


def report_link(folder: Path, exports_dir: Path | None) -> str | None:
    """The dashboard's offline report (`exports_dir`/current/report.html) as a link relative
    to the quality folder `folder`, e.g. '../exports/current/report.html'."""
    if exports_dir is None:
        return None
    target = Path(os.path.abspath(exports_dir)) / "current" / "report.html"
    return Path(os.path.relpath(target, os.path.abspath(folder))).as_posix()


def build_stamp(build_file: Path) -> str:
    """What identifies one state of a build file: its modification time and size (a new
    dbt build rewrites the file; validating and publishing only read it)."""
    stat = build_file.stat()
    return f"{stat.st_mtime_ns}:{stat.st_size}"


def suite_verdicts(folder: Path, build_file: Path, run_id: str | None = None) -> dict[str, str]:
    """Every suite's verdict on exactly this state of `build_file`, from its latest record in
    the quality folder `folder`: 'passed' (no ERROR rule failed), 'failed', 'another build
    file' (the latest record checked another warehouse file: one quality folder serves one
    warehouse file) or 'not validated' (no record of this state: never validated, validated
    before the file last changed, or skipped as a whole). With `run_id`, a record written by
    that Dagster run's checks counts whatever state it names: the run's later steps rewrote
    other tables of the file (the dbt build after the raw suites, the CLV step after the mart
    suites)."""
    from orchestration.lib.quality.suites import SUITES

    stamp = build_stamp(build_file)
    verdicts = dict.fromkeys(SUITES, "not validated")
    for name in SUITES:
        try:
            record = json.loads((folder / f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            continue
        if record.get("build_file") != str(build_file.resolve()):
            if record.get("build_file"):
                verdicts[name] = "another build file"
            continue
        if record.get("skipped"):
            continue
        if record.get("build_stamp") == stamp or (
            run_id is not None and record.get("dagster_run_id") == run_id
        ):
            verdicts[name] = "failed" if record.get("severity") == "error" else "passed"
    return verdicts


def write_reports(
    outcome: SuiteOutcome,
    folder: Path,
    exports_dir: Path | None = None,
    build_file: Path | None = None,
    run_id: str | None = None,
) -> Path:
    """Write `<suite>.html` and `.json` for `outcome`, refresh index.html; returns the page.
    With `exports_dir`, every page links to the dashboard's offline report in it; with
    `build_file`, the record names the build state it checked (see `suite_verdicts`: publish
    requires a passing record of every suite for the state it publishes); with `run_id`, the
    Dagster run whose check wrote it."""
    folder.mkdir(parents=True, exist_ok=True)
    href = report_link(folder, exports_dir)
    checked_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    record = {
        **outcome.to_dict(),
        "table": outcome.table,
        "checked_at": checked_at,
        "messages": outcome.messages(),
        "build_file": str(build_file.resolve()) if build_file else None,
        "build_stamp": build_stamp(build_file) if build_file and build_file.exists() else None,
        "dagster_run_id": run_id,
    }
    page = folder / f"{outcome.suite}.html"
    _write_atomically(folder / f"{outcome.suite}.json", json.dumps(record, default=str))
    _write_atomically(page, render_suite(record, checked_at, href))
    records = []
    for sidecar in sorted(folder.glob("*.json")):
        try:
            records.append(json.loads(sidecar.read_text(encoding="utf-8")))
        except (OSError, json.JSONDecodeError):
            continue
    _write_atomically(folder / "index.html", render_index(records, href))
    return page
