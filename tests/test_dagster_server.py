"""A real Dagster webserver and daemon: the asset graph and schedule over GraphQL, and two daily
refreshes launched at once that queue on the one-writer pool and build the marts.

The servers run as subprocesses on a free loopback port with their own DAGSTER_HOME; the test
stops every process it started.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest
from conftest import BIN, REPO

TIMEOUT_S = 600


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class DagsterServer:
    url: str
    database: Path
    home: Path

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}/graphql",
            data=json.dumps({"query": query, "variables": variables or {}}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            payload = json.loads(response.read())
        assert "errors" not in payload, payload
        return payload["data"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterServer]:
    work = tmp_path_factory.mktemp("dagster_server")
    home = work / "home"
    home.mkdir()
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    database = work / "warehouse.duckdb"
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "CUSTOMER_ANALYTICS_DB": str(database),
        "CUSTOMER_ANALYTICS_LANDING_DIR": str(REPO / "seeds" / "raw"),
        "CUSTOMER_ANALYTICS_AUTOMATION": "off",
        "CUSTOMER_ANALYTICS_SERVING_DB": str(work / "serving" / "served.duckdb"),
        "CUSTOMER_ANALYTICS_EXPORTS_DIR": str(work / "exports"),
    }
    logs = [(work / "webserver.log").open("w"), (work / "daemon.log").open("w")]
    commands = [
        [
            str(BIN / "dagster-webserver"),
            "-m",
            "orchestration.definitions",
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
        ],
        [str(BIN / "dagster-daemon"), "run", "-m", "orchestration.definitions"],
    ]

    def start(command: list[str], log) -> subprocess.Popen:
        return subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    # create the instance's storage once, before several processes would race to create it
    subprocess.run(
        [str(BIN / "dagster"), "instance", "migrate"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    url = f"http://127.0.0.1:{port}"
    # then the webserver, and the daemon once the webserver answers
    processes = [start(commands[0], logs[0])]
    try:
        deadline = time.monotonic() + 180
        while True:
            assert all(p.poll() is None for p in processes), (work / "webserver.log").read_text()
            try:
                with urllib.request.urlopen(f"{url}/server_info", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "webserver did not become healthy in 180 s"
            time.sleep(1)
        processes.append(start(commands[1], logs[1]))
        yield DagsterServer(url, database, home)
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        for log in logs:
            log.close()


REPOSITORIES = """
{ repositoriesOrError { ... on RepositoryConnection { nodes {
    name location { name }
    schedules { name cronSchedule executionTimezone }
    sensors { name }
} } } }
"""

LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
  }
}
"""

RUN = """
query Run($runId: ID!) {
  runOrError(runId: $runId) { ... on Run { status startTime endTime } }
}
"""


def repository(server: DagsterServer) -> dict:
    (node,) = server.graphql(REPOSITORIES)["repositoriesOrError"]["nodes"]
    return node


def launch(server: DagsterServer) -> str:
    repo = repository(server)
    params = {
        "selector": {
            "repositoryLocationName": repo["location"]["name"],
            "repositoryName": repo["name"],
            "jobName": "daily_refresh",
        },
        "runConfigData": {},
    }
    result = server.graphql(LAUNCH, {"params": params})["launchRun"]
    assert result["__typename"] == "LaunchRunSuccess", result
    return result["run"]["runId"]


def wait_for(server: DagsterServer, run_id: str) -> dict:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        run = server.graphql(RUN, {"runId": run_id})["runOrError"]
        if run["status"] in ("SUCCESS", "FAILURE", "CANCELED"):
            return run
        time.sleep(2)
    raise AssertionError(f"run {run_id} did not finish in {TIMEOUT_S} s")


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
