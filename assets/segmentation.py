"""Segmentation: RFM segments and their migration, lifecycle stage and wealth tier.

One multi-asset (one step): the tables are built date by date in dependency order on one
connection, so a multiprocess run pays one process start-up, not five. customer_360 joins later
marts too and is its own asset (assets/customer_360.py)."""

import dagster as dg

from pipelines.base_coverage import base_coverage_failures
from pipelines.config import load_rules
from pipelines.marts import distribution_markdown
from pipelines.partitions import business_dates, daily_partitions
from pipelines.resources import WarehouseResource
from pipelines.segmentation import STEPS, build_step, params_for

COVERAGE_CHECK = "covers_customer_base"
STAGING_INPUTS = ["stg_customers", "stg_accounts", "stg_products", "stg_balances", "stg_fx_rates"]
# table -> (description, upstream assets, columns whose distribution goes into the metadata)
TABLES = {
    "int_customer_activity": (
        "One row per customer and business date with counted transactions in the longest window: activity by window "
        "(carried forward from the day before when its rules and staging are unchanged).",
        ["stg_accounts", "stg_transactions"], ()),
    "int_customer_day": (
        "One row per customer and business date: profile, tenure, age band, holdings by family, AUM, counted activity.",
        [*STAGING_INPUTS, "int_customer_activity"], ("age_band",)),
    "customer_rfm": (
        "One row per customer and business date: recency, frequency, monetary, 1-5 scores, segment, previous segment.",
        ["stg_customers", "int_customer_activity", "int_customer_day"], ("segment", "rfm_cell")),
    "segment_migration": (
        "One row per business date and (from segment, to segment): customers who moved since the previous snapshot.",
        ["customer_rfm"], ()),
    "customer_lifecycle": (
        "One row per customer and business date: tenure, AUM, tier, stage, previous stage, stage since, action.",
        ["int_customer_day"], ("stage", "tier", "recommended_action")),
}
PER_CUSTOMER = [t for t in TABLES if t not in ("segment_migration", "int_customer_activity")]
assert [t for t, _ in STEPS if t != "customer_360"] == list(TABLES), "assets and build steps must list the same tables in order"


def _moves_markdown(con, day) -> str:
    moves = con.sql("select from_segment, to_segment, customers from segment_migration where as_of_date = $d "
                    "order by customers desc, from_segment, to_segment limit 15", params={"d": day}).fetchall()
    return "\n".join(["| from | to | customers |", "|---|---|---:|",
                      *(f"| {a} | {b} | {n} |" for a, b, n in moves)])


@dg.multi_asset(
    specs=[dg.AssetSpec(table, deps=deps, description=description, group_name="segmentation", kinds={"duckdb"})
           for table, (description, deps, _) in TABLES.items()],
    check_specs=[dg.AssetCheckSpec(COVERAGE_CHECK, asset=table, blocking=True,
                                   description="Every customer known on the date appears exactly once.")
                 for table in PER_CUSTOMER],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb_warehouse",
    can_subset=False,
)
def segmentation(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """RFM, segment migration and lifecycle of each business date, oldest date first."""
    params = params_for(load_rules())
    dates = business_dates(context)
    rows = {table: 0 for table in TABLES}
    with warehouse.connect() as con:
        for day in dates:
            for table in TABLES:
                rows[table] += build_step(con, table, day, params)
            context.log.info(f"segmentation built for {day}")
        last = dates[-1]
        metadata = {}
        for table, (_, _, columns) in TABLES.items():
            md = {f"{c}_distribution": dg.MetadataValue.md(distribution_markdown(con, table, c, last)) for c in columns}
            if table == "segment_migration":
                md["top_moves"] = dg.MetadataValue.md(_moves_markdown(con, last))
            metadata[table] = md
        coverage = {table: {f"{day} {name}": n for day in dates
                            for name, n in base_coverage_failures(con, table, day).items() if n}
                    for table in PER_CUSTOMER}
    for table in TABLES:
        yield dg.MaterializeResult(asset_key=table, metadata={
            "business_dates": len(dates), "rows": rows[table], **metadata[table]})
    for table in PER_CUSTOMER:
        failures = coverage[table]
        yield dg.AssetCheckResult(asset_key=table, check_name=COVERAGE_CHECK, passed=not failures,
                                  metadata={"failures": [f"{k}: {v}" for k, v in failures.items()][:20]})
