"""Planted personal data, and a scanner that finds it wherever it should not be.

`plant_customers` rewrites a raw customers export so that the personal-data columns of its
first rows (email, names, birth date, city: `meta.personal` in the raw contract) hold values
made up for the test, each containing an ASCII token found nowhere else; `find_planted` then
looks for those tokens, byte for byte, in files and text (console output, dbt's logs and
target/, Dagster's storage), whatever the encoding around them. A token is searched rather
than the whole value so that a Latin-1 copy of 'Jürgen…' is found as well.

This is a plain helper module for tests: no pytest fixtures, no dbt.
"""

from __future__ import annotations

import csv
import io
import random
import string
from dataclasses import dataclass
from pathlib import Path

PERSONAL = ("email", "first_name", "last_name", "birth_date", "city")
"""The customers columns the raw contract marks personal (models/staging/crm/_crm__sources.yml)."""


@dataclass
class PlantedCustomers:
    """A customers export as lines of text (header first) and the values planted in it."""

    header: list[str]
    lines: list[str]  # each without its line end; lines[0] is the header (line 1)
    planted: dict[int, dict[str, str]]  # line number -> column -> planted value

    def fields(self, line: int) -> list[str]:
        return next(csv.reader([self.lines[line - 1]]))

    def set_fields(self, line: int, fields: list[str]) -> None:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow(fields)
        self.lines[line - 1] = buffer.getvalue()

    def tokens(self) -> list[str]:
        """What must never be shown: the ASCII token of every planted value."""
        return [_token(value) for values in self.planted.values() for value in values.values()]

    def data(self, encoding: str = "utf-8") -> bytes:
        """The file's bytes: in UTF-8, a lone surrogate '\\udcff' is written as the byte ff
        (not valid UTF-8); in another encoding, what it cannot hold becomes '?'."""
        errors = "surrogateescape" if encoding == "utf-8" else "replace"
        return ("\n".join(self.lines) + "\n").encode(encoding, errors=errors)


def _token(value: str) -> str:
    """The longest ASCII run of a planted value: what the scanner searches for."""
    runs = "".join(c if c.isascii() else " " for c in value).split()
    return max(runs, key=len)


def plant_customers(source: Path, rows: int = 40, seed: int = 7) -> PlantedCustomers:
    """`source` (a customers CSV) with made-up personal values in its first `rows` data rows."""
    with source.open(encoding="utf-8", newline="") as handle:
        header, *records = list(csv.reader(handle))
    rng = random.Random(seed)

    def word(suffix: str) -> str:
        return "".join(rng.choice(string.ascii_lowercase) for _ in range(9)).capitalize() + suffix

    planted: dict[int, dict[str, str]] = {}
    for index, record in enumerate(records[:rows]):
        values = {
            "email": f"{word('')}.{word('')}@planted.example".lower(),
            "first_name": word("first"),
            "last_name": word("last"),
            "birth_date": (
                f"19{rng.randint(10, 39)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            ),
            "city": word("city"),
        }
        for column, value in values.items():
            record[header.index(column)] = value
        planted[index + 2] = values
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, *records])
    return PlantedCustomers(header, buffer.getvalue().splitlines(), planted)


def find_planted(tokens: list[str], texts: dict[str, str | bytes]) -> dict[str, list[str]]:
    """Where each planted token occurs: place name -> tokens found there (empty: none found)."""
    found: dict[str, list[str]] = {}
    for place, text in texts.items():
        data = text.encode("utf-8", errors="replace") if isinstance(text, str) else text
        hits = [token for token in tokens if token.encode() in data]
        if hits:
            found[place] = hits
    return found


def files_under(*roots: Path) -> dict[str, bytes]:
    """Every file below `roots`, as bytes, by path."""
    return {
        str(path): path.read_bytes()
        for root in roots
        if root.exists()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }
