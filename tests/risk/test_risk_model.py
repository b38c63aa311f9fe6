"""The PD scorecard as pure functions: odds scale, WOE bins, fit, grades, reasons, the
rule-based score, evaluation and PSI, on small exact or seeded data."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from models.risk import scorecard as rm
from pipelines.core.config import load_rules

RULES = load_rules()
SCALE = rm.Scale(**RULES["risk"]["scorecard"])
GRADES = RULES["risk"]["grades"]


def test_scale_puts_600_at_odds_50_and_doubles_the_odds_every_20_points():
    assert SCALE.points(np.array([1 / 51]))[0] == pytest.approx(600)
    assert SCALE.points(np.array([1 / 101]))[0] == pytest.approx(620)
    assert SCALE.points(np.array([1 / 26]))[0] == pytest.approx(580)
    assert SCALE.pd(np.array([600.0]))[0] == pytest.approx(1 / 51)


def test_grades_use_inclusive_lower_bounds():
    bounds = [g["min_points"] for g in GRADES[:-1]]
    points = np.array([b + d for b in bounds for d in (0, -1)])
    names = [g["grade"] for g in GRADES]
    expected = [n for i in range(len(bounds)) for n in (names[i], names[i + 1])]
    assert rm.grade(points, GRADES).tolist() == expected
    assert rm.grade(np.array([10_000, -10_000]), GRADES).tolist() == [names[0], names[-1]]


def test_bins_put_a_value_equal_to_a_cut_in_the_upper_bin_and_missing_last():
    bins = rm.FeatureBins("x", [1.0, 2.0], [0.0, 0.1, 0.2, 0.3])
    assert bins.index(np.array([0.5, 1.0, 1.5, 2.0, 9.0, np.nan])).tolist() == [0, 1, 1, 2, 2, 3]


def synthetic(n: int, seed: int, shift: float = 0.0) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    utilisation = np.clip(rng.beta(2, 4, n) + shift, 0, 1)
    dpd = np.where(rng.random(n) < 0.1, rng.integers(1, 60, n), 0).astype(float)
    noise = rng.normal(0, 1, n)
    logit = -5.5 + 8 * utilisation + 0.05 * dpd
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    income = np.where(rng.random(n) < 0.2, np.nan, rng.random(n))
    return pl.DataFrame({"utilisation": utilisation, "max_dpd_12m": dpd, "noise": noise, "income_stability": income}), y


FEATURES = ["utilisation", "max_dpd_12m", "noise", "income_stability"]


@pytest.fixture(scope="module")
def card():
    frame, y = synthetic(6000, 1)
    return rm.fit_scorecard(frame, y, FEATURES, 5, SCALE, min_defaults=30)


def test_fitted_scorecard_ranks_out_of_sample_and_is_calibrated_on_average(card):
    frame, y = synthetic(6000, 2)
    pd = card.predict_pd(frame)
    metrics = rm.evaluate(y, pd)
    assert metrics["auc"] > 0.7 and metrics["gini"] == pytest.approx(2 * metrics["auc"] - 1)
    assert 0 < metrics["ks"] < 1
    assert pd.mean() == pytest.approx(y.mean(), rel=0.15)
    # Log-odds range each feature can move: the signal moves far, the noise hardly at all.
    spread = {f: abs(c) * (max(card.bins[f].woe) - min(card.bins[f].woe)) for f, c in zip(card.features, card.coef)}
    assert spread["utilisation"] > 1.5 and spread["noise"] < 0.2
    table = rm.grade_table(rm.grade(np.rint(SCALE.points(pd)), GRADES), y, pd, [g["grade"] for g in GRADES])
    assert rm.monotone(table)


def test_too_few_defaults_is_refused():
    frame, y = synthetic(200, 3)
    with pytest.raises(rm.RiskModelError, match="at least 1000 needed"):
        rm.fit_scorecard(frame, y, FEATURES, 5, SCALE, min_defaults=1000)


def test_reasons_name_only_model_features_that_cost_points(card):
    frame = pl.DataFrame({"utilisation": [0.99, 0.01], "max_dpd_12m": [0.0, 0.0], "noise": [0.0, 0.0],
                          "income_stability": [0.5, 0.5]})
    _, points, shortfall = rm.score_frame(card, frame)
    why = rm.reasons(shortfall, card.features, frame, {"utilisation": "credit card utilisation"}, 3)
    assert why[0][0].startswith("credit card utilisation: 0.99 (-")
    assert not any(r.startswith("credit card utilisation") for r in why[1])
    assert points[0] < points[1]
    assert all(r.split(":")[0] in {"credit card utilisation", *FEATURES} for rs in why for r in rs)


def test_rule_based_score_deducts_the_documented_points():
    config = RULES["risk"]["rule_based"]
    frame = pl.DataFrame({f: [None, None] for f in RULES["risk"]["features"]}, schema={f: pl.Float64 for f in RULES["risk"]["features"]})
    frame = frame.with_columns(current_dpd=pl.Series([45.0, 0.0]), utilisation=pl.Series([0.95, None]))
    points, matrix = rm.rule_based(frame, config)
    deducted = {(r["feature"], r.get("min")): -r["points"] for r in config["rules"]}
    expected_first = config["base_points"] - deducted[("current_dpd", 30)] - deducted[("current_dpd", 1)] \
        - deducted[("utilisation", 0.9)] - deducted[("utilisation", 0.7)]
    assert points.tolist() == [expected_first, config["base_points"]]
    why = rm.rule_reasons(matrix, frame, config, RULES["risk"]["feature_labels"], 3)
    dpd_cost = deducted[("current_dpd", 30)] + deducted[("current_dpd", 1)]
    assert why[0] == [f"days past due now: 45 (-{dpd_cost} pts)",
                      f"credit card utilisation: 0.95 (-{deducted[('utilisation', 0.9)] + deducted[('utilisation', 0.7)]} pts)"]
    assert why[1] == []


def test_evaluate_on_a_hand_example():
    m = rm.evaluate(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    assert m["auc"] == pytest.approx(0.75) and m["ks"] == pytest.approx(0.5)
    with pytest.raises(rm.RiskModelError):
        rm.evaluate(np.array([0, 0]), np.array([0.1, 0.2]))


def test_psi_is_zero_for_the_reference_and_large_for_a_shift():
    rng = np.random.default_rng(5)
    reference = rng.normal(0, 1, 20_000)
    ref = rm.reference_bins(reference)
    assert rm.psi(ref, reference) == pytest.approx(0, abs=1e-9)
    assert rm.psi(ref, rng.normal(0, 1, 20_000)) < 0.01
    shifted = rm.psi(ref, rng.normal(1, 1, 20_000))
    assert shifted > 0.25
    # Hand check of the formula on two bins.
    two = {"edges": [0.5], "shares": [0.5, 0.5, 0.0]}
    expected = (0.2 - 0.5) * math.log(0.2 / 0.5) + (0.8 - 0.5) * math.log(0.8 / 0.5) + 0
    assert rm.psi(two, np.array([0.0, 1.0, 1.0, 1.0, 1.0])) == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("value,band", [(0.0999, "stable"), (0.10, "watch"), (0.25, "watch"), (0.2501, "act")])
def test_psi_bands(value, band):
    assert rm.psi_band(value, RULES["risk"]["psi_bands"]) == band
