"""`make dev` as a new user meets it: on a warehouse `make build` made, the UI comes up under
the fixed code location name, the landing sensor's first tick requests nothing, one changed
landing file starts exactly one run that succeeds, no warning comes from the project's own
configuration, and SIGTERM stops every process `make dev` started within 10 seconds. The landing
sensor's interval comes from CUSTOMER_ANALYTICS_SENSOR_INTERVAL_SECONDS (5 s here)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import dagster as dg
import psutil
import pytest
from conftest import REPO
from dagster_servers import DagsterServer, free_port, repository

from orchestration.defs.resources import WAREHOUSE_POOL

pytestmark = pytest.mark.e2e

DEADLINE_S = 900
SENSOR_INTERVAL_S = 5
STOP_DEADLINE_S = 10

TICKS = """
query Ticks($selector: SensorSelector!) {
  sensorOrError(sensorSelector: $selector) {
    __typename
    ... on Sensor { sensorState { status ticks(limit: 50) {
        status timestamp skipReason runIds error { message } } } }
  }
}
"""

RUNS = """
{ runsOrError { ... on Runs { results { runId status startTime endTime } } } }
"""

# A customer appended to the landing file: a real change of content (a valid row).
NEW_CUSTOMER = (
    "99999,new@example.com,Neu,Kunde,,DE,Berlin,2025-12-30T10:00:00+01:00,direct,,,true,\n"
)


def _wait(what: str, check, deadline_s: float = DEADLINE_S):
    """Poll `check` until it returns something truthy; fail naming `what` after the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        result = check()
        if result:
            return result
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(1)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/server_info", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def _ticks(server: DagsterServer, location: str, repo: str) -> list[dict]:
    selector = {
        "repositoryLocationName": location,
        "repositoryName": repo,
        "sensorName": "landing_directory_sensor",
    }
    data = server.graphql(TICKS, {"selector": selector})["sensorOrError"]
    assert data["__typename"] == "Sensor", data
    finished = [t for t in data["sensorState"]["ticks"] if t["status"] != "STARTED"]
    return sorted(finished, key=lambda tick: tick["timestamp"])


def _runs(server: DagsterServer) -> list[dict]:
    return server.graphql(RUNS)["runsOrError"]["results"]


def _project_warnings(log: str) -> list[str]:
    """Warning lines that come from this project's configuration or code (not Dagster's own
    daemon chatter): anything naming the repository, its dagster.yaml, its virtual
    environment, or a warning category raised from orchestration/."""
    lines = [line for line in log.splitlines() if re.search(r"warn", line, re.IGNORECASE)]
    ours = re.compile(
        r"dagster\.yaml|virtual environment|code location|orchestration/|" + re.escape(str(REPO)),
        re.IGNORECASE,
    )
    return [line for line in lines if ours.search(line)]


def test_make_dev_starts_quietly_runs_once_per_change_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    landing = tmp_path / "landing"
    shutil.copytree(REPO / "data" / "raw", landing)
    port = free_port()
    env = {
        **os.environ,
        "CUSTOMER_ANALYTICS_DB": str(tmp_path / "warehouse.duckdb"),
        "CUSTOMER_ANALYTICS_SERVING_DB": str(tmp_path / "serving" / "served.duckdb"),
        "CUSTOMER_ANALYTICS_EXPORTS_DIR": str(tmp_path / "exports"),
        "CUSTOMER_ANALYTICS_QUALITY_DIR": str(tmp_path / "quality"),
        "CUSTOMER_ANALYTICS_LANDING_DIR": str(landing),
        "CUSTOMER_ANALYTICS_AUTOMATION": "on",
        # the landing sensor looks every SENSOR_INTERVAL_S seconds (default 30)
        "CUSTOMER_ANALYTICS_SENSOR_INTERVAL_SECONDS": str(SENSOR_INTERVAL_S),
        "DAGSTER_HOME": str(tmp_path / "dagster_home"),
        "DAGSTER_PORT": str(port),
        # dbt's artefacts beside this test's files, not in the checkout other tests share
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
    }
    for name in ("VIRTUAL_ENV", "MAKEFLAGS", "MAKELEVEL"):
        env.pop(name, None)
    built = subprocess.run(
        ["make", "build"], cwd=REPO, env=env, capture_output=True, text=True, timeout=DEADLINE_S
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]

    log_path = tmp_path / "make-dev.log"
    with log_path.open("w") as log:
        dev = subprocess.Popen(
            ["make", "dev"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        server = DagsterServer(f"http://127.0.0.1:{port}", tmp_path / "warehouse.duckdb", Path())
        _wait("the Dagster UI", lambda: dev.poll() is not None or _answers(server.url))
        assert dev.poll() is None, log_path.read_text()[-3000:]
        repo = repository(server)
        location = repo["location"]["name"]
        assert location == "customer_analytics"
        intervals = {sensor["name"]: sensor["minIntervalSeconds"] for sensor in repo["sensors"]}
        assert intervals["landing_directory_sensor"] == SENSOR_INTERVAL_S
        # the one-writer pool is recorded before any run was queued (no run has been yet)
        assert _runs(server) == []
        with dg.DagsterInstance.from_config(env["DAGSTER_HOME"]) as instance:
            limits = {
                pool.name: pool.limit for pool in instance.event_log_storage.get_pool_limits()
            }
        assert limits[WAREHOUSE_POOL] == 1

        # the first tick compares the landing files with what the warehouse was built from
        first = _wait(
            "the landing sensor's first tick", lambda: _ticks(server, location, "__repository__")
        )[0]
        assert first["status"] == "SKIPPED", first
        assert first["runIds"] == []
        assert _runs(server) == []

        with (landing / "customers.csv").open("a") as handle:
            handle.write(NEW_CUSTOMER)
        run = _wait(
            "the run the changed file requests",
            lambda: [r for r in _runs(server) if r["status"] in ("SUCCESS", "FAILURE", "CANCELED")],
        )
        assert [r["status"] for r in run] == ["SUCCESS"], log_path.read_text()[-3000:]
        ended = run[0]["endTime"]
        # a tick after the run ended requests nothing more: exactly one run for one change
        later = _wait(
            "a sensor tick after the run",
            lambda: [
                t for t in _ticks(server, location, "__repository__") if t["timestamp"] > ended
            ],
        )
        assert later[0]["runIds"] == []
        assert len(_runs(server)) == 1

        processes = [psutil.Process(dev.pid), *psutil.Process(dev.pid).children(recursive=True)]
        assert len(processes) >= 3  # make, dg dev, the webserver, the daemon, code servers
        os.kill(dev.pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(processes, timeout=STOP_DEADLINE_S)
        assert alive == [], [" ".join(p.cmdline())[:200] for p in alive]
    finally:
        if dev.poll() is None:
            os.killpg(dev.pid, signal.SIGKILL)
        dev.wait(timeout=60)

    log = log_path.read_text()
    warnings = [line for line in log.splitlines() if re.search(r"warn", line, re.IGNORECASE)]
    print(f"make dev printed {len(warnings)} warning lines")
    assert _project_warnings(log) == [], _project_warnings(log)


# A process tree that ignores SIGINT and SIGTERM: a parent and a child, "ready" once both run.
STUBBORN = """
import signal, subprocess, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if sys.argv[1] == "parent":
    child = subprocess.Popen([sys.executable, "-c", sys.argv[2], "child", sys.argv[2], sys.argv[3]])
    child.wait()
else:
    open(sys.argv[3], "w").write("ready")
    signal.pause()
"""

SUPERVISE = """
import sys
from orchestration.lib.supervise import supervise
print("exit", supervise([sys.executable, "-c", sys.argv[1], "parent", sys.argv[1], sys.argv[2]]))
"""


def test_supervise_stops_a_tree_that_ignores_signals(tmp_path: Path) -> None:
    """The supervisor `make dev` runs under: on SIGTERM, processes that ignore the signal are
    killed after the grace period, children included."""
    ready = tmp_path / "ready"
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISE, STUBBORN, str(ready)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait("the stubborn child", lambda: ready.exists() or supervisor.poll() is not None, 120)
        processes = [psutil.Process(supervisor.pid), *psutil.Process(supervisor.pid).children(True)]
        assert len(processes) == 3  # supervisor, parent, child
        os.kill(supervisor.pid, signal.SIGTERM)
        _, alive = psutil.wait_procs(processes, timeout=STOP_DEADLINE_S)
        assert alive == []
        out, err = supervisor.communicate(timeout=60)
        assert out.strip() == "exit 0", err
        assert "stopping Dagster" in err
    finally:
        if supervisor.poll() is None:
            supervisor.kill()


@pytest.mark.parametrize(
    ("argument", "accepted"),
    [
        ("--port=3000", True),
        ("--port=0", False),
        ("--port=65536", False),
        ("--port=3o00", False),
        ("--host=127.0.0.1", True),
        ("--host=::1", True),
        ("--host=dagster.internal", True),
        ("--host=0.0.0.0;rm -rf ~", False),
        ("--host=-x", False),
        ("--host=a..b", False),
    ],
)
def test_dev_options_are_validated_before_anything_starts(argument: str, accepted: bool) -> None:
    """`customer-analytics dev --help`-style parsing only: a bad host or port stops at the
    parser with exit code 2 and names the value; a good one parses (nothing is started)."""
    from orchestration.cli import build_parser

    parser = build_parser()
    if accepted:
        args = parser.parse_args(["dev", argument])
        assert args.handler.__name__ == "_run_dev"
    else:
        with pytest.raises(SystemExit) as stopped:
            parser.parse_args(["dev", argument])
        assert stopped.value.code == 2
