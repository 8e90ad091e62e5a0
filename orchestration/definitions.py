"""The one Dagster entry point: everything under orchestration/defs/."""

from pathlib import Path

import dagster as dg


@dg.definitions
def defs() -> dg.Definitions:
    """Load every definition in orchestration/defs/ (Dagster's project layout)."""
    return dg.load_from_defs_folder(path_within_project=Path(__file__).resolve().parent)
