"""The one Dagster Definitions of the project."""

import dagster as dg

from assets import crm, customer_360, ingestion, loyalty, propensity, publishing, risk, segmentation
from assets.checks import contract_check
from assets.registry import PUBLISHED_TABLES
from pipelines.contracts import output_contracts
from pipelines.jobs import nightly_job, training_job
from pipelines.resources import build_resources
from pipelines.schedules import nightly_schedule, training_schedule
from pipelines.sensors import landing_sensor

ASSET_MODULES = [ingestion, risk, segmentation, propensity, loyalty, customer_360, crm, publishing]

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(ASSET_MODULES),
    asset_checks=[contract_check(table, output_contracts()[table]) for table in PUBLISHED_TABLES],
    jobs=[nightly_job, training_job],
    schedules=[nightly_schedule, training_schedule],
    sensors=[landing_sensor],
    resources=build_resources(),
)
