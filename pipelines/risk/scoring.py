"""Risk scoring over a range of business dates (customer_risk, model_monitoring) and PD-model training.

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
import pyarrow as pa

from models.risk import scorecard as rm
from models.store import ModelStoreError, latest_approved, load_model
from pipelines.core.contract_tables import ensure_contract_table
from pipelines.core.contracts import output_contracts
from pipelines.core.engine import DateRange, count_range, replace_range
from pipelines.core.sql import bind, load_sql, one, run, transaction

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


def build_features(con: duckdb.DuckDBPyConnection, dates: DateRange, rules: dict) -> int:
    return replace_range(con, "int_risk_features", "int/risk/int_risk_features",
                         {**feature_params(rules), "step_days": 1}, dates)


def _frame(con, query: str, params: dict) -> pl.DataFrame:
    return con.sql(query, params=bind(query, params)).pl()


def features_of(con, dates: DateRange) -> pl.DataFrame:
    return _frame(con, "select * from int_risk_features where as_of_date between $date_from and $date_to "
                       "order by as_of_date, customer_id", dates.params)


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
        "score_method": pl.repeat(model.method, frame.height, eager=True),
        "model_version": pl.repeat(model.version, frame.height, eager=True),
        # Through Arrow: polars builds a Series per row from Python lists (seconds on a year of rows).
        "reasons": pl.from_arrow(pa.array(why, type=pa.list_(pa.string()))),
    })


def _replace_frame(con: duckdb.DuckDBPyConnection, table: str, frame: pl.DataFrame, dates: DateRange) -> int:
    ensure_contract_table(con, output_contracts()[table])
    con.register("_frame", frame.to_arrow())
    try:
        with transaction(con):
            run(con, f'delete from "{table}" where as_of_date between $date_from and $date_to', dates.params)
            con.execute(f'insert into "{table}" by name select * from _frame')
    finally:
        con.unregister("_frame")
    return count_range(con, table, dates)


# Rows scored per pass: bounds the frame (and the reasons lists) on a year of a large bank.
SCORE_CHUNK_ROWS = 2_000_000


def build_customer_risk(con: duckdb.DuckDBPyConnection, dates: DateRange, rules: dict, model: ScoringModel) -> int:
    """Every date's features in one read, scored in vectorised passes (every row is scored on its
    own), written in one insert."""
    frame = features_of(con, dates)
    scored = [score(frame.slice(i, SCORE_CHUNK_ROWS), model, rules) for i in range(0, frame.height, SCORE_CHUNK_ROWS)]
    scored = pl.concat(scored) if scored else score(frame, model, rules)
    return _replace_frame(con, "customer_risk", scored, dates)


# --- monitoring ------------------------------------------------------------------------------

def _rule_reference_dates(con, dates: DateRange, model: ScoringModel, rules: dict) -> dict[date, date]:
    """Per date, the rule-based score's reference snapshot: the same rule version's snapshot a
    reference window (90 days) earlier, or its first scored date while there is none that old."""
    lag = rules["risk"]["rule_based"]["psi_reference_days"]
    query = """
        with scored as (select distinct as_of_date from customer_risk where model_version = $v),
        business_dates as (
            select unnest(generate_series($date_from::date, $date_to::date, interval 1 day))::date as as_of_date)
        select d.as_of_date,
               coalesce(max(s.as_of_date) filter (where s.as_of_date <= d.as_of_date - $lag::integer),
                        (select min(as_of_date) from scored)) as reference_date
        from business_dates d cross join scored s
        group by d.as_of_date"""
    return dict(run(con, query, {"v": model.version, "lag": lag, **dates.params}).fetchall())


def _scores_by_date(con, dates: list[date], version: str | None) -> dict[date, np.ndarray]:
    query = ("select as_of_date, score from customer_risk where list_contains($dates, as_of_date) "
             "and ($v is null or model_version = $v)")
    frame = _frame(con, query, {"dates": dates, "v": version})
    return {key[0]: part["score"].cast(pl.Float64).to_numpy() for key, part in frame.group_by("as_of_date")}


def _features_by_date(con, dates: list[date]) -> dict[date, pl.DataFrame]:
    """Each date's features (an empty frame for a date without any)."""
    frame = _frame(con, "select * from int_risk_features where list_contains($dates, as_of_date) "
                        "order by as_of_date, customer_id", {"dates": dates})
    parts = {key[0]: part for key, part in frame.group_by("as_of_date", maintain_order=True)}
    return {d: parts.get(d, frame.clear()) for d in dates}


def monitoring_frame(con, dates: DateRange, rules: dict, model: ScoringModel) -> pl.DataFrame:
    """PSI of the score and every feature for each date of the range against its reference, from
    one read of the range's features and scores (and of the reference snapshots)."""
    bands = rules["risk"]["psi_bands"]
    days = dates.days
    if model.method == METHOD_MODEL:
        meta = model.metadata
        window = f"training {meta['training_window'][0]}..{meta['training_window'][1]}"
        references = {d: (model.card.baseline, window) for d in days}
    else:
        ref_dates = _rule_reference_dates(con, dates, model, rules)
        wanted = sorted({r for r in ref_dates.values() if r is not None})
        ref_features, ref_scores = _features_by_date(con, wanted), _scores_by_date(con, wanted, model.version)
        built = {r: rm.psi_reference(ref_features[r], rules["risk"]["features"],
                                     points=ref_scores.get(r, np.array([], dtype=float)))
                 for r in wanted}
        references = {d: (built[ref_dates[d]], f"scored {ref_dates[d]}") for d in days if ref_dates.get(d)}
    features, scores = _features_by_date(con, days), _scores_by_date(con, days, None)
    rows = []
    for day in days:
        reference, window = references[day]
        frame = features[day]
        current = {f: rm.column(frame, f) for f in reference if f != "score"}
        current["score"] = scores.get(day, np.array([], dtype=float))
        common = {"as_of_date": day, "reference_window": window, "rows_current": frame.height}
        for subject, ref in reference.items():
            value = rm.psi(ref, current[subject])
            rows.append({**common, "metric": "psi", "subject": subject,
                         "kind": "score" if subject == "score" else "feature",
                         "value": value, "band": rm.psi_band(value, bands)})
        if model.method == METHOD_MODEL:
            evaluation = model.metadata["evaluation"]
            for metric in ("auc", "ks", "gini", "default_rate"):
                rows.append({**common, "metric": metric, "subject": "evaluation_window", "kind": "performance",
                             "value": float(evaluation[metric]), "band": None})
    out = pl.DataFrame(rows, schema={"as_of_date": pl.Date, "metric": pl.String, "subject": pl.String,
                                     "kind": pl.String, "value": pl.Float64, "band": pl.String,
                                     "reference_window": pl.String, "rows_current": pl.Int64})
    return out.with_columns(pl.lit(model.version).alias("model_version"), pl.lit(model.method).alias("score_method"))


def build_model_monitoring(con, dates: DateRange, rules: dict, model: ScoringModel) -> int:
    return _replace_frame(con, "model_monitoring", monitoring_frame(con, dates, rules, model), dates)


def psi_alarms(con, as_of_date: date) -> list[str]:
    rows = run(con, "select subject, round(value, 3) from model_monitoring where as_of_date = $d "
                    "and metric = 'psi' and band = 'act' order by value desc", {"d": as_of_date}).fetchall()
    return [f"{s}: PSI {v}" for s, v in rows]


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
    """Features (point in time) and outcome of every credit customer on each observation date, in
    one query: the features SQL over the observation dates (evenly spaced: every step from the
    first) joined with their labels."""
    if not dates:
        return pl.DataFrame()
    span, step = DateRange.of(dates), rules["risk"]["training"]["observation_step_days"]
    if sorted(dates) != span.days[::step]:
        raise ValueError(f"observation dates must be every {step} days from the first: {dates}")
    query = (f"with features as ({load_sql('int/risk/int_risk_features')}), "
             f"labels as ({load_sql('int/risk/int_risk_labels')}) "
             "select f.*, l.defaulted from features f join labels l using (as_of_date, customer_id) "
             "order by as_of_date, customer_id")
    return _frame(con, query, {**feature_params(rules), **span.params, "step_days": step,
                               "observation_dates": sorted(dates)})


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


__all__ = ["ModelStoreError", "build_scoring", "current_model", "train", "psi_alarms"]


SCORING_TABLES = ("int_risk_features", "customer_risk", "model_monitoring")


def build_scoring(con, dates: DateRange, rules: dict, model: ScoringModel) -> dict[str, int]:
    """Risk features, scores and population stability over the range; rows written per table."""
    return {
        "int_risk_features": build_features(con, dates, rules),
        "customer_risk": build_customer_risk(con, dates, rules, model),
        "model_monitoring": build_model_monitoring(con, dates, rules, model),
    }
