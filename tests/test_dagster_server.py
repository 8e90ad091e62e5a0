"""A real Dagster webserver and daemon: the asset graph and schedule over GraphQL, and two daily
refreshes launched at once that queue on the one-writer pool and build the marts.

The servers run as subprocesses on a free loopback port with their own DAGSTER_HOME; the test
stops every process it started.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import duckdb
import pytest
from conftest import REPO
from dagster_servers import DagsterServer, launch, repository, running_dagster, wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterServer]:
    work = tmp_path_factory.mktemp("dagster_server")
    with running_dagster(
        work, {"CUSTOMER_ANALYTICS_LANDING_DIR": str(REPO / "data" / "raw")}
    ) as running:
        yield running


def test_graphql_shows_the_asset_graph_and_the_schedule(server: DagsterServer) -> None:
    nodes = server.graphql("{ assetNodes { assetKey { path } } }")["assetNodes"]
    keys = {"/".join(node["assetKey"]["path"]) for node in nodes}
    assert {"raw/customers", "marts/dim_customers", "marts/rpt_kpis_monthly"} <= keys
    assert len(keys) >= 40
    repo = repository(server)
    (schedule,) = repo["schedules"]
    assert (schedule["name"], schedule["cronSchedule"], schedule["executionTimezone"]) == (
        "daily_refresh_schedule",
        "0 6 * * *",
        "Europe/Berlin",
    )
    assert {sensor["name"] for sensor in repo["sensors"]} == {
        "landing_directory_sensor",
        "run_failure_summary",
    }


def test_two_launched_daily_refreshes_queue_on_the_warehouse_pool_and_build_the_marts(
    server: DagsterServer,
) -> None:
    first, second = launch(server), launch(server)
    runs = [wait_for(server, first), wait_for(server, second)]
    assert [run["status"] for run in runs] == ["SUCCESS", "SUCCESS"], runs
    # one writer at a time: one run started only after the other had ended
    (a_start, a_end), (b_start, b_end) = sorted((r["startTime"], r["endTime"]) for r in runs)
    assert b_start >= a_end, (
        f"runs overlapped: {datetime.fromtimestamp(a_start)}–{datetime.fromtimestamp(a_end)} "
        f"and {datetime.fromtimestamp(b_start)}–{datetime.fromtimestamp(b_end)}"
    )
    with duckdb.connect(str(server.database), read_only=True) as con:
        (customers,) = con.execute("select count(*) from marts.dim_customers").fetchone()
        (months,) = con.execute("select count(*) from marts.rpt_kpis_monthly").fetchone()
    assert customers == 2000
    assert months >= 36
    with duckdb.connect(
        str(server.database.parent / "serving" / "served.duckdb"), read_only=True
    ) as con:
        assert con.execute("select count(*) from marts.dim_customers").fetchone() == (2000,)
