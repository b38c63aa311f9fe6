"""Jobs: the nightly business-date job (every partitioned asset)."""

import dagster as dg

from pipelines.partitions import daily_partitions

nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("training"),
    partitions_def=daily_partitions,
    description="Ingest, score and publish one business date (or a backfill range in one run).",
)
