"""Publishing: the atomic Parquet snapshot per business date that CRM tools and BI read."""

import dagster as dg

from assets.factory import Table, daily_asset, run_dates
from assets.registry import PUBLISHED_TABLES
from pipelines.core.resources import OutputResource, WarehouseResource
from pipelines.publishing.snapshot import publish_range

SNAPSHOT = Table("published_snapshot",
                 "One manifest per business date: every published table as validated Parquet, moved into place "
                 "atomically.", tuple(PUBLISHED_TABLES), kinds=frozenset({"parquet"}))


@daily_asset(SNAPSHOT, "publishing")
def published_snapshot(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                       output: OutputResource) -> dg.MaterializeResult:
    dates = run_dates(context)
    with warehouse.connect(read_only=True) as con:
        manifests = publish_range(con, output.root, dates, PUBLISHED_TABLES, context.run_id)
    last = manifests[-1]
    return dg.MaterializeResult(metadata={
        "snapshots": len(manifests),
        "rows": sum(e["rows"] for m in manifests for e in m["tables"].values()),
        "last_as_of_date": last["as_of_date"],
        "last_date_rows": dg.MetadataValue.json({t: e["rows"] for t, e in last["tables"].items()}),
        "output": dg.MetadataValue.path(str(output.root)),
    })
