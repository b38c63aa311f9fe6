"""The Dagster layer: definitions load, the CLI runs a backfill end to end, failures are loud."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from tests.kit.landing import D2, TXN_COLUMNS, basic_landing, entity_file, txn, write_csv
from pipelines.cli import main

ROOT = Path(__file__).resolve().parents[2]


def two_day_landing(root: Path) -> Path:
    landing = basic_landing(root / "landing")
    write_csv(entity_file(landing, "fx_rates", D2), [{"rate_date": "2024-03-02", "currency": "USD", "rate_to_reporting": "7.2"}])
    write_csv(entity_file(landing, "transactions", D2), [txn("T9", ts="2024-03-02 08:00:00")], TXN_COLUMNS)
    return landing


def cli_args(root: Path, *dates: str) -> list[str]:
    return ["run", "--landing", str(root / "landing"), "--warehouse", str(root / "w.duckdb"),
            "--output", str(root / "out"), *dates]


@pytest.fixture(autouse=True)
def dagster_home(tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))


def test_definitions_load_with_schedule_sensor_and_checks():
    from pipelines.definitions import defs

    job = defs.resolve_job_def("nightly")
    assert job.partitions_def is not None
    assert defs.resolve_schedule_def("nightly_schedule").cron_schedule == "0 2 * * *"
    assert defs.resolve_sensor_def("landing_sensor")
    check_keys = {k.name for k in defs.resolve_asset_graph().asset_check_keys}
    assert {"matches_contract", "covers_customer_base", "evidence_resolves", "psi_within_act_band"} == check_keys


def test_dagster_cli_validates_definitions():
    result = subprocess.run([str(Path(sys.executable).parent / "dagster"), "definitions", "validate",
                             "-m", "pipelines.definitions"], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_backfill_range_publishes_every_date(tmp_path, capsys):
    two_day_landing(tmp_path)
    assert main(cli_args(tmp_path, "--from", "2024-03-01", "--to", "2024-03-02")) == 0
    for day in ("2024-03-01", "2024-03-02"):
        manifest = json.loads((tmp_path / "out" / "_manifests" / f"{day}.json").read_text())
        assert manifest["tables"]["data_quality"]["rows"] == 10
        assert {"crm_tasks", "rm_scorecard", "customer_loyalty"} <= set(manifest["tables"])
        assert any(f["entity"] == "transactions" for f in manifest["input_files"])
    out = capsys.readouterr().out
    assert "data_quality" in out
    # Not a terminal: a plain line per step start and end, then the summary table (step, rows, seconds).
    assert "staging: started" in out and "staging: ok, 2/2 dates" in out
    summary = out[out.index("steps"):]
    assert "step" in summary and "rows" in summary and "seconds" in summary and "total" in summary
    log = Path(out.split("  log: ")[1].split()[0])
    assert log.parent == Path(os.environ["DAGSTER_HOME"]) / "logs" and "Finished execution of run" in log.read_text()


def test_failed_date_exits_nonzero_naming_the_file_and_publishes_nothing(tmp_path, capsys):
    landing = two_day_landing(tmp_path)
    assert main(cli_args(tmp_path, "--as-of", "2024-03-01")) == 0
    write_csv(entity_file(landing, "transactions", D2), [txn("X")], [c for c in TXN_COLUMNS if c != "amount"])
    capsys.readouterr()
    assert main(cli_args(tmp_path, "--as-of", "2024-03-02")) == 1
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) <= 10, err
    assert lines[0].startswith("crm run: FAILED for 2024-03-02")
    assert "transactions_20240302.csv: missing required column(s) amount" in err
    assert "what to do: fix or re-deliver that file in the landing zone" in err
    assert "rerun: crm run --as-of 2024-03-02" in err
    log = Path(err.split("full log and traces: ")[1].split()[0])
    assert "raise IngestionError" in log.read_text()  # the full trace
    assert not (tmp_path / "out" / "_manifests" / "2024-03-02.json").exists()


def test_a_failed_range_marks_its_dates_failed_for_the_ui(tmp_path):
    """The batched event log keeps one planned event per asset and date: the UI's partition status
    shows a failed backfill's dates as failed (with DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS
    it would show them as never materialised)."""
    landing = two_day_landing(tmp_path)
    write_csv(entity_file(landing, "transactions", D2), [txn("X")], [c for c in TXN_COLUMNS if c != "amount"])
    assert main(cli_args(tmp_path, "--from", "2024-03-01", "--to", "2024-03-02")) == 1
    from pipelines.core.partitions import daily_partitions

    with dg.DagsterInstance.get() as instance:
        status = instance.get_status_by_partition(dg.AssetKey("customer_rfm"), ["2024-03-01", "2024-03-02"],
                                                  daily_partitions)
    assert {k: v.value for k, v in status.items()} == {"2024-03-01": "FAILED", "2024-03-02": "FAILED"}


def test_sensor_requests_complete_dates_once(tmp_path):
    from pipelines.definitions import defs
    from pipelines.core.resources import LandingResource

    landing = two_day_landing(tmp_path)
    sensor = defs.resolve_sensor_def("landing_sensor")
    with dg.build_sensor_context(resources={"landing": LandingResource(path=str(landing))}) as ctx:
        keys = [r.partition_key for r in sensor(ctx)]
        assert keys == ["2024-03-01", "2024-03-02"]
        assert ctx.cursor == "2024-03-02"
    with dg.build_sensor_context(cursor="2024-03-02", resources={"landing": LandingResource(path=str(landing))}) as ctx:
        assert list(sensor(ctx) or []) == []


def test_multiprocess_executor_shares_the_warehouse_without_lock_errors(tmp_path, monkeypatch):
    landing = two_day_landing(tmp_path)
    monkeypatch.setenv("CRM_LANDING", str(landing))
    monkeypatch.setenv("CRM_WAREHOUSE", str(tmp_path / "w.duckdb"))
    monkeypatch.setenv("CRM_OUTPUT", str(tmp_path / "out"))
    from pipelines.definitions import defs

    # Every step is a process that loads the definitions again (seconds each on a shared runner):
    # the ingestion and segmentation steps and their checks are enough to share one warehouse file.
    graph = defs.resolve_asset_graph()
    selection = [key for key in graph.get_all_asset_keys()
                 if graph.get(key).group_name in ("ingestion", "customer")]
    with dg.DagsterInstance.get() as instance:
        job = dg.reconstructable(_nightly_job)
        result = dg.execute_job(job, instance=instance, tags={"dagster/partition": "2024-03-01"},
                                asset_selection=selection,
                                run_config={"execution": {"config": {"multiprocess": {}}}})
        assert result.success
    import duckdb

    with duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True) as con:
        assert con.sql("select count(*) from customer_rfm").fetchall()[0][0] > 0


def _nightly_job():
    from pipelines.definitions import defs

    return defs.resolve_job_def("nightly")


def test_schedule_and_sensor_runs_execute_in_one_process(tmp_path):
    """Runs the daemon starts get the jobs' in-process executor config, as the CLI and the UI do."""
    from datetime import datetime, timezone

    from pipelines.core.resources import LandingResource
    from pipelines.definitions import defs
    from pipelines.orchestration.jobs import IN_PROCESS

    schedule = defs.resolve_schedule_def("nightly_schedule")
    with dg.build_schedule_context(scheduled_execution_time=datetime(2024, 3, 2, 2, tzinfo=timezone.utc)) as ctx:
        [request] = schedule.evaluate_tick(ctx).run_requests
    assert request.run_config == IN_PROCESS
    landing = two_day_landing(tmp_path)
    sensor = defs.resolve_sensor_def("landing_sensor")
    with dg.build_sensor_context(definitions=defs, resources={"landing": LandingResource(path=str(landing))}) as ctx:
        requests = sensor.evaluate_tick(ctx).run_requests
    assert [r.partition_key for r in requests] == ["2024-03-01", "2024-03-02"]
    assert all(r.run_config == IN_PROCESS for r in requests)
    training = defs.resolve_schedule_def("training_schedule")
    with dg.build_schedule_context(scheduled_execution_time=datetime(2024, 3, 3, 4, tzinfo=timezone.utc),
                                   repository_def=defs.get_repository_def()) as ctx:
        [request] = training.evaluate_tick(ctx).run_requests
    assert request.run_config == IN_PROCESS


def test_a_run_launched_without_config_executes_in_one_process():
    """The UI's "Materialize" (the implicit asset job) and a launchpad run with no config: in process."""
    from pipelines.definitions import defs

    for job in (defs.resolve_job_def("nightly"), defs.resolve_implicit_global_asset_job_def()):
        [(executor, config)] = dg.validate_run_config(job, {})["execution"].items()
        assert list(config) == ["in_process"], (job.name, executor, config)
