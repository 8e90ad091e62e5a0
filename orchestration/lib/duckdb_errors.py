"""DuckDB error messages that would echo raw values, rebuilt without them.

Some DuckDB errors quote the data they failed on: a CSV error prints the whole line
("Original Line: ..."), a failed cast prints the value. A raw line or value can hold personal
data, and dbt writes every error to the console, `logs/dbt.log` and `run_results.json`, from
where Dagster copies it into run metadata and failure summaries. `private_message` builds a new
message for such an error from parts that hold no value (the file the SQL reads, the line
number, the kind of error) instead of cutting pieces out of the old one; the project's dbt
plugin (orchestration/dbt_plugin.py) raises that one in its place.

The raw reader does not let DuckDB raise on a malformed line at all (it records rejects and
names line and column itself: macros/raw/raise_on_malformed_raw_lines.sql); this is the net
under it, for any other SQL that reads a CSV file or casts a value.
"""

from __future__ import annotations

import re

_CSV_LINE = re.compile(r"CSV Error on Line: (\d+)")
_READ_CSV = re.compile(r"read_csv(?:_auto)?\(\s*'((?:[^']|'')*)'", re.IGNORECASE)
_GLOB_ESCAPE = re.compile(r"\[([\[*?])\]")

_CSV_RULES = (
    ("Invalid unicode", "it holds bytes that are not text in the file's encoding"),
    ("not utf-8 encoded", "it holds bytes that are not text in the file's encoding"),
    ("Maximum line size", "it is longer than the reader's maximum line size"),
    ("Expected Number of Columns", "it does not have the header's number of fields"),
    ("unterminated quote", "a value in double quotes is not closed"),
    ("Value with unterminated quote", "a value in double quotes is not closed"),
)
"""DuckDB phrase -> the rule, in this module's own words (first match wins)."""

_NOT_SHOWN = "values are not shown in errors: they may be personal data"


def read_file(sql: str) -> str | None:
    """The one file `sql` reads with read_csv, as the raw reader wrote it (quotes and glob
    escapes undone); None when it reads none or several."""
    files = {
        _GLOB_ESCAPE.sub(r"\1", match.group(1).replace("''", "'"))
        for match in _READ_CSV.finditer(sql)
    }
    return files.pop() if len(files) == 1 else None


def private_message(message: str, sql: str = "") -> str | None:
    """A message for the DuckDB error `message` (raised by `sql`) that quotes none of the data,
    or None when the error quotes no data and can be shown as it is."""
    csv_line = _CSV_LINE.search(message.split("Original Line:", 1)[0])
    if csv_line or "Original Line:" in message:
        file = read_file(sql)
        rule = next(
            (rule for phrase, rule in _CSV_RULES if phrase in message),
            "it breaks the CSV rules",
        )
        where = f"at line {csv_line.group(1)}" if csv_line else ""
        return (
            f"{f'Raw file {file}' if file else 'A CSV file'} is malformed {where}".rstrip()
            + " (lines counted from the file's first line, the header included; a quoted value"
            f" spanning lines counts once): {rule}. "
            "Fix or re-export that line, or set raw_format (delimiter, encoding) to the file's "
            f"dialect, then run again. The line's {_NOT_SHOWN}."
        )
    if message.startswith("Conversion Error"):
        return (
            "Conversion Error: a value could not be converted to the type asked for; its "
            f"{_NOT_SHOWN}. Convert raw text with try_cast (staging does, and quarantines what "
            "fails)."
        )
    if "Could not parse string" in message:
        return (
            "Invalid Input Error: a text value does not match the date or time format asked for; "
            f"its {_NOT_SHOWN}. Parse raw text with try_strptime (staging does, and quarantines "
            "what fails)."
        )
    return None
