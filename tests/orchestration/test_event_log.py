"""The project's event log: a range run is planned with one event per asset, and a failed run's
dates still show as failed once the failure sensor (or `crm run`) has marked them."""

import shutil
from pathlib import Path

import dagster as dg
import pytest

ROOT = Path(__file__).resolve().parents[2]
DAILY = dg.DailyPartitionsDefinition(start_date="2025-01-01")
RANGE = {"dagster/asset_partition_range_start": "2025-01-01", "dagster/asset_partition_range_end": "2025-01-05"}
KEYS = [f"2025-01-0{d}" for d in range(1, 6)]


@pytest.fixture(autouse=True)
def dagster_home(tmp_path, monkeypatch):
    shutil.copy(ROOT / "dagster.yaml", tmp_path / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))


def chain(fail_last: bool):
    def make(i: int):
        @dg.asset(name=f"a{i}", partitions_def=DAILY, backfill_policy=dg.BackfillPolicy.single_run(),
                  deps=[f"a{i - 1}"] if i else [])
        def _asset():
            if fail_last and i == 2:
                raise RuntimeError("boom")
            return dg.MaterializeResult(metadata={"rows": 1})

        return _asset

    return dg.Definitions(assets=[make(i) for i in range(3)],
                          jobs=[dg.define_asset_job("all", selection="*")]).resolve_job_def("all")


def statuses(instance, asset: str) -> dict[str, str | None]:
    found = instance.get_status_by_partition(dg.AssetKey(asset), KEYS, DAILY)
    return {k: (v.value if v else None) for k, v in found.items()}


def test_a_range_run_is_planned_once_per_asset_and_materialised_per_date():
    with dg.DagsterInstance.get() as instance:
        result = chain(fail_last=False).execute_in_process(instance=instance, tags=RANGE)
        planned = instance.get_records_for_run(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED).records
        done = instance.get_records_for_run(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION,
                                            limit=100).records
        assert len(planned) == 3 and len(done) == 15
        assert set(statuses(instance, "a2").values()) == {"MATERIALIZED"}


def test_the_failure_sensor_marks_the_failed_run_dates_failed():
    from pipelines.orchestration.sensors import mark_failed_dates_sensor

    with dg.DagsterInstance.get() as instance:
        result = chain(fail_last=True).execute_in_process(instance=instance, tags=RANGE, raise_on_error=False)
        assert not result.success
        # Planned by range: Dagster alone cannot tell these dates failed.
        assert set(statuses(instance, "a2").values()) == {None}
        run = instance.get_run_by_id(result.run_id)
        failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
        context = dg.build_run_status_sensor_context(sensor_name="mark_failed_dates", dagster_instance=instance,
                                                     dagster_run=run, dagster_event=failure).for_run_failure()
        mark_failed_dates_sensor(context)
        assert set(statuses(instance, "a2").values()) == {"FAILED"}
        assert set(statuses(instance, "a1").values()) == {"MATERIALIZED"}
