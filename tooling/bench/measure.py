"""Measuring one step: wall time and peak RSS of a process tree, and the machine it ran on."""

from __future__ import annotations

import os
import platform
import subprocess
import threading
import time
from typing import Any

from orchestration.lib.settings import REPO_ROOT
from tooling.bench.results import Step


def peer_memory_cap() -> int:
    """A reference peer (pandas, Polars) may use up to 3/4 of the machine's memory (address
    space)."""
    import psutil

    return psutil.virtual_memory().total * 3 // 4


def machine() -> dict[str, Any]:
    import duckdb
    import psutil

    return {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
    }


def measure(
    name: str,
    command: list[str],
    env: dict[str, str],
    rows: int | None = None,
    memory_cap_bytes: int | None = None,
) -> Step:
    """Run `command`, sampling the RSS of it and all its descendants; wall time and peak.
    With `memory_cap_bytes`, the child's address space is capped (RLIMIT_AS), so running out
    of memory is a MemoryError in that process, never the machine's OOM killer."""
    import psutil

    def cap() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_cap_bytes, memory_cap_bytes))

    started = time.perf_counter()
    process = subprocess.Popen(
        command,
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        preexec_fn=cap if memory_cap_bytes else None,
    )
    peak = 0
    root = psutil.Process(process.pid)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
    reader.start()
    while process.poll() is None:
        try:
            total = root.memory_info().rss + sum(
                child.memory_info().rss for child in root.children(recursive=True)
            )
            peak = max(peak, total)
        except psutil.Error:
            pass
        time.sleep(0.05)
    reader.join()
    seconds = time.perf_counter() - started
    ok = process.returncode == 0
    note = "" if ok else "".join(output)[-600:].replace("\n", " ").replace("|", "/")
    print(
        f"  {name:<8} {seconds:8.1f} s  peak RSS {peak / 2**20:8.0f} MB"
        + ("" if ok else "  FAILED"),
        flush=True,
    )
    return Step(name, seconds, peak / 2**20, rows, ok, note)
