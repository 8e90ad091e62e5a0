"""No personal data in errors: a malformed or mis-encoded raw file fails the build with an error
naming the file, the line and (when there is one) the column, and no value of the file shows
up anywhere: not on the console, not in dbt's logs or target/ (run_results.json holds every
node's message), not in Dagster's storage, run metadata or failure summary.

Each case plants made-up personal values (emails, names, birth dates, cities) in the first
rows of the shipped customers export, then one defect on a known line, and scans for the
planted values (tests/personal_data.py). DuckDB's own CSV errors print the whole line
("Original Line: ..."); the raw reader records rejects instead and names line and column
(macros/raw/raise_on_malformed_raw_lines.sql).
"""

from __future__ import annotations

import gzip
import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import BIN, REPO, DbtResult, dbt_builder
from personal_data import PlantedCustomers, files_under, find_planted, plant_customers

pytestmark = pytest.mark.build


@pytest.fixture
def dbt_build(tmp_path: Path) -> Callable[..., DbtResult]:
    """conftest's dbt_build with dbt's debug log written: the scans read it."""
    return dbt_builder(tmp_path, file_log="debug")


SHIPPED = REPO / "data" / "raw"
LINE = 10
"""The file line (the header is line 1) each defect is planted on: a row with planted values."""


@dataclass(frozen=True)
class Defect:
    plant: Callable[[PlantedCustomers], None]
    line: int | None  # the line the error must name
    column: str | None  # the column it must name, when there is one
    encoding: str = "utf-8"  # the file's bytes (the build is told utf-8)
    gzip: bool = False
    vars_: dict | None = None


def _unterminated_quote(raw: PlantedCustomers) -> None:
    fields = raw.fields(LINE)
    raw.lines[LINE - 1] = ",".join([fields[0], '"' + fields[1], *fields[2:]])


def _too_many_fields(raw: PlantedCustomers) -> None:
    raw.set_fields(LINE, [*raw.fields(LINE), raw.planted[LINE]["email"]])


def _too_few_fields(raw: PlantedCustomers) -> None:
    raw.set_fields(LINE, raw.fields(LINE)[:6])


def _bytes_not_utf8(raw: PlantedCustomers) -> None:
    fields = raw.fields(LINE)
    fields[raw.header.index("last_name")] += "\udcff\udcfe"  # written as the bytes ff fe
    raw.set_fields(LINE, fields)


def _latin1_umlaut(raw: PlantedCustomers) -> None:
    fields = raw.fields(LINE)
    fields[raw.header.index("first_name")] = "Jür" + fields[raw.header.index("first_name")]
    raw.set_fields(LINE, fields)


def _over_long_line(raw: PlantedCustomers) -> None:
    fields = raw.fields(LINE)
    fields[raw.header.index("city")] += "x" * 2_500_000  # DuckDB's limit: 2,097,152 bytes
    raw.set_fields(LINE, fields)


def _bad_header_byte(raw: PlantedCustomers) -> None:
    raw.lines[0] = raw.lines[0].replace("first_name", "first\udcffname")


def _no_header_row(raw: PlantedCustomers) -> None:
    """A file exported without its header: the first row of values is taken for the header,
    and it names one value twice."""
    fields = raw.fields(2)
    fields[raw.header.index("last_name")] = fields[raw.header.index("first_name")]
    raw.set_fields(2, fields)
    del raw.lines[0]


DEFECTS = {
    "unterminated quote": Defect(_unterminated_quote, LINE, "email"),
    "too many fields": Defect(_too_many_fields, LINE, None),
    "too many fields, gzip": Defect(_too_many_fields, LINE, None, gzip=True),
    "too few fields": Defect(_too_few_fields, LINE, "city"),
    "bytes not utf-8": Defect(_bytes_not_utf8, LINE, "last_name"),
    "a latin-1 file read as utf-8": Defect(_latin1_umlaut, LINE, "first_name", "latin-1"),
    "an over-long line": Defect(_over_long_line, LINE, None),
    "a bad byte in the header": Defect(_bad_header_byte, 1, None),
    "no header row, a value twice": Defect(
        _no_header_row, None, None, vars_={"raw_format": {"delimiter": ","}}
    ),
}


def write_landing(landing: Path, raw: PlantedCustomers, defect: Defect | None) -> Path:
    """The shipped exports in `landing`, customers replaced by `raw` with `defect` planted."""
    landing.mkdir(parents=True)
    for path in SHIPPED.glob("*.csv"):
        if path.name != "customers.csv":
            shutil.copy(path, landing / path.name)
    if defect is not None:
        defect.plant(raw)
    data = raw.data(defect.encoding if defect else "utf-8")
    if defect is not None and defect.gzip:
        path = landing / "customers.csv.gz"
        path.write_bytes(gzip.compress(data))
    else:
        path = landing / "customers.csv"
        path.write_bytes(data)
    return path


def node_message(work_dir: Path, node: str = "model.customer_analytics.raw_customers") -> str:
    results = json.loads((work_dir / "target" / "run_results.json").read_text())
    (message,) = [r["message"] for r in results["results"] if r["unique_id"] == node]
    return " ".join((message or "").split())  # dbt wraps long messages


def leaks(raw: PlantedCustomers, output: str, work_dir: Path) -> dict[str, list[str]]:
    """Planted values in the console output, dbt's logs and target/ (never the warehouse)."""
    places = {"console": output, **files_under(work_dir / "logs", work_dir / "target")}
    return find_planted(raw.tokens(), places)


@pytest.mark.parametrize("case", sorted(DEFECTS))
def test_a_malformed_customers_file_names_file_line_and_column_and_no_value(
    case: str, tmp_path: Path, dbt_build: Callable[..., DbtResult]
) -> None:
    defect = DEFECTS[case]
    raw = plant_customers(SHIPPED / "customers.csv")
    path = write_landing(tmp_path / "landing", raw, defect)

    result = dbt_build(
        "build", ["raw_customers"], raw_data_path=str(path.parent), **(defect.vars_ or {})
    )
    assert result.returncode != 0, result.output[-3000:]
    message = node_message(tmp_path / "build")
    assert f"Raw file {path}" in message, message
    if defect.line is not None:
        assert re.search(rf"\bline {defect.line}\b", message), message
    if defect.column is not None:
        assert re.search(rf"\b{defect.column}\b", message), message
    assert message in " ".join(result.output.split())  # the console says the same
    assert leaks(raw, result.output, tmp_path / "build") == {}


def test_a_nul_byte_is_read_as_a_value_and_never_shown(
    tmp_path: Path, dbt_build: Callable[..., DbtResult]
) -> None:
    """DuckDB reads a NUL byte inside a field as part of the value: no error, nothing shown."""
    raw = plant_customers(SHIPPED / "customers.csv")
    fields = raw.fields(LINE)
    fields[raw.header.index("last_name")] += "\x00"
    raw.set_fields(LINE, fields)
    path = write_landing(tmp_path / "landing", raw, None)
    result = dbt_build("build", ["raw_customers"], raw_data_path=str(path.parent))
    assert result.returncode == 0, result.output[-3000:]
    assert result.query("select count(*) from raw.customers") == [(len(raw.lines) - 1,)]
    assert leaks(raw, result.output, tmp_path / "build") == {}


def test_a_malformed_file_keeps_the_last_good_landing(
    tmp_path: Path, dbt_build: Callable[..., DbtResult]
) -> None:
    """The failing raw model is rolled back: raw.customers and the recorded source stay those
    of the last good build."""
    raw = plant_customers(SHIPPED / "customers.csv")
    good = write_landing(tmp_path / "good", raw, None)
    first = dbt_build("build", ["raw_customers"], raw_data_path=str(good.parent))
    assert first.returncode == 0, first.output[-3000:]
    landed = first.query("select * from raw.customers order by customer_id")
    state = first.query("select * from staging.raw_source_state")

    bad = write_landing(
        tmp_path / "bad", plant_customers(SHIPPED / "customers.csv"), DEFECTS["too many fields"]
    )
    second = dbt_build("build", ["raw_customers"], raw_data_path=str(bad.parent))
    assert second.returncode != 0
    assert second.query("select * from raw.customers order by customer_id") == landed
    assert second.query("select * from staging.raw_source_state") == state


@pytest.mark.e2e
def test_dagster_stores_and_summarises_the_failure_without_a_value(tmp_path: Path) -> None:
    """`dagster job execute` of daily_refresh on a landing directory whose customers file has an
    unclosed quote: the run fails naming file, line and column, and neither the console, nor
    DAGSTER_HOME (event log, run metadata, compute logs), nor dbt's logs and target/, nor the
    run-failure summary holds a planted value."""
    import dagster as dg

    raw = plant_customers(SHIPPED / "customers.csv")
    defect = DEFECTS["unterminated quote"]
    path = write_landing(tmp_path / "landing", raw, defect)
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(REPO / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "CUSTOMER_ANALYTICS_LANDING_DIR": str(path.parent),
        "CUSTOMER_ANALYTICS_DB": str(tmp_path / "warehouse.duckdb"),
        "CUSTOMER_ANALYTICS_SERVING_DB": str(tmp_path / "serving" / "served.duckdb"),
        "CUSTOMER_ANALYTICS_EXPORTS_DIR": str(tmp_path / "exports"),
        "CUSTOMER_ANALYTICS_QUALITY_DIR": str(tmp_path / "quality"),
        "CUSTOMER_ANALYTICS_AUTOMATION": "off",
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    command = ["job", "execute", "-m", "orchestration.definitions", "-j", "daily_refresh"]
    done = subprocess.run(
        [str(BIN / "dagster"), *command],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode != 0, done.stdout[-3000:]

    from orchestration.defs.automation.sensors import failure_summary

    with dg.DagsterInstance.from_config(str(home)) as instance:
        (run,) = instance.get_runs()
        summary = failure_summary(run, instance)  # what the run-failure sensor writes
        stored = [dg.serialize_value(record) for record in instance.all_logs(run.run_id)]

    (failed,) = summary["failed_steps"]
    assert failed["step"] == "customer_analytics_raw"
    error = " ".join(failed["error"].split())
    assert f"Raw file {path}" in error and f"line {defect.line}" in error, error
    assert defect.column in error, error
    places = {
        "console": done.stdout + done.stderr,
        "failure summary": json.dumps(summary),
        "event log": "\n".join(stored),
        **files_under(home, tmp_path / "logs", tmp_path / "target"),
    }
    assert find_planted(raw.tokens(), places) == {}
