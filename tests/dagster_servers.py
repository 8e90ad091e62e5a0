"""A real Dagster webserver and daemon for the tests that need them (subprocesses on a free
loopback port with their own DAGSTER_HOME), and GraphQL helpers to launch and await runs."""

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
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
from conftest import BIN, REPO

from orchestration.defs.resources import reserve_warehouse_pool

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


@contextmanager
def running_dagster(work: Path, extra_env: dict[str, str]) -> Iterator[DagsterServer]:
    """A Dagster webserver and daemon on a free loopback port, with their own DAGSTER_HOME in
    `work` and the warehouse file work/warehouse.duckdb; every process is stopped on exit."""
    home = work / "home"
    home.mkdir(exist_ok=True)
    shutil.copy(REPO / "orchestration" / "dagster.yaml", home / "dagster.yaml")
    database = work / "warehouse.duckdb"
    port = free_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "CUSTOMER_ANALYTICS_DB": str(database),
        "CUSTOMER_ANALYTICS_AUTOMATION": "off",
        "CUSTOMER_ANALYTICS_SERVING_DB": str(work / "serving" / "served.duckdb"),
        "CUSTOMER_ANALYTICS_EXPORTS_DIR": str(work / "exports"),
        # the quality records of this warehouse file: another site's must never replace them
        "CUSTOMER_ANALYTICS_QUALITY_DIR": str(work / "quality"),
        **extra_env,
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
    # and record the one-writer pool, as `make dev` does (customer-analytics dev)
    with dg.DagsterInstance.from_config(str(home)) as instance:
        reserve_warehouse_pool(instance)
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
    sensors { name minIntervalSeconds }
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


FAILURES = """
query Failures($runId: ID!) {
  logsForRun(runId: $runId) { ... on EventConnection { events {
    __typename
    ... on ExecutionStepFailureEvent { stepKey error { message } }
    ... on RunFailureEvent { message }
  } } }
}
"""


def failures(server: DagsterServer, run_id: str) -> list[str]:
    """What a failed run's event log says about its failure: each failed step with its error,
    and the run's failure message, so that a failed test shows why the run failed."""
    logs = server.graphql(FAILURES, {"runId": run_id})["logsForRun"]
    said = []
    for event in logs.get("events", []):
        if event["__typename"] == "ExecutionStepFailureEvent":
            said.append(f"{event['stepKey']}: {(event.get('error') or {}).get('message', '')}")
        elif event["__typename"] == "RunFailureEvent":
            said.append(f"run: {event['message']}")
    return said


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
            if run["status"] != "SUCCESS":
                run["failures"] = failures(server, run_id)
            return run
        time.sleep(2)
    raise AssertionError(f"run {run_id} did not finish in {TIMEOUT_S} s")
