"""The Dagster UI and the dashboard listen on 127.0.0.1 unless another address is set: checked on
the command lines `make` would run (`make -n`, nothing is started), on the CLI's own default and
on the Streamlit settings file that a plain `streamlit run` reads. Neither server has a login.
"""

from __future__ import annotations

import re
import shlex
import subprocess
import tomllib

import pytest
from conftest import REPO

from orchestration.cli import build_parser

pytestmark = pytest.mark.unit


def _make_dry_run(*args: str) -> list[str]:
    """The command lines `make ARGS` would run."""
    done = subprocess.run(
        ["make", "--no-print-directory", "-n", *args],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def _option(lines: list[str], program: str, option: str) -> str:
    """The value of `option` on the one command line that runs `program`, split as the shell
    splits it."""
    (words,) = [
        words
        for words in (shlex.split(line) for line in lines if f"/{program} " in line)
        if any(word.endswith(f"/{program}") for word in words)
    ]
    return words[words.index(option) + 1]


def test_make_dev_listens_on_this_machine_only_unless_set() -> None:
    assert _option(_make_dry_run("dev"), "customer-analytics", "--host") == "127.0.0.1"
    set_ = _make_dry_run("dev", "DAGSTER_HOST=0.0.0.0")
    assert _option(set_, "customer-analytics", "--host") == "0.0.0.0"


def test_the_dev_command_defaults_to_this_machine_and_hands_the_address_to_dg() -> None:
    assert build_parser().parse_args(["dev"]).host == "127.0.0.1"
    assert build_parser().parse_args(["dev", "--host", "::1"]).host == "::1"
    source = (REPO / "orchestration" / "cli.py").read_text(encoding="utf-8")
    assert re.search(r'\[str\(bin_dir / "dg"\), "dev", "--host", args\.host,', source)


def test_make_dashboard_listens_on_this_machine_only_unless_set() -> None:
    assert _option(_make_dry_run("dashboard"), "streamlit", "--server.address") == "127.0.0.1"
    set_ = _make_dry_run("dashboard", "DASHBOARD_HOST=0.0.0.0")
    assert _option(set_, "streamlit", "--server.address") == "0.0.0.0"


def test_a_plain_streamlit_run_reads_this_machine_only_from_its_settings() -> None:
    settings = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert settings["server"]["address"] == "127.0.0.1"
    assert settings["browser"]["gatherUsageStats"] is False
