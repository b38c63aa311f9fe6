"""CRM: what each relationship manager should act on, and how each RM's book is doing, per business date."""

import dagster as dg

from pipelines.config import load_rules
from pipelines.crm_tasks import UPSTREAM, build_crm_tasks
from pipelines.marts import distribution_markdown
from pipelines.partitions import business_dates, daily_partitions
from pipelines.resources import WarehouseResource
from pipelines.rm_scorecard import build_rm_scorecard


@dg.asset(
    deps=[*UPSTREAM, "stg_customers", "stg_interactions", "stg_feedback"],
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


@dg.asset(
    deps=["crm_tasks", "customer_lifecycle", "stg_customers", "stg_relationship_managers", "stg_interactions",
          "stg_feedback", "stg_accounts", "stg_products"],
    kinds={"duckdb"},
    group_name="crm",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb_warehouse",
)
def rm_scorecard(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per relationship manager: book size, AUM and growth, contacts made vs due, conversions, complaints, NPS."""
    rules = load_rules()
    dates = business_dates(context)
    with warehouse.connect() as con:
        rows = sum(build_rm_scorecard(con, day, rules) for day in dates)
        totals = con.sql("select coalesce(sum(customers), 0), coalesce(sum(contacts_made), 0), "
                         "coalesce(sum(contacts_due), 0) from rm_scorecard where as_of_date = $d",
                         params={"d": dates[-1]}).fetchall()[0]
    return dg.MaterializeResult(metadata={"business_dates": len(dates), "rows": rows, "book_customers": totals[0],
                                          "contacts_made": totals[1], "contacts_due": totals[2]})
