"""Ingestion: the landed extracts of each business date, typed into the warehouse."""


import dagster as dg

from assets.checks import validate_dates
from assets.factory import DAILY, Table, daily_asset, run_dates
from pipelines.core.config import RulesResource
from pipelines.core.contracts import LOAD_ORDER, input_contracts
from pipelines.ingestion.ingest import ingest_range, init_warehouse
from pipelines.core.engine import distribution_markdown, replace_range
from pipelines.core.partitions import business_dates
from pipelines.core.resources import LandingResource, WarehouseResource
from pipelines.core.sql import one

STAGED = {entity: f"stg_{entity}" for entity in LOAD_ORDER}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(table, group_name="ingestion", kinds={"duckdb"},
                     description=input_contracts()[entity].description)
        for entity, table in STAGED.items()
    ] + [
        dg.AssetSpec("quarantine", group_name="ingestion", kinds={"duckdb"},
                     description="One row per rejected input row: file, line, column, reason code, masked value."),
        dg.AssetSpec("ingestion_log", group_name="ingestion", kinds={"duckdb"},
                     description="One row per input entity and business date: rows and amounts read, loaded, quarantined."),
    ],
    check_specs=[
        dg.AssetCheckSpec("matches_contract", asset=table, blocking=True,
                          description=f"Staged {entity} meet data_contracts/inputs/{entity}.yaml")
        for entity, table in STAGED.items()
    ],
    can_subset=False,
    **DAILY,
)
def staging(context: dg.AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource,
            rules: RulesResource):
    """Each business date's extracts, read through their source profile into stg_<entity>; the run's dates load whole or not at all."""
    dates = business_dates(context)
    totals: dict[str, dict[str, int]] = {e: {"rows_loaded": 0, "rows_quarantined": 0} for e in LOAD_ORDER}
    with warehouse.connect() as con:
        init_warehouse(con)
        for report in ingest_range(con, landing.root, dates, rules.load(), context.run_id, warehouse.pseudonym_salt):
            totals[report.entity]["rows_loaded"] += report.rows_loaded
            totals[report.entity]["rows_quarantined"] += report.rows_quarantined
        context.log.info(f"ingested {len(dates)} business dates, {dates[0]}..{dates[-1]}" if dates else "no dates")
        reasons = distribution_markdown(con, "quarantine", "reason", dates[-1], "business_date") if dates else ""
    for entity, table in STAGED.items():
        yield dg.MaterializeResult(asset_key=table, metadata={"business_dates": len(dates), "rows": totals[entity]["rows_loaded"],
                                                             **totals[entity]})
    yield dg.MaterializeResult(asset_key="quarantine", metadata={
        "rows_quarantined": sum(t["rows_quarantined"] for t in totals.values()),
        "reasons_last_date": dg.MetadataValue.md(reasons)})
    yield dg.MaterializeResult(asset_key="ingestion_log", metadata={"business_dates": len(dates)})
    for entity, table in STAGED.items():
        check = validate_dates(warehouse, table, "business_date", dates, input_contracts()[entity])
        yield dg.AssetCheckResult(asset_key=table, check_name="matches_contract",
                                  passed=check.passed, metadata=check.metadata)


DATA_QUALITY = Table(
    "data_quality",
    "One row per input entity and business date: file, rows read, loaded and quarantined, amounts, reasons.",
    ("ingestion_log",))


@daily_asset(DATA_QUALITY, "ingestion")
def data_quality(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    dates = run_dates(context)
    with warehouse.connect() as con:
        rows = replace_range(con, "data_quality", "marts/ingestion/data_quality", {}, dates)
        unreconciled = one(con, "select count(*) from data_quality where not reconciled "
                                "and as_of_date between $date_from and $date_to", dates.params)[0]
        preview = con.sql("select entity, status, rows_read, rows_loaded, rows_quarantined from data_quality "
                          "where as_of_date = $d order by entity", params={"d": dates.last}).pl()
    if unreconciled:
        raise dg.Failure(f"{unreconciled} files did not reconcile (read != loaded + quarantined)")
    return dg.MaterializeResult(metadata={"business_dates": len(dates), "rows": rows,
                                          "preview": dg.MetadataValue.md(_markdown(preview))})


def _markdown(frame) -> str:
    header = "| " + " | ".join(frame.columns) + " |"
    rule = "|" + "---|" * len(frame.columns)
    body = ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join([header, rule, *body])
