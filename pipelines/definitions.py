"""The one Dagster Definitions of the project."""

import dagster as dg

from pipelines.core.config import load_rules
from pipelines.orchestration.rules import rules_source, validate_rules

# A bad rules file fails here, when the code location loads, naming the key (not in a step at
# night); before the imports below, some of which read the rules when they load (partitions, schedules).
validate_rules(load_rules(), source=rules_source())

from assets import customer, ingestion, propensity, publishing, relationship, risk  # noqa: E402
from assets.checks import contract_check  # noqa: E402
from assets.registry import PUBLISHED_TABLES  # noqa: E402
from pipelines.core.contracts import output_contracts  # noqa: E402
from pipelines.core.resources import build_resources  # noqa: E402
from pipelines.orchestration.jobs import in_process_executor, nightly_job, training_job  # noqa: E402
from pipelines.orchestration.schedules import nightly_schedule, training_schedule  # noqa: E402
from pipelines.orchestration.sensors import landing_sensor, mark_failed_dates_sensor  # noqa: E402

ASSET_MODULES = [ingestion, customer, propensity, risk, relationship, publishing]

defs = dg.Definitions(
    assets=dg.load_assets_from_modules(ASSET_MODULES),
    asset_checks=[contract_check(table, output_contracts()[table]) for table in PUBLISHED_TABLES],
    jobs=[nightly_job, training_job],
    schedules=[nightly_schedule, training_schedule],
    sensors=[landing_sensor, mark_failed_dates_sensor],
    resources=build_resources(),
    executor=in_process_executor,
)
