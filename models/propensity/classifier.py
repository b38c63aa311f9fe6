"""Product propensity models, their evaluation and their reasons (pure functions, no I/O).

Per product family: a calibrated `HistGradientBoostingClassifier` (the scored model) and a
logistic-regression baseline on the same features. Evaluation on a later, disjoint time
window: AUC, lift in the top decile, Brier score and a decile calibration table. Reasons are
occlusion effects of the scored model: a reason group's features are set to the training
reference (median / most frequent value) and the change in the model's score is that group's
contribution; the three largest positive contributions become the reasons."""

from __future__ import annotations

import numpy as np
import polars as pl
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, OrdinalEncoder, StandardScaler

from models.propensity.features import REASONS

# Reason wording that depends on the product as well as the behaviour.
REASON_OVERRIDES: dict[tuple[str, str], str] = {
    ("credit_card", "transfer_spending"): "no card yet but high card-like spending via transfers",
    ("credit_card", "card_spending"): "high spending on a debit card",
    ("wealth_management", "wealth"): "large idle deposits that could earn more",
    ("time_deposit", "wealth"): "large balances on demand deposits",
    ("consumer_loan", "salary"): "salary credited monthly (repayment capacity)",
    ("mortgage", "age"): "age group that typically buys a home",
}


class TrainingError(ValueError):
    """A training set cannot give an honest model (one class only, no rows)."""


def _signed_log(x):
    return np.sign(x) * np.log1p(np.abs(x))


def _frame(x: pl.DataFrame, numeric: list[str], categorical: list[str]):
    """A pandas frame with numeric columns as float and categoricals as str (sklearn's input)."""
    out = x.select(
        *(pl.col(c).cast(pl.Float64) for c in numeric),
        *(pl.col(c).cast(pl.String).fill_null("unknown") for c in categorical),
    )
    return out.to_pandas()


def make_model(kind: str, numeric: list[str], categorical: list[str], *, seed: int, positives: int):
    """An unfitted sklearn estimator: 'hgb' (calibrated gradient boosting) or 'logistic'."""
    if kind == "hgb":
        encode = ColumnTransformer(
            [("num", "passthrough", numeric),
             ("cat", OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                    encoded_missing_value=-1), categorical)],
            verbose_feature_names_out=False)
        categorical_mask = [False] * len(numeric) + [True] * len(categorical)
        boosted = Pipeline([
            ("encode", encode),
            ("hgb", HistGradientBoostingClassifier(
                max_iter=150, learning_rate=0.05, max_leaf_nodes=15, min_samples_leaf=40,
                l2_regularization=1.0, categorical_features=categorical_mask, early_stopping=False,
                random_state=seed)),
        ])
        # Isotonic needs many positives to be smooth; below that, Platt scaling is steadier.
        method = "isotonic" if positives >= 1000 else "sigmoid"
        return CalibratedClassifierCV(boosted, method=method, cv=3, ensemble=False)
    if kind == "logistic":
        encode = ColumnTransformer(
            [("num", make_pipeline(SimpleImputer(strategy="median", add_indicator=True),
                                   FunctionTransformer(_signed_log), StandardScaler()), numeric),
             ("cat", OneHotEncoder(handle_unknown="ignore", min_frequency=20), categorical)])
        return Pipeline([("encode", encode), ("logistic", LogisticRegression(C=0.5, max_iter=2000))])
    raise ValueError(f"unknown model kind {kind!r}")


def fit(kind: str, x: pl.DataFrame, y: np.ndarray, numeric: list[str], categorical: list[str], *, seed: int):
    y = np.asarray(y, dtype=int)
    if len(y) == 0 or y.min() == y.max():
        raise TrainingError("the training set has one class only")
    # A feature with no value at all in training (e.g. no NPS survey yet) carries nothing: left out.
    numeric = [c for c in numeric if x[c].null_count() < x.height]
    model = make_model(kind, numeric, categorical, seed=seed, positives=int(y.sum()))
    model.fit(_frame(x, numeric, categorical), y)
    # Kept on the model so scoring uses exactly the training columns.
    model.feature_columns_ = (list(numeric), list(categorical))
    return model


def predict(model, x: pl.DataFrame) -> np.ndarray:
    numeric, categorical = model.feature_columns_
    return model.predict_proba(_frame(x, numeric, categorical))[:, 1]


def top_decile_lift(y: np.ndarray, p: np.ndarray) -> float:
    """Positive rate among the top 10 % by score over the overall rate (ties broken by order)."""
    y = np.asarray(y, dtype=float)
    if y.sum() == 0:
        return float("nan")
    n = max(1, int(np.ceil(len(y) * 0.1)))
    top = np.argsort(-np.asarray(p), kind="stable")[:n]
    return float(y[top].mean() / y.mean())


def calibration_table(y: np.ndarray, p: np.ndarray, bins: int = 10) -> list[dict]:
    """Deciles of the predicted probability: mean predicted vs observed rate."""
    y, p = np.asarray(y, dtype=float), np.asarray(p, dtype=float)
    order = np.argsort(p, kind="stable")
    table = []
    for i, idx in enumerate(np.array_split(order, bins), start=1):
        if len(idx):
            table.append({"decile": i, "rows": int(len(idx)), "mean_predicted": float(p[idx].mean()),
                          "observed_rate": float(y[idx].mean())})
    return table


def evaluate(y: np.ndarray, p: np.ndarray) -> dict:
    y = np.asarray(y, dtype=int)
    both = 0 < y.sum() < len(y)
    return {
        "rows": int(len(y)),
        "positives": int(y.sum()),
        "base_rate": float(y.mean()) if len(y) else float("nan"),
        "auc": float(roc_auc_score(y, p)) if both else float("nan"),
        "top_decile_lift": top_decile_lift(y, p),
        "brier": float(brier_score_loss(y, p)) if len(y) else float("nan"),
        "calibration": calibration_table(y, p),
    }


def reference_values(x: pl.DataFrame, numeric: list[str], categorical: list[str]) -> dict:
    """Median of each numeric feature and most frequent value of each categorical one."""
    ref = {c: x[c].cast(pl.Float64).median() for c in numeric}
    for c in categorical:
        mode = x[c].cast(pl.String).fill_null("unknown").mode().sort()
        ref[c] = mode[0] if len(mode) else "unknown"
    return ref


def _inner(model):
    """The uncalibrated estimator of a calibrated model (same ranking: calibration is monotone)."""
    if isinstance(model, CalibratedClassifierCV):
        return model.calibrated_classifiers_[0].estimator
    return model


def reason_contributions(model, x: pl.DataFrame, reference: dict, groups: dict[str, list[str]]) -> dict[str, np.ndarray]:
    """Per reason group: model score minus the score with that group's features at the reference.

    The rows are encoded once; each group's columns are swapped for the encoded reference in
    place and restored, so the cost is one tree-ensemble pass per group on a numeric matrix."""
    numeric, categorical = model.feature_columns_
    frame = _frame(x, numeric, categorical)
    inner = _inner(model)
    if isinstance(inner, Pipeline) and "encode" in inner.named_steps:
        encode, estimator = inner.named_steps["encode"], inner[-1]
        names = list(encode.get_feature_names_out())
        matrix = np.asarray(encode.transform(frame), dtype=float)
        ref_frame = _frame(pl.DataFrame({c: [reference[c]] for c in numeric + categorical}), numeric, categorical)
        ref_row = np.asarray(encode.transform(ref_frame), dtype=float)[0]
        score = lambda m: estimator.predict_proba(m)[:, 1]  # noqa: E731
    else:  # a model without a separate encoding step: occlude in the input frame
        names, matrix, ref_row = None, None, None
        score = lambda f: inner.predict_proba(f)[:, 1]  # noqa: E731
    base = score(matrix if names else frame)
    out = {}
    for group, cols in groups.items():
        cols = [c for c in cols if c in numeric or c in categorical]
        if not cols:
            continue
        if names:
            idx = [names.index(c) for c in cols]
            saved = matrix[:, idx].copy()
            matrix[:, idx] = ref_row[idx]
            out[group] = base - score(matrix)
            matrix[:, idx] = saved
        else:
            occluded = frame.copy()
            for c in cols:
                occluded[c] = reference[c]
            out[group] = base - score(occluded)
    return out


def reasons(family: str, x: pl.DataFrame, contributions: dict[str, np.ndarray], reference: dict,
            groups: dict[str, list[str]], top: int = 3, min_effect: float = 1e-4) -> pl.Series:
    """The `top` phrases per row (a list column): groups with the largest positive contributions,
    worded by whether the customer's leading numeric feature of the group is above the reference."""
    names = list(contributions)
    if not names or x.height == 0:
        return pl.Series("reasons", [[] for _ in range(x.height)], dtype=pl.List(pl.String))
    effects = np.column_stack([contributions[g] for g in names])
    high, low, above = [], [], []
    for g in names:
        phrase_high, phrase_low = REASONS[g]
        override = REASON_OVERRIDES.get((family, g))
        high.append(override or phrase_high)
        low.append(phrase_low if override is None or phrase_high == phrase_low else override)
        lead = next((c for c in groups[g] if isinstance(reference.get(c), (int, float)) and c in x.columns), None)
        if lead is None:
            above.append(np.ones(x.height, dtype=bool))
        else:
            values = x[lead].cast(pl.Float64).fill_null(float("nan")).to_numpy()
            above.append(np.nan_to_num(values, nan=-np.inf) >= (reference[lead] or 0.0))
    words = np.where(np.column_stack(above), np.array(high, dtype=object), np.array(low, dtype=object))
    order = np.argsort(-effects, axis=1, kind="stable")[:, :top]
    chosen = np.take_along_axis(words, order, axis=1)
    kept = np.take_along_axis(effects, order, axis=1) > min_effect
    columns = [pl.Series(f"r{k}", np.where(kept[:, k], chosen[:, k], None).tolist(), dtype=pl.String)
               for k in range(order.shape[1])]
    return pl.DataFrame(columns).select(
        pl.concat_list(pl.all()).list.drop_nulls().alias("reasons"))["reasons"]


def _boosted_parts(model):
    """(encoder, fitted HistGradientBoostingClassifier, calibrator or None) of an 'hgb' model;
    None for any other model (scored with the generic occlusion instead)."""
    inner, calibrator = model, None
    if isinstance(model, CalibratedClassifierCV):
        calibrated = model.calibrated_classifiers_[0]
        inner, calibrator = calibrated.estimator, calibrated.calibrators[0]
    if (isinstance(inner, Pipeline) and "encode" in inner.named_steps
            and isinstance(inner[-1], HistGradientBoostingClassifier) and inner[-1].n_trees_per_iteration_ == 1):
        return inner.named_steps["encode"], inner[-1], calibrator
    return None


def _trees(hgb) -> list:
    return [iteration[0] for iteration in hgb._predictors]


def _tree_feature_names(encode, hgb) -> list[str]:
    """Names of the columns the trees index: with categorical features the booster re-encodes
    its input and puts those columns first."""
    names = list(encode.get_feature_names_out())
    pre = hgb._preprocessor
    if pre is None:
        return names
    order = [i for _, _, cols in pre.transformers_ if not isinstance(cols, str)
             for i in (np.flatnonzero(cols) if np.asarray(cols).dtype == bool else cols)]
    return [names[i] for i in order]


def split_gain_by_group(model, groups: dict[str, list[str]]) -> dict[str, float]:
    """Total split gain of each reason group's features over the model's trees, largest first
    (groups no tree splits on are left out): the model's own ranking of what it uses."""
    parts = _boosted_parts(model)
    if parts is None:
        return {}
    encode, hgb, _ = parts
    index = {c: i for i, c in enumerate(_tree_feature_names(encode, hgb))}
    gain = np.zeros(len(index))
    for tree in _trees(hgb):
        split = tree.nodes["is_leaf"] == 0
        np.add.at(gain, tree.nodes["feature_idx"][split], tree.nodes["gain"][split])
    totals = {g: float(sum(gain[index[c]] for c in cols if c in index)) for g, cols in groups.items()}
    return dict(sorted(((g, v) for g, v in totals.items() if v > 0), key=lambda kv: -kv[1]))


def _expit(z):
    return 1.0 / (1.0 + np.exp(-z))


def score_with_reasons(model, x: pl.DataFrame, reference: dict, groups: dict[str, list[str]], *,
                       max_groups: int | None = None, threads: int = 1) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(calibrated probability, reason contributions) per row, equal to `predict` and to
    `reason_contributions` restricted to the model's `max_groups` groups of highest split gain
    (None: every group a tree splits on; 0: probabilities only).

    One pass over the trees keeps every tree's output; a group's occlusion then re-evaluates only
    the trees that split on its features, so the cost is (trees + splits on the kept groups'
    features) tree evaluations per row instead of (groups + 1) x trees."""
    parts = _boosted_parts(model)
    if parts is None:
        return predict(model, x), reason_contributions(model, x, reference, groups)
    encode, hgb, calibrator = parts
    numeric, categorical = model.feature_columns_
    index = {c: i for i, c in enumerate(_tree_feature_names(encode, hgb))}
    # The trees are walked on the booster's own bins (uint8): the same decisions as on raw values
    # (a test pins it), and a row is 1 byte per feature, so the passes stay in cache.
    binner, missing_bin = hgb._bin_mapper, hgb._bin_mapper.missing_values_bin_idx_
    matrix = np.ascontiguousarray(binner.transform(
        hgb._preprocess_X(encode.transform(_frame(x, numeric, categorical)), reset=False)))
    ref_frame = _frame(pl.DataFrame({c: [reference[c]] for c in numeric + categorical}), numeric, categorical)
    ref_row = binner.transform(hgb._preprocess_X(encode.transform(ref_frame), reset=False))[0]
    trees = _trees(hgb)

    def tree_output(tree, m):
        # One thread: a pass is short, and on shared cores OpenMP's per-call barriers cost more
        # than the second thread gives (measured 3.6x slower at a load average of 8).
        return tree.predict_binned(m, missing_values_bin_idx=missing_bin, n_threads=threads)

    per_tree = np.column_stack([tree_output(t, matrix) for t in trees]) if trees else np.zeros((x.height, 0))
    raw = hgb._baseline_prediction.ravel()[0] + per_tree.sum(axis=1)
    probability = calibrator.predict(raw) if calibrator is not None else _expit(raw)
    base = _expit(raw)  # the uncalibrated score (same ranking) that the contributions are measured on
    ranked = list(split_gain_by_group(model, groups))
    kept = set(ranked if max_groups is None else ranked[:max_groups])
    contributions = {}
    for group in (g for g in groups if g in kept):  # dictionary order, as reasons() breaks ties by it
        cols = [index[c] for c in groups[group] if c in index]
        uses = [k for k, t in enumerate(trees) if np.isin(t.nodes["feature_idx"][t.nodes["is_leaf"] == 0], cols).any()]
        saved = matrix[:, cols].copy()
        matrix[:, cols] = ref_row[cols]
        occluded = sum(tree_output(trees[k], matrix) for k in uses)
        matrix[:, cols] = saved
        contributions[group] = base - _expit(raw - per_tree[:, uses].sum(axis=1) + occluded)
    return np.asarray(probability, dtype=float), contributions
