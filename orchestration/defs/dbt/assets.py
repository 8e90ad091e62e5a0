"""Every dbt model, seed and test as Dagster assets and asset checks (dagster-dbt)."""

from functools import cache
from typing import Any

import dagster as dg

from orchestration.defs.resources import (
    TRANSIENT_RETRY_POLICY,
    WAREHOUSE_POOL,
    WarehouseResource,
)


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

    from orchestration.lib.dbt_project import (
        DBT_PROJECT_DIR,
        DBT_TARGET_PATH,
        dbt_executable,
        prepared_manifest_path,
    )

    class Translator(DagsterDbtTranslator):
        """Sources are the raw landing assets; groups follow the dbt folders; owners and
        descriptions come from dbt."""

        def get_asset_key(self, dbt_resource_props: dict[str, Any]) -> dg.AssetKey:
            if dbt_resource_props["resource_type"] == "source":
                return dg.AssetKey(["raw", dbt_resource_props["name"]])
            return super().get_asset_key(dbt_resource_props)

        def get_group_name(self, dbt_resource_props: dict[str, Any]) -> str | None:
            fqn = dbt_resource_props.get("fqn", [])
            if dbt_resource_props["resource_type"] == "source":
                return "raw"
            if dbt_resource_props["resource_type"] == "seed":
                return "reference"
            # models/<layer>/<area>/… -> <layer>_<area>, e.g. marts_customers, staging_shop
            folders = fqn[1:-1]
            return "_".join(folders[:2]) if folders else "default"

        def get_owners(self, dbt_resource_props: dict[str, Any]) -> list[str]:
            owner = (dbt_resource_props.get("meta") or {}).get("owner") or (
                dbt_resource_props.get("config", {}).get("meta") or {}
            ).get("owner")
            return [owner] if owner else ["team:analytics-engineering"]

    manifest = prepared_manifest_path()
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR,
        target_path=DBT_TARGET_PATH,
        profiles_dir=DBT_PROJECT_DIR,
    )
    translator = Translator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    @dbt_assets(
        manifest=manifest,
        project=project,
        dagster_dbt_translator=translator,
        pool=WAREHOUSE_POOL,
        retry_policy=TRANSIENT_RETRY_POLICY,
        name="customer_analytics_dbt",
    )
    def customer_analytics_dbt(
        context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
    ):
        """`dbt build` of the selected models, seeds and tests on the landed raw tables."""
        from orchestration.defs.dbt.run import run_dbt_build

        yield from run_dbt_build(context, dbt, warehouse)

    return dg.Definitions(
        assets=[customer_analytics_dbt],
        resources={"dbt": DbtCliResource(project_dir=project, dbt_executable=dbt_executable())},
    )


@dg.definitions
def defs() -> dg.Definitions:
    """The dbt part of the definitions (built lazily: dagster_dbt and the manifest load here)."""
    return build_dbt_definitions()
