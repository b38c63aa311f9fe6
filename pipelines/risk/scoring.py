"""Risk scoring of one business date (customer_risk, model_monitoring) and PD-model training.

Features are SQL (sql/int/int_risk_features.sql) computed point in time; the model is
models/risk/scorecard.py; versions live in the model store (models/store.py). Scoring uses the latest
approved PD model, and the documented rule-based score when there is none (first run, or a
bank without loan performance data); both are labelled in the table and the manifest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

from models.risk import scorecard as rm
from models.store import ModelStoreError, latest_approved, load_model
from pipelines.core.contract_tables import ensure_contract_table
from pipelines.core.contracts import output_contracts
from pipelines.core.engine import count_date, replace_date
from pipelines.core.sql import bind, load_sql, one, run, transaction
from pipelines.core.engine import DateRange

MODEL_NAME = "risk_pd"
METHOD_MODEL, METHOD_RULES = "model", "rule_based"


@dataclass
class ScoringModel:
    """What scores a date: a trained scorecard (with its store metadata), or the rules."""

    method: str
    version: str
    card: rm.Scorecard | None = None
    metadata: dict | None = None


def feature_params(rules: dict) -> dict:
    r = rules["risk"]
    return {k: r[k] for k in ("delinquency_window_days", "behaviour_window_days", "income_window_days",
                              "salary_window_days", "credit_families", "deposit_families", "default_dpd")} | {
        "outcome_days": int(round(r["outcome_months"] * 365 / 12))}


def scale_of(rules: dict) -> rm.Scale:
    return rm.Scale(**rules["risk"]["scorecard"])


def build_features(con: duckdb.DuckDBPyConnection, as_of_date: date, rules: dict) -> int:
    return replace_date(con, "int_risk_features", "int/risk/int_risk_features",
                        {**feature_params(rules), "as_of_date": as_of_date})


def _frame(con, query: str, params: dict) -> pl.DataFrame:
    return con.sql(query, params=bind(query, params)).pl()


def features_of(con, as_of_date: date) -> pl.DataFrame:
    return _frame(con, "select * from int_risk_features where as_of_date = $d order by customer_id", {"d": as_of_date})


# --- scoring -------------------------------------------------------------------------------

def current_model(model_root: Path | None, rules: dict) -> ScoringModel:
    """The latest approved PD model, or the rule-based score when none is approved."""
    if model_root is not None and latest_approved(model_root, MODEL_NAME) is not None:
        card, meta = load_model(model_root, MODEL_NAME)
        return ScoringModel(METHOD_MODEL, meta["version"], card, meta)
    return ScoringModel(METHOD_RULES, rules["risk"]["rule_based"]["version"])


def score(frame: pl.DataFrame, model: ScoringModel, rules: dict) -> pl.DataFrame:
    r = rules["risk"]
    labels, top = r["feature_labels"], r["top_reasons"]
    if model.method == METHOD_MODEL:
        pd, points, shortfall = rm.score_frame(model.card, frame)
        why = rm.reasons(shortfall, model.card.features, frame, labels, top)
    else:
        points, matrix = rm.rule_based(frame, r["rule_based"])
        pd = scale_of(rules).pd(points)
        why = rm.rule_reasons(matrix, frame, r["rule_based"], labels, top)
    return pl.DataFrame({
        "as_of_date": frame["as_of_date"],
        "customer_id": frame["customer_id"],
        "customer_type": frame["customer_type"],
        "has_credit": frame["has_credit"],
        "pd_12m": np.round(pd, 6),
        "score": points,
        "grade": rm.grade(points, r["grades"]).astype(str),
        "score_method": [model.method] * frame.height,
        "model_version": [model.version] * frame.height,
        "reasons": why,
    }, schema_overrides={"reasons": pl.List(pl.String)})


def _replace_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, as_of_date: date) -> int:
    ensure_contract_table(con, output_contracts()[table])
    con.register("_frame", frame.to_arrow())
    try:
        with transaction(con):
            run(con, f'delete from "{table}" where as_of_date = $as_of_date', {"as_of_date": as_of_date})
            con.execute(f'insert into "{table}" by name select * from _frame')
    finally:
        con.unregister("_frame")
    return count_date(con, table, as_of_date)


def build_customer_risk(con: duckdb.DuckDBPyConnection, as_of_date: date, rules: dict, model: ScoringModel) -> int:
    frame = features_of(con, as_of_date)
    return _replace_frame(con, "customer_risk", score(frame, model, rules), as_of_date)


# --- monitoring ------------------------------------------------------------------------------

def _reference(con, as_of_date: date, model: ScoringModel, rules: dict) -> tuple[dict, str]:
    """PSI reference distributions and the window they describe."""
    if model.method == METHOD_MODEL:
        meta = model.metadata
        return model.card.baseline, f"training {meta['training_window'][0]}..{meta['training_window'][1]}"
    # The rules have no training window: the reference is the same rule version's snapshot a
    # reference window (90 days) earlier, or its first scored date while there is none that old.
    lag = rules["risk"]["rule_based"]["psi_reference_days"]
    first = one(con, "select coalesce(max(as_of_date) filter (where as_of_date <= $d - $lag::integer), min(as_of_date)) "
                     "from customer_risk where model_version = $v",
                {"v": model.version, "d": as_of_date, "lag": lag})[0]
    frame = features_of(con, first)
    scores = _frame(con, "select score from customer_risk where as_of_date = $d and model_version = $v",
                    {"d": first, "v": model.version})
    ref = rm.psi_reference(frame, rules["risk"]["features"], points=scores["score"].cast(pl.Float64).to_numpy())
    return ref, f"scored {first}"


def monitoring_frame(con, as_of_date: date, rules: dict, model: ScoringModel) -> pl.DataFrame:
    bands = rules["risk"]["psi_bands"]
    reference, window = _reference(con, as_of_date, model, rules)
    frame = features_of(con, as_of_date)
    scores = _frame(con, "select score from customer_risk where as_of_date = $d", {"d": as_of_date})
    current = {f: rm.column(frame, f) for f in reference if f != "score"}
    current["score"] = scores["score"].cast(pl.Float64).to_numpy()
    rows = []
    for subject, ref in reference.items():
        value = rm.psi(ref, current[subject])
        rows.append({"metric": "psi", "subject": subject, "kind": "score" if subject == "score" else "feature",
                     "value": value, "band": rm.psi_band(value, bands)})
    if model.method == METHOD_MODEL:
        evaluation = model.metadata["evaluation"]
        for metric in ("auc", "ks", "gini", "default_rate"):
            rows.append({"metric": metric, "subject": "evaluation_window", "kind": "performance",
                         "value": float(evaluation[metric]), "band": None})
    out = pl.DataFrame(rows, schema={"metric": pl.String, "subject": pl.String, "kind": pl.String,
                                     "value": pl.Float64, "band": pl.String})
    return out.with_columns(
        pl.lit(as_of_date).alias("as_of_date"),
        pl.lit(model.version).alias("model_version"),
        pl.lit(model.method).alias("score_method"),
        pl.lit(window).alias("reference_window"),
        pl.lit(frame.height, dtype=pl.Int64).alias("rows_current"),
    )


def build_model_monitoring(con, as_of_date: date, rules: dict, model: ScoringModel) -> int:
    return _replace_frame(con, "model_monitoring", monitoring_frame(con, as_of_date, rules, model), as_of_date)


def psi_alarms(con, as_of_date: date) -> list[str]:
    rows = run(con, "select subject, round(value, 3) from model_monitoring where as_of_date = $d "
                    "and metric = 'psi' and band = 'act' order by value desc", {"d": as_of_date}).fetchall()
    return [f"{s}: PSI {v}" for s, v in rows]


def build_scoring_date(con, as_of_date: date, rules: dict, model: ScoringModel) -> dict[str, int]:
    return {
        "int_risk_features": build_features(con, as_of_date, rules),
        "customer_risk": build_customer_risk(con, as_of_date, rules, model),
        "model_monitoring": build_model_monitoring(con, as_of_date, rules, model),
    }


# --- training ------------------------------------------------------------------------------

def observation_dates(first: date, last: date, rules: dict) -> list[date]:
    """Monthly observation dates whose whole outcome window lies within [first, last]."""
    t = rules["risk"]["training"]
    outcome = feature_params(rules)["outcome_days"]
    latest, earliest = last - timedelta(days=outcome), first + timedelta(days=t["first_observation_offset_days"])
    dates = []
    while latest >= earliest:
        dates.append(latest)
        latest -= timedelta(days=t["observation_step_days"])
    return sorted(dates)


def training_frame(con, dates: list[date], rules: dict) -> pl.DataFrame:
    """Features (point in time) and outcome of every credit customer on each observation date."""
    params = feature_params(rules)
    features_sql, labels_sql = load_sql("int/risk/int_risk_features"), load_sql("int/risk/int_risk_labels")
    frames = []
    for d in dates:
        feats = _frame(con, features_sql, {**params, "as_of_date": d})
        labels = _frame(con, labels_sql, {**params, "as_of_date": d})
        frames.append(feats.join(labels.drop("as_of_date"), on="customer_id", how="inner"))
    return pl.concat(frames) if frames else pl.DataFrame()


def train(con, first: date, last: date, rules: dict) -> tuple[rm.Scorecard, dict]:
    """Fit on the earlier observation dates, evaluate out of time on the latest ones.

    Returns the scorecard and its store metadata (approved when the gates of rules.yaml pass)."""
    r, t = rules["risk"], rules["risk"]["training"]
    dates = observation_dates(first, last, rules)
    if len(dates) <= t["out_of_time_observations"]:
        raise rm.RiskModelError(
            f"history {first}..{last} gives {len(dates)} observation dates with a full "
            f"{r['outcome_months']}-month outcome; more than {t['out_of_time_observations']} are needed")
    train_dates, oot_dates = dates[:-t["out_of_time_observations"]], dates[-t["out_of_time_observations"]:]
    data = training_frame(con, dates, rules)
    fit_rows = data.filter(pl.col("as_of_date").is_in(train_dates))
    oot_rows = data.filter(pl.col("as_of_date").is_in(oot_dates))
    card = rm.fit_scorecard(fit_rows, fit_rows["defaulted"].cast(pl.Int8).to_numpy(), r["features"],
                            t["bins"], scale_of(rules), t["min_defaults"])
    y = oot_rows["defaulted"].cast(pl.Int8).to_numpy()
    pd = card.predict_pd(oot_rows)
    evaluation = rm.evaluate(y, pd)
    grade_names = [g["grade"] for g in r["grades"]]
    grades = rm.grade(np.rint(card.scale.points(pd)), r["grades"])
    by_grade = rm.grade_table(grades, y, pd, grade_names)
    is_monotone = rm.monotone(by_grade, t["min_grade_rows"])
    approved = evaluation["auc"] >= t["approve_min_auc"] and is_monotone
    metadata = {
        "training_window": [str(train_dates[0]), str(train_dates[-1])],
        "evaluation_window": [str(oot_dates[0]), str(oot_dates[-1])],
        "training_rows": fit_rows.height,
        "training_defaults": int(fit_rows["defaulted"].sum()),
        "features": r["features"],
        "default_dpd": r["default_dpd"],
        "outcome_months": r["outcome_months"],
        "coefficients": dict(zip(card.features, card.coef)),
        "evaluation": evaluation,
        "grades": by_grade,
        "monotone_grades": is_monotone,
        "approved": bool(approved),
    }
    return card, metadata


def history_bounds(con) -> tuple[date, date] | None:
    """First and last business date the warehouse holds transactions or loan performance for."""
    first, last = one(con, "select min(d), max(d) from (select business_date as d from stg_transactions "
                           "union all select business_date from stg_loan_performance)")
    return (first, last) if first else None


def has_loan_performance(con) -> bool:
    return one(con, "select count(*) > 0 from stg_loan_performance")[0]


__all__ = ["ModelStoreError", "build_scoring_date", "current_model", "train", "psi_alarms"]


SCORING_TABLES = ("int_risk_features", "customer_risk", "model_monitoring")


def build_scoring(con, dates: DateRange, rules: dict, model: ScoringModel) -> dict[str, int]:
    """Risk features, scores and population stability over the range; rows written per table."""
    rows = dict.fromkeys(SCORING_TABLES, 0)
    for day in dates.days:
        for table, n in build_scoring_date(con, day, rules, model).items():
            rows[table] += n
    return rows
