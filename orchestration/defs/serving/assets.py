"""Publish: the tested marts of the build file become the served file and Parquet exports."""

import dagster as dg

from orchestration.defs.resources import TRANSIENT_RETRY_POLICY, WAREHOUSE_POOL, WarehouseResource


def build_published_marts(mart_keys: list[dg.AssetKey], owners: list[str]) -> dg.AssetsDefinition:
    """The publish asset, downstream of every mart of the dbt project, owned by the marts'
    owners."""

    @dg.asset(
        key=["serving", "published_marts"],
        deps=mart_keys,
        group_name="serving",
        kinds={"duckdb", "parquet"},
        owners=owners,
        pool=WAREHOUSE_POOL,
        retry_policy=TRANSIENT_RETRY_POLICY,
    )
    def published_marts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
        """Write-audit-publish: runs only after the marts were built and their checks passed in
        the same run; copies the public marts (schema marts only) into a new serving file and
        Parquet exports and swaps them in atomically. BI tools read only what this publishes.
        Publish itself refuses (a failure, not retried) a build whose dbt record shows a test
        that did not pass after its table was last built, or a quality suite without a passing
        record of this run's checks or of `customer-analytics validate` on this state."""
        from datetime import UTC, datetime
        from pathlib import Path

        from orchestration.lib.publish import publish
        from orchestration.lib.serving import build_reference_date, report_writers

        reference_date = build_reference_date(Path(warehouse.database))
        build_id = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}-{context.run.run_id[:8]}"
        quality_dir = Path(warehouse.quality_dir or Path(warehouse.database).parent / "quality")
        try:
            publication = publish(
                Path(warehouse.database),
                Path(warehouse.serving_database),
                Path(warehouse.exports_dir),
                build_id,
                reference_date=reference_date,
                report_writers=report_writers(quality_dir),
                quality_dir=quality_dir,
                run_id=context.run.run_id,
                audiences_root=Path(
                    warehouse.audiences_dir or Path(warehouse.database).parent / "audiences"
                ),
            )
        except ValueError as exc:
            # refused for what the build holds (an empty mart, a test or suite that did not
            # pass), not a busy file: a retry would be refused again
            raise dg.Failure(description=str(exc), allow_retries=False) from None
        return dg.MaterializeResult(
            metadata={
                "build_id": build_id,
                "serving_file": str(publication.serving_file),
                "exports": str(Path(warehouse.exports_dir) / "current"),
                "reference_date": reference_date,
                "row_counts": dg.MetadataValue.json(publication.row_counts),
            }
        )

    return published_marts


@dg.definitions
def defs() -> dg.Definitions:
    """Publish depends on every model of the dbt project's marts schema (from the manifest)."""
    import json

    from orchestration.lib.dbt_project import prepared_manifest_path

    manifest = json.loads(prepared_manifest_path().read_text())
    marts = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["schema"] == "marts"
    ]
    from orchestration.defs.clv.assets import CLV_FIT_KEY

    # every mart, and the CLV step that fills the CLV marts after dbt built them empty
    mart_keys = sorted(
        [*(dg.AssetKey(["marts", node["name"]]) for node in marts), CLV_FIT_KEY],
        key=lambda key: key.to_user_string(),
    )
    # the owner emails of the marts' dbt groups (models/_groups.yml)
    group_owners = {group["name"]: group["owner"]["email"] for group in manifest["groups"].values()}
    owners = sorted({group_owners[node["group"]] for node in marts if node.get("group")})
    return dg.Definitions(assets=[build_published_marts(mart_keys, owners)])
