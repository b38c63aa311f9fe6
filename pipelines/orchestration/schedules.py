"""The nightly run: 02:00 bank time (rules.yaml), for the previous business date; model training on
its own cadence (schedule.model_training_cron, weekly), as of the previous business date."""

from datetime import timedelta

import dagster as dg

from pipelines.core.config import load_rules
from pipelines.orchestration.jobs import nightly_job, training_job

_schedule = load_rules()["schedule"]

nightly_schedule = dg.build_schedule_from_partitioned_job(
    nightly_job,
    hour_of_day=_schedule["nightly_hour"],
    minute_of_hour=_schedule["nightly_minute"],
    default_status=dg.DefaultScheduleStatus.STOPPED,
)


@dg.schedule(
    cron_schedule=_schedule["model_training_cron"],
    job=training_job,
    execution_timezone=load_rules()["reporting"]["bank_timezone"],
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
def training_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """Retrain as of the previous business date (its nightly run has built the features)."""
    day = (context.scheduled_execution_time - timedelta(days=1)).date()
    return dg.RunRequest(run_key=f"train-{day.isoformat()}", partition_key=day.isoformat())
