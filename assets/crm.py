"""CRM tasks: what each relationship manager should act on, per business date."""

import dagster as dg

from pipelines.config import load_rules
from pipelines.crm_tasks import build_crm_tasks
from pipelines.marts import distribution_markdown
from pipelines.partitions import business_dates, daily_partitions
from pipelines.resources import WarehouseResource


@dg.asset(
    deps=["customer_risk", "risk_alerts", "stg_customers"],
    kinds={"duckdb"},
    group_name="crm",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb_warehouse",
)
def crm_tasks(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per open task for a relationship manager: kind, customer, rm, priority, due date, reason."""
    rules = load_rules()
    dates = business_dates(context)
    with warehouse.connect() as con:
        rows = sum(build_crm_tasks(con, day, rules) for day in dates)
        kinds = distribution_markdown(con, "crm_tasks", "kind", dates[-1])
        priorities = distribution_markdown(con, "crm_tasks", "priority", dates[-1])
    return dg.MaterializeResult(metadata={"business_dates": len(dates), "rows": rows,
                                          "kind_distribution": dg.MetadataValue.md(kinds),
                                          "priority_distribution": dg.MetadataValue.md(priorities)})
