"""Propensity: feature snapshots (nightly), model training (group "training", its own weekly job),
scoring and the offer marts (nightly, with the latest approved model versions)."""

import dagster as dg

from pipelines.config import load_rules
from pipelines.marts import distribution_markdown
from pipelines.partitions import business_dates, daily_partitions
from pipelines.propensity import (FEATURE_TABLE, MART_STEPS, NotEnoughHistory, approved_version, build_features,
                                  score_date, train_all)
from models.features import FAMILIES
from pipelines.resources import ModelStoreResource, WarehouseResource

FEATURE_INPUTS = ["int_customer_day", "customer_rfm", "customer_lifecycle", "stg_customers", "stg_accounts",
                  "stg_transactions", "stg_loan_performance", "stg_interactions", "stg_feedback"]
MART_DESCRIPTIONS = {
    "customer_propensity": "One row per active customer and family not held: calibrated probability, rank, decile, model version, reasons.",
    "next_best_offer": "One row per scored customer: best eligible product (not held, suitable, consent, minimum amount), reasons, exclusions.",
    "preapproved_offers": "One row per customer and loan family pre-approved: propensity, repayment capacity, indicative limit.",
    "event_invitations": "One row per configured event and invited customer: most likely wealth buyers, consent, capped per branch.",
}


@dg.asset(
    deps=FEATURE_INPUTS,
    kinds={"duckdb"},
    group_name="propensity",
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb_warehouse",
)
def int_features(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> dg.MaterializeResult:
    """One row per customer and feature date: point-in-time propensity features (docs/propensity.md)."""
    rules = load_rules()
    dates = business_dates(context)
    with warehouse.connect() as con:
        rows = sum(build_features(con, day, rules) for day in dates)
        kept = con.sql(f"select count(distinct as_of_date) from {FEATURE_TABLE}").fetchall()[0][0]
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


@dg.asset(
    deps=[FEATURE_TABLE, "stg_accounts", "stg_products"],
    kinds={"scikitlearn", "duckdb"},
    group_name="training",
    partitions_def=daily_partitions,
    pool="duckdb_warehouse",
)
def propensity_models(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                      model_store: ModelStoreResource) -> dg.MaterializeResult:
    """One model version per product family with enough positives, trained on month-end features up to the date."""
    day = business_dates(context)[-1]
    with warehouse.connect() as con:
        summary = train_all(con, model_store.root, day, load_rules())
    return dg.MaterializeResult(metadata=_training_metadata(summary))


@dg.multi_asset(
    specs=[dg.AssetSpec(table, deps=[FEATURE_TABLE, "int_customer_day", "stg_products", "propensity_models"],
                        description=MART_DESCRIPTIONS[table], group_name="propensity", kinds={"duckdb"})
           for table, _ in MART_STEPS],
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool="duckdb_warehouse",
    can_subset=False,
)
def propensity_scoring(context: dg.AssetExecutionContext, warehouse: WarehouseResource,
                       model_store: ModelStoreResource):
    """Scores of each business date with the latest approved model trained up to it; then the offer marts."""
    rules = load_rules()
    dates = business_dates(context)
    totals = {table: 0 for table, _ in MART_STEPS}
    notes = []
    with warehouse.connect() as con:
        last = dates[-1]
        # Cold start: a bank's first run has no approved model. If configured, train once on the
        # run's last date (never on a model that saw later data), exactly as the training job does.
        if rules["propensity"]["training"]["train_on_first_run"] and not any(
                approved_version(model_store.root, f, last) for f in FAMILIES):
            try:
                summary = train_all(con, model_store.root, last, rules)
                notes.append(f"no approved model: trained on first run as of {last} "
                             f"({sum(r.approved for r in summary['families'])} families approved)")
            except NotEnoughHistory as exc:
                notes.append(f"no approved model and not enough history to train: {exc}")
        used = {}
        for day in dates:
            result = score_date(con, model_store.root, day, rules)
            for table, n in result["rows"].items():
                totals[table] += n
            used = result["models"]
        if not any(v != "no approved model" for v in used.values()):
            notes.append(f"no approved model for {last}: propensity tables are empty (run the model_training job)")
        dist = {t: distribution_markdown(con, t, "product_family", last) for t in ("customer_propensity", "next_best_offer")}
    for note in notes:
        context.log.warning(note)
    for table, _ in MART_STEPS:
        md = {"business_dates": len(dates), "rows": totals[table],
              "model_versions": dg.MetadataValue.json(used), "note": "; ".join(notes) or "scored"}
        if table in dist:
            md["family_distribution"] = dg.MetadataValue.md(dist[table])
        yield dg.MaterializeResult(asset_key=table, metadata=md)
