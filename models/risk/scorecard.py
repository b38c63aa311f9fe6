"""Credit risk scorecard: weight-of-evidence bins + logistic regression, scorecard points,
grades, reasons, the rule-based fallback, evaluation (AUC, KS, Gini) and PSI. Pure functions on
numpy / polars frames: no Dagster, no files."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve


class RiskModelError(ValueError):
    """The training data or the config cannot give a scorecard."""


@dataclass(frozen=True)
class Scale:
    """Points = offset + factor * ln(good:bad odds); `points_to_double_odds` points double the odds."""

    base_points: float
    base_odds: float
    points_to_double_odds: float

    @property
    def factor(self) -> float:
        return self.points_to_double_odds / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)

    def points(self, pd: np.ndarray) -> np.ndarray:
        p = np.clip(pd, 1e-6, 1 - 1e-6)
        return self.offset + self.factor * np.log((1 - p) / p)

    def pd(self, points: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp((np.asarray(points, dtype=float) - self.offset) / self.factor))


@dataclass
class FeatureBins:
    """Inner cut points (ascending, a value equal to a cut goes to the upper bin) and the WOE of
    each bin, the last one for missing values. WOE = ln(share of defaults / share of non-defaults):
    higher is riskier."""

    feature: str
    edges: list[float]
    woe: list[float]
    labels: list[str] = field(default_factory=list)

    def index(self, values: np.ndarray) -> np.ndarray:
        values = np.asarray(values, dtype=float)
        idx = np.searchsorted(np.asarray(self.edges, dtype=float), values, side="right")
        return np.where(np.isnan(values), len(self.edges) + 1, idx)

    def transform(self, values: np.ndarray) -> np.ndarray:
        return np.asarray(self.woe)[self.index(values)]


@dataclass
class Scorecard:
    features: list[str]
    bins: dict[str, FeatureBins]
    coef: list[float]
    intercept: float
    scale: Scale
    baseline: dict[str, dict] = field(default_factory=dict)  # PSI reference: {name: {edges, shares}}

    def contributions(self, frame: pl.DataFrame) -> np.ndarray:
        """(rows, features) log-odds of default contributed by each feature."""
        return np.column_stack([c * self.bins[f].transform(column(frame, f)) for f, c in zip(self.features, self.coef)])

    def predict_pd(self, frame: pl.DataFrame) -> np.ndarray:
        return 1 / (1 + np.exp(-(self.intercept + self.contributions(frame).sum(axis=1))))

    def shortfall(self, frame: pl.DataFrame) -> np.ndarray:
        """Points each feature costs against its best bin (>= 0): what a reason reports."""
        best = np.array([min(c * w for w in self.bins[f].woe) for f, c in zip(self.features, self.coef)])
        return self.scale.factor * (self.contributions(frame) - best)


def column(frame: pl.DataFrame, name: str) -> np.ndarray:
    return frame.get_column(name).cast(pl.Float64).fill_null(float("nan")).to_numpy()


def _woe(bad: np.ndarray, good: np.ndarray) -> np.ndarray:
    # +0.5 smoothing keeps an empty bin finite.
    return np.log(((bad + 0.5) / (bad.sum() + 0.5)) / ((good + 0.5) / (good.sum() + 0.5)))


def fit_bins(feature: str, values: np.ndarray, y: np.ndarray, n_bins: int) -> FeatureBins:
    present = values[~np.isnan(values)]
    edges = sorted(set(np.quantile(present, np.linspace(0, 1, n_bins + 1)[1:-1]).tolist())) if len(present) else []
    bins = FeatureBins(feature, [float(e) for e in edges], [])
    idx = bins.index(values)
    k = len(edges) + 2
    bad = np.bincount(idx, weights=y, minlength=k)
    total = np.bincount(idx, minlength=k)
    # A bin no training row fell in (e.g. missing values never seen) is neutral, not extreme.
    bins.woe = np.where(total > 0, _woe(bad, total - bad), 0.0).tolist()
    bounds = [-math.inf, *bins.edges, math.inf]
    bins.labels = [f"[{bounds[i]:.4g}, {bounds[i + 1]:.4g})" for i in range(k - 1)] + ["missing"]
    return bins


def fit_scorecard(frame: pl.DataFrame, y: np.ndarray, features: list[str], n_bins: int, scale: Scale,
                  min_defaults: int) -> Scorecard:
    y = np.asarray(y, dtype=float)
    if y.sum() < min_defaults:
        raise RiskModelError(f"{int(y.sum())} defaults in the training window, at least {min_defaults} needed")
    bins = {f: fit_bins(f, column(frame, f), y, n_bins) for f in features}
    woe = np.column_stack([bins[f].transform(column(frame, f)) for f in features])
    lr = LogisticRegression(C=1.0, max_iter=2000)
    lr.fit(woe, y)
    card = Scorecard(features, bins, lr.coef_[0].tolist(), float(lr.intercept_[0]), scale)
    card.baseline = psi_reference(frame, features, card)
    return card


def score_frame(card: Scorecard, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pd, points, shortfall per feature) of every row."""
    pd = card.predict_pd(frame)
    return pd, np.rint(card.scale.points(pd)).astype(np.int64), card.shortfall(frame)


def grade(points: np.ndarray, grades: list[dict]) -> np.ndarray:
    """Grade by inclusive lower bounds, best first; the last grade takes the rest."""
    out = np.full(len(points), grades[-1]["grade"], dtype=object)
    for g in reversed(grades[:-1]):
        out = np.where(np.asarray(points) >= g["min_points"], g["grade"], out)
    return out


def reasons(shortfall: np.ndarray, features: list[str], frame: pl.DataFrame, labels: dict[str, str],
            top: int) -> list[list[str]]:
    """Per row, the `top` features that cost most points (only those that cost any), worst first."""
    order = np.argsort(-shortfall, axis=1, kind="stable")[:, :top]
    values = {f: column(frame, f) for f in features}
    out = []
    for r, cols in enumerate(order):
        out.append([f"{labels.get(features[j], features[j])}: {_fmt(values[features[j]][r])} "
                    f"(-{shortfall[r, j]:.0f} pts)" for j in cols if shortfall[r, j] >= 0.5])
    return out


def _fmt(v: float) -> str:
    return "no data" if np.isnan(v) else f"{v:.2f}".rstrip("0").rstrip(".")


def rule_based(frame: pl.DataFrame, config: dict) -> tuple[np.ndarray, np.ndarray]:
    """(points, deduction per rule) of the documented behavioural score."""
    deductions = []
    for rule in config["rules"]:
        v = column(frame, rule["feature"])
        holds = np.ones(len(v), dtype=bool)
        if "min" in rule:
            holds &= v >= rule["min"]
        if "max" in rule:
            holds &= v <= rule["max"]
        deductions.append(np.where(holds & ~np.isnan(v), -float(rule["points"]), 0.0))
    matrix = np.column_stack(deductions) if deductions else np.zeros((frame.height, 0))
    return np.rint(config["base_points"] - matrix.sum(axis=1)).astype(np.int64), matrix


def rule_reasons(matrix: np.ndarray, frame: pl.DataFrame, config: dict, labels: dict[str, str],
                 top: int) -> list[list[str]]:
    """Per row, the features whose rules deducted most (rules on one feature added up), worst first."""
    features = list(dict.fromkeys(r["feature"] for r in config["rules"]))
    per_feature = np.column_stack([matrix[:, [i for i, r in enumerate(config["rules"]) if r["feature"] == f]].sum(axis=1)
                                   for f in features]) if features else np.zeros((frame.height, 0))
    order = np.argsort(-per_feature, axis=1, kind="stable")[:, :top]
    values = {f: column(frame, f) for f in features}
    out = []
    for r, cols in enumerate(order):
        out.append([f"{labels.get(features[j], features[j])}: {_fmt(values[features[j]][r])} "
                    f"(-{per_feature[r, j]:.0f} pts)" for j in cols if per_feature[r, j] > 0])
    return out


def evaluate(y: np.ndarray, pd: np.ndarray) -> dict:
    """AUC, Gini (2 AUC - 1) and KS (max distance between the score distributions)."""
    y = np.asarray(y, dtype=int)
    if y.min() == y.max():
        raise RiskModelError("the evaluation window has only one outcome class")
    auc = float(roc_auc_score(y, pd))
    fpr, tpr, _ = roc_curve(y, pd)
    return {"auc": auc, "gini": 2 * auc - 1, "ks": float(np.max(tpr - fpr)), "rows": int(len(y)),
            "defaults": int(y.sum()), "default_rate": float(y.mean())}


def grade_table(grades_of_rows: np.ndarray, y: np.ndarray, pd: np.ndarray, grade_names: list[str]) -> list[dict]:
    """Per grade: rows, observed default rate, mean predicted PD (calibration by grade)."""
    out = []
    for g in grade_names:
        m = grades_of_rows == g
        n = int(m.sum())
        out.append({"grade": g, "rows": n, "defaults": int(np.asarray(y)[m].sum()) if n else 0,
                    "observed_default_rate": float(np.asarray(y)[m].mean()) if n else None,
                    "mean_pd": float(np.asarray(pd)[m].mean()) if n else None})
    return out


def monotone(table: list[dict], min_rows: int = 1) -> bool:
    """The observed default rate rises strictly from the best grade to the worst (grades with
    fewer than `min_rows` rows are too small to judge and skipped)."""
    rates = [g["observed_default_rate"] for g in table if g["rows"] >= max(min_rows, 1)]
    return all(a < b for a, b in zip(rates, rates[1:]))


# --- population stability ---------------------------------------------------------------

PSI_BINS = 10
_EPS = 1e-4


def reference_bins(values: np.ndarray) -> dict:
    """Decile edges of the reference values and their shares (+ a missing share)."""
    present = values[~np.isnan(values)]
    edges = sorted(set(np.quantile(present, np.linspace(0, 1, PSI_BINS + 1)[1:-1]).tolist())) if len(present) else []
    return {"edges": edges, "shares": _shares(values, edges).tolist()}


def _shares(values: np.ndarray, edges: list[float]) -> np.ndarray:
    idx = np.searchsorted(np.asarray(edges, dtype=float), values, side="right")
    idx = np.where(np.isnan(values), len(edges) + 1, idx)
    counts = np.bincount(idx, minlength=len(edges) + 2).astype(float)
    return counts / max(counts.sum(), 1)


def psi(reference: dict, values: np.ndarray) -> float:
    expected = np.maximum(np.asarray(reference["shares"]), _EPS)
    actual = np.maximum(_shares(np.asarray(values, dtype=float), reference["edges"]), _EPS)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def psi_band(value: float, bands: dict) -> str:
    return "stable" if value < bands["stable"] else "watch" if value <= bands["act"] else "act"


def psi_reference(frame: pl.DataFrame, features: list[str], card: Scorecard | None = None,
                  points: np.ndarray | None = None) -> dict[str, dict]:
    """Reference distributions of every feature and of the score."""
    ref = {f: reference_bins(column(frame, f)) for f in features}
    if points is None and card is not None:
        points = card.scale.points(card.predict_pd(frame))
    if points is not None:
        ref["score"] = reference_bins(np.asarray(points, dtype=float))
    return ref
