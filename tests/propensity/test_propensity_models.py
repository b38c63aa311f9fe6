"""models/propensity/classifier.py and the per-family training: metrics on hand-computed cases,
determinism for a seed, skipped families, reasons that name the planted driver."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from models.propensity import classifier as pm
from models.propensity.features import CATEGORICAL, FEATURES, NUMERIC, reason_groups
from pipelines.core.config import load_rules
from pipelines.propensity.build import train_family

RULES = load_rules()


def synthetic(n: int, seed: int, as_of: date) -> pl.DataFrame:
    """Features with noise; credit-card openings driven by transfer spending of non-holders,
    fund openings by AUM; private banking almost never."""
    rng = np.random.default_rng(seed)
    cols = {}
    for f in FEATURES:
        if f.kind == "categorical":
            cols[f.name] = rng.choice(["a", "b", "c"], n)
        elif f.name.startswith("holds_"):
            cols[f.name] = rng.random(n) < 0.3
        else:
            cols[f.name] = rng.gamma(2.0, 1000.0, n)
    spend = cols["transfer_out_short"]
    p_card = 1 / (1 + np.exp(-(spend - 3000) / 600))
    p_fund = 1 / (1 + np.exp(-(cols["aum"] - 3000) / 800)) * 0.5
    card = rng.random(n) < p_card * 0.6
    fund = rng.random(n) < p_fund
    pb = np.zeros(n, dtype=bool)
    pb[:3] = True
    opened = [[f for f, hit in (("credit_card", c), ("fund", fd), ("private_banking", b)) if hit]
              for c, fd, b in zip(card, fund, pb)]
    return pl.DataFrame({"as_of_date": [as_of] * n, "customer_id": [f"C{i}" for i in range(n)], **cols,
                         "opened_families": opened, "true_p_card": p_card * 0.6})


@pytest.fixture(scope="module")
def frames():
    return synthetic(3000, 1, date(2025, 3, 31)), synthetic(1500, 2, date(2025, 9, 30))


@pytest.fixture(scope="module")
def card(frames):
    """The credit-card model trained on `frames`: (result, model, reference)."""
    return train_family(*frames, "credit_card", RULES)


def test_metrics_on_hand_computed_cases():
    y = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1])
    p = np.linspace(0, 1, 20)
    m = pm.evaluate(y, p)
    # Top 10 % = the 2 highest scores, both positive: rate 1.0 vs 3/20 overall.
    assert m["top_decile_lift"] == pytest.approx(1 / 0.15)
    assert m["auc"] == pytest.approx((9 + 17 + 17) / 51)
    assert m["brier"] == pytest.approx(np.mean((p - y) ** 2))
    cal = m["calibration"]
    assert [c["rows"] for c in cal] == [2] * 10 and cal[-1]["observed_rate"] == 1.0
    assert cal[0]["mean_predicted"] == pytest.approx(p[:2].mean())


def test_training_is_deterministic_and_beats_baselines(frames, card):
    train, evaluation = frames
    r1, m1, ref1 = card
    r2, m2, _ = train_family(train, evaluation, "credit_card", RULES)
    assert r1.status == "trained" and r1.approved
    np.testing.assert_array_equal(pm.predict(m1, evaluation), pm.predict(m2, evaluation))
    auc = r1.metrics["hgb_calibrated"]["auc"]
    pop = evaluation.filter(~pl.col("holds_credit_card"))
    y = pop["opened_families"].list.contains("credit_card").to_numpy()
    oracle = pm.evaluate(y, pop["true_p_card"].to_numpy())["auc"]
    assert auc > oracle - 0.03 and auc > r1.metrics["popularity"]["auc"] == 0.5
    assert r1.metrics["hgb_calibrated"]["top_decile_lift"] > 2
    # Calibrated: mean predicted close to the observed rate over the evaluation window.
    observed = pop["opened_families"].list.contains("credit_card").mean()
    assert abs(pm.predict(m1, pop).mean() - observed) < 0.05
    # Reasons name the planted driver for the customers the model ranks highest.
    groups = reason_groups()
    _, contrib = pm.score_with_reasons(m1, pop, ref1, groups,
                                       max_groups=RULES["propensity"]["scoring"]["reason_groups"])
    words = pm.reasons("credit_card", pop, contrib, ref1, groups)
    top = np.argsort(-pm.predict(m1, pop))[:50]
    firsts = [words[int(i)][0] for i in top if len(words[int(i)])]
    assert firsts.count("no card yet but high card-like spending via transfers") > 40
    assert all(len(w) <= 3 for w in words)


def test_fast_scoring_equals_the_model_and_the_occlusion(frames, card):
    _, evaluation = frames
    _, model, ref = card
    pop = evaluation.filter(~pl.col("holds_credit_card")).head(300)
    # Missing values and a category never seen in training must take the model's own branches.
    nth = pl.int_range(pl.len())
    pop = pop.with_columns(pl.when(nth % 3 == 0).then(None).otherwise(pl.col("aum")).alias("aum"),
                           pl.when(nth % 4 == 0).then(pl.lit("zz")).otherwise(pl.col("segment")).alias("segment"))
    groups = reason_groups()
    gain = pm.split_gain_by_group(model, groups)
    assert next(iter(gain)) == "transfer_spending"  # the planted driver carries the most split gain
    probability, fast = pm.score_with_reasons(model, pop, ref, groups)
    np.testing.assert_allclose(probability, pm.predict(model, pop), rtol=0, atol=1e-12)
    slow = pm.reason_contributions(model, pop, ref, groups)
    assert set(fast) == set(gain)
    for group in slow:  # a group no tree splits on cannot move the score: skipping it is exact
        np.testing.assert_allclose(fast.get(group, np.zeros(pop.height)), slow[group], rtol=0, atol=1e-12)
    _, top3 = pm.score_with_reasons(model, pop, ref, groups, max_groups=3)
    assert list(top3) == [g for g in groups if g in list(gain)[:3]]
    only_p, none = pm.score_with_reasons(model, pop, ref, groups, max_groups=0)
    assert none == {} and np.array_equal(only_p, probability)


def test_family_below_min_positives_is_skipped(frames):
    train, evaluation = frames
    result, model, _ = train_family(train, evaluation, "private_banking", RULES)
    assert (result.status, model, result.approved) == ("skipped", None, False)
    assert result.train_positives <= 3 and "min_positives" in result.note
    with pytest.raises(pm.TrainingError):
        pm.fit("hgb", train, np.zeros(train.height), NUMERIC, CATEGORICAL, seed=1)


def test_logistic_baseline_handles_missing_and_unseen_values(frames):
    train, evaluation = frames
    _, y = train.filter(~pl.col("holds_fund")), None
    pop = train.filter(~pl.col("holds_fund"))
    y = pop["opened_families"].list.contains("fund").to_numpy().astype(int)
    model = pm.fit("logistic", pop, y, NUMERIC, CATEGORICAL, seed=1)
    odd = evaluation.head(5).with_columns(pl.lit(None, dtype=pl.Float64).alias("aum_change_ratio"),
                                          pl.lit("never-seen").alias("occupation"))
    p = pm.predict(model, odd)
    assert p.shape == (5,) and np.all((p > 0) & (p < 1))
