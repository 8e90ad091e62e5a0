"""The fault-injection suite: realistic faults planted in otherwise good raw files, each run end
to end through Dagster (landing → raw GX checks → dbt build and tests → mart GX checks → publish).

Every fault has one documented outcome (docs/data-quality.md → "Faults and what happens"):
- quarantined with the right reason, and the run succeeds and publishes;
- warned, and the run succeeds and publishes;
- the run fails with a message naming the file or table, the column and the rule; then the
  served file stays byte-identical and every served table hashes as before.
In every case nothing is silently lost: rows read = accepted + quarantined + collapsed, and rows
read = the data lines planted in the file (counted here with Python's csv module).
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from conftest import BIN, pseudonym

from orchestration.lib.settings import RAW_TABLES

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

BASE = {"customers": 300, "seed": 11, "start": "2024-01-01", "end": "2025-12-31"}
"""The otherwise good raw data: a small generated shop without defects."""

MISSING_CUSTOMER = "999999"


# --- raw files ------------------------------------------------------------------------------


@dataclass
class RawFile:
    """A raw CSV as header + rows of text, and how to write it back."""

    header: list[str]
    rows: list[list[str]]
    encoding: str = "utf-8"
    newline: str = "\n"
    bom: bool = False
    extra_lines: list[str] = field(default_factory=list)

    def column(self, name: str) -> int:
        return self.header.index(name)

    def find(self, key: str) -> list[str]:
        return next(row for row in self.rows if row[0] == key)

    def set(self, key: str, column: str, value: str) -> None:
        self.find(key)[self.column(column)] = value

    def write(self, path: Path) -> None:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator=self.newline)
        writer.writerow(self.header)
        writer.writerows(self.rows)
        text = buffer.getvalue() + "".join(line + self.newline for line in self.extra_lines)
        # a Latin-1 export has already lost what Latin-1 cannot hold (e.g. 'ş' becomes '?')
        data = text.encode(self.encoding, errors="replace")
        path.write_bytes((b"\xef\xbb\xbf" if self.bom else b"") + data)


def read_raw(path: Path) -> RawFile:
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return RawFile(header, rows)


def data_lines(path: Path, encoding: str = "utf-8-sig") -> int:
    """Records in a CSV file, counted independently of DuckDB."""
    with path.open(newline="", encoding=encoding) as handle:
        return max(sum(1 for _ in csv.reader(handle)) - 1, 0)


@pytest.fixture(scope="module")
def base_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fault_base") / "raw"
    args = [f"--{name}={value}" for name, value in BASE.items()]
    done = subprocess.run(
        [str(BIN / "customer-analytics"), "generate", *args, "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def unreferenced_orders(raw: Path) -> list[str]:
    """Orders no session or survey response points at: quarantining one cascades nowhere."""
    referenced = {row[-1] for row in read_raw(raw / "sessions.csv").rows} | {
        row[2] for row in read_raw(raw / "survey_responses.csv").rows
    }
    return [row[0] for row in read_raw(raw / "orders.csv").rows if row[0] not in referenced]


# --- running the pipeline through Dagster -----------------------------------------------------


@dataclass
class Site:
    root: Path

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def build(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        return self.root / "serving" / "served.duckdb"

    @property
    def exports(self) -> Path:
        return self.root / "exports"


@dataclass
class Run:
    success: bool
    materialized: set[str]
    checks: dict[str, tuple[bool, str, str]]  # check -> (passed, severity, description)
    step_errors: list[str]
    logs: str


def run_pipeline(site: Site, csv_encoding: str = "utf-8") -> Run:
    """Materialise every asset and check, as the daily_refresh job does."""
    from orchestration.definitions import defs as load
    from orchestration.defs.resources import WarehouseResource

    defs = load()
    resources = dict(defs.resources)
    resources["warehouse"] = WarehouseResource(
        database=str(site.build),
        landing_dir=str(site.landing),
        serving_database=str(site.serving),
        exports_dir=str(site.exports),
        quality_dir=str(site.root / "quality"),
        csv_encoding=csv_encoding,
    )
    instance = dg.DagsterInstance.ephemeral()
    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
    result = dg.materialize(
        [*assets, *defs.asset_checks],
        resources=resources,
        instance=instance,
        raise_on_error=False,
    )
    checks = {}
    errors = []
    for event in result.all_events:
        if event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            checks[evaluation.check_name] = (
                evaluation.passed,
                str(evaluation.severity.value),
                evaluation.description or "",
            )
        elif event.event_type_value == "STEP_FAILURE":
            error, parts = event.step_failure_data.error, []
            while error is not None:
                parts.append(error.message)
                error = error.cause
            errors.append(" ".join(parts))
    logs = "\n".join(record.user_message for record in instance.all_logs(result.run_id))
    materialized = {
        m.event_specific_data.materialization.asset_key.to_user_string()
        for m in result.get_asset_materialization_events()
    }
    return Run(result.success, materialized, checks, errors, logs)


def warned(run: Run) -> set[str]:
    """Checks that failed with severity WARN (the run goes on)."""
    return {name for name, (passed, severity, _) in run.checks.items() if not passed}


@dataclass
class Baseline:
    site: Site
    warnings: set[str]


@pytest.fixture(scope="module")
def baseline(base_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Baseline:
    """The good base data, run and published: the previous good run of every fault. On a
    shop this small, a few NPS months and segments have few responses: those checks warn."""
    site = Site(tmp_path_factory.mktemp("fault_baseline"))
    shutil.copytree(base_raw, site.landing)
    run = run_pipeline(site)
    assert run.success, run.step_errors
    assert all(passed or severity == "WARN" for passed, severity, _ in run.checks.values())
    assert warned(run) <= {"gx_rpt_nps_monthly", "gx_rpt_nps_by_segment"}, run.checks
    assert "serving/published_marts" in run.materialized
    return Baseline(site, warned(run))


@pytest.fixture
def site(baseline: Baseline, base_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Site:
    """A fresh installation whose last good publication is the baseline's. Always at the same
    path, emptied first: the runs share dbt's parse of the project (it is keyed by the
    warehouse file's path), as a real installation's daily runs do."""
    site = Site(tmp_path_factory.getbasetemp() / "fault_site")
    if site.root.exists():
        shutil.rmtree(site.root)
    shutil.copytree(base_raw, site.landing)
    site.serving.parent.mkdir(parents=True)
    shutil.copy2(baseline.site.serving, site.serving)
    shutil.copytree(baseline.site.exports, site.exports, symlinks=True)
    return site


def served_state(site: Site) -> dict[str, str]:
    """SHA-256 of the served file and of every served table's rows (in a total order)."""
    state = {"file": hashlib.sha256(site.serving.read_bytes()).hexdigest()}
    with duckdb.connect(str(site.serving), read_only=True) as con:
        tables = [
            name
            for (name,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'marts' order by 1"
            ).fetchall()
        ]
        for table in tables:
            rows = con.execute(f"select * from marts.{table} order by all").fetchall()
            state[table] = hashlib.sha256(repr(rows).encode()).hexdigest()
    state["current"] = os.readlink(site.exports / "current")
    return state


def assert_row_balance(site: Site, planted: dict[str, int]) -> None:
    """rows read = accepted + quarantined + collapsed, and rows read = the file's records."""
    with duckdb.connect(str(site.build), read_only=True) as con:
        rows = con.execute(
            "select source_table, rows_read, rows_accepted, rows_quarantined,"
            " rows_collapsed_duplicates from marts.rpt_data_quality"
        ).fetchall()
    for source_table, read, accepted, quarantined, collapsed in rows:
        assert read == accepted + quarantined + collapsed, source_table
        assert read == planted[source_table.split(".")[1]], source_table


def planted_counts(site: Site, encoding: str = "utf-8-sig") -> dict[str, int]:
    return {table: data_lines(site.landing / f"{table}.csv", encoding) for table in RAW_TABLES}


def quarantine(site: Site) -> set[tuple[str, str, str, str]]:
    with duckdb.connect(str(site.build), read_only=True) as con:
        return set(
            con.execute(
                "select source_table, source_key, rejection_reason, rejection_column"
                " from staging.stg_quarantine__rejected_rows"
            ).fetchall()
        )


# --- faults that are quarantined or warned: one run, each fault on its own rows --------------


def test_row_faults_are_quarantined_with_their_reason_and_the_run_publishes(
    site: Site, base_raw: Path, baseline: Baseline
) -> None:
    free = unreferenced_orders(base_raw)
    orders = read_raw(site.landing / "orders.csv")
    wrong_type, impossible_date, negative, future, conflicting, unknown, offset, dst = free[:8]
    orders.set(wrong_type, "gross_amount", "12,5O")
    orders.set(impossible_date, "ordered_at", "2025-02-30T10:00:00+01:00")
    orders.set(negative, "shipping_amount", "-4.95")
    orders.set(future, "ordered_at", "2031-01-01T10:00:00+01:00")
    twin = list(orders.find(conflicting))
    twin[orders.column("status")] = "cancelled" if twin[3] != "cancelled" else "completed"
    orders.rows.append(twin)
    orders.set(unknown, "customer_id", MISSING_CUSTOMER)
    orders.set(offset, "ordered_at", "2025-06-15T23:30:00-05:00")
    orders.set(dst, "ordered_at", "2025-03-30T02:30:00")  # a Berlin DST-gap wall time, no offset
    orders.write(site.landing / "orders.csv")

    surveys = read_raw(site.landing / "survey_responses.csv")
    linked = [row[0] for row in surveys.rows if row[1]]
    nps_11, nps_minus_1 = linked[:2]
    surveys.set(nps_11, "score", "11")
    surveys.set(nps_minus_1, "score", "-1")
    surveys.write(site.landing / "survey_responses.csv")

    sessions = read_raw(site.landing / "sessions.csv")
    identified = [row[0] for row in sessions.rows if row[2] and not row[-1]]
    session_unknown = identified[0]
    sessions.set(session_unknown, "customer_id", MISSING_CUSTOMER)
    sessions.rows.append(list(sessions.find(identified[1])))  # an exact duplicate row
    sessions.newline = "\r\n"  # CRLF line ends
    sessions.write(site.landing / "sessions.csv")

    customers = read_raw(site.landing / "customers.csv")
    customers.header.append("loyalty_tier")  # a column outside the contract
    for row in customers.rows:
        row.append("gold")
    customers.bom = True  # UTF-8 with BOM
    customers.write(site.landing / "customers.csv")

    run = run_pipeline(site)
    assert run.success, run.step_errors
    assert "serving/published_marts" in run.materialized
    assert quarantine(site) == {
        ("shop.orders", wrong_type, "unparseable_value", "gross_amount"),
        ("shop.orders", impossible_date, "unparseable_value", "ordered_at"),
        ("shop.orders", negative, "negative_amount", "shipping_amount"),
        ("shop.orders", future, "future_timestamp", "ordered_at"),
        ("shop.orders", conflicting, "duplicate_conflicting", "order_id"),
        ("shop.orders", unknown, "unknown_customer", "customer_id"),
        ("nps.survey_responses", nps_11, "out_of_range", "score"),
        ("nps.survey_responses", nps_minus_1, "out_of_range", "score"),
        ("web_analytics.sessions", session_unknown, "unknown_customer", "customer_id"),
    }
    assert_row_balance(site, planted_counts(site))
    with duckdb.connect(str(site.build), read_only=True) as con:
        ordered = dict(
            con.execute(
                "select order_id, ordered_at from marts.fct_orders where order_id in (?, ?)",
                [offset, dst],
            ).fetchall()
        )
        (collapsed,) = con.execute(
            "select rows_collapsed_duplicates from marts.rpt_data_quality"
            " where source_table = 'web_analytics.sessions'"
        ).fetchone()
        (customers_served,) = con.execute("select count(*) from marts.dim_customers").fetchone()
    assert ordered == {
        offset: datetime(2025, 6, 16, 4, 30),  # −05:00 converted to UTC
        dst: datetime(2025, 3, 30, 2, 30),  # no offset: read as UTC, where 02:30 exists
    }
    assert collapsed == 1
    assert customers_served == len(customers.rows)  # the BOM did not hide customer_id
    assert "outside the raw data contract, ignored: loyalty_tier" in run.logs
    # the quarantine share stays under the warning threshold: no GX check more than before
    assert warned(run) == baseline.warnings, run.checks


def test_shifted_order_values_warn_and_a_latin_1_export_reads_right(
    site: Site, base_raw: Path, baseline: Baseline
) -> None:
    orders = read_raw(site.landing / "orders.csv")
    for row in orders.rows:
        for column in ("gross_amount", "discount_amount"):
            value = row[orders.column(column)]
            row[orders.column(column)] = f"{float(value) * 1.6:.2f}"
    for table in RAW_TABLES:
        raw = orders if table == "orders" else read_raw(site.landing / f"{table}.csv")
        raw.encoding = "latin-1"
        raw.write(site.landing / f"{table}.csv")
    before = served_state(site)

    run = run_pipeline(site, csv_encoding="latin-1")
    assert run.success, run.step_errors
    assert warned(run) == baseline.warnings | {"gx_fct_orders"}
    passed, severity, description = run.checks["gx_fct_orders"]
    assert (passed, severity) == (False, "WARN")
    assert "median completed-order value within ×0.8–×1.25" in description
    assert "serving/published_marts" in run.materialized
    assert served_state(site)["current"] != before["current"]  # published despite the warning
    cities = {pseudonym(row[0]): row[6] for row in read_raw(base_raw / "customers.csv").rows}
    assert any(not city.isascii() for city in cities.values())
    with duckdb.connect(str(site.serving), read_only=True) as con:
        served = dict(con.execute("select customer_key, city from marts.dim_customers").fetchall())
    assert served == cities
    assert_row_balance(site, planted_counts(site, encoding="latin-1"))


# --- faults that fail the run: nothing is published -------------------------------------------


def _header_only(raw: RawFile) -> None:
    raw.rows.clear()


def _drop_status_column(raw: RawFile) -> None:
    index = raw.column("status")
    raw.header.pop(index)
    for row in raw.rows:
        row.pop(index)


def _keep_40_percent(raw: RawFile) -> None:
    raw.rows[:] = raw.rows[: len(raw.rows) * 2 // 5]


def _huge_amount(raw: RawFile) -> None:
    raw.rows[0][raw.column("gross_amount")] = "250000.00"


def _too_many_fields(raw: RawFile) -> None:
    raw.extra_lines.append(",".join(raw.rows[0] + ["surplus"]))


def _unterminated_quote(raw: RawFile) -> None:
    raw.extra_lines.append(",".join(raw.rows[0][:-2]) + ',"never closed,web')


@dataclass(frozen=True)
class FailingFault:
    table: str
    plant: Callable[[RawFile], None] | None  # None: an empty (0 byte) file
    says: list[str]  # fragments the failure must contain: file or table, column, rule
    failed_check: str | None = None  # the GX check that blocks, if not the landing step
    before_dbt: bool = True


FAILING_FAULTS = {
    "empty file": FailingFault("orders", None, ["orders.csv", "is empty", "header row"]),
    "missing required column": FailingFault(
        "orders", _drop_status_column, ["orders.csv", "no column 'status'", "_shop__sources.yml"]
    ),
    "malformed row (too many fields)": FailingFault(
        "orders",
        _too_many_fields,
        ["orders.csv is malformed: line {last_row} has 11 fields where the header has 10"],
    ),
    "unterminated quote": FailingFault(
        "survey_responses",
        _unterminated_quote,
        [
            "survey_responses.csv is malformed: line {last_row}, column comment:",
            "a value in double quotes is not closed",
        ],
    ),
    "header-only file": FailingFault(
        "orders",
        _header_only,
        ["raw.orders", "row count within ×0.5–×2.0 of the previous good run", "observed 0"],
        failed_check="gx_raw_orders",
    ),
    "60 % volume drop": FailingFault(
        "orders",
        _keep_40_percent,
        [
            "raw.orders",
            "row count within ×0.5–×2.0 of the previous good run",
            "observed 0.4 times the previous good run",
        ],
        failed_check="gx_raw_orders",
    ),
    "huge amount": FailingFault(
        "orders",
        _huge_amount,
        ["marts.fct_orders.gross_amount_eur", "between 0 and 50,000", "1 of"],
        failed_check="gx_fct_orders",
        before_dbt=False,
    ),
}


@pytest.mark.parametrize("fault", sorted(FAILING_FAULTS))
def test_faults_that_fail_the_run_name_the_cause_and_publish_nothing(
    fault: str, site: Site
) -> None:
    spec = FAILING_FAULTS[fault]
    path = site.landing / f"{spec.table}.csv"
    last_row = data_lines(path) + 2  # header, the good rows, then the planted one
    if spec.plant is None:
        path.write_bytes(b"")
    else:
        raw = read_raw(path)
        spec.plant(raw)
        raw.write(path)
    before = served_state(site)

    run = run_pipeline(site)
    assert not run.success
    assert "serving/published_marts" not in run.materialized
    assert served_state(site) == before  # byte-identical file, same table hashes, same exports
    if spec.failed_check:
        passed, severity, message = run.checks[spec.failed_check]
        assert (passed, severity) == (False, "ERROR")
    else:
        message = " ".join(run.step_errors)
    for fragment in spec.says:
        fragment = fragment.replace("{last_row}", str(last_row))
        assert fragment in message, (fragment, message[:2000])
    if spec.before_dbt:
        assert not any(key.startswith(("staging/", "marts/")) for key in run.materialized)
    else:
        assert_row_balance(site, planted_counts(site))  # nothing lost, even when blocked


def test_running_out_of_memory_is_a_clean_error_that_publishes_nothing(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A memory_limit far too small, with no room to spill: DuckDB's Out of Memory Error
    fails the run (the dbt process exits with an error, it is not killed) and the last good
    publication stays served."""
    monkeypatch.setenv("CUSTOMER_ANALYTICS_MEMORY_LIMIT", "20MB")
    monkeypatch.setenv("CUSTOMER_ANALYTICS_MAX_TEMP_SIZE", "1MB")
    before = served_state(site)

    run = run_pipeline(site)
    assert not run.success
    assert "serving/published_marts" not in run.materialized
    assert served_state(site) == before
    said = " ".join(run.step_errors) + run.logs
    assert "Out of Memory Error: could not allocate block" in said, said[-3000:]
    assert "exit code -9" not in said and "Killed" not in said
