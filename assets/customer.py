"""Customer: RFM segments and their migration, lifecycle stage and wealth tier, and the wide
customer_360 row that joins every later mart."""

import dagster as dg

from assets.factory import (Table, coverage_checks, coverage_results, daily_asset, daily_multi_asset,
                            materializations, run_dates)
from pipelines.core.config import RulesResource
from pipelines.core.resources import WarehouseResource
from pipelines.customer.segmentation import CUSTOMER_360_INPUTS, build_customer_360, build_segmentation

STAGING_INPUTS = ("stg_customers", "stg_accounts", "stg_products", "stg_balances", "stg_fx_rates")
SEGMENTATION = (
    Table("int_customer_activity",
          "One row per customer and business date with counted transactions in the longest window: activity by window.",
          ("stg_accounts", "stg_transactions")),
    Table("int_customer_day",
          "One row per customer and business date: profile, tenure, age band, holdings by family, AUM, counted activity.",
          (*STAGING_INPUTS, "int_customer_activity"), ("age_band",)),
    Table("customer_rfm",
          "One row per customer and business date: recency, frequency, monetary, 1-5 scores, segment, previous segment.",
          ("stg_customers", "int_customer_activity", "int_customer_day"), ("segment", "rfm_cell")),
    Table("segment_migration",
          "One row per business date and (from segment, to segment): customers who moved since the previous snapshot.",
          ("customer_rfm",)),
    Table("customer_lifecycle",
          "One row per customer and business date: tenure, AUM, tier, stage, previous stage, stage since, action.",
          ("int_customer_day",), ("stage", "tier", "recommended_action")),
)
PER_CUSTOMER = ("int_customer_day", "customer_rfm", "customer_lifecycle")
CUSTOMER_360 = Table(
    "customer_360",
    "One wide row per customer and business date for CRM import: profile, segment, stage, tier, AUM, holdings, "
    "next best offer.",
    ("int_customer_day", "customer_rfm", "customer_lifecycle", "stg_feedback", *CUSTOMER_360_INPUTS),
    ("segment", "stage", "tier", "next_best_offer_family"))


@daily_multi_asset(SEGMENTATION, "customer", coverage_checks(PER_CUSTOMER))
def segmentation(context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource):
    """RFM, segment migration and lifecycle over the run's dates, built range-at-once."""
    dates = run_dates(context)
    with warehouse.connect() as con:
        rows = build_segmentation(con, dates, rules.load())
        yield from materializations(con, SEGMENTATION, dates, rows)
        yield from coverage_results(con, PER_CUSTOMER, dates)


@daily_asset(CUSTOMER_360, "customer", check_specs=coverage_checks([CUSTOMER_360.name]))
def customer_360(context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource):
    """customer_360 over the run's dates, after every mart it joins."""
    dates = run_dates(context)
    with warehouse.connect() as con:
        rows = build_customer_360(con, dates, rules.load())
        yield from materializations(con, [CUSTOMER_360], dates, {CUSTOMER_360.name: rows})
        yield from coverage_results(con, [CUSTOMER_360.name], dates)
