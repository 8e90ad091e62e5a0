"""Numbers in the quality report, written for people: 39,736 rows, 31.2%, 0.399 times.

A measure's name says what kind of number it is: `*_ratio` is this run / the previous good run,
`*share*` and `*retention*` are shares of 1 (shown as percentages), whole numbers get thousands
separators, and any other number two decimals.
"""

from __future__ import annotations

import math
from typing import Any


def is_missing(value: Any) -> bool:
    """None or NaN: nothing was measured."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_count(value: int | float) -> str:
    """A count with thousands separators: 39736 -> '39,736'."""
    return f"{round(value):,}"


def format_ratio(value: float) -> str:
    """This run / the previous good run, three significant digits: 0.39936 -> '0.399'."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def format_share(value: float) -> str:
    """A share of 1 as a percentage with one decimal: 0.3123 -> '31.2%'."""
    return f"{value:.1%}"


def format_number(value: Any, name: str = "") -> str:
    """`value` of the measure (or column) `name`, for a person to read; '–' when missing."""
    if is_missing(value):
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if name.endswith("_ratio"):
        return format_ratio(float(value))
    if "share" in name or "retention" in name:
        return format_share(float(value))
    if float(value).is_integer():
        return format_count(value)
    return f"{value:,.2f}"
