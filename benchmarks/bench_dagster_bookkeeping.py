"""Benchmark Dagster's per-partition bookkeeping (not a test): trivial assets, one single-run backfill.

    python benchmarks/bench_dagster_bookkeeping.py [--assets 23] [--partitions 365] [--configs ...]

Each configuration runs in its own process on a fresh SQLite DagsterInstance (DAGSTER_HOME), so
the time is the instance's event writes, not the assets' work. A second run whose last asset
fails shows whether the UI marks that run's partitions as failed. Configurations:
- default: stock SQLite event log; one ASSET_MATERIALIZATION_PLANNED and one
  ASSET_MATERIALIZATION event per asset and partition, each its own commit;
- subset: DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=true, one planned event per asset
  carrying the range. Its planned events have no partition, and the partition status cache finds
  failed partitions only from per-partition planned events: a failed run's dates are NOT marked;
- project: the project's event log (pipelines.orchestration.event_log, as dagster.yaml sets it):
  range planned events as `subset`, each batch of per-partition events in one commit, and after
  a failed run `mark_failed_dates` (what the run-failure sensor and `crm run` call), so the
  failed run's dates are marked."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

START = "2025-01-01"
ROOT = Path(__file__).resolve().parents[1]
BATCHED_YAML = """event_log_storage:
  module: pipelines.orchestration.event_log
  class: BatchedSqliteEventLogStorage
"""
CONFIGS = {
    "default": ({}, ""),
    "subset": ({"DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"}, ""),
    "project": ({}, BATCHED_YAML),
}


def child(assets: int, partitions: int, fail: bool) -> dict:
    from datetime import date, timedelta

    import dagster as dg

    daily = dg.DailyPartitionsDefinition(start_date=START)

    def make(i: int):
        @dg.asset(name=f"a{i:02d}", partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run(),
                  deps=[f"a{i - 1:02d}"] if i else [])
        def _asset():
            if fail and i == assets - 1:
                raise RuntimeError("boom")
            return dg.MaterializeResult()

        return _asset

    job = dg.Definitions(assets=[make(i) for i in range(assets)],
                         jobs=[dg.define_asset_job("all", selection="*", partitions_def=daily)]).resolve_job_def("all")
    last = (date.fromisoformat(START) + timedelta(days=partitions - 1)).isoformat()
    keys = daily.get_partition_keys_in_range(dg.PartitionKeyRange(START, last))
    with dg.DagsterInstance.get() as instance:
        started = time.time()
        result = job.execute_in_process(
            instance=instance, raise_on_error=False,
            tags={"dagster/asset_partition_range_start": START, "dagster/asset_partition_range_end": last},
            run_config={"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}})
        seconds = time.time() - started
        marked = 0
        if not result.success and os.environ.get("BENCH_MARK_FAILED"):
            from pipelines.orchestration.event_log import mark_failed_dates

            marked_started = time.time()
            marked = mark_failed_dates(instance, result.run_id)
            marked = {"events": marked, "seconds": round(time.time() - marked_started, 1)}
        records = instance.get_records_for_run(result.run_id, limit=10_000_000).records
        first_step = min(r.event_log_entry.timestamp for r in records
                         if r.event_log_entry.dagster_event_type == dg.DagsterEventType.STEP_START)
        counts = Counter(r.event_log_entry.dagster_event_type.value for r in records
                         if r.event_log_entry.is_dagster_event)
        status = instance.get_status_by_partition(dg.AssetKey(f"a{assets - 1:02d}"), keys, daily) or {}
        failed = sum(1 for s in status.values() if s is not None and s.value == "FAILED")
    return {"seconds": round(seconds, 1), "to_first_step": round(first_step - started, 1),
            "success": result.success, "failed_partitions_marked": failed, "mark_failed_dates": marked,
            "events": {k: v for k, v in sorted(counts.items()) if k.startswith("ASSET") or k == "STEP_START"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=23)
    parser.add_argument("--partitions", type=int, default=365)
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--fail", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.assets, args.partitions, args.fail)))
        return
    results = {"assets": args.assets, "partitions": args.partitions,
               "load_average_before": [round(x, 1) for x in os.getloadavg()]}
    for name in args.configs:
        extra, yaml = CONFIGS[name]
        for fail in (False, True):
            with tempfile.TemporaryDirectory() as home:
                Path(home, "dagster.yaml").write_text(yaml)
                env = {**os.environ, "DAGSTER_HOME": home, "PYTHONPATH": str(ROOT), **extra,
                       **({"BENCH_MARK_FAILED": "1"} if yaml else {})}
                done = subprocess.run([sys.executable, __file__, "--child", "--assets", str(args.assets),
                                       "--partitions", str(args.partitions), *(["--fail"] if fail else [])],
                                      capture_output=True, text=True, env=env, cwd=Path(home))
                if done.returncode != 0:
                    raise SystemExit(done.stderr[-3000:])
                label = f"{name}{' (failing run)' if fail else ''}"
                results[label] = json.loads(done.stdout.strip().splitlines()[-1])
                print(label, results[label], file=sys.stderr)
    results["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
