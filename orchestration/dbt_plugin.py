"""The project's dbt-duckdb plugin (profiles.yml `plugins`): SQL functions the raw reader needs
that DuckDB does not have. Loaded by dbt in every process that opens the warehouse.

- `customer_analytics_utf8_copy(path, encoding)`: a UTF-8 copy of a raw CSV file (plain or
  .gz) in an encoding DuckDB cannot read itself (cp1252, Excel's "ANSI" on Windows), decoded
  strictly: a byte the encoding does not define fails with the file and the byte offset, never
  with the file's content. The copy lies in the plugin's `cache_dir` (beside the warehouse
  file: restricted, like the raw files), named by the content's SHA-256, so an unchanged file
  is converted once; older copies of the same file are removed.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

_CHUNK = 1 << 20


def utf8_copy(path: str, encoding: str, cache_dir: Path) -> str:
    """Path of a UTF-8 copy of `path` (decoded from `encoding`), made if missing."""
    source = Path(path)
    opener = gzip.open if source.name.endswith(".gz") else open
    digest = hashlib.sha256(encoding.encode())
    with opener(source, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    stem = source.name.removesuffix(".gz").removesuffix(".csv")
    target = cache_dir / f"{stem}-{digest.hexdigest()[:20]}.csv"
    if target.exists():
        return str(target)
    cache_dir.mkdir(parents=True, exist_ok=True)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    partial = target.with_suffix(".partial")
    offset = 0
    lines = 0
    try:
        with opener(source, "rb") as handle, partial.open("w", encoding="utf-8", newline="") as out:
            while chunk := handle.read(_CHUNK):
                try:
                    out.write(decoder.decode(chunk))
                except UnicodeDecodeError as exc:
                    line = lines + chunk.count(b"\n", 0, exc.start) + 1
                    raise ValueError(
                        f"Raw file {source} is not {encoding} text: byte 0x{chunk[exc.start]:02x} "
                        f"on line {line} (offset {offset + exc.start}) is undefined in "
                        f"{encoding}. Check raw_format.encoding (utf-8, cp1252, latin-1 or "
                        "utf-16)."
                    ) from None
                offset += len(chunk)
                lines += chunk.count(b"\n")
            out.write(decoder.decode(b"", final=True))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    for older in cache_dir.glob(f"{stem}-*.csv"):
        older.unlink(missing_ok=True)
    partial.replace(target)
    return str(target)


def report_errors_privately() -> None:
    """Make dbt-duckdb's cursor raise `private_message` in place of a DuckDB error that quotes
    data (a malformed CSV line, a failed cast), before dbt logs or stores it: dbt prints errors
    to the console, `logs/dbt.log` and `run_results.json`, and Dagster copies them into run
    metadata (orchestration/lib/duckdb_errors.py). Once per process."""
    import duckdb
    from dbt.adapters.duckdb.environments.local import DuckDBCursorWrapper

    from orchestration.lib.duckdb_errors import private_message

    execute = DuckDBCursorWrapper.execute
    if getattr(execute, "reports_privately", False):
        return

    def private_execute(self: Any, sql: str, bindings: Any = None) -> Any:
        try:
            return execute(self, sql, bindings)
        except duckdb.Error as exc:
            message = private_message(str(exc), sql)
            if message is None:
                raise
            error_type = type(exc)
        # raised outside the except block: the new error carries no trace of the old one
        raise error_type(message)

    private_execute.reports_privately = True  # type: ignore[attr-defined]
    DuckDBCursorWrapper.execute = private_execute


class Plugin(BasePlugin):
    """Registers the project's SQL functions on every DuckDB connection dbt opens."""

    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.cache_dir = Path(plugin_config.get("cache_dir") or "warehouse/raw-utf8").resolve()

    def configure_connection(self, conn: Any) -> None:
        import duckdb

        conn.create_function(
            "customer_analytics_utf8_copy",
            lambda path, encoding: utf8_copy(path, encoding, self.cache_dir),
            [duckdb.sqltypes.VARCHAR, duckdb.sqltypes.VARCHAR],
            duckdb.sqltypes.VARCHAR,
            side_effects=True,
        )

    def configure_cursor(self, cursor: Any) -> None:
        """Before dbt's first query on a cursor: DuckDB errors quoting data are rebuilt."""
        report_errors_privately()
