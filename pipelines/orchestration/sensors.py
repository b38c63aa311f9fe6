"""Start the nightly job as soon as a business date's required extracts have all landed."""

from datetime import date, timedelta

import dagster as dg

from pipelines.core.config import load_rules
from pipelines.core.contracts import input_contracts
from pipelines.ingestion.landing import find_file
from pipelines.ingestion.profiles import profile_for
from pipelines.orchestration.jobs import nightly_job
from pipelines.core.partitions import daily_partitions
from pipelines.core.resources import LandingResource


def complete_dates(landing: LandingResource, after: date, until: date) -> list[date]:
    """Dates after `after` (up to `until`) on which every required event extract has landed."""
    required = [c.entity for c in input_contracts().values() if c.required and c.kind == "event"]
    profiles = {entity: profile_for(landing.root, entity) for entity in required}
    day, found = after + timedelta(days=1), []
    while day <= until:
        if all(find_file(landing.root, e, profiles[e], day) for e in required):
            found.append(day)
        day += timedelta(days=1)
    return found


@dg.sensor(
    job=nightly_job,
    minimum_interval_seconds=load_rules()["schedule"]["sensor_interval_seconds"],
    default_status=dg.DefaultSensorStatus.STOPPED,
)
def landing_sensor(context: dg.SensorEvaluationContext, landing: LandingResource):
    """Requests one run per newly complete business date, oldest first."""
    start = date.fromisoformat(daily_partitions.start.strftime("%Y-%m-%d")) - timedelta(days=1)
    after = date.fromisoformat(context.cursor) if context.cursor else start
    dates = complete_dates(landing, after, date.today())
    for day in dates:
        yield dg.RunRequest(run_key=day.isoformat(), partition_key=day.isoformat())
    if dates:
        context.update_cursor(dates[-1].isoformat())


@dg.run_failure_sensor(name="mark_failed_dates", default_status=dg.DefaultSensorStatus.RUNNING,
                       minimum_interval_seconds=30)
def mark_failed_dates_sensor(context: dg.RunFailureSensorContext):
    """A failed run's unmaterialised dates show as failed in the UI (the event log plans a range
    run with one event per asset: pipelines/orchestration/event_log.py). `crm run` does the same
    itself, since no daemon runs with it."""
    from pipelines.orchestration.event_log import mark_failed_dates

    marked = mark_failed_dates(context.instance, context.dagster_run.run_id)
    context.log.info(f"run {context.dagster_run.run_id}: {marked} asset dates marked failed")
