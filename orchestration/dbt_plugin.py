"""The project's dbt-duckdb plugin (profiles.yml `plugins`): SQL functions the raw reader and the
pseudonymisation need that DuckDB does not have. Loaded by dbt in every process that opens the
warehouse.

- `customer_analytics_utf8_copy(path, encoding)`: a UTF-8 copy of a raw CSV file (plain or
  .gz) in an encoding DuckDB cannot read itself (cp1252, Excel's "ANSI" on Windows), decoded
  strictly: a byte the encoding does not define fails with the file and the byte offset, never
  with the file's content. The copy lies in the plugin's `cache_dir` (beside the warehouse
  file: restricted, like the raw files), named by the content's SHA-256, so an unchanged file
  is converted once; older copies of the same file are removed.
- `customer_analytics_pseudonym(customer_id)`: the customer's key in the public marts,
  HMAC-SHA256 under the key in CUSTOMER_ANALYTICS_PSEUDONYM_KEY_FILE (orchestration/lib/
  privacy.py). The key is read here, at run time: it is never part of SQL, `target/` or logs.
- `customer_analytics_erased_ids()`: the customer ids of the erasure requests
  (CUSTOMER_ANALYTICS_ERASURE_FILE), which the raw reader leaves out of every table.
- `customer_analytics_file_sha256(path)`: the SHA-256 of a raw file's bytes, read in chunks
  (DuckDB's `sha256(content)` over `read_blob` holds the whole file in memory: a 4 GB export
  fails, and a file cannot pass 4 GB); null when the file cannot be read.
- `customer_analytics_gzip_problem(path)`: why a raw .gz file is not a whole gzip stream (cut
  short by an interrupted copy, corrupt), or null: DuckDB reads a truncated file as the rows
  before the cut, without an error.
- `customer_analytics_absolute_path(path)`: a relative raw directory made absolute against
  dbt's working directory (os.path.abspath: '.' and '..' resolved, symbolic links kept), so
  that plain `dbt build` (the default `./data/raw`) and `make build` or Dagster (the same
  folder, absolute) record one landing location and a switch between them is no change of
  raw source.
- `customer_analytics_privacy_state()`: fingerprints of the key and of the erasure requests
  (keyed: no customer's hash), recorded by incremental models, which are rebuilt in full when
  either changes.

Before dbt opens the file, it also checks the sizes the profile hands DuckDB
(CUSTOMER_ANALYTICS_MEMORY_LIMIT, CUSTOMER_ANALYTICS_MAX_TEMP_SIZE, as the Python entry points
do): a bad one stops dbt with one sentence naming it. And it makes the file's folder (the
plugin config's `database`), which DuckDB does not: plain `dbt build` on a fresh checkout
creates warehouse/ as `make build` does.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import os
import zlib
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from dbt_common.exceptions import DbtRuntimeError

_CHUNK = 1 << 20


def utf8_copy(path: str, encoding: str, cache_dir: Path) -> str:
    """Path of a UTF-8 copy of `path` (decoded from `encoding`), made if missing."""
    source = Path(path)
    opener = gzip.open if source.name.endswith(".gz") else open
    digest = hashlib.sha256(encoding.encode())
    with opener(source, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    # the folder in the name: day partitions of different tables share file names
    folder = hashlib.sha256(str(source.resolve().parent).encode()).hexdigest()[:8]
    stem = f"{source.name.removesuffix('.gz').removesuffix('.csv')}-{folder}"
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


def file_sha256(path: str) -> str | None:
    """SHA-256 (lowercase hex) of the file's bytes in bounded memory; None if unreadable."""
    from orchestration.lib.landing import file_digest

    try:
        return file_digest(Path(path), _CHUNK)
    except OSError:
        return None


def gzip_problem(path: str) -> str | None:
    """Why `path` is not a whole gzip stream (cut short, or corrupt), or None when it is;
    decompressed in chunks, in bounded memory. Never quotes the file's content."""
    try:
        with gzip.open(path, "rb") as handle:
            while handle.read(_CHUNK):
                pass
    except EOFError:
        return "it ends before its compressed data does (a copy cut short?)"
    except (gzip.BadGzipFile, zlib.error):
        return "its compressed data is corrupt"
    except OSError as error:
        return f"it cannot be read ({error.strerror or type(error).__name__})"
    return None


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
        from orchestration.lib import privacy, settings

        # the sizes the profile gives DuckDB, checked before dbt opens the file with them
        try:
            settings.duckdb_sizes(os.environ)
            message = None
        except settings.SettingError as error:
            message = str(error)
        database = plugin_config.get("database") or ""
        if message is None and database and not database.startswith(":memory:"):
            folder = Path(database).parent
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as error:
                message = (
                    f"Cannot make the folder {folder} of the warehouse file "
                    f"(CUSTOMER_ANALYTICS_DB): {error.strerror}. Give a file in a folder you "
                    "can write to."
                )
        if message is not None:
            # raised outside the except block: dbt prints the sentence, not a traceback
            raise DbtRuntimeError(message)
        self.cache_dir = Path(plugin_config.get("cache_dir") or "warehouse/raw-utf8").resolve()
        key = privacy.load_key(privacy.key_file())
        self.erased = privacy.erased_ids(privacy.erasure_file())
        self.privacy_state = privacy.privacy_state(key, self.erased)

        def pseudonyms(customer_ids: Any) -> Any:
            import pyarrow as pa

            return pa.array(
                [
                    None if customer_id is None else privacy.pseudonym(key, customer_id)
                    for customer_id in customer_ids.to_pylist()
                ],
                pa.string(),
            )

        self.pseudonyms = pseudonyms

    def configure_connection(self, conn: Any) -> None:
        import duckdb

        conn.create_function(
            "customer_analytics_utf8_copy",
            lambda path, encoding: utf8_copy(path, encoding, self.cache_dir),
            [duckdb.sqltypes.VARCHAR, duckdb.sqltypes.VARCHAR],
            duckdb.sqltypes.VARCHAR,
            side_effects=True,
        )
        conn.create_function(
            "customer_analytics_pseudonym",
            self.pseudonyms,
            [duckdb.sqltypes.VARCHAR],
            duckdb.sqltypes.VARCHAR,
            type="arrow",
        )
        conn.create_function(
            "customer_analytics_erased_ids",
            lambda: self.erased,
            [],
            duckdb.list_type(duckdb.sqltypes.VARCHAR),
        )
        conn.create_function(
            "customer_analytics_file_sha256",
            file_sha256,
            [duckdb.sqltypes.VARCHAR],
            duckdb.sqltypes.VARCHAR,
            null_handling="special",
            side_effects=True,
        )
        conn.create_function(
            "customer_analytics_gzip_problem",
            gzip_problem,
            [duckdb.sqltypes.VARCHAR],
            duckdb.sqltypes.VARCHAR,
            null_handling="special",
            side_effects=True,
        )
        conn.create_function(
            "customer_analytics_absolute_path",
            os.path.abspath,
            [duckdb.sqltypes.VARCHAR],
            duckdb.sqltypes.VARCHAR,
            side_effects=True,
        )
        conn.create_function(
            "customer_analytics_privacy_state",
            lambda: self.privacy_state,
            [],
            duckdb.sqltypes.VARCHAR,
        )

    def configure_cursor(self, cursor: Any) -> None:
        """Before dbt's first query on a cursor: DuckDB errors quoting data are rebuilt."""
        report_errors_privately()
