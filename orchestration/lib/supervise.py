"""Run a long-lived command (the Dagster dev server) so that Ctrl-C or SIGTERM stops it and
every process it started, promptly: the signal is passed on for a clean shutdown, and whatever
still runs after a grace period is killed."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys

import psutil

GRACE_S = 4.0


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def supervise(
    command: list[str], env: dict[str, str] | None = None, grace_s: float = GRACE_S
) -> int:
    """Run `command` in its own session until it exits or this process gets SIGINT/SIGTERM.

    On a signal: send SIGINT (the graceful stop of `dg dev`) to the command, wait up to
    `grace_s` seconds for it and every process it started, then SIGKILL whatever remains.
    Returns the command's exit code, or 0 once a signal has stopped it as asked."""
    child = subprocess.Popen(command, env=env, start_new_session=True)
    received: list[int] = []

    def on_signal(signum: int, _frame) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        while not received:
            try:
                return child.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                continue
        print("\n==> stopping Dagster and every process it started", file=sys.stderr, flush=True)
        processes = _tree(child.pid)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(child.pid, signal.SIGINT)
        _, alive = psutil.wait_procs(processes, timeout=grace_s)
        for process in alive:
            with contextlib.suppress(psutil.NoSuchProcess):
                process.kill()
        psutil.wait_procs(alive, timeout=grace_s)
        child.wait()
        print("==> stopped", file=sys.stderr, flush=True)
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
