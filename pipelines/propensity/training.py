"""Propensity training on its own cadence: month-end training sets, one calibrated model per
product family with its baselines, versions in the model store (models/store.py) and model_metrics."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from models.propensity.features import CATEGORICAL, FAMILIES, NUMERIC, reason_groups
from models.store import make_version, save_model
from pipelines.core.sql import load_sql, run
from pipelines.propensity.features import FEATURE_TABLE

# models.propensity.classifier (scikit-learn, ~3 s to import) is imported inside the functions that fit or
# score: every step of a multiprocess run loads these definitions, and most never touch a model.


def model_name(family: str) -> str:
    return f"propensity_{family}"


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
