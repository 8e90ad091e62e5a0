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
    try:
        with opener(source, "rb") as handle, partial.open("w", encoding="utf-8", newline="") as out:
            while chunk := handle.read(_CHUNK):
                try:
                    out.write(decoder.decode(chunk))
                except UnicodeDecodeError as exc:
                    raise ValueError(
                        f"Raw file {source} is not {encoding} text: byte 0x{chunk[exc.start]:02x} "
                        f"at offset {offset + exc.start} is undefined in {encoding}. Check "
                        "raw_format.encoding (utf-8, cp1252, latin-1 or utf-16)."
                    ) from None
                offset += len(chunk)
            out.write(decoder.decode(b"", final=True))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    for older in cache_dir.glob(f"{stem}-*.csv"):
        older.unlink(missing_ok=True)
    partial.replace(target)
    return str(target)


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
