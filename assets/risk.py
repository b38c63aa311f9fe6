"""Risk: large-value reports (PBOC Art. 5) and suspicious-pattern alerts of each business date."""

import dagster as dg

from pipelines.config import load_rules
from pipelines.marts import distribution_markdown
from pipelines.partitions import business_dates, daily_partitions
from pipelines.resources import WarehouseResource
from pipelines.risk_reports import build_reports_date, evidence_gaps

EVIDENCE_CHECK = "evidence_resolves"
REPORT_TABLES = {
    "int_risk_transactions": (
        "One row per transaction delivered on the business date, with its owner and the amounts the rules judge.",
        ["stg_transactions", "stg_accounts", "stg_customers", "stg_fx_rates"], ()),
    "large_value_reports": (
        "One row per customer, day, large-value standard, direction and currency basis met (PBOC Order 2016 No. 3 Art. 5).",
        ["int_risk_transactions"], ("standard", "currency_basis")),
    "risk_alerts": (
        "One row per suspicious-pattern alert open on the business date, with its evidence and new/ongoing status.",
        ["int_risk_transactions", "stg_accounts"], ("rule_id", "status")),
}


@dg.multi_asset(
    specs=[dg.AssetSpec(table, deps=deps, description=description, group_name="risk", kinds={"duckdb"})
           for table, (description, deps, _) in REPORT_TABLES.items()],
    check_specs=[dg.AssetCheckSpec(EVIDENCE_CHECK, asset=table, blocking=True,
                                   description="Every transaction id given as evidence is a delivered transaction of the customer.")
                 for table in ("large_value_reports", "risk_alerts")],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb_warehouse",
    can_subset=False,
)
def risk_reports(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Large-value reports and alerts of each business date, oldest date first (alerts compare with the night before)."""
    rules = load_rules()
    dates = business_dates(context)
    rows = {table: 0 for table in REPORT_TABLES}
    with warehouse.connect() as con:
        for day in dates:
            for table, n in build_reports_date(con, day, rules).items():
                rows[table] += n
        last = dates[-1]
        metadata = {table: {f"{c}_distribution": dg.MetadataValue.md(distribution_markdown(con, table, c, last))
                            for c in columns} for table, (_, _, columns) in REPORT_TABLES.items()}
        gaps = {table: evidence_gaps(con, table, dates[0], last) for table in ("large_value_reports", "risk_alerts")}
    for table in REPORT_TABLES:
        yield dg.MaterializeResult(asset_key=table, metadata={"business_dates": len(dates), "rows": rows[table],
                                                              **metadata[table]})
    for table, missing in gaps.items():
        yield dg.AssetCheckResult(asset_key=table, check_name=EVIDENCE_CHECK, passed=missing == 0,
                                  metadata={"unresolved_evidence": missing})
