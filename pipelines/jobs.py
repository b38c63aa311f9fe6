"""Jobs: the nightly business-date job (every asset but training) and the model-training job."""

import dagster as dg

from pipelines.partitions import daily_partitions

nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("training"),
    partitions_def=daily_partitions,
    description="Ingest, score and publish one business date (or a backfill range in one run).",
)

training_job = dg.define_asset_job(
    "model_training",
    selection=dg.AssetSelection.groups("training"),
    partitions_def=daily_partitions,
    description="Train, evaluate and store model versions (propensity per product family, the PD scorecard), as of a business date.",
)
