"""Risk: large-value reports (PBOC Art. 5), suspicious-pattern alerts, customer risk scores and
their population stability of each business date; the PD model's training on its own cadence."""

import dagster as dg

from models.risk import RiskModelError
from models.store import save_model
from pipelines.base_coverage import base_coverage_failures
from pipelines.config import load_rules
from pipelines.marts import distribution_markdown
from pipelines.partitions import business_dates, daily_partitions
from pipelines.resources import ModelStoreResource, WarehouseResource
from pipelines.risk_reports import build_reports_date, evidence_gaps
from pipelines.risk_scoring import (MODEL_NAME, build_scoring_date, current_model, has_loan_performance,
                                    history_bounds, psi_alarms, train)

EVIDENCE_CHECK = "evidence_resolves"
COVERAGE_CHECK = "covers_customer_base"
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


SCORING_TABLES = {
    "int_risk_features": (
        "One row per customer and business date: the point-in-time features of the risk score.",
        ["int_risk_transactions", "stg_customers", "stg_accounts", "stg_products", "stg_balances",
         "stg_loan_performance"], ()),
    "customer_risk": (
        "One row per customer and business date: PD (12 months), points, grade A-E, method, model version, reasons.",
        ["int_risk_features", "risk_pd_model"], ("grade", "score_method")),
    "model_monitoring": (
        "One row per business date and monitored quantity: PSI of the score and each feature (bands), model metrics.",
        ["customer_risk", "int_risk_features"], ("band",)),
}
PSI_CHECK = "psi_within_act_band"


@dg.multi_asset(
    specs=[dg.AssetSpec(table, deps=deps, description=description, group_name="risk", kinds={"duckdb", "scikitlearn"}
                        if table == "customer_risk" else {"duckdb"})
           for table, (description, deps, _) in SCORING_TABLES.items()],
    check_specs=[
        dg.AssetCheckSpec(COVERAGE_CHECK, asset="customer_risk", blocking=True,
                          description="Every customer known on the date is scored exactly once."),
        dg.AssetCheckSpec(PSI_CHECK, asset="model_monitoring",
                          description="No PSI of the score or a feature above the act band (0.25): a warning, not a stop."),
    ],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb_warehouse",
    can_subset=False,
)
def risk_scoring(context: dg.AssetExecutionContext, warehouse: WarehouseResource, model_store: ModelStoreResource):
    """Risk features, scores and population stability of each business date, with the latest approved model."""
    rules = load_rules()
    dates = business_dates(context)
    model = current_model(model_store.root, rules)
    context.log.info(f"scoring with {model.method} {model.version}")
    rows = {table: 0 for table in SCORING_TABLES}
    with warehouse.connect() as con:
        for day in dates:
            for table, n in build_scoring_date(con, day, rules, model).items():
                rows[table] += n
        last = dates[-1]
        metadata = {table: {f"{c}_distribution": dg.MetadataValue.md(distribution_markdown(con, table, c, last))
                            for c in columns} for table, (_, _, columns) in SCORING_TABLES.items()}
        coverage = {f"{day} {name}": n for day in dates
                    for name, n in base_coverage_failures(con, "customer_risk", day).items() if n}
        alarms = psi_alarms(con, last)
    for table in SCORING_TABLES:
        extra = {"score_method": model.method, "model_version": model.version} if table == "customer_risk" else {}
        yield dg.MaterializeResult(asset_key=table, metadata={"business_dates": len(dates), "rows": rows[table],
                                                              **extra, **metadata[table]})
    yield dg.AssetCheckResult(asset_key="customer_risk", check_name=COVERAGE_CHECK, passed=not coverage,
                              metadata={"failures": [f"{k}: {v}" for k, v in coverage.items()][:20]})
    yield dg.AssetCheckResult(asset_key="model_monitoring", check_name=PSI_CHECK, passed=not alarms,
                              severity=dg.AssetCheckSeverity.WARN,
                              metadata={"last_date": str(last), "above_0.25": alarms})


@dg.asset(deps=["int_risk_transactions", "stg_loan_performance", "stg_balances", "stg_accounts"],
          kinds={"scikitlearn", "duckdb"}, group_name="training", partitions_def=daily_partitions,
          pool="duckdb_warehouse")
def risk_pd_model(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                  model_store: ModelStoreResource) -> dg.MaterializeResult:
    """A new version of the PD scorecard in the model store: trained on the history up to the date, evaluated out of time."""
    rules = load_rules()
    day = business_dates(context)[-1]
    with warehouse.connect(read_only=True) as con:
        bounds = history_bounds(con)
        if bounds is None or not has_loan_performance(con):
            return dg.MaterializeResult(metadata={"trained": False, "why": "no loan_performance data: the rule-based score stays"})
        try:
            card, meta = train(con, bounds[0], min(bounds[1], day), rules)
        except RiskModelError as why:
            context.log.warning(f"no PD model trained: {why}")
            return dg.MaterializeResult(metadata={"trained": False, "why": str(why)})
    version = save_model(model_store.root, MODEL_NAME, card, metadata=meta)
    evaluation = meta["evaluation"]
    return dg.MaterializeResult(metadata={
        "trained": True, "version": version, "approved": meta["approved"],
        "auc": evaluation["auc"], "ks": evaluation["ks"], "gini": evaluation["gini"],
        "training_window": " .. ".join(meta["training_window"]),
        "evaluation_window": " .. ".join(meta["evaluation_window"]),
        "grades": dg.MetadataValue.md("\n".join(
            ["| grade | rows | observed default rate | mean PD |", "|---|---:|---:|---:|",
             *(f"| {g['grade']} | {g['rows']} | {g['observed_default_rate']} | {g['mean_pd']} |" for g in meta["grades"])])),
    })
