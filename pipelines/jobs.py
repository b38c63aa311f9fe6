"""Jobs: the nightly business-date job (every partitioned asset)."""

import dagster as dg

from pipelines.partitions import daily_partitions

nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("training"),
    partitions_def=daily_partitions,
    description="Ingest, score and publish one business date (or a backfill range in one run).",
)

risk_training_job = dg.define_asset_job(
    "risk_training",
    selection=dg.AssetSelection.assets("risk_pd_model"),
    description="Train, evaluate and store a new PD scorecard version (approved when its gates pass).",
)
