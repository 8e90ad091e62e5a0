"""The repository's secret scanner: `python -m tooling.secret_scan [ROOT]`, run by `make lint`
(so by `make test`). Exits 1 naming every finding (`path:line: what`), 0 when there is none.

It reads every file git would commit: tracked, staged, and new files that .gitignore does not
exclude (`git ls-files --cached --others --exclude-standard`; outside a git checkout, every file
but the usual build and environment folders). It flags

- a private key block (PEM, OpenSSH, PGP);
- a token of a well-known form (AWS access key id, GitHub, GitLab, Slack, Stripe, Google API key,
  npm, PyPI, a JSON web token);
- a raw key: a line that is nothing but 64 or more hexadecimal characters, the form of the HMAC
  pseudonymisation key, which belongs in a file outside the repository (docs/configuration.md);
- a key file by its name (`*.key`, `*.pem`, `*.p12`, `*.pfx`, `id_rsa`, `id_ed25519`, `.env`, …);
- a long random-looking value assigned to a name like key, secret, token or password
  (`API_TOKEN = "…"`, `password: …`), and any literal password of 8 characters or more.

A line that must hold such a value anyway (a published test vector) carries the words
`secret-scan: allow`. Pure functions, no third-party packages: it runs before anything is built.
"""

from __future__ import annotations

import bisect
import math
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ALLOW = "secret-scan: allow"
"""The marker that exempts one line."""

_PRIVATE = "PRIVATE" + " KEY"
TOKEN_PATTERNS: dict[str, re.Pattern[str]] = {
    "a private key block": re.compile(
        r"-----BEGIN (?:[A-Z0-9]+ )*" + _PRIVATE + r"(?: BLOCK)?-----"
    ),
    "an AWS access key id": re.compile(r"\b(?:AKIA|ASIA|AGPA|AROA)[0-9A-Z]{16}\b"),
    "a GitHub token": re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{60,})"),
    "a GitLab token": re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"),
    "a Slack token": re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"),
    "a Stripe secret key": re.compile(r"\b[rs]k_live_[A-Za-z0-9]{20,}"),
    "a Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "an npm token": re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"),
    "a PyPI token": re.compile(r"\bpypi-AgE[A-Za-z0-9_-]{50,}"),
    "a JSON web token": re.compile(
        r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"
    ),
}
"""Secrets recognisable by their form alone."""

RAW_KEY = re.compile(r"^[ \t]*[\"']?[0-9a-fA-F]{64,}[\"']?,?[ \t]*\r?$", re.MULTILINE)
"""A line holding nothing but a long hex string: a raw key (32 bytes or more)."""

KEY_FILE = re.compile(
    r"(?:^|/)(?:[^/]+\.(?:key|pem|p12|pfx|jks|keystore|ppk)|id_(?:rsa|dsa|ecdsa|ed25519)"
    r"|\.env(?:\.[^/]*)?|\.netrc|\.pypirc|credentials\.json)$",
    re.IGNORECASE,
)
"""File names that hold keys or credentials."""

KEY_FILE_EXAMPLES = re.compile(r"\.env\.(?:example|sample|template)$", re.IGNORECASE)
"""Key-file names that are templates by convention."""

ASSIGNMENT = re.compile(
    r"(?P<name>[A-Za-z0-9_.-]*(?:passw(?:or)?d|passwd|pwd|secret|token|api[_-]?key|apikey"
    r"|access[_-]?key|private[_-]?key|hmac[_-]?key|signing[_-]?key|credential|auth|key)"
    r"[A-Za-z0-9_.-]*)[\"']?[ \t]*(?::=|=>|=|:)[ \t]*(?P<quote>[\"']?)(?P<value>[^\s\"',;]+)"
    r"(?P=quote)",
    re.IGNORECASE,
)
"""`name = value` / `name: value` where the name says it holds a secret."""

SECRET_WORD = re.compile(r"passw|pwd|secret|token|key|credential|auth", re.IGNORECASE)
"""The words ASSIGNMENT looks for in a name: only lines holding one are matched against it."""

PLACEHOLDER = re.compile(
    r"^(?:\$|\{\{|<|%\(|\*|x{3,}|\.\.\.|…)|example|changeme|placeholder|your[_-]|dummy|redacted"
    r"|^(?:none|null|true|false|env|os\.environ.*|getenv.*)$",
    re.IGNORECASE,
)
"""Values that stand for a secret rather than being one."""

RANDOM_CHARACTERS = re.compile(r"^[A-Za-z0-9+/=_~.-]+$")

SKIP_DIRS = frozenset(
    {".git", ".venv", "node_modules", "warehouse", "target", "logs", "__pycache__",
     ".dagster_home", ".pytest_cache", ".ruff_cache", "dbt_packages"}
)  # fmt: skip
"""Folders never read outside a git checkout (environments and build output)."""


@dataclass(frozen=True)
class Finding:
    """One suspected secret: where, and what it looks like (never the value itself)."""

    path: str
    line: int
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.what}" if self.line else f"{self.path}: {self.what}"


def entropy(text: str) -> float:
    """Shannon entropy of `text` in bits per character."""
    if not text:
        return 0.0
    counts = {char: text.count(char) for char in set(text)}
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _random_looking(value: str) -> bool:
    """A value that looks generated: long, mixed letters and digits, high entropy."""
    if len(value) < 20 or not RANDOM_CHARACTERS.match(value):
        return False
    if not (re.search(r"[0-9]", value) and re.search(r"[A-Za-z]", value)):
        return False
    hexadecimal = re.fullmatch(r"[0-9a-fA-F]+", value) is not None
    return entropy(value) >= (3.0 if hexadecimal else 3.5)


def _assignment_secret(name: str, value: str) -> bool:
    if PLACEHOLDER.search(value):
        return False
    if re.search(r"passw(?:or)?d|passwd|pwd", name, re.IGNORECASE):
        return (
            len(value) >= 8
            and RANDOM_CHARACTERS.match(value) is not None
            and not (
                value.isidentifier() and value.islower()  # a variable or setting name
            )
        )
    return _random_looking(value)


def scan_text(path: str, text: str) -> list[Finding]:
    """The findings in one file's text (`path` as it should be reported), in line order."""
    starts = [0] + [match.end() for match in re.finditer("\n", text)]
    lines = text.split("\n")

    def line_of(offset: int) -> int:
        return bisect.bisect_right(starts, offset)

    found: list[Finding] = []
    for what, pattern in TOKEN_PATTERNS.items():
        found.extend(
            Finding(path, line_of(match.start()), what) for match in pattern.finditer(text)
        )
    found.extend(
        Finding(path, line_of(match.start()), "a raw key (a line of 64 or more hex characters)")
        for match in RAW_KEY.finditer(text)
    )
    for number in sorted({line_of(match.start()) for match in SECRET_WORD.finditer(text)}):
        found.extend(
            Finding(path, number, f"a secret-looking value assigned to {match['name']}")
            for match in ASSIGNMENT.finditer(lines[number - 1])
            if _assignment_secret(match["name"], match["value"])
        )
    return sorted(
        (finding for finding in found if ALLOW not in lines[finding.line - 1]),
        key=lambda finding: (finding.line, finding.what),
    )


def scan_name(path: str) -> Finding | None:
    """A finding for a file whose name says it holds a key or credentials."""
    if KEY_FILE.search(path) and not KEY_FILE_EXAMPLES.search(path):
        return Finding(path, 0, "a key or credentials file: keep it outside the repository")
    return None


def candidate_files(root: Path) -> list[str]:
    """Paths (relative to `root`) of every file git would commit, or of every file outside the
    build and environment folders when `root` is not a git checkout."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=root, capture_output=True, check=True,
        ).stdout.decode()  # fmt: skip
    except (OSError, subprocess.CalledProcessError):
        return sorted(
            str(path.relative_to(root))
            for path in root.rglob("*")
            if path.is_file() and not SKIP_DIRS.intersection(path.relative_to(root).parts)
        )
    return sorted(set(filter(None, listed.split("\0"))))


def scan(root: Path, paths: Iterable[str] | None = None) -> list[Finding]:
    """Every finding in `paths` (default: candidate_files(root)) under `root`."""
    found: list[Finding] = []
    for name in paths if paths is not None else candidate_files(root):
        by_name = scan_name(name)
        if by_name:
            found.append(by_name)
        path = root / name
        if not path.is_file() or path.is_symlink():
            continue
        data = path.read_bytes()
        if b"\0" in data[:8192]:
            continue  # binary
        found.extend(scan_text(name, data.decode("utf-8", errors="replace")))
    return found


def main(argv: list[str] | None = None) -> int:
    """`python -m tooling.secret_scan [ROOT]`: print the findings; 1 if any, else 0."""
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0] if args else ".").resolve()
    found = scan(root)
    for finding in found:
        print(finding, file=sys.stderr)
    if found:
        print(
            f"secret scan: {len(found)} suspected secret(s) in {root}. Remove them (and rotate "
            f"any that were real; keys belong in files outside the repository), or mark a line "
            f"that is no secret with '{ALLOW}'.",
            file=sys.stderr,
        )
        return 1
    print(f"secret scan: no secrets in {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
