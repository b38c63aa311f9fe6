"""Publishing: the atomic Parquet snapshot per business date that CRM tools and BI read."""

import dagster as dg

from assets.registry import PUBLISHED_TABLES
from pipelines.partitions import business_dates, daily_partitions
from pipelines.contracts import output_contracts
from pipelines.publishing import contract_violations_by_date, publish_snapshot
from pipelines.resources import OutputResource, WarehouseResource


@dg.asset(
    deps=PUBLISHED_TABLES,
    kinds={"parquet"},
    group_name="publishing",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb_warehouse",
)
def published_snapshot(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                       output: OutputResource) -> dg.MaterializeResult:
    """One manifest per business date: every published table as validated Parquet, moved into place atomically."""
    manifests, dates = [], business_dates(context)
    with warehouse.connect(read_only=True) as con:
        contracts = output_contracts()
        violations = {table: contract_violations_by_date(con, table, contracts[table], dates)
                      for table in PUBLISHED_TABLES if table in contracts}
        for day in dates:
            input_files = con.sql(
                "select entity, source_file, file_sha256, rows_read from ingestion_log "
                "where business_date = $d and source_file is not null order by entity",
                params={"d": day}).pl().to_dicts()
            manifests.append(publish_snapshot(con, output.root, day, PUBLISHED_TABLES, context.run_id, input_files,
                                             violations))
    last = manifests[-1]
    return dg.MaterializeResult(metadata={
        "snapshots": len(manifests),
        "last_as_of_date": last["as_of_date"],
        "rows": dg.MetadataValue.json({t: e["rows"] for t, e in last["tables"].items()}),
        "output": dg.MetadataValue.path(str(output.root)),
    })
