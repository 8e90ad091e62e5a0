"""The pseudonymisation key and the erasure requests: the two privacy records that live outside
the repository, beside each other (docs/privacy.md).

- The key (CUSTOMER_ANALYTICS_PSEUDONYM_KEY_FILE, default
  `$XDG_CONFIG_HOME/customer-analytics/pseudonym.key`): the secret of the keyed hash
  HMAC-SHA256 that turns a CRM customer_id into the `customer_key` every public mart carries.
  The key is the file's text with surrounding blanks stripped, as UTF-8 bytes; the pseudonym is
  the lowercase hex digest. Generated on first use (mode 0600, with one line on stderr saying
  where); read at run time only, by the dbt plugin, so it never appears in SQL, `target/`, logs
  or Dagster run config.
- The erasure requests (CUSTOMER_ANALYTICS_ERASURE_FILE, default
  `$XDG_CONFIG_HOME/customer-analytics/erasure-requests.csv`): `customer_id,requested_on`, one
  request per line; every build leaves these customers out of every table (macros/raw/).

Both paths are settings, validated in orchestration/lib/settings.py (key_file, erasure_file)
for Settings, the CLI and the dbt plugin alike. No dbt, no Dagster.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import hmac
import io
import os
import re
import secrets
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.settings import (
    ERASURE_ENV,
    KEY_ENV,
    PrivacySettingError,
    erasure_file,
    key_file,
)

ERASURE_HEADER = ("customer_id", "requested_on")
MIN_KEY_LENGTH = 32
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
__all__ = ["ERASURE_ENV", "KEY_ENV", "PrivacySettingError", "erasure_file", "key_file"]
_MAX_KEY_ID = 255


def _write_new(path: Path, text: str) -> bool:
    """Write `text` to `path` (mode 0600) unless it exists; True when this call wrote it.
    Safe when several processes start at once: the file appears whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    descriptor, staged = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(staged, 0o600)
        try:
            os.link(staged, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(staged)


def load_key(path: Path, announce: bool = True) -> bytes:
    """The key in `path`; generated (256 random bits as hex) when the file does not exist."""
    if not path.exists() and _write_new(path, secrets.token_hex(32) + "\n") and announce:
        print(
            f"Generated a new pseudonymisation key in {path} (mode 0600). Keep it and back it "
            "up: every customer_key in the marts is derived from it, and another key gives "
            "every customer a new key (docs/privacy.md).",
            file=sys.stderr,
        )
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise PrivacySettingError(
            f"Cannot read the pseudonymisation key {path} ({type(exc).__name__}): make it a "
            f"readable UTF-8 text file, or point {KEY_ENV} at one."
        ) from None
    if len(text) < MIN_KEY_LENGTH:
        raise PrivacySettingError(
            f"The pseudonymisation key in {path} has {len(text)} characters: use at least "
            f"{MIN_KEY_LENGTH} (e.g. remove the file to have a new one generated)."
        )
    return text.encode("utf-8")


def pseudonym(key: bytes, customer_id: str) -> str:
    """The customer's key in the public marts: HMAC-SHA256(key, customer_id), lowercase hex."""
    return hmac.new(key, customer_id.encode("utf-8"), hashlib.sha256).hexdigest()


def key_fingerprint(key: bytes) -> str:
    """A short value that changes with the key and tells nothing about it or any customer:
    incremental models recorded with another fingerprint are rebuilt in full."""
    return hmac.new(key, b"customer-analytics key fingerprint", hashlib.sha256).hexdigest()[:16]


@dataclass(frozen=True)
class ErasureRequest:
    customer_id: str
    requested_on: dt.date


def _valid_customer_id(value: str) -> bool:
    return 0 < len(value) <= _MAX_KEY_ID and not _CONTROL.search(value)


def read_erasure_requests(path: Path) -> list[ErasureRequest]:
    """Every request in `path` (none when the file does not exist). A malformed line fails with
    the file and line number, never with its content."""
    if not path.exists():
        return []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PrivacySettingError(
            f"Cannot read the erasure requests {path} ({type(exc).__name__}): it must be UTF-8 "
            "CSV with the header customer_id,requested_on."
        ) from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(cell.strip() for cell in rows[0]) != ERASURE_HEADER:
        raise PrivacySettingError(
            f"The erasure requests {path} must start with the header customer_id,requested_on "
            "(add requests with `customer-analytics erase`)."
        )
    requests: list[ErasureRequest] = []
    for number, row in enumerate(rows[1:], start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != 2 or not _valid_customer_id(row[0].strip()):
            raise PrivacySettingError(
                f"The erasure requests {path}, line {number}: give customer_id (1 to "
                f"{_MAX_KEY_ID} characters) and requested_on (YYYY-MM-DD)."
            )
        try:
            requested_on = dt.date.fromisoformat(row[1].strip())
        except ValueError:
            raise PrivacySettingError(
                f"The erasure requests {path}, line {number}, column requested_on: not a date "
                "(YYYY-MM-DD)."
            ) from None
        requests.append(ErasureRequest(row[0].strip(), requested_on))
    return requests


def erased_ids(path: Path) -> list[str]:
    """The customer ids to leave out of every table, sorted, each once."""
    return sorted({request.customer_id for request in read_erasure_requests(path)})


def erasure_fingerprint(key: bytes, ids: list[str]) -> str:
    """Changes whenever the set of erased customers changes; keyed, so it is no customer's hash."""
    digest = hmac.new(key, b"customer-analytics erasure list", hashlib.sha256)
    for customer_id in sorted(set(ids)):
        digest.update(customer_id.encode("utf-8") + b"\x00")
    return digest.hexdigest()[:16]


def privacy_state(key: bytes, ids: list[str]) -> str:
    """What a build was read under: the fingerprints of the key and of the erasure requests.
    Recorded per raw table (staging.raw_source_state) and per publication."""
    return f"key {key_fingerprint(key)}, erasures {erasure_fingerprint(key, ids)}"


def current_privacy_state(announce: bool = True) -> str:
    """The privacy state a build run now would be read under (the settings of this process)."""
    return privacy_state(load_key(key_file(), announce), erased_ids(erasure_file()))


def add_erasure_requests(path: Path, customer_ids: list[str], requested_on: dt.date) -> int:
    """Append a request for each id not requested yet; returns how many were added."""
    for customer_id in customer_ids:
        if not _valid_customer_id(customer_id):
            raise PrivacySettingError(
                f"A customer id to erase must have 1 to {_MAX_KEY_ID} characters and no control "
                "character."
            )
    known = set(erased_ids(path))
    new = [customer_id for customer_id in dict.fromkeys(customer_ids) if customer_id not in known]
    if not new:
        return 0
    if not path.exists():
        header = io.StringIO()
        csv.writer(header, lineterminator="\n").writerow(ERASURE_HEADER)
        _write_new(path, header.getvalue())
    lines = io.StringIO()
    writer = csv.writer(lines, lineterminator="\n")
    for customer_id in new:
        writer.writerow((customer_id, requested_on.isoformat()))
    with path.open("a", encoding="utf-8") as handle:
        handle.write(lines.getvalue())
        handle.flush()
        os.fsync(handle.fileno())
    return len(new)
