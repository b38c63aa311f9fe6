"""The one Dagster Definitions of the project."""

import dagster as dg

from assets import customer, ingestion, propensity, publishing, relationship, risk
from assets.checks import contract_check
from assets.registry import PUBLISHED_TABLES
from pipelines.core.contracts import output_contracts
from pipelines.orchestration.jobs import nightly_job, training_job
from pipelines.core.resources import build_resources
from pipelines.orchestration.schedules import nightly_schedule, training_schedule
from pipelines.orchestration.sensors import landing_sensor

ASSET_MODULES = [ingestion, customer, propensity, risk, relationship, publishing]

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(ASSET_MODULES),
    asset_checks=[contract_check(table, output_contracts()[table]) for table in PUBLISHED_TABLES],
    jobs=[nightly_job, training_job],
    schedules=[nightly_schedule, training_schedule],
    sensors=[landing_sensor],
    resources=build_resources(),
)
