"""The Dagster definitions: the asset graph against the dbt manifest, a real in-process
materialisation on a throw-away DuckDB file, the schedule and the landing sensor."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pytest
from conftest import REPO

pytestmark = pytest.mark.e2e

RAW = REPO / "data" / "raw"

# Holds a DuckDB file's write lock until stdin closes; prints "held" once it has it.
HOLD_WRITE_LOCK = (
    "import sys, duckdb; con = duckdb.connect(sys.argv[1]); print('held', flush=True); "
    "sys.stdin.read(); con.close()"
)


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    from orchestration.definitions import defs as load

    return load()


@pytest.fixture(scope="module")
def manifest(defs: dg.Definitions) -> dict:
    from orchestration.lib.dbt_project import DBT_TARGET_PATH

    return json.loads((DBT_TARGET_PATH / "manifest.json").read_text())


def test_dg_check_defs_passes() -> None:
    import subprocess

    from conftest import BIN

    result = subprocess.run(
        [str(BIN / "dg"), "check", "defs"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert "All definitions loaded successfully" in result.stdout + result.stderr


def test_the_warehouse_pool_is_recorded_before_the_first_run(tmp_path: Path) -> None:
    """On a fresh instance Dagster records a pool only while it dequeues runs, after reading the
    recorded pools, so two runs queued at once would both start: reserve_warehouse_pool (run by
    `customer-analytics dev`) records it up front with dagster.yaml's one slot."""
    from orchestration.defs.resources import WAREHOUSE_POOL, reserve_warehouse_pool

    shutil.copy(REPO / "orchestration" / "dagster.yaml", tmp_path / "dagster.yaml")
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        storage = instance.event_log_storage
        assert WAREHOUSE_POOL not in storage.get_concurrency_keys()
        reserve_warehouse_pool(instance)
        reserve_warehouse_pool(instance)  # again: no error, one record
        assert [(p.name, p.limit) for p in storage.get_pool_limits()] == [(WAREHOUSE_POOL, 1)]
        assert WAREHOUSE_POOL in storage.get_concurrency_keys()


def test_definitions_validate(defs: dg.Definitions) -> None:
    dg.Definitions.validate_loadable(defs)
    assert {job.name for job in defs.jobs} == {"daily_refresh"}
    # one process a run: the steps are one chain, and dbt runs as a subprocess anyway
    assert defs.resolve_job_def("daily_refresh").executor_def is dg.in_process_executor
    assert {schedule.name for schedule in defs.schedules} == {"daily_refresh_schedule"}
    assert {sensor.name for sensor in defs.sensors} == {
        "landing_directory_sensor",
        "run_failure_summary",
    }


def test_asset_graph_holds_every_dbt_node_and_the_raw_tables(
    defs: dg.Definitions, manifest: dict
) -> None:
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    dbt_nodes = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed", "snapshot")
    ]
    assert len(dbt_nodes) >= 30
    for node in dbt_nodes:
        # the raw models land raw.<table>: their assets are raw/<table>
        name = node["alias"] if node["schema"] == "raw" else node["name"]
        assert f"{node['schema']}/{name}" in keys, node["unique_id"]
    for table in ("customers", "orders", "sessions", "survey_responses", "email_events"):
        assert f"raw/{table}" in keys
    # every dbt source is the raw landing asset of the same name
    for source in manifest["sources"].values():
        assert f"raw/{source['name']}" in keys
    marts = {
        dg.AssetKey(["marts", node["name"]])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    }
    # publish waits for every mart and for the CLV step that fills the CLV marts
    clv_fit = dg.AssetKey(["clv", "customer_clv_fit"])
    assert graph.get(dg.AssetKey(["serving", "published_marts"])).parent_keys == marts | {clv_fit}
    assert dg.AssetKey(["marts", "customer_clv_predictions"]) in graph.get(clv_fit).parent_keys
    # every dbt data test is an asset check, and so is every Great Expectations suite, and the
    # CLV step's own check
    from orchestration.lib.quality.suites import CLV_SUITES, SUITES, asset_key_path

    tests = [n for n in manifest["nodes"].values() if n["resource_type"] == "test"]
    check_names = {check.name for check in graph.asset_check_keys}
    assert len(tests) > 200
    assert len(list(graph.asset_check_keys)) == len(tests) + len(SUITES) + 1
    assert {test["name"] for test in tests} | {f"gx_{suite}" for suite in SUITES} | {
        "clv_fitted"
    } == check_names
    for suite in CLV_SUITES:  # checked where the CLV step writes them, not after dbt
        assert asset_key_path(suite) == ["clv", "customer_clv_fit"]
    for suite in SUITES:
        key = dg.AssetCheckKey(dg.AssetKey(asset_key_path(suite)), f"gx_{suite}")
        assert graph.get_check_spec(key).blocking, suite


def test_dagster_cannot_run_a_partitioned_child_of_partitioned_parents_without_days() -> None:
    """Why only the raw assets are partitioned by day (docs/dagster.md, "Why the incremental
    dbt models are not partitioned too"): a day-partitioned asset with a day-partitioned
    parent fails in a run without days, which is how the landing sensor lands every changed
    file. When Dagster lifts this, this test fails: partition the incremental models then."""
    days = dg.DailyPartitionsDefinition(start_date="2025-01-01")

    @dg.asset(partitions_def=days)
    def landed() -> None:
        return None

    @dg.asset(partitions_def=days, deps=[landed])
    def incremental() -> None:
        return None

    instance = dg.DagsterInstance.ephemeral()
    without_days = dg.materialize([landed, incremental], instance=instance, raise_on_error=False)
    (failure,) = [e for e in without_days.all_events if e.event_type_value == "STEP_FAILURE"]
    assert failure.step_key == "incremental"
    assert "non-partitioned run" in failure.event_specific_data.error_display_string
    one_day = dg.materialize([landed, incremental], instance=instance, partition_key="2025-01-02")
    assert one_day.success


def test_assets_carry_groups_owners_and_descriptions(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    node = graph.get(dg.AssetKey(["marts", "dim_customers"]))
    assert node.group_name == "marts_customers"
    assert node.owners == ["analytics-engineering@example.com"]  # models/_groups.yml
    assert node.description.startswith("The customer 360.")
    assert graph.get(dg.AssetKey(["raw", "orders"])).group_name == "raw"
    columns = node.metadata["dagster/column_schema"].columns
    assert "customer_key" in {column.name for column in columns}


def test_schedule_requests_the_daily_refresh_at_six_in_berlin(defs: dg.Definitions) -> None:
    schedule = defs.get_schedule_def("daily_refresh_schedule")
    assert schedule.cron_schedule == "0 6 * * *"
    assert schedule.execution_timezone == "Europe/Berlin"
    # each tick lands the day before it in Berlin, also just after midnight (22:30 UTC)
    for tick, yesterday in (
        (datetime(2026, 3, 30, 6, 0, tzinfo=ZoneInfo("Europe/Berlin")), "2026-03-29"),
        (datetime(2026, 3, 30, 0, 30, tzinfo=ZoneInfo("Europe/Berlin")), "2026-03-29"),
    ):
        with dg.build_schedule_context(
            scheduled_execution_time=tick.astimezone(UTC),
            repository_def=defs.get_repository_def(),
        ) as context:
            result = schedule.evaluate_tick(context)
        assert len(result.run_requests) == 1
        assert result.run_requests[0].job_name in (None, "daily_refresh")
        assert result.run_requests[0].partition_key == yesterday


def test_the_schedule_runs_every_data_test_over_every_row_once_a_week(
    defs: dg.Definitions,
) -> None:
    """Sunday's tick (in Berlin; the default day) asks for the full suite, the other days' for
    the scoped tests; the run's tag is what the dbt step turns into the dbt var."""
    from orchestration.lib.settings import DATA_TESTS_TAG, SettingError, data_tests_scope

    schedule = defs.get_schedule_def("daily_refresh_schedule")
    scopes = {}
    for day in range(22, 30):  # 2026-03-22 and 03-29 are Sundays
        tick = datetime(2026, 3, day, 6, 0, tzinfo=ZoneInfo("Europe/Berlin"))
        with dg.build_schedule_context(
            scheduled_execution_time=tick.astimezone(UTC),
            repository_def=defs.get_repository_def(),
        ) as context:
            (request,) = schedule.evaluate_tick(context).run_requests
        scopes[tick.strftime("%a %d")] = data_tests_scope(request.tags)
    assert scopes == {
        "Sun 22": "all", "Mon 23": "changed", "Tue 24": "changed", "Wed 25": "changed",
        "Thu 26": "changed", "Fri 27": "changed", "Sat 28": "changed", "Sun 29": "all",
    }  # fmt: skip
    assert data_tests_scope({}) == "changed"  # a run launched without the tag
    with pytest.raises(SettingError, match="use changed or all"):
        data_tests_scope({DATA_TESTS_TAG: "some"})


def test_schedule_cron_and_timezone_come_from_the_environment() -> None:
    from orchestration.lib.settings import Settings

    settings = Settings.from_env(
        {
            "CUSTOMER_ANALYTICS_SCHEDULE_CRON": "30 2 * * 1",
            "CUSTOMER_ANALYTICS_SCHEDULE_TIMEZONE": "UTC",
        }
    )
    assert (settings.schedule_cron, settings.schedule_timezone) == ("30 2 * * 1", "UTC")


def test_landing_sensor_runs_once_per_new_or_changed_file(
    defs: dg.Definitions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    monkeypatch.setenv("CUSTOMER_ANALYTICS_LANDING_DIR", str(landing))
    monkeypatch.setenv("CUSTOMER_ANALYTICS_DB", str(tmp_path / "no-warehouse.duckdb"))
    sensor = defs.get_sensor_def("landing_directory_sensor")

    def evaluate(cursor: str | None):
        with dg.build_sensor_context(cursor=cursor, instance=dg.DagsterInstance.ephemeral()) as ctx:
            result = sensor.evaluate_tick(ctx)
        return result.run_requests, result.cursor

    requests, cursor = evaluate(None)
    assert requests == []  # empty landing directory
    shutil.copy(RAW / "customers.csv", landing / "customers.csv")
    requests, cursor = evaluate(cursor)
    assert len(requests) == 1  # a new file
    first_key = requests[0].run_key
    requests, cursor = evaluate(cursor)
    assert requests == []  # the same file again
    (landing / "customers.csv").touch()
    requests, cursor = evaluate(cursor)
    assert requests == []  # touched, same content
    with (landing / "customers.csv").open("a") as handle:
        handle.write(
            "99999,new@example.com,Neu,Kunde,,DE,Berlin,2025-12-30T10:00:00+01:00,direct,,,true,\n"
        )
    requests, cursor = evaluate(cursor)
    assert len(requests) == 1  # a modified file
    assert requests[0].run_key != first_key


def test_landing_sensor_first_tick_skips_a_warehouse_built_from_the_same_files(
    defs: dg.Definitions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first tick (no cursor) compares the landing files' bytes with what the warehouse
    records it landed (staging.raw_source_state, digests computed here with hashlib)."""
    import duckdb

    landing = tmp_path / "landing"
    landing.mkdir()
    for name in ("customers.csv", "orders.csv"):
        shutil.copy(RAW / name, landing / name)
    database = tmp_path / "warehouse.duckdb"
    monkeypatch.setenv("CUSTOMER_ANALYTICS_LANDING_DIR", str(landing))
    monkeypatch.setenv("CUSTOMER_ANALYTICS_DB", str(database))
    sensor = defs.get_sensor_def("landing_directory_sensor")

    def record(digests: dict[str, str]) -> None:
        with duckdb.connect(str(database)) as con:
            con.execute("create schema if not exists staging")
            con.execute(
                "create or replace table staging.raw_source_state (table_name varchar,"
                " source_file varchar, raw_format varchar, source_sha256 varchar)"
            )
            for table, digest in digests.items():
                con.execute(
                    "insert into staging.raw_source_state values (?, ?, '{}', ?)",
                    [table, f"/elsewhere/{table}.csv", digest],
                )

    def first_tick():
        with dg.build_sensor_context(cursor=None, instance=dg.DagsterInstance.ephemeral()) as ctx:
            result = sensor.evaluate_tick(ctx)
        return result.run_requests, result.cursor

    digests = {
        table: hashlib.sha256((landing / f"{table}.csv").read_bytes()).hexdigest()
        for table in ("customers", "orders")
    }
    record(digests)
    (landing / "orders.csv").touch()  # a newer mtime, the same bytes
    requests, cursor = first_tick()
    assert requests == [] and cursor  # built from these files: nothing, but a baseline
    record({**digests, "orders": "0" * 64})  # the warehouse holds other orders
    requests, _ = first_tick()
    assert len(requests) == 1
    record({"customers": digests["customers"]})  # orders.csv never landed
    requests, _ = first_tick()
    assert len(requests) == 1
    # another process holds the file, as a build does: no run, no baseline, ask next tick
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(database)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        requests, cursor = first_tick()
    finally:
        holder.communicate("", timeout=60)
    assert requests == [] and cursor is None


def _materialize(
    defs: dg.Definitions,
    database: Path,
    landing: Path,
    instance: dg.DagsterInstance | None = None,
    without_checks: set[str] | frozenset[str] = frozenset(),
) -> dg.ExecuteInProcessResult:
    """Materialise every asset and check of `defs`, except the check ops named in
    `without_checks`."""
    from orchestration.defs.resources import WarehouseResource

    resources = dict(defs.resources)
    resources["warehouse"] = WarehouseResource(
        database=str(database),
        landing_dir=str(landing),
        serving_database=str(database.parent / "serving" / "served.duckdb"),
        exports_dir=str(database.parent / "exports"),
        quality_dir=str(database.parent / "quality"),
    )
    assets = [a for a in defs.assets if isinstance(a, dg.AssetsDefinition)]
    checks = [c for c in defs.asset_checks if c.node_def.name not in without_checks]
    assert len(checks) == len(list(defs.asset_checks)) - len(without_checks)
    return dg.materialize(
        [*assets, *checks],
        resources=resources,
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def test_materialising_everything_builds_every_mart(
    defs: dg.Definitions, manifest: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.lib.dbt_project import run_target_path

    monkeypatch.setenv("DBT_LOG_LEVEL_FILE", "debug")  # dbt's own setting, passed through
    database = tmp_path / "dagster.duckdb"
    result = _materialize(defs, database, RAW)
    assert result.success
    # the run's two dbt steps share one target directory: the second reuses the first's parse
    log = "".join(path.read_text() for path in run_target_path(database).glob("dbt.log*"))
    assert log.count("Running with dbt=") == 2
    assert log.count("Partial parsing enabled, no changes found") == 1
    materialized = {
        m.event_specific_data.materialization.asset_key.to_user_string()
        for m in result.get_asset_materialization_events()
    }
    marts = [
        f"marts/{node['name']}"
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    ]
    assert len(marts) >= 11
    assert set(marts) <= materialized
    evaluations = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    ]
    assert len(evaluations) > 200 and all(e.passed for e in evaluations)
    with duckdb.connect(str(database), read_only=True) as con:
        (customers,) = con.execute("select count(*) from marts.dim_customers").fetchone()
        (raw_customers,) = con.execute("select count(*) from raw.customers").fetchone()
    assert customers == raw_customers == 2000
    kpis = next(
        m.event_specific_data.materialization
        for m in result.get_asset_materialization_events()
        if m.event_specific_data.materialization.asset_key
        == dg.AssetKey(["marts", "rpt_kpis_monthly"])
    )
    assert kpis.metadata["dagster/row_count"].value >= 36
    assert "| month | net revenue (EUR) |" in kpis.metadata["headline"].value
    # the raw assets are observed with their staging balance and quarantine counts
    observations = {
        e.event_specific_data.asset_observation.asset_key.to_user_string(): (
            e.event_specific_data.asset_observation.metadata
        )
        for e in result.all_events
        if e.event_type_value == "ASSET_OBSERVATION"
    }
    orders = observations["raw/orders"]
    assert orders["rows_read"].value == 7585
    assert orders["rows_read"].value == (
        orders["rows_accepted"].value
        + orders["rows_quarantined"].value
        + orders["rows_collapsed_duplicates"].value
    )
    assert "quarantined_unknown_customer" in orders
    # published in the same run, after the checks: the served file holds the marts
    assert "serving/published_marts" in materialized
    with duckdb.connect(str(tmp_path / "serving" / "served.duckdb"), read_only=True) as con:
        (served_customers,) = con.execute("select count(*) from marts.dim_customers").fetchone()
        (build_ids,) = con.execute(
            "select count(distinct build_id) from marts.publication"
        ).fetchone()
    assert (served_customers, build_ids) == (2000, 1)


def test_a_failing_dbt_test_fails_its_check_and_blocks_downstream(
    defs: dg.Definitions, tmp_path: Path
) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copy(RAW / "customers.csv", landing)
    # orders with a header only: no order date, so the reference date cannot be set. (The raw
    # suite's "at least one row" rule would stop this run before dbt; left out here, the dbt
    # test is the guard that must hold.)
    header = (RAW / "orders.csv").read_text().splitlines()[0]
    (landing / "orders.csv").write_text(header + "\n")
    served = tmp_path / "serving" / "served.duckdb"
    served.parent.mkdir()
    served.write_bytes(b"the last good publication")
    exported = tmp_path / "exports" / "current" / "dim_customers.parquet"
    exported.parent.mkdir(parents=True)
    exported.write_bytes(b"the last good export")
    instance = dg.DagsterInstance.ephemeral()
    result = _materialize(
        defs, tmp_path / "failing.duckdb", landing, instance, without_checks={"gx_raw_suites"}
    )
    assert not result.success
    assert served.read_bytes() == b"the last good publication"  # nothing published
    assert exported.read_bytes() == b"the last good export"
    assert sorted(p.name for p in (tmp_path / "exports").iterdir()) == ["current"]
    evaluations = {
        e.event_specific_data.check_name: e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    assert evaluations["assert_reference_date_is_set"].passed is False
    materialized = {
        m.event_specific_data.materialization.asset_key.to_user_string()
        for m in result.get_asset_materialization_events()
    }
    assert "staging/stg_shop__reference_date" in materialized
    assert "marts/dim_customers" not in materialized
    assert "staging/base_shop__orders" not in materialized
    assert "serving/published_marts" not in materialized

    # the run-failure sensor's summary names the failed step, the failed check and why
    from orchestration.defs.automation.sensors import failure_summary

    summary = failure_summary(instance.get_run_by_id(result.run_id), instance)
    assert [step["step"] for step in summary["failed_steps"]] == ["customer_analytics_dbt"]
    assert "assert_reference_date_is_set" in summary["failed_steps"][0]["error"]
    assert {
        "asset": "staging/stg_shop__reference_date",
        "check": "assert_reference_date_is_set",
        "severity": "ERROR",
    } in summary["failed_checks"]


def _land(
    database: Path, landing: Path, instance: dg.DagsterInstance | None = None
) -> dg.ExecuteInProcessResult:
    """Materialise the raw assets only: the landing step of daily_refresh."""
    from orchestration.defs.dbt.assets import build_dbt_definitions
    from orchestration.defs.resources import WarehouseResource

    definitions = build_dbt_definitions()
    (raw_step,) = [a for a in definitions.assets if a.op.name == "customer_analytics_raw"]
    return dg.materialize(
        [raw_step],
        resources={
            "dbt": definitions.resources["dbt"],
            "warehouse": WarehouseResource(database=str(database), landing_dir=str(landing)),
        },
        instance=instance or dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _event_types(result: dg.ExecuteInProcessResult) -> list[str]:
    return [event.event_type_value for event in result.all_events]


def test_a_busy_warehouse_file_is_retried_until_it_is_free(tmp_path: Path) -> None:
    import subprocess
    import sys
    import threading
    import time

    database = tmp_path / "busy.duckdb"
    ready, release = tmp_path / "locked", tmp_path / "release"
    # another process holds the DuckDB file (DuckDB allows one writer process) until the
    # landing step has been seen waiting for it
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, pathlib, sys, time; con = duckdb.connect(sys.argv[1]);"
            " pathlib.Path(sys.argv[2]).touch()\n"
            "while not pathlib.Path(sys.argv[3]).exists(): time.sleep(0.1)\n"
            "con.close()",
            str(database),
            str(ready),
            str(release),
        ]
    )
    instance = dg.DagsterInstance.ephemeral()
    outcome: list[dg.ExecuteInProcessResult] = []
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert time.monotonic() < deadline and holder.poll() is None
            time.sleep(0.1)
        worker = threading.Thread(target=lambda: outcome.append(_land(database, RAW, instance)))
        worker.start()
        deadline = time.monotonic() + 600
        while not instance.get_event_records(
            dg.EventRecordsFilter(event_type=dg.DagsterEventType.STEP_UP_FOR_RETRY), limit=1
        ):
            assert time.monotonic() < deadline and worker.is_alive(), "never retried"
            time.sleep(0.2)
    finally:
        release.touch()
        holder.wait(timeout=60)
    worker.join(timeout=900)
    (result,) = outcome
    assert result.success
    assert "STEP_UP_FOR_RETRY" in _event_types(result)  # the first attempt met the lock
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("select count(*) from raw.orders").fetchone() == (7585,)


def test_bad_input_fails_at_once_with_a_clear_message(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    landing.mkdir()
    shutil.copy(RAW / "customers.csv", landing)
    result = _land(tmp_path / "bad.duckdb", landing)
    assert not result.success
    assert "STEP_UP_FOR_RETRY" not in _event_types(result)  # a data error is not retried
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    message = failure.step_failure_data.user_failure_data.description
    assert (
        f"Required raw file missing: no orders.csv, orders.csv.gz or orders.parquet in {landing}."
        in message
    )
