"""customer_360: the wide CRM row, built after every mart it joins (segmentation, propensity)."""

import dagster as dg

from assets.segmentation import COVERAGE_CHECK
from pipelines.base_coverage import base_coverage_failures
from pipelines.config import load_rules
from pipelines.marts import distribution_markdown
from pipelines.partitions import business_dates, daily_partitions
from pipelines.resources import WarehouseResource
from pipelines.segmentation import CUSTOMER_360_INPUTS, build_step, params_for


@dg.asset(
    deps=["int_customer_day", "customer_rfm", "customer_lifecycle", "stg_feedback", *CUSTOMER_360_INPUTS],
    kinds={"duckdb"},
    group_name="customer_360",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb_warehouse",
    check_specs=[dg.AssetCheckSpec(COVERAGE_CHECK, asset="customer_360", blocking=True,
                                   description="Every customer known on the date appears exactly once.")],
)
def customer_360(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """One wide row per customer and business date for CRM import: profile, segment, stage, tier, AUM, holdings, next best offer."""
    params = params_for(load_rules())
    dates = business_dates(context)
    with warehouse.connect() as con:
        rows = sum(build_step(con, "customer_360", day, params) for day in dates)
        last = dates[-1]
        metadata = {f"{c}_distribution": dg.MetadataValue.md(distribution_markdown(con, "customer_360", c, last))
                    for c in ("segment", "stage", "tier", "next_best_offer_family")}
        failures = {f"{day} {name}": n for day in dates
                    for name, n in base_coverage_failures(con, "customer_360", day).items() if n}
    yield dg.MaterializeResult(metadata={"business_dates": len(dates), "rows": rows, **metadata})
    yield dg.AssetCheckResult(check_name=COVERAGE_CHECK, passed=not failures,
                              metadata={"failures": [f"{k}: {v}" for k, v in failures.items()][:20]})
