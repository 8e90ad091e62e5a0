"""Chunked generation: simulate customers chunk by chunk, then merge each table in time order.

Phase 1 simulates each chunk of customers (customers are written at once: their ids follow signup
order, so chunks are already in file order) and parks the other tables' rows, sorted by time, in
memory (one chunk) or in memory-mapped Arrow IPC files (several chunks).
Phase 2 walks the window in ~30-day buckets; for each bucket it gathers the rows of all chunks,
sorts them by (time, tie-break key), assigns ids in that order and writes them. Orders go first,
so sessions and survey responses can translate their order references into order ids.
Memory is bounded by one chunk plus one bucket, whatever the number of customers.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, TextIO

import numpy as np
import pyarrow as pa
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from ._calendar import DAY, Timeline
from ._defects import MANIFEST_COLUMNS, plant
from ._params import Params
from ._simulate import GK_SHIFT, NULL, Columns, build_context, campaign_ids, simulate_chunk, stream
from ._tables import (
    SCHEMAS,
    TABLES,
    Encoder,
    Frame,
    csv_header,
    customers_frame,
    emails_frame,
    orders_frame,
    parquet_schema,
    sessions_frame,
    surveys_frame,
    vocabularies,
)

CHUNK_SIZE = 50_000
BUCKET_DAYS = 30
MAX_CUSTOMERS = 10_000_000
MIN_DATE = dt.date(2000, 1, 1)
MAX_DATE = dt.date(2099, 12, 31)
FORMATS = ("csv", "parquet")
MANIFEST_FILE = "_defects.csv"
_CSV_BATCH = 500_000


class ConfigError(ValueError):
    """An invalid generator setting; the message is one sentence meant for the user."""


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. The output depends only on these fields (and the code version)."""

    customers: int = 2_000
    seed: int = 42
    start: dt.date = dt.date(2023, 1, 1)
    end: dt.date = dt.date(2025, 12, 31)  # inclusive
    fmt: str = "csv"
    defects: float = 0.0

    def validate(self) -> None:
        """Raise `ConfigError` with a one-sentence explanation if a setting is invalid."""
        if not 1 <= self.customers <= MAX_CUSTOMERS:
            raise ConfigError(
                f"--customers must be between 1 and {MAX_CUSTOMERS:,} (got {self.customers})."
            )
        if not 0 <= self.seed < 2**63:
            raise ConfigError(
                f"--seed must be a non-negative integer below 2**63 (got {self.seed})."
            )
        if self.start < MIN_DATE or self.end > MAX_DATE:
            raise ConfigError(
                f"--start and --end must lie between {MIN_DATE} and {MAX_DATE} "
                f"(got {self.start} .. {self.end})."
            )
        if self.end < self.start:
            raise ConfigError(f"--end ({self.end}) must not be before --start ({self.start}).")
        if self.fmt not in FORMATS:
            raise ConfigError(f"--format must be csv or parquet (got {self.fmt!r}).")
        if not (math.isfinite(self.defects) and 0.0 <= self.defects <= 0.5):
            raise ConfigError(
                f"--defects must be a fraction between 0 and 0.5 (got {self.defects})."
            )


def output_files(fmt: str) -> dict[str, str]:
    """File name of each table for a format."""
    return {t: f"{t}.{fmt}" for t in TABLES}


class _ChunkStore:
    """Per-chunk, time-sorted rows of the merged tables: in memory, or Arrow IPC files on disk.

    On disk, each bucket's slice is read through a short-lived memory map and copied, so the
    resident memory stays at one bucket (no file stays mapped while the merge walks the window).
    """

    def __init__(self, directory: Path | None, edges: np.ndarray) -> None:
        self.directory = directory
        self.edges = edges
        self.memory: dict[tuple[str, int], Columns] = {}
        self.cuts: dict[tuple[str, int], np.ndarray] = {}
        if directory is not None:
            directory.mkdir()

    def put(self, table: str, chunk: int, cols: Columns) -> None:
        self.cuts[table, chunk] = np.searchsorted(cols["_ts"], self.edges, side="left")
        if self.directory is None:
            self.memory[table, chunk] = cols
            return
        arrow = pa.table({k: pa.array(v) for k, v in cols.items()})
        with ipc.new_file(self._path(table, chunk), arrow.schema) as writer:
            writer.write_table(arrow)

    def bucket(self, table: str, chunk: int, b: int) -> Columns:
        """Rows of one chunk that fall into bucket `b` (edges[b] <= _ts < edges[b + 1])."""
        lo, hi = (int(x) for x in self.cuts[table, chunk][b : b + 2])
        if self.directory is None:
            return {k: v[lo:hi] for k, v in self.memory[table, chunk].items()}
        with pa.memory_map(str(self._path(table, chunk))) as source:
            part = ipc.open_file(source).read_all().slice(lo, hi - lo)
            return {
                name: np.array(part.column(name).combine_chunks().to_numpy(zero_copy_only=False))
                for name in part.column_names
            }

    def drop(self, table: str, chunk: int) -> None:
        self.memory.pop((table, chunk), None)
        if self.directory is not None:
            self._path(table, chunk).unlink(missing_ok=True)

    def _path(self, table: str, chunk: int) -> Path:
        assert self.directory is not None
        return self.directory / f"{table}-{chunk}.arrow"


@dataclass
class _Writer:
    """Writes frames of every table (planting defects first) into the staging directory."""

    config: GeneratorConfig
    staging: Path
    encoder: Encoder
    enum_sizes: dict[str, int]
    window_end: int
    rows: dict[str, int] = field(default_factory=dict)
    _csv: dict[str, BinaryIO] = field(default_factory=dict)
    _parquet: dict[str, pq.ParquetWriter] = field(default_factory=dict)
    _manifest: TextIO | None = None

    def open(self) -> None:
        for table, name in output_files(self.config.fmt).items():
            path = self.staging / name
            if self.config.fmt == "csv":
                handle = open(path, "wb")  # noqa: SIM115 - closed in close()
                handle.write(csv_header(table))
                self._csv[table] = handle
            else:
                self._parquet[table] = pq.ParquetWriter(
                    path, parquet_schema(table), compression="zstd"
                )
            self.rows[table] = 0
        if self.config.defects > 0:
            self._manifest = open(self.staging / MANIFEST_FILE, "w", encoding="utf-8", newline="")  # noqa: SIM115
            self._manifest.write(",".join(MANIFEST_COLUMNS) + "\n")

    def write(self, frame: Frame, part: int) -> None:
        table = frame.table
        if self.config.defects > 0 and len(frame):
            rng = stream(self.config.seed, 2, TABLES.index(table), part)
            frame, manifest = plant(
                frame,
                rng,
                self.config.defects,
                self.config.customers,
                self.window_end,
                self.enum_sizes,
            )
            assert self._manifest is not None
            self._manifest.write("".join(",".join(row) + "\n" for row in manifest))
        if len(frame) == 0:
            return
        self.rows[table] += len(frame)
        if self.config.fmt == "csv":
            for lo in range(0, len(frame), _CSV_BATCH):
                self._csv[table].write(self.encoder.csv(_slice(frame, lo, lo + _CSV_BATCH)))
        else:
            self._parquet[table].write_table(self.encoder.arrow(frame))

    def close(self) -> None:
        """Close every open file (safe to call twice)."""
        for handle in self._csv.values():
            handle.close()
        for writer in self._parquet.values():
            writer.close()
        if self._manifest is not None:
            self._manifest.close()
        self._csv, self._parquet, self._manifest = {}, {}, None


def _slice(frame: Frame, lo: int, hi: int) -> Frame:
    n = len(frame)
    if lo == 0 and hi >= n:
        return frame
    hi = min(hi, n)
    values = {k: v[lo:hi] for k, v in frame.values.items()}
    overrides = {}
    for col, (pos, texts) in frame.overrides.items():
        keep = (pos >= lo) & (pos < hi)
        overrides[col] = (pos[keep] - lo, [t for t, k in zip(texts, keep, strict=True) if k])
    zone = frame.zone if np.isscalar(frame.zone) else frame.zone[lo:hi]
    return Frame(
        frame.table,
        values,
        {k: v[lo:hi] for k, v in frame.valid.items()},
        zone,
        frame.extra,
        overrides,
    )


def generate(
    config: GeneratorConfig,
    out_dir: Path,
    *,
    progress: Callable[[str], None] | None = None,
    chunk_size: int = CHUNK_SIZE,
    params: Params | None = None,
) -> dict[str, int]:
    """Generate the five raw tables into `out_dir`; return the row count of each table.

    Only the five table files of the chosen format (and `_defects.csv` with defects) are
    replaced; with `defects == 0` a stale `_defects.csv` is deleted. Files are staged in a
    temporary directory inside `out_dir` and moved into place at the end.
    """
    config.validate()
    params = params or Params()
    say = progress or (lambda _msg: None)
    tl = Timeline.build(config.start, config.end, params.weekday_factor, params.q4_factor)
    ctx = build_context(config.seed, config.customers, tl, params)
    vocabs = vocabularies(campaign_ids(tl))
    enum_sizes = {
        c.name: len(vocabs[c.vocab]) for cols in SCHEMAS.values() for c in cols if c.vocab
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    bounds = [
        (lo, min(lo + chunk_size, config.customers))
        for lo in range(0, config.customers, chunk_size)
    ]
    edges = _bucket_edges(tl)
    staging = Path(tempfile.mkdtemp(prefix=".generate-", dir=out_dir))
    writer = _Writer(config, staging, Encoder(vocabs), enum_sizes, tl.t1)
    try:
        store = _ChunkStore(staging / "chunks" if len(bounds) > 1 else None, edges)
        writer.open()
        order_counts = []
        for c, (lo, hi) in enumerate(bounds):
            result = simulate_chunk(ctx, c, lo, hi)
            writer.write(customers_frame(result["customers"]), part=c)
            orders = result["orders"]
            order_counts.append(len(orders["_ts"]))
            keep = ("_ts", "_gk", "_zone", *(col.name for col in SCHEMAS["orders"][1:]))
            store.put("orders", c, {k: orders[k] for k in keep if k in orders})
            for table in ("sessions", "survey_responses", "email_events"):
                store.put(table, c, result[table])
            if len(bounds) > 1:
                say(f"simulated customers {lo + 1:,}..{hi:,}")
        order_map = [np.full(k, NULL, dtype=np.int64) for k in order_counts]
        for table in ("orders", "sessions", "survey_responses", "email_events"):
            _merge(table, store, len(bounds), edges, writer, order_map)
        writer.close()

        files = output_files(config.fmt)
        for table in TABLES:
            os.replace(staging / files[table], out_dir / files[table])
            say(f"{table}: {writer.rows[table]:,} rows -> {out_dir / files[table]}")
        manifest = out_dir / MANIFEST_FILE
        if config.defects > 0:
            os.replace(staging / MANIFEST_FILE, manifest)
            say(f"defect manifest -> {manifest}")
        elif manifest.exists():
            manifest.unlink()
        return dict(writer.rows)
    finally:
        writer.close()
        shutil.rmtree(staging, ignore_errors=True)


def _bucket_edges(tl: Timeline) -> np.ndarray:
    n = max(1, math.ceil((tl.t1 - tl.t0) / (BUCKET_DAYS * DAY)))
    edges = np.linspace(tl.t0, tl.t1, n + 1).astype(np.int64)
    edges[0], edges[-1] = tl.t0, tl.t1
    return edges


def _merge(
    table: str,
    store: _ChunkStore,
    n_chunks: int,
    edges: np.ndarray,
    writer: _Writer,
    order_map: list[np.ndarray],
) -> None:
    next_id = 1
    low_mask = (np.int64(1) << GK_SHIFT) - 1
    for b in range(len(edges) - 1):
        pieces = [store.bucket(table, c, b) for c in range(n_chunks)]
        cols = {k: np.concatenate([p[k] for p in pieces]) for k in pieces[0]}
        order = np.lexsort((cols["_gk"], cols["_ts"]))
        cols = {k: v[order] for k, v in cols.items()}
        n = len(order)
        ids = np.arange(next_id, next_id + n, dtype=np.int64)
        next_id += n
        chunk_of = cols["_gk"] >> GK_SHIFT
        if table == "orders":
            local = cols["_gk"] & low_mask
            for c in np.unique(chunk_of):
                m = chunk_of == c
                order_map[c][local[m]] = ids[m]
            frame = orders_frame(cols, ids)
        elif table == "email_events":
            frame = emails_frame(cols, ids)
        else:
            ref = cols["_order"]
            order_ids = np.full(n, NULL, dtype=np.int64)
            has = ref >= 0
            for c in np.unique(chunk_of[has]):
                m = has & (chunk_of == c)
                order_ids[m] = order_map[c][ref[m]]
            build = sessions_frame if table == "sessions" else surveys_frame
            frame = build(cols, ids, order_ids)
        writer.write(frame, part=b)
    for c in range(n_chunks):
        store.drop(table, c)
