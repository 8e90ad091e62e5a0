"""Jobs."""

import dagster as dg

daily_refresh = dg.define_asset_job(
    name="daily_refresh",
    selection=dg.AssetSelection.all(),
    description=(
        "Land the raw files, then `dbt build` every seed, model and test: the whole warehouse, "
        "refreshed. Queued behind any other run that writes the warehouse."
    ),
    tags={"customer_analytics/writes_warehouse": "true"},
)
