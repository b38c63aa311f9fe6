"""Propensity: feature snapshots, training on its own cadence, nightly scoring and the offer marts.

Dagster assets call these; tests and benchmarks call them directly. The SQL lives in
sql/int/int_features.sql, sql/propensity/ and sql/marts/; the models are models/propensity/classifier.py;
trained versions live in the model store (models/store.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from models.propensity.features import CATEGORICAL, FAMILIES, FEATURE_NAMES, NUMERIC, reason_groups
from models.store import list_versions, load_model, make_version, save_model
from pipelines.core.contract_tables import ensure_contract_table
from pipelines.core.contracts import output_contracts
from pipelines.core.engine import replace_date
from pipelines.core.sql import load_sql, run
from pipelines.core.engine import DateRange

# models.propensity.classifier (scikit-learn, ~3 s to import) is imported inside the functions that fit or
# score: every step of a multiprocess run loads these definitions, and most never touch a model.
FEATURE_TABLE = "int_features"
SCORE_VIEW = "propensity_scores_new"
MART_STEPS = (
    ("customer_propensity", "marts/propensity/customer_propensity"),
    ("next_best_offer", "marts/propensity/next_best_offer"),
    ("preapproved_offers", "marts/propensity/preapproved_offers"),
    ("event_invitations", "marts/propensity/event_invitations"),
)


def model_name(family: str) -> str:
    return f"propensity_{family}"


# ---------------------------------------------------------------- features

def feature_params(rules: dict) -> dict:
    p = rules["propensity"]
    ranges = []
    for group, codes in p["mcc_groups"].items():
        for code in codes:
            lo, _, hi = str(code).partition("-")
            ranges.append({"grp": group, "lo": lo, "hi": hi or lo})
    return {
        "short_days": int(p["feature_windows_days"]["short"]),
        "long_days": int(p["feature_windows_days"]["long"]),
        "salary_days": int(p["salary_window_days"]),
        "delinquency_days": int(p["preapproved"]["delinquency_lookback_days"]),
        "income_band_edges": [int(e) for e in p["income_band_edges"]],
        "mcc_ranges": ranges,
    }


def build_features(con: duckdb.DuckDBPyConnection, day: date, rules: dict) -> int:
    """int_features for one date; older non-month-end snapshots beyond the retention are dropped."""
    rows = replace_date(con, FEATURE_TABLE, "int/propensity/int_features", {**feature_params(rules), "as_of_date": day})
    run(con, f"delete from {FEATURE_TABLE} where as_of_date < $cutoff and as_of_date <> last_day(as_of_date)",
        {"cutoff": day - timedelta(days=int(rules["propensity"]["feature_retention_days"]))})
    return rows


# ---------------------------------------------------------------- training

class NotEnoughHistory(ValueError):
    """The feature table has too few labelled month ends before `as_of` to train and evaluate."""


def training_plan(feature_dates: list[date], as_of: date, rules: dict) -> tuple[list[date], list[date]]:
    """(train dates, evaluation dates): month ends whose label window ends by `as_of`; the
    evaluation window is the latest of them, and every training label window ends on or before
    the first evaluation date, so the two never overlap in time."""
    p = rules["propensity"]
    horizon = timedelta(days=int(p["horizon_days"]))
    labelled = sorted(d for d in set(feature_dates) if d + horizon <= as_of and d == _month_end(d))
    n_eval = int(p["training"]["eval_dates"])
    if len(labelled) < n_eval:
        raise NotEnoughHistory(f"{len(labelled)} labelled month ends by {as_of}; need {n_eval} for evaluation")
    evaluation = labelled[-n_eval:]
    train = [d for d in labelled if d + horizon <= evaluation[0]]
    if len(train) < int(p["training"]["min_train_dates"]):
        raise NotEnoughHistory(
            f"{len(train)} labelled month ends before the evaluation window {evaluation[0]} "
            f"(need {p['training']['min_train_dates']}); features since {min(feature_dates, default=None)}")
    return train, evaluation


def _month_end(d: date) -> date:
    nxt = date(d.year + d.month // 12, d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def training_set(con: duckdb.DuckDBPyConnection, feature_dates: list[date], label_as_of: date,
                 rules: dict) -> pl.DataFrame:
    t = rules["propensity"]["training"]
    return con.sql(load_sql("int/propensity/training_set"), params={
        "feature_dates": feature_dates, "label_as_of": label_as_of,
        "horizon_days": int(rules["propensity"]["horizon_days"]),
        "max_rows_per_date": int(t["max_rows_per_date"]), "sample_seed": str(t["seed"]),
    }).pl()


def family_rows(frame: pl.DataFrame, family: str) -> tuple[pl.DataFrame, np.ndarray]:
    """The population of a family (not holding it on the feature date) and its labels."""
    pop = frame.filter(~pl.col(f"holds_{family}"))
    return pop, pop["opened_families"].list.contains(family).to_numpy().astype(int)


@dataclass
class FamilyResult:
    family: str
    status: str  # trained | skipped
    train_positives: int
    train_rows: int
    version: str | None = None
    approved: bool = False
    metrics: dict = field(default_factory=dict)  # model kind -> evaluate() dict
    note: str = ""


def train_family(train: pl.DataFrame, evaluation: pl.DataFrame, family: str, rules: dict):
    """(result, fitted model or None, reference values): the calibrated HGB and its baselines."""
    from models.propensity import classifier as pm

    p = rules["propensity"]
    seed = int(p["training"]["seed"])
    x_tr, y_tr = family_rows(train, family)
    x_ev, y_ev = family_rows(evaluation, family)
    positives = int(y_tr.sum())
    result = FamilyResult(family, "skipped", positives, len(y_tr))
    if p.get("families", "all") != "all" and family not in p["families"]:
        result.note = "not in propensity.families"
        return result, None, None
    if positives < int(p["min_positives"]):
        result.note = f"{positives} training positives < min_positives {p['min_positives']}"
        return result, None, None
    if y_tr.min() == y_tr.max() or len(y_ev) == 0:
        result.note = "one class only in training, or no evaluation rows"
        return result, None, None
    model = pm.fit("hgb", x_tr, y_tr, NUMERIC, CATEGORICAL, seed=seed)
    baseline = pm.fit("logistic", x_tr, y_tr, NUMERIC, CATEGORICAL, seed=seed)
    base_rate = float(y_tr.mean())
    result.metrics = {
        "hgb_calibrated": pm.evaluate(y_ev, pm.predict(model, x_ev)),
        "logistic": pm.evaluate(y_ev, pm.predict(baseline, x_ev)),
        # The "most popular product" baseline scores everyone with the family's training rate.
        "popularity": pm.evaluate(y_ev, np.full(len(y_ev), base_rate)),
    }
    result.status = "trained"
    auc = result.metrics["hgb_calibrated"]["auc"]
    result.approved = bool(np.isfinite(auc) and auc >= float(p["training"]["auto_approve_min_auc"]))
    if not result.approved:
        result.note = f"out-of-time AUC {auc:.3f} below auto_approve_min_auc: stored for review, not scored"
    return result, model, pm.reference_values(x_tr, NUMERIC, CATEGORICAL)


def top1_hit_rates(evaluation: pl.DataFrame, models: dict, popularity: dict[str, float]) -> dict:
    """Among evaluation customers who opened any scored family: share whose top-ranked family
    (not held) was one they opened, for the models vs the most popular family not held."""
    from models.propensity import classifier as pm

    families = [f for f in models if f in popularity]
    if not families:
        return {}
    scores = np.column_stack([
        np.where(evaluation[f"holds_{f}"].to_numpy(), -1.0, pm.predict(models[f], evaluation)) for f in families])
    pops = np.column_stack([
        np.where(evaluation[f"holds_{f}"].to_numpy(), -1.0, popularity[f]) for f in families])
    opened = np.column_stack([evaluation["opened_families"].list.contains(f).to_numpy() for f in families])
    any_open = opened.any(axis=1)
    if not any_open.any():
        return {}
    hit_model = opened[np.arange(len(opened)), scores.argmax(axis=1)][any_open].mean()
    hit_pop = opened[np.arange(len(opened)), pops.argmax(axis=1)][any_open].mean()
    return {"customers": int(any_open.sum()), "model_top1_hit_rate": float(hit_model),
            "popularity_top1_hit_rate": float(hit_pop)}


def model_card(result: FamilyResult, version: str, meta: dict) -> str:
    m = result.metrics
    lines = [
        f"# Model card: {model_name(result.family)} {version}",
        "",
        f"- Purpose: probability that a customer not holding a {result.family.replace('_', ' ')} account "
        f"opens one within {meta['horizon_days']} days.",
        f"- Model: calibrated HistGradientBoostingClassifier ({meta['calibration']}); baselines: logistic "
        "regression on the same features, and the family's training opening rate (most popular product).",
        f"- Training window (feature dates): {meta['training_window'][0]} .. {meta['training_window'][1]} "
        f"({meta['train_rows']} rows, {meta['train_positives']} positives); labels observed up to {meta['as_of_date']}.",
        f"- Evaluation window (later, disjoint): {meta['eval_window'][0]} .. {meta['eval_window'][1]} "
        f"({m['hgb_calibrated']['rows']} rows, {m['hgb_calibrated']['positives']} positives).",
        f"- Features ({len(meta['features'])}): see docs/propensity.md (feature dictionary).",
        "- Reason groups by split gain (reasons use the first `scoring.reason_groups`): "
        + (", ".join(meta.get("split_gain_by_group", {})) or "none") + ".",
        f"- Approved for scoring: {meta['approved']}" + (f" ({result.note})" if result.note else ""),
        "",
        "| model | AUC | top-decile lift | Brier |",
        "|---|---:|---:|---:|",
        *(f"| {k} | {v['auc']:.3f} | {v['top_decile_lift']:.2f} | {v['brier']:.4f} |" for k, v in m.items()),
        "",
        "Calibration on the evaluation window (deciles of predicted probability):",
        "",
        "| decile | rows | mean predicted | observed |",
        "|---:|---:|---:|---:|",
        *(f"| {c['decile']} | {c['rows']} | {c['mean_predicted']:.4f} | {c['observed_rate']:.4f} |"
          for c in m["hgb_calibrated"]["calibration"]),
        "",
        "Limits: trained on generated or bank data of the stated window only; a family's behaviour "
        "change (new product, campaign) needs a retrain; probabilities are calibrated on the "
        "evaluation population, not on customers who already hold the product.",
    ]
    return "\n".join(lines) + "\n"


def train_all(con: duckdb.DuckDBPyConnection, store_root: Path, as_of: date, rules: dict) -> dict:
    """Train, evaluate and store one model per family with enough positives; record
    model_metrics rows for every family (skipped ones with their positive count)."""
    from models.propensity import classifier as pm

    available = [r[0] for r in run(con, f"select distinct as_of_date from {FEATURE_TABLE} "
                                        "where as_of_date <= $d order by 1", {"d": as_of}).fetchall()]
    train_dates, eval_dates = training_plan(available, as_of, rules)
    train = training_set(con, train_dates, as_of, rules)
    evaluation = training_set(con, eval_dates, as_of, rules)
    p = rules["propensity"]
    trained_at = datetime.now(timezone.utc)
    results, models, popularity = [], {}, {}
    for family in FAMILIES:
        result, model, reference = train_family(train, evaluation, family, rules)
        results.append(result)
        if model is None:
            continue
        popularity[family] = float(family_rows(train, family)[1].mean())
        meta = {
            "product_family": family, "as_of_date": as_of.isoformat(), "trained_at": trained_at.isoformat(timespec="seconds"),
            "training_window": [train_dates[0].isoformat(), train_dates[-1].isoformat()],
            "eval_window": [eval_dates[0].isoformat(), eval_dates[-1].isoformat()],
            "horizon_days": int(p["horizon_days"]),
            "features": [*model.feature_columns_[0], *model.feature_columns_[1]],
            "numeric": model.feature_columns_[0], "categorical": model.feature_columns_[1], "reference": reference,
            "calibration": model.method, "train_rows": result.train_rows,
            "train_positives": result.train_positives, "seed": int(p["training"]["seed"]),
            "metrics": result.metrics, "approved": result.approved, "note": result.note,
            # The model's own ranking of reason groups; scoring explains with the first scoring.reason_groups.
            "split_gain_by_group": pm.split_gain_by_group(model, reason_groups()),
        }
        fingerprint = json.dumps({k: meta[k] for k in ("product_family", "as_of_date", "training_window",
                                                       "train_rows", "train_positives", "seed")})
        version = make_version(fingerprint, trained_at)
        result.version = version
        save_model(store_root, model_name(family), model, metadata=meta, version=version,
                   extra_files={"model_card.md": model_card(result, version, meta)})
        if result.approved:
            models[family] = model
    top1 = top1_hit_rates(evaluation, models, popularity)
    rows = write_model_metrics(con, as_of, trained_at, results, train_dates, eval_dates)
    return {"as_of_date": as_of, "train_dates": train_dates, "eval_dates": eval_dates,
            "families": results, "top1": top1, "metrics_rows": rows}


def write_model_metrics(con, as_of: date, trained_at: datetime, results: list[FamilyResult],
                        train_dates: list[date], eval_dates: list[date]) -> int:
    con.execute(load_sql("int/propensity/model_metrics_ddl"))
    records = []
    for r in results:
        base = {"as_of_date": as_of, "trained_at": trained_at.replace(tzinfo=None), "product_family": r.family,
                "model_name": model_name(r.family), "model_version": r.version, "status": r.status,
                "approved": r.approved, "train_window_start": train_dates[0], "train_window_end": train_dates[-1],
                "eval_window_start": eval_dates[0], "eval_window_end": eval_dates[-1],
                "train_rows": r.train_rows, "train_positives": r.train_positives, "note": r.note or None}
        if not r.metrics:
            records.append({**base, "model": None, "eval_rows": None, "eval_positives": None,
                            "auc": None, "top_decile_lift": None, "brier": None, "calibration": None})
        for kind, m in r.metrics.items():
            records.append({**base, "model": kind, "eval_rows": m["rows"], "eval_positives": m["positives"],
                            "auc": _finite(m["auc"]), "top_decile_lift": _finite(m["top_decile_lift"]),
                            "brier": _finite(m["brier"]), "calibration": json.dumps(m["calibration"])})
    frame = pl.DataFrame(records, infer_schema_length=None)
    con.register("model_metrics_new", frame)
    try:
        run(con, "delete from model_metrics where as_of_date = $d", {"d": as_of})
        con.execute("insert into model_metrics by name select * from model_metrics_new")
    finally:
        con.unregister("model_metrics_new")
    return len(records)


def _finite(x: float):
    return float(x) if x is not None and np.isfinite(x) else None


# ---------------------------------------------------------------- scoring

def approved_version(store_root: Path, family: str, day: date) -> dict | None:
    """Metadata of the latest approved version trained on data up to `day` (a backfilled date
    is never scored with a model that saw its future)."""
    usable = [m for m in list_versions(store_root, model_name(family))
              if m.get("approved") and date.fromisoformat(m["as_of_date"]) <= day]
    return usable[-1] if usable else None


def score_frame(con: duckdb.DuckDBPyConnection, store_root: Path, day: date,
                rules: dict) -> tuple[pl.DataFrame, dict, dict, pl.DataFrame]:
    """Probability per active customer and family not held, from the approved models (reasons
    null, see `explain`); {family: version or the reason it was not scored}; the loaded
    {family: (model, metadata)}; and the features that were scored."""
    from models.propensity import classifier as pm

    features = con.sql(
        f"select f.* from {FEATURE_TABLE} f join int_customer_day d using (as_of_date, customer_id) "
        "where f.as_of_date = $d and d.status = 'active' order by f.customer_id", params={"d": day}).pl()
    batch = int(rules["propensity"]["scoring"]["batch_rows"])
    parts, used, loaded = [], {}, {}
    for family in FAMILIES:
        meta = approved_version(store_root, family, day)
        if meta is None:
            used[family] = "no approved model"
            continue
        model, meta = load_model(store_root, model_name(family), meta["version"])
        loaded[family] = (model, meta)
        used[family] = meta["version"]
        pop = features.filter(~pl.col(f"holds_{family}")).select("customer_id", *FEATURE_NAMES)
        if pop.height == 0:
            continue
        probability = np.concatenate([pm.score_with_reasons(model, part, meta["reference"], {}, max_groups=0)[0]
                                      for part in pop.iter_slices(batch)])
        parts.append(pl.DataFrame({"customer_id": pop["customer_id"], "product_family": family,
                                   "probability": probability, "model_version": meta["version"]}))
    schema = {"customer_id": pl.String, "product_family": pl.String, "probability": pl.Float64,
              "model_version": pl.String}
    scores = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    return scores.with_columns(pl.lit(None, dtype=pl.List(pl.String)).alias("reasons")), used, loaded, features


def explain(features: pl.DataFrame, rows: pl.DataFrame, loaded: dict, rules: dict) -> pl.DataFrame:
    """Reasons (customer_id, product_family, reasons) for the given (customer_id, product_family)
    rows: occlusion effects over each model's `scoring.reason_groups` groups of highest split
    gain, in batches of `scoring.batch_rows`."""
    from models.propensity import classifier as pm

    s = rules["propensity"]["scoring"]
    batch, max_groups, groups = int(s["batch_rows"]), int(s["reason_groups"]), reason_groups()
    parts = []
    for family, (model, meta) in loaded.items():
        wanted = rows.filter(pl.col("product_family") == family).select("customer_id")
        pop = features.join(wanted, on="customer_id", how="semi").select("customer_id", *FEATURE_NAMES)
        for part in pop.iter_slices(batch):
            _, contributions = pm.score_with_reasons(model, part, meta["reference"], groups, max_groups=max_groups)
            parts.append(pl.DataFrame({
                "customer_id": part["customer_id"], "product_family": family,
                "reasons": pm.reasons(family, part, contributions, meta["reference"], groups)}))
    if parts:
        return pl.concat(parts)
    return pl.DataFrame(schema={"customer_id": pl.String, "product_family": pl.String, "reasons": pl.List(pl.String)})


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


def _build_marts(con: duckdb.DuckDBPyConnection, scores: pl.DataFrame, params: dict) -> dict:
    con.register(SCORE_VIEW, scores)
    try:
        rows = {}
        for table, sql_name in MART_STEPS:
            ensure_contract_table(con, output_contracts()[table])
            rows[table] = replace_date(con, table, sql_name, params)
    finally:
        con.unregister(SCORE_VIEW)
    return rows


def score_date(con: duckdb.DuckDBPyConnection, store_root: Path, day: date, rules: dict) -> dict:
    """customer_propensity and the offer marts of one date from the approved models.

    Reasons cost several tree passes per row, so they are computed only for the rows where a
    person reads them (sql/propensity/reason_rows.sql): the marts are built once without
    reasons to find those rows, then rebuilt with them (the marts do not depend on reasons)."""
    scores, used, loaded, features = score_frame(con, store_root, day, rules)
    params = {**offer_params(rules), "as_of_date": day}
    rows = _build_marts(con, scores, params)
    if not loaded:
        # No approved model for the date (every date of a first backfill but its last): nothing
        # was scored, so there are no reasons to add and the marts just built are final.
        return {"rows": rows, "models": used, "explained_rows": 0}
    wanted = con.sql(load_sql("int/propensity/reason_rows"), params={
        "as_of_date": day, "reason_ranks": int(rules["propensity"]["scoring"]["reason_ranks"])}).pl()
    reasons = explain(features, wanted, loaded, rules)
    scores = scores.drop("reasons").join(reasons, on=["customer_id", "product_family"], how="left")
    rows = _build_marts(con, scores, params)
    return {"rows": rows, "models": used, "explained_rows": reasons.height}


def build_feature_range(con: duckdb.DuckDBPyConnection, dates: DateRange, rules: dict) -> int:
    return sum(build_features(con, day, rules) for day in dates.days)


def score_range(con: duckdb.DuckDBPyConnection, store_root: Path, dates: DateRange, rules: dict) -> dict:
    """customer_propensity and the offer marts over the range: rows per table, the models of the last date."""
    rows, used = {table: 0 for table, _ in MART_STEPS}, {}
    for day in dates.days:
        result = score_date(con, store_root, day, rules)
        for table, n in result["rows"].items():
            rows[table] += n
        used = result["models"]
    return {"rows": rows, "models": used}
