"""The nightly run: 02:00 bank time (rules.yaml), for the previous business date."""

import dagster as dg

from pipelines.config import load_rules
from pipelines.jobs import nightly_job, risk_training_job

_schedule = load_rules()["schedule"]

nightly_schedule = dg.build_schedule_from_partitioned_job(
    nightly_job,
    hour_of_day=_schedule["nightly_hour"],
    minute_of_hour=_schedule["nightly_minute"],
    default_status=dg.DefaultScheduleStatus.STOPPED,
)

risk_training_schedule = dg.ScheduleDefinition(
    name="risk_training_schedule",
    job=risk_training_job,
    cron_schedule=_schedule["model_training_cron"],
    execution_timezone=load_rules()["reporting"]["bank_timezone"],
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
