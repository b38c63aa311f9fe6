"""Jobs: the nightly business-date job (every asset but training) and the model-training job."""

import dagster as dg

from pipelines.core.partitions import daily_partitions

# Every step opens the one warehouse file, and only one may write at a time: a process per step
# buys no parallelism and costs a Python start-up and a definitions load per step. Both jobs run
# in one process by default, from the UI, the schedule and the sensor alike (the launchpad can
# still pick `multiprocess`).
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}

# Dagster's default executor with in-process as its default: a run launched with no run config (the
# UI's "Materialize" on the asset graph, a launchpad run with the config cleared) still runs in one
# process; measured: a one-date run launched so went multiprocess and took 7x longer. Definitions
# sets it for every job; `multiprocess` stays selectable.
in_process_executor = dg.multi_or_in_process_executor.configured(
    lambda config: config, name="in_process_or_multiprocess",
    # Each branch's settings pass through unchanged; Dagster's executor validates them.
    config_schema=dg.Field(dg.Selector({"multiprocess": dg.Field(dg.Permissive(), default_value={}),
                                        "in_process": dg.Field(dg.Permissive(), default_value={})}),
                           default_value={"in_process": {}}))

nightly_job = dg.define_asset_job(
    "nightly",
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups("training"),
    partitions_def=daily_partitions,
    config=IN_PROCESS,
    description="Ingest, score and publish one business date (or a backfill range in one run).",
)

training_job = dg.define_asset_job(
    "model_training",
    selection=dg.AssetSelection.groups("training"),
    partitions_def=daily_partitions,
    config=IN_PROCESS,
    description="Train, evaluate and store model versions (propensity per product family, the PD scorecard), as of a business date.",
)
