"""The secret scanner (tooling/secret_scan.py): the repository holds no secret, `make lint` (so
`make test`) runs the scanner, and a secret planted in a checkout makes it fail, naming the file
and line. The planted secrets are made here at run time (random, or assembled from pieces), so
this file holds none itself.
"""

from __future__ import annotations

import base64
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

from tooling.secret_scan import entropy, scan, scan_text

pytestmark = pytest.mark.unit


def _random(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _scan_command(root: Path) -> subprocess.CompletedProcess[str]:
    """The scanner as `make lint` runs it, on the checkout `root`."""
    return subprocess.run(
        [sys.executable, "-m", "tooling.secret_scan", str(root)],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, capture_output=True, check=True)


def test_the_repository_holds_no_secret() -> None:
    found = scan(REPO)
    assert not found, "\n".join(map(str, found))


def test_make_lint_runs_the_scanner_and_make_test_runs_lint() -> None:
    makefile = (REPO / "Makefile").read_text(encoding="utf-8")
    lint = makefile.split("\nlint:", 1)[1].split("\n\n", 1)[0]
    assert "$(BIN)/python -m tooling.secret_scan" in lint
    (test_target,) = [line for line in makefile.splitlines() if line.startswith("test:")]
    assert " lint " in test_target.split("##")[0] + " "


PLANTED_LINES = {
    "raw HMAC key": lambda: secrets.token_hex(32),
    "private key": lambda: "-----BEGIN " + "OPENSSH PRIVATE" + " KEY-----",
    "AWS key id": lambda: "aws_access_key_id = " + "AKIA" + _random(string.ascii_uppercase, 16),
    "GitHub token": lambda: 'GH = "' + "ghp_" + _random(string.ascii_letters + string.digits, 36),
    "JSON web token": lambda: (
        "bearer: "
        + ".".join(
            base64.urlsafe_b64encode(part.encode()).decode().rstrip("=")
            for part in (
                '{"alg":"HS256","typ":"JWT"}',
                '{"sub":"1234567890","name":"x"}',
                "signature!",
            )
        )
    ),
    "token assignment": lambda: f'API_TOKEN = "{secrets.token_urlsafe(30)}"',
    "password": lambda: "    password: " + "Winter" + "2026-" + _random(string.ascii_letters, 6),
}
"""One line each, of the kinds of secret the scanner knows."""


@pytest.fixture
def planted_checkout(tmp_path: Path) -> Path:
    """A git checkout with a clean file, then a secret of each kind planted in a tracked file,
    one in a new file git would add, and one in an ignored file (not the scanner's business)."""
    root = tmp_path / "checkout"
    root.mkdir()
    _git(root, "init", "-q")
    (root / ".gitignore").write_text("warehouse/\n")
    (root / "clean.py").write_text(
        'key = "customer_id"\npassword = os.environ["DB_PASSWORD"]\ntoken: ${TOKEN}\n'
        f"file,sha256\norders.csv,{secrets.token_hex(32)}\n"  # a hash in a table: no key
    )
    _git(root, "add", ".")
    return root


def test_the_scanner_passes_a_clean_checkout(planted_checkout: Path) -> None:
    done = _scan_command(planted_checkout)
    assert done.returncode == 0, done.stderr
    assert "no secrets" in done.stdout


@pytest.mark.parametrize("kind", sorted(PLANTED_LINES))
def test_a_planted_secret_fails_the_scan_naming_file_and_line(
    planted_checkout: Path, kind: str
) -> None:
    settings = planted_checkout / "settings.txt"
    settings.write_text(f"# settings\n\n{PLANTED_LINES[kind]()}\n")
    _git(planted_checkout, "add", "settings.txt")
    done = _scan_command(planted_checkout)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "settings.txt:3: " in done.stderr
    assert "clean.py" not in done.stderr


def test_a_new_key_file_fails_the_scan_before_it_is_added(planted_checkout: Path) -> None:
    """A pseudonymisation key file left in the checkout: flagged by its name and its content,
    before `git add`; the same file in an ignored folder is not."""
    (planted_checkout / "warehouse").mkdir()
    (planted_checkout / "warehouse" / "hmac.key").write_text(secrets.token_hex(32) + "\n")
    assert _scan_command(planted_checkout).returncode == 0
    (planted_checkout / "pseudonymisation.key").write_text(secrets.token_hex(32) + "\n")
    done = _scan_command(planted_checkout)
    assert done.returncode == 1
    assert "pseudonymisation.key: a key or credentials file" in done.stderr
    assert "pseudonymisation.key:1: a raw key" in done.stderr
    assert "warehouse" not in done.stderr


def test_a_line_marked_allow_is_not_reported() -> None:
    key = secrets.token_hex(32)
    assert [f.line for f in scan_text("x.md", f"{key}\n")] == [1]
    assert scan_text("x.md", f"{key}  <!-- secret-scan: allow -->\n") == []


def test_entropy_is_shannons_in_bits_per_character() -> None:
    assert entropy("aaaa") == 0
    assert entropy("abab") == 1
    assert entropy("0123456789abcdef") == 4
