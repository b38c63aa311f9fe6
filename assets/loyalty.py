"""Loyalty programme: points, expiry, tiers and perks per customer and business date."""

import dagster as dg

from pipelines.config import load_rules
from pipelines.loyalty import build_loyalty, loyalty_rules
from pipelines.marts import distribution_markdown
from pipelines.partitions import business_dates, daily_partitions
from pipelines.resources import WarehouseResource


@dg.asset(
    deps=["int_customer_day", "stg_accounts", "stg_transactions"],
    kinds={"duckdb"},
    group_name="crm",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb_warehouse",
)
def customer_loyalty(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per customer: points earned today, points balance, points expiring soon, tier, previous tier, perks."""
    params = loyalty_rules(load_rules())
    dates = business_dates(context)
    with warehouse.connect() as con:
        rows = sum(build_loyalty(con, day, params) for day in dates)
        tiers = distribution_markdown(con, "customer_loyalty", "tier", dates[-1])
        points = con.sql("select coalesce(sum(points_earned_today), 0), coalesce(sum(points_balance), 0), "
                         "coalesce(sum(points_expiring_soon), 0) from customer_loyalty where as_of_date = $d",
                         params={"d": dates[-1]}).fetchall()[0]
    return dg.MaterializeResult(metadata={"business_dates": len(dates), "rows": rows,
                                          "tier_distribution": dg.MetadataValue.md(tiers),
                                          "points_earned_today": points[0], "points_balance": points[1],
                                          "points_expiring_soon": points[2]})
