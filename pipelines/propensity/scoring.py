"""Propensity scoring and the offer marts over a range: each date is scored with the newest
approved model version trained on or before it; the dates sharing a version are scored in one
vectorised pass, and every mart is built by one range statement."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from models.propensity.features import FAMILIES, FEATURE_NAMES, reason_groups
from models.store import list_versions, load_model
from pipelines.core.contract_tables import ensure_contract_table
from pipelines.core.contracts import output_contracts
from pipelines.core.engine import DateRange, replace_range
from pipelines.core.sql import load_sql
from pipelines.propensity.features import FEATURE_TABLE
from pipelines.propensity.training import model_name

SCORE_VIEW = "propensity_scores_new"
MART_STEPS = (
    ("customer_propensity", "marts/propensity/customer_propensity"),
    ("next_best_offer", "marts/propensity/next_best_offer"),
    ("preapproved_offers", "marts/propensity/preapproved_offers"),
    ("event_invitations", "marts/propensity/event_invitations"),
)
NO_MODEL = "no approved model"
SCORE_SCHEMA = {"as_of_date": pl.Date, "customer_id": pl.String, "product_family": pl.String,
                "probability": pl.Float64, "model_version": pl.String}
REASON_SCHEMA = {"as_of_date": pl.Date, "customer_id": pl.String, "product_family": pl.String,
                 "reasons": pl.List(pl.String)}


def approved_version(store_root: Path, family: str, day: date) -> dict | None:
    """Metadata of the latest approved version trained on data up to `day` (a backfilled date
    is never scored with a model that saw its future)."""
    return approved_versions(store_root, family, [day])[day]


def approved_versions(store_root: Path, family: str, days: list[date]) -> dict[date, dict | None]:
    """`approved_version` of each day, reading the store once."""
    approved = [m for m in list_versions(store_root, model_name(family)) if m.get("approved")]
    out = {}
    for day in days:
        usable = [m for m in approved if date.fromisoformat(m["as_of_date"]) <= day]
        out[day] = usable[-1] if usable else None
    return out


def scoring_plan(store_root: Path, dates: DateRange) -> dict[str, dict[str, list[date]]]:
    """{family: {version: the range's dates it scores}}; a family without an approved model on a
    date does not list that date."""
    plan = {}
    for family in FAMILIES:
        groups: dict[str, list[date]] = {}
        for day, meta in approved_versions(store_root, family, dates.days).items():
            if meta is not None:
                groups.setdefault(meta["version"], []).append(day)
        plan[family] = groups
    return plan


def score_frame(con: duckdb.DuckDBPyConnection, store_root: Path, dates: DateRange,
                rules: dict) -> tuple[pl.DataFrame, dict, pl.DataFrame]:
    """Probability per date, active customer and family not held, from the approved models
    (reasons null, see `explain`); the loaded {(family, version): (model, metadata, dates)};
    and the features that were scored."""
    plan = scoring_plan(store_root, dates)
    days = sorted({d for groups in plan.values() for ds in groups.values() for d in ds})
    features = con.sql(
        f"select f.* from {FEATURE_TABLE} f join int_customer_day d using (as_of_date, customer_id) "
        "where f.as_of_date between $date_from and $date_to and list_contains($days, f.as_of_date) "
        "and d.status = 'active' order by f.as_of_date, f.customer_id",
        params={**dates.params, "days": days}).pl()
    batch = int(rules["propensity"]["scoring"]["batch_rows"])
    parts, loaded = [], {}
    if any(plan.values()):
        from models.propensity import classifier as pm
    for family, groups in plan.items():
        for version, version_days in groups.items():
            model, meta = load_model(store_root, model_name(family), version)
            loaded[(family, version)] = (model, meta, version_days)
            pop = features.filter(pl.col("as_of_date").is_in(version_days) & ~pl.col(f"holds_{family}"))
            if pop.height == 0:
                continue
            probability = np.concatenate([
                pm.score_with_reasons(model, part.select("customer_id", *FEATURE_NAMES), meta["reference"], {},
                                      max_groups=0)[0]
                for part in pop.iter_slices(batch)])
            parts.append(pl.DataFrame({"as_of_date": pop["as_of_date"], "customer_id": pop["customer_id"],
                                       "product_family": family, "probability": probability,
                                       "model_version": version}, schema=SCORE_SCHEMA))
    scores = pl.concat(parts) if parts else pl.DataFrame(schema=SCORE_SCHEMA)
    return scores.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias("reasons")), loaded, features


def explain(features: pl.DataFrame, rows: pl.DataFrame, loaded: dict, rules: dict) -> pl.DataFrame:
    """Reasons (as_of_date, customer_id, product_family, reasons) for the given rows: occlusion
    effects over each model's `scoring.reason_groups` groups of highest split gain, in batches
    of `scoring.batch_rows`."""
    from models.propensity import classifier as pm

    s = rules["propensity"]["scoring"]
    batch, max_groups, groups = int(s["batch_rows"]), int(s["reason_groups"]), reason_groups()
    parts = []
    for (family, _), (model, meta, version_days) in loaded.items():
        wanted = rows.filter((pl.col("product_family") == family) & pl.col("as_of_date").is_in(version_days))
        pop = features.join(wanted.select("as_of_date", "customer_id"), on=["as_of_date", "customer_id"], how="semi")
        for part in pop.iter_slices(batch):
            x = part.select("customer_id", *FEATURE_NAMES)
            _, contributions = pm.score_with_reasons(model, x, meta["reference"], groups, max_groups=max_groups)
            parts.append(pl.DataFrame({
                "as_of_date": part["as_of_date"], "customer_id": part["customer_id"], "product_family": family,
                "reasons": pm.reasons(family, x, contributions, meta["reference"], groups)}, schema=REASON_SCHEMA))
    return pl.concat(parts) if parts else pl.DataFrame(schema=REASON_SCHEMA)


def offer_params(rules: dict) -> dict:
    p = rules["propensity"]
    pre = p["preapproved"]
    events = p["events"]
    return {
        "unassessed_max_risk_level": int(p["unassessed_max_risk_level"]),
        "preapproved_families": list(pre["families"]),
        "preapproved_min_decile": int(pre["min_decile"]),
        "income_share": float(pre["income_share"]),
        "term_months": int(pre["term_months"]),
        "min_salary_months": int(pre["min_salary_months"]),
        "min_limit": float(pre["min_limit"]),
        "max_limit": float(pre["max_limit"]),
        "limit_step": float(pre["limit_step"]),
        "events": [{"name": e["name"], "families": list(e["families"]), "per_branch_cap": int(e["per_branch_cap"]),
                    "min_probability": float(e["min_probability"])} for e in events],
        "top_families": int(p["scoring"]["top_families"]),
    }


def build_offer_marts(con: duckdb.DuckDBPyConnection, scores: pl.DataFrame, dates: DateRange, rules: dict) -> dict:
    """customer_propensity and the offer marts of `dates` from scores (as_of_date, customer_id,
    product_family, probability, model_version, reasons), one range statement per mart."""
    params = offer_params(rules)
    con.register(SCORE_VIEW, scores)
    try:
        rows = {}
        for table, sql_name in MART_STEPS:
            ensure_contract_table(con, output_contracts()[table])
            rows[table] = replace_range(con, table, sql_name, params, dates)
    finally:
        con.unregister(SCORE_VIEW)
    return rows


def score_range(con: duckdb.DuckDBPyConnection, store_root: Path, dates: DateRange, rules: dict) -> dict:
    """customer_propensity and the offer marts over the range: rows per table, {family: version or
    why not scored} of the range's last date, and the rows explained.

    Reasons cost several tree passes per row, so they are computed only for the rows where a
    person reads them (sql/int/propensity/reason_rows.sql): the marts are built once without
    reasons to find those rows, then rebuilt with them (the marts do not depend on reasons).
    A date without an approved model gets no scores, so its marts are empty."""
    scores, loaded, features = score_frame(con, store_root, dates, rules)
    used = {family: NO_MODEL for family in FAMILIES}
    for (family, version), (_, _, version_days) in loaded.items():
        if dates.last in version_days:
            used[family] = version
    rows = build_offer_marts(con, scores, dates, rules)
    if not loaded:
        return {"rows": rows, "models": used, "explained_rows": 0}
    wanted = con.sql(load_sql("int/propensity/reason_rows"), params={
        **dates.params, "reason_ranks": int(rules["propensity"]["scoring"]["reason_ranks"])}).pl()
    reasons = explain(features, wanted, loaded, rules)
    scores = scores.drop("reasons").join(reasons, on=["as_of_date", "customer_id", "product_family"], how="left")
    rows = build_offer_marts(con, scores, dates, rules)
    return {"rows": rows, "models": used, "explained_rows": reasons.height}
