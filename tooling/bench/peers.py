"""The peers measured in their own processes: Dagster materialising the dbt assets, and the
pandas reference."""

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


def pandas_peer(raw: Path, out: Path) -> int:
    """The pandas implementation of the core marts, pickled for the comparison."""
    import pickle

    from tooling.pandas_reference import compute_reference

    reference = compute_reference(raw)
    out.write_bytes(pickle.dumps(reference))
    return 0
