"""The peers measured in their own processes: Dagster materialising the dbt assets, and the
pandas and Polars references."""

from __future__ import annotations

from pathlib import Path


def dagster_build(database: Path, raw: Path) -> int:
    """Materialise every dbt asset through Dagster (in process), reading the raw files of
    `raw` as the landing directory."""
    import dagster as dg

    from orchestration.defs.dbt.assets import build_dbt_definitions
    from orchestration.defs.resources import WarehouseResource

    definitions = build_dbt_definitions()
    resources = dict(definitions.resources)
    resources["warehouse"] = WarehouseResource(database=str(database), landing_dir=str(raw))
    assets = [a for a in definitions.assets if isinstance(a, dg.AssetsDefinition)]
    result = dg.materialize(
        assets, resources=resources, instance=dg.DagsterInstance.ephemeral(), raise_on_error=False
    )
    return 0 if result.success else 1


REFERENCES = ("pandas", "polars")
"""The independent implementations of the core marts: tooling.<name>_reference."""


def reference_peer(library: str, raw: Path, out: Path) -> int:
    """The core marts computed by tooling.<library>_reference (pandas or Polars), pickled for
    the comparison with the marts."""
    import importlib
    import pickle

    if library not in REFERENCES:
        raise ValueError(f"unknown reference {library!r}: {' or '.join(REFERENCES)}")
    module = importlib.import_module(f"tooling.{library}_reference")
    reference = module.compute_reference(raw)
    out.write_bytes(pickle.dumps(reference))
    return 0
