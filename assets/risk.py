"""Risk: large-value reports (PBOC Art. 5), suspicious-pattern alerts, customer risk scores and
their population stability over the run's dates; the PD model's training on its own cadence."""

import dagster as dg

from assets.factory import (Table, coverage_checks, coverage_results, daily_multi_asset, materializations,
                            run_dates, TRAINING)
from models.risk.scorecard import RiskModelError
from models.store import save_model
from pipelines.core.config import RulesResource
from pipelines.core.resources import ModelStoreResource, WarehouseResource
from pipelines.risk.reports import EVIDENCE_TABLES, build_reports, evidence_gaps
from pipelines.risk.scoring import (MODEL_NAME, build_scoring, current_model, has_loan_performance,
                                    history_bounds, psi_alarms, train)

EVIDENCE_CHECK = "evidence_resolves"
PSI_CHECK = "psi_within_act_band"
REPORTS = (
    Table("int_risk_transactions",
          "One row per transaction delivered on the business date, with its owner and the amounts the rules judge.",
          ("stg_transactions", "stg_accounts", "stg_customers", "stg_fx_rates")),
    Table("large_value_reports",
          "One row per customer, day, large-value standard, direction and currency basis met "
          "(PBOC Order 2016 No. 3 Art. 5).",
          ("int_risk_transactions",), ("standard", "currency_basis")),
    Table("risk_alerts",
          "One row per suspicious-pattern alert open on the business date, with its evidence and new/ongoing status.",
          ("int_risk_transactions", "stg_accounts"), ("rule_id", "status")),
)
SCORING = (
    Table("int_risk_features",
          "One row per customer and business date: the point-in-time features of the risk score.",
          ("int_risk_transactions", "stg_customers", "stg_accounts", "stg_products", "stg_balances",
           "stg_loan_performance")),
    Table("customer_risk",
          "One row per customer and business date: PD (12 months), points, grade A-E, method, model version, reasons.",
          ("int_risk_features", "risk_pd_model"), ("grade", "score_method"), frozenset({"duckdb", "scikitlearn"})),
    Table("model_monitoring",
          "One row per business date and monitored quantity: PSI of the score and each feature (bands), model metrics.",
          ("customer_risk", "int_risk_features"), ("band",)),
)


@daily_multi_asset(REPORTS, "risk", [
    dg.AssetCheckSpec(EVIDENCE_CHECK, asset=table, blocking=True,
                      description="Every transaction id given as evidence is a delivered transaction of the customer.")
    for table in EVIDENCE_TABLES])
def risk_reports(context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource):
    """Large-value reports and alerts over the run's dates (alerts compare with the night before)."""
    dates = run_dates(context)
    with warehouse.connect() as con:
        rows = build_reports(con, dates, rules.load())
        yield from materializations(con, REPORTS, dates, rows)
        for table in EVIDENCE_TABLES:
            missing = evidence_gaps(con, table, dates.first, dates.last)
            yield dg.AssetCheckResult(asset_key=table, check_name=EVIDENCE_CHECK, passed=missing == 0,
                                      metadata={"unresolved_evidence": missing})


@daily_multi_asset(SCORING, "risk", [
    *coverage_checks(["customer_risk"]),
    dg.AssetCheckSpec(PSI_CHECK, asset="model_monitoring",
                      description="No PSI of the score or a feature above the act band (0.25): a warning, not a stop."),
])
def risk_scoring(context: dg.AssetExecutionContext, warehouse: WarehouseResource, model_store: ModelStoreResource,
                 rules: RulesResource):
    """Risk features, scores and population stability over the run's dates, with the latest approved model."""
    dates, config = run_dates(context), rules.load()
    model = current_model(model_store.root, config)
    context.log.info(f"scoring with {model.method} {model.version}")
    with warehouse.connect() as con:
        rows = build_scoring(con, dates, config, model)
        yield from materializations(con, SCORING, dates, rows, {"customer_risk": {
            "score_method": model.method, "model_version": model.version}})
        yield from coverage_results(con, ["customer_risk"], dates)
        alarms = psi_alarms(con, dates.last)
    yield dg.AssetCheckResult(asset_key="model_monitoring", check_name=PSI_CHECK, passed=not alarms,
                              severity=dg.AssetCheckSeverity.WARN,
                              metadata={"last_date": str(dates.last), "above_0.25": alarms})


@dg.asset(deps=["int_risk_transactions", "stg_loan_performance", "stg_balances", "stg_accounts"],
          kinds={"scikitlearn", "duckdb"}, **TRAINING)
def risk_pd_model(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                  model_store: ModelStoreResource, rules: RulesResource) -> dg.MaterializeResult:
    """A new version of the PD scorecard in the model store: trained on the history up to the date, evaluated out of time."""
    day = run_dates(context).last
    with warehouse.connect(read_only=True) as con:
        bounds = history_bounds(con)
        if bounds is None or not has_loan_performance(con):
            return dg.MaterializeResult(metadata={"trained": False, "why": "no loan_performance data: the rule-based score stays"})
        try:
            card, meta = train(con, bounds[0], min(bounds[1], day), rules.load())
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
