"""Time handling: the generation window, seasonality, time zones and fast text formatting.

All instants are int64 seconds since the Unix epoch (UTC). Local time is Europe/Berlin (or
Europe/London for British shop orders); both follow the EU rule since 1996: summer time from the
last Sunday of March, 01:00 UTC, to the last Sunday of October, 01:00 UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

DAY = 86_400
HOUR = 3_600

#: Zone codes used for the per-row offset of a timestamp column.
ZONE_UTC = 0  # written with "Z"
ZONE_BERLIN = 1  # +01:00 / +02:00
ZONE_LONDON = 2  # +00:00 / +01:00

_EPOCH = dt.date(1970, 1, 1)


def epoch_day(day: dt.date) -> int:
    """Days since 1970-01-01 of a calendar date."""
    return (day - _EPOCH).days


def _last_sunday(year: int, month: int) -> dt.date:
    last = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() + 1) % 7)


def eu_transitions(first_year: int, last_year: int) -> np.ndarray:
    """Summer-time start/end instants (alternating, ascending) for the given years."""
    out: list[int] = []
    for year in range(first_year, last_year + 1):
        for month in (3, 10):
            out.append(epoch_day(_last_sunday(year, month)) * DAY + HOUR)
    return np.asarray(out, dtype=np.int64)


# Covers every instant the generator can write, including planted future timestamps.
_TRANSITIONS = eu_transitions(1996, 2120)


def utc_offset(ts: np.ndarray, zone: np.ndarray | int) -> np.ndarray:
    """UTC offset in seconds of each instant in its zone (vectorised)."""
    summer = (np.searchsorted(_TRANSITIONS, ts, side="right") % 2) == 1
    base = np.where(np.asarray(zone) == ZONE_LONDON, 0, HOUR)
    return np.where(np.asarray(zone) == ZONE_UTC, 0, base + summer * HOUR).astype(np.int64)


def civil_from_days(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day of epoch days (H. Hinnant's algorithm, vectorised)."""
    z = days.astype(np.int64) + 719_468
    era = np.floor_divide(z, 146_097)
    doe = z - era * 146_097
    yoe = (doe - doe // 1_460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = np.where(mp < 10, mp + 3, mp - 9)
    year = yoe + era * 400 + (month <= 2)
    return year, month, day


def _digits(out: np.ndarray, col: int, values: np.ndarray, width: int) -> None:
    v = values.astype(np.int64)
    for k in range(width - 1, -1, -1):
        out[:, col + k] = 48 + v % 10
        v = v // 10


def _fixed_width_strings(chars: np.ndarray) -> pa.StringArray:
    n, width = chars.shape
    offsets = np.arange(n + 1, dtype=np.int32) * width
    return pa.StringArray.from_buffers(
        n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(chars).tobytes())
    )


def format_dates(days: np.ndarray) -> pa.StringArray:
    """`YYYY-MM-DD` text of epoch days."""
    year, month, day = civil_from_days(days)
    chars = np.empty((len(days), 10), dtype=np.uint8)
    _digits(chars, 0, year, 4)
    chars[:, 4] = ord("-")
    _digits(chars, 5, month, 2)
    chars[:, 7] = ord("-")
    _digits(chars, 8, day, 2)
    return _fixed_width_strings(chars)


def format_timestamps(ts: np.ndarray, zone: np.ndarray | int) -> pa.StringArray:
    """ISO 8601 text with seconds and explicit offset, e.g. `2024-03-05T14:22:10+01:00`.

    `zone` is one zone code for the whole column or one per row. UTC is written as `Z` when the
    whole column is UTC, else as `+00:00`.
    """
    ts = np.asarray(ts, dtype=np.int64)
    n = len(ts)
    zone_arr = np.broadcast_to(np.asarray(zone, dtype=np.int8), (n,))
    offset = utc_offset(ts, zone_arr)
    local = ts + offset
    days = np.floor_divide(local, DAY)
    secs = local - days * DAY
    year, month, day = civil_from_days(days)
    all_utc = np.isscalar(zone) and zone == ZONE_UTC
    chars = np.empty((n, 20 if all_utc else 25), dtype=np.uint8)
    _digits(chars, 0, year, 4)
    chars[:, 4] = ord("-")
    _digits(chars, 5, month, 2)
    chars[:, 7] = ord("-")
    _digits(chars, 8, day, 2)
    chars[:, 10] = ord("T")
    _digits(chars, 11, secs // HOUR, 2)
    chars[:, 13] = ord(":")
    _digits(chars, 14, (secs // 60) % 60, 2)
    chars[:, 16] = ord(":")
    _digits(chars, 17, secs % 60, 2)
    if all_utc:
        chars[:, 19] = ord("Z")
    else:
        chars[:, 19] = ord("+")
        _digits(chars, 20, offset // HOUR, 2)
        chars[:, 22] = ord(":")
        _digits(chars, 23, (offset // 60) % 60, 2)
    return _fixed_width_strings(chars)


@dataclass(frozen=True)
class Timeline:
    """The generation window with its day grid and the seasonal "business clock".

    The window is [start 00:00 UTC, end+1 00:00 Europe/Berlin): every instant in it has both its
    UTC date and its Berlin (or London) local date inside [start, end].

    Behavioural processes run on a warped clock whose speed on a local day is that day's weight
    (weekday factor x Q4 factor, normalised to mean 1 over the window): a homogeneous Poisson
    process on the warped clock is an inhomogeneous one with exactly that seasonality.
    """

    start: dt.date
    end: dt.date
    t0: int
    t1: int
    day_starts: np.ndarray  # instant of each local midnight, len n_days + 1 (last = t1)
    weekday: np.ndarray  # 0 = Monday, per day
    month: np.ndarray  # 1..12, per day
    weight: np.ndarray  # seasonal weight per day, mean 1
    warp_grid: np.ndarray  # warped time (in average days) at each day start

    @classmethod
    def build(
        cls,
        start: dt.date,
        end: dt.date,
        weekday_factor: tuple[float, ...],
        q4_factor: float,
    ) -> Timeline:
        """Construct the timeline for an inclusive date range."""
        n_days = (end - start).days + 1
        midnight_utc = (epoch_day(start) + np.arange(n_days + 1, dtype=np.int64)) * DAY
        day_starts = midnight_utc - utc_offset(midnight_utc - 2 * HOUR, ZONE_BERLIN)
        _, month, _ = civil_from_days(midnight_utc[:-1] // DAY)
        weekday = (start.weekday() + np.arange(n_days)) % 7
        weight = np.asarray(weekday_factor)[weekday] * np.where(month >= 11, q4_factor, 1.0)
        weight = weight / weight.mean()
        warp_grid = np.concatenate([[0.0], np.cumsum(weight)])
        t0 = epoch_day(start) * DAY
        return cls(
            start=start,
            end=end,
            t0=int(t0),
            t1=int(day_starts[-1]),
            day_starts=day_starts,
            weekday=weekday,
            month=month,
            weight=weight,
            warp_grid=warp_grid,
        )

    @property
    def n_days(self) -> int:
        """Number of calendar days in the window."""
        return len(self.weight)

    @property
    def warped_end(self) -> float:
        """Warped time at the end of the window."""
        return float(self.warp_grid[-1])

    def warp(self, ts: np.ndarray) -> np.ndarray:
        """Instant -> warped time (average days since the window start)."""
        return np.interp(ts, self.day_starts, self.warp_grid)

    def unwarp(self, u: np.ndarray) -> np.ndarray:
        """Warped time -> instant (float seconds)."""
        return np.interp(u, self.warp_grid, self.day_starts.astype(np.float64))

    def day_index(self, ts: np.ndarray) -> np.ndarray:
        """Local day index (0-based) of each instant, clipped to the window."""
        idx = np.searchsorted(self.day_starts, ts, side="right") - 1
        return np.clip(idx, 0, self.n_days - 1)

    def at_local_time(self, day: np.ndarray, second_of_day: np.ndarray) -> np.ndarray:
        """Instant of a local second-of-day on a day index (within that day's real length)."""
        length = self.day_starts[day + 1] - self.day_starts[day]
        return self.day_starts[day] + np.minimum(second_of_day, length - 1)
