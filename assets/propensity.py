"""Propensity: feature snapshots (nightly), model training (group "training", its own weekly job),
scoring and the offer marts (nightly, with the latest approved model versions)."""

import dagster as dg

from assets.factory import TRAINING, Table, daily_asset, daily_multi_asset, materializations, run_dates
from models.propensity.features import FAMILIES
from pipelines.core.config import RulesResource
from pipelines.core.contracts import quote_ident as q
from pipelines.core.resources import ModelStoreResource, WarehouseResource
from pipelines.propensity.build import (FEATURE_TABLE, MART_STEPS, NotEnoughHistory, approved_version,
                                        build_feature_range, score_range, train_all)

FEATURES = Table(
    FEATURE_TABLE, "One row per customer and feature date: point-in-time propensity features (docs/propensity.md).",
    ("int_customer_day", "customer_rfm", "customer_lifecycle", "stg_customers", "stg_accounts", "stg_transactions",
     "stg_loan_performance", "stg_interactions", "stg_feedback"))
MART_DESCRIPTIONS = {
    "customer_propensity": "One row per active customer and family not held: calibrated probability, rank, decile, "
                           "model version, reasons.",
    "next_best_offer": "One row per scored customer: best eligible product (not held, suitable, consent, minimum "
                       "amount), reasons, exclusions.",
    "preapproved_offers": "One row per customer and loan family pre-approved: propensity, repayment capacity, "
                          "indicative limit.",
    "event_invitations": "One row per configured event and invited customer: most likely wealth buyers, consent, "
                         "capped per branch.",
}
MARTS = tuple(Table(table, MART_DESCRIPTIONS[table],
                    (FEATURE_TABLE, "int_customer_day", "stg_products", "propensity_models"),
                    ("product_family",) if table in ("customer_propensity", "next_best_offer") else ())
              for table, _ in MART_STEPS)


@daily_asset(FEATURES, "propensity")
def int_features(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                 rules: RulesResource) -> dg.MaterializeResult:
    dates = run_dates(context)
    with warehouse.connect() as con:
        rows = build_feature_range(con, dates, rules.load())
        kept = con.sql(f"select count(distinct as_of_date) from {q(FEATURE_TABLE)}").fetchall()[0][0]
    return dg.MaterializeResult(metadata={"business_dates": len(dates), "rows": rows, "snapshots_kept": kept})


def _training_metadata(summary: dict) -> dict:
    lines = ["| family | status | train positives | AUC | logistic AUC | lift | Brier | approved | note |",
             "|---|---|---:|---:|---:|---:|---:|---|---|"]
    for r in summary["families"]:
        m = r.metrics.get("hgb_calibrated", {})
        lg = r.metrics.get("logistic", {})
        fmt = lambda v, f: format(v, f) if isinstance(v, float) else "-"  # noqa: E731
        lines.append(f"| {r.family} | {r.status} | {r.train_positives} | {fmt(m.get('auc'), '.3f')} | "
                     f"{fmt(lg.get('auc'), '.3f')} | {fmt(m.get('top_decile_lift'), '.2f')} | "
                     f"{fmt(m.get('brier'), '.4f')} | {r.approved} | {r.note} |")
    return {
        "trained": sum(r.status == "trained" for r in summary["families"]),
        "skipped": dg.MetadataValue.json({r.family: r.train_positives for r in summary["families"]
                                          if r.status == "skipped"}),
        "train_dates": [d.isoformat() for d in summary["train_dates"]],
        "eval_dates": [d.isoformat() for d in summary["eval_dates"]],
        "top1_hit_rates": dg.MetadataValue.json(summary["top1"]),
        "metrics": dg.MetadataValue.md("\n".join(lines)),
    }


@dg.asset(deps=[FEATURE_TABLE, "stg_accounts", "stg_products"], kinds={"scikitlearn", "duckdb"}, **TRAINING)
def propensity_models(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                      model_store: ModelStoreResource, rules: RulesResource) -> dg.MaterializeResult:
    """One model version per product family with enough positives, trained on month-end features up to the date."""
    with warehouse.connect() as con:
        summary = train_all(con, model_store.root, run_dates(context).last, rules.load())
    return dg.MaterializeResult(metadata=_training_metadata(summary))


@daily_multi_asset(MARTS, "propensity")
def propensity_scoring(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                       model_store: ModelStoreResource, rules: RulesResource):
    """Scores over the run's dates with the latest approved model trained up to each; then the offer marts."""
    config, dates, notes = rules.load(), run_dates(context), []
    with warehouse.connect() as con:
        # Cold start: a bank's first run has no approved model. If configured, train once on the
        # run's last date (never on a model that saw later data), exactly as the training job does.
        if config["propensity"]["training"]["train_on_first_run"] and not any(
                approved_version(model_store.root, f, dates.last) for f in FAMILIES):
            try:
                summary = train_all(con, model_store.root, dates.last, config)
                notes.append(f"no approved model: trained on first run as of {dates.last} "
                             f"({sum(r.approved for r in summary['families'])} families approved)")
            except NotEnoughHistory as exc:
                notes.append(f"no approved model and not enough history to train: {exc}")
        result = score_range(con, model_store.root, dates, config)
        used = result["models"]
        if not any(v != "no approved model" for v in used.values()):
            notes.append(f"no approved model for {dates.last}: propensity tables are empty (run the model_training job)")
        for note in notes:
            context.log.warning(note)
        extra = {"model_versions": dg.MetadataValue.json(used), "note": "; ".join(notes) or "scored"}
        yield from materializations(con, MARTS, dates, result["rows"], {t.name: extra for t in MARTS})
