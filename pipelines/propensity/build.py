"""Propensity entry points (Dagster assets, tests and benchmarks import them from here):
features (features.py), training on its own cadence (training.py), range scoring and the offer
marts (scoring.py). The SQL lives in sql/int/propensity/ and sql/marts/propensity/; the models are
models/propensity/classifier.py; trained versions live in the model store (models/store.py)."""

from pipelines.propensity.features import FEATURE_TABLE, build_feature_range, feature_params
from pipelines.propensity.scoring import (MART_STEPS, NO_MODEL, SCORE_VIEW, approved_version, approved_versions,
                                          build_offer_marts, explain, offer_params, score_frame, score_range,
                                          scoring_plan)
from pipelines.propensity.training import (FamilyResult, NotEnoughHistory, family_rows, model_card, model_name,
                                           top1_hit_rates, train_all, train_family, training_plan, training_set,
                                           write_model_metrics)

__all__ = [
    "FEATURE_TABLE", "MART_STEPS", "NO_MODEL", "SCORE_VIEW", "FamilyResult", "NotEnoughHistory", "approved_version",
    "approved_versions", "build_feature_range", "build_offer_marts", "explain", "family_rows", "feature_params",
    "model_card", "model_name", "offer_params", "score_frame", "score_range", "scoring_plan", "top1_hit_rates",
    "train_all", "train_family", "training_plan", "training_set", "write_model_metrics",
]
