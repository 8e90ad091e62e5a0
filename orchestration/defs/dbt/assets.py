"""Every dbt model, seed and test as Dagster assets and asset checks (dagster-dbt)."""

from functools import cache
from typing import Any

import dagster as dg
from pydantic import Field

from orchestration.defs.resources import (
    TRANSIENT_RETRY_POLICY,
    WAREHOUSE_POOL,
    WarehouseResource,
)
from orchestration.lib.settings import RawDialect


class RawDialectConfig(dg.Config):
    """Run config of the dbt build: the raw files' export dialect, over the environment's
    (docs/bring-your-own-data.md, "Export dialects"); empty means the environment's settings."""

    raw_format: dict[str, str] = Field(default_factory=dict)
    raw_format_overrides: dict[str, dict[str, str]] = Field(default_factory=dict)
    raw_column_mapping: dict[str, dict[str, str]] = Field(default_factory=dict)

    def dialect(self) -> RawDialect:
        """The validated dialect (SettingError names a bad setting)."""
        return RawDialect.parse(self.raw_format, self.raw_format_overrides, self.raw_column_mapping)


@cache
def build_dbt_definitions() -> dg.Definitions:
    """dbt assets from a manifest parsed offline (only when the project changed)."""
    from dagster_dbt import (
        DagsterDbtTranslator,
        DagsterDbtTranslatorSettings,
        DbtCliResource,
        DbtProject,
        dbt_assets,
    )

    from orchestration.defs.dbt.partitions import landing_partitions
    from orchestration.lib.dbt_project import (
        DBT_PROJECT_DIR,
        DBT_TARGET_PATH,
        dbt_executable,
        prepared_manifest_path,
    )

    class Translator(DagsterDbtTranslator):
        """Sources are the raw landing assets; Dagster groups follow the dbt folders (not the
        dbt groups); owners are the owner email of the model's dbt group (models/_groups.yml,
        DagsterDbtTranslator's default) and descriptions come from dbt."""

        def get_asset_key(self, dbt_resource_props: dict[str, Any]) -> dg.AssetKey:
            if dbt_resource_props["resource_type"] == "source":
                return dg.AssetKey(["raw", dbt_resource_props["name"]])
            if dbt_resource_props.get("fqn", [None, None])[1] == "raw":
                # the raw models land the files as raw.<table>: the raw assets
                return dg.AssetKey(["raw", dbt_resource_props["alias"]])
            return super().get_asset_key(dbt_resource_props)

        def get_group_name(self, dbt_resource_props: dict[str, Any]) -> str | None:
            fqn = dbt_resource_props.get("fqn", [])
            if dbt_resource_props["resource_type"] == "source" or fqn[1:2] == ["raw"]:
                return "raw"
            if dbt_resource_props["resource_type"] == "seed":
                return "reference"
            # models/<layer>/<area>/… -> <layer>_<area>, e.g. marts_customers, staging_shop
            folders = fqn[1:-1]
            return "_".join(folders[:2]) if folders else "default"

    manifest = prepared_manifest_path()
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR,
        target_path=DBT_TARGET_PATH,
        profiles_dir=DBT_PROJECT_DIR,
    )
    translator = Translator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def build_assets(
        name: str,
        select: str,
        exclude: str | None,
        partitions_def: dg.PartitionsDefinition | None = None,
    ):
        @dbt_assets(
            manifest=manifest,
            project=project,
            dagster_dbt_translator=translator,
            select=select,
            exclude=exclude,
            pool=WAREHOUSE_POOL,
            retry_policy=TRANSIENT_RETRY_POLICY,
            name=name,
            partitions_def=partitions_def,
            # a backfill of a day range is one dbt run that lands those days
            backfill_policy=dg.BackfillPolicy.single_run() if partitions_def else None,
        )
        def dbt_build_step(
            context: dg.AssetExecutionContext,
            dbt: DbtCliResource,
            warehouse: WarehouseResource,
            config: RawDialectConfig,
        ):
            from orchestration.defs.dbt.run import run_dbt_build, run_dialect

            yield from run_dbt_build(context, dbt, warehouse, run_dialect(context, config))

        return dbt_build_step

    # Two steps, so that the raw Great Expectations suites (blocking checks on the raw assets)
    # run between them: first the raw models land the landing directory's files as
    # raw.<table> through the one raw reader (dbt var raw_data_path; run config: the export
    # dialect), then everything else is built on them.
    # The raw assets are partitioned by day (orchestration/defs/dbt/partitions.py): a run for
    # a partition or a backfill of a day range lands those days' partition files again; a run
    # without a partition lands every new or changed file. Everything downstream is one
    # unpartitioned asset each, depending on every day (Dagster's default mapping).
    raw_assets = build_assets(
        "customer_analytics_raw",
        "path:models/raw",
        None,
        landing_partitions(),
    )
    main_assets = build_assets(
        "customer_analytics_dbt",
        "fqn:*",
        "path:models/raw",
    )

    from orchestration.lib.settings import Settings

    return dg.Definitions(
        assets=[raw_assets, main_assets],
        # the engine's target (CUSTOMER_ANALYTICS_ENGINE: dev, or spark), never serving
        # (profiles.yml: the read-only served file, for mf only)
        resources={
            "dbt": DbtCliResource(
                project_dir=project,
                dbt_executable=dbt_executable(),
                target=Settings.from_env().dbt_target,
            )
        },
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The dbt part of the definitions (built lazily: dagster_dbt and the manifest load here)."""
    return build_dbt_definitions()
