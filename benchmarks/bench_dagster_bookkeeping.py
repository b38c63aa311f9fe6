"""Benchmark Dagster's per-partition bookkeeping (not a test): trivial assets, one single-run backfill.

    python benchmarks/bench_dagster_bookkeeping.py [--assets 23] [--partitions 365]

Each configuration runs in its own process on a fresh SQLite DagsterInstance (DAGSTER_HOME),
so the time is the instance's event writes, not the assets' work:
- default: one ASSET_MATERIALIZATION_PLANNED event per asset and partition;
- DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS=true: one planned event per asset carrying
  the partition range (Dagster's opt-in, dagster-io/dagster#29288; its documented cost: the
  partitions of a failed run are not marked failed).
Materialization events stay one per asset and partition either way."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

START = "2025-01-01"


def child(assets: int, partitions: int) -> dict:
    from datetime import date, timedelta

    import dagster as dg

    daily = dg.DailyPartitionsDefinition(start_date=START)

    def make(i: int):
        @dg.asset(name=f"a{i:02d}", partitions_def=daily, backfill_policy=dg.BackfillPolicy.single_run(),
                  deps=[f"a{i - 1:02d}"] if i else [])
        def _asset():
            return dg.MaterializeResult()

        return _asset

    job = dg.Definitions(assets=[make(i) for i in range(assets)],
                         jobs=[dg.define_asset_job("all", selection="*", partitions_def=daily)]).resolve_job_def("all")
    last = (date.fromisoformat(START) + timedelta(days=partitions - 1)).isoformat()
    with dg.DagsterInstance.get() as instance:
        started = time.perf_counter()
        result = job.execute_in_process(
            instance=instance,
            tags={"dagster/asset_partition_range_start": START, "dagster/asset_partition_range_end": last},
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}})
        seconds = time.perf_counter() - started
        planned = instance.get_records_for_run(result.run_id, of_type=dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
                                               limit=1_000_000).records
    return {"seconds": round(seconds, 1), "success": result.success, "planned_events": len(planned)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=23)
    parser.add_argument("--partitions", type=int, default=365)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.assets, args.partitions)))
        return
    results = {"assets": args.assets, "partitions": args.partitions,
               "load_average_before": [round(x, 1) for x in os.getloadavg()]}
    for name, extra in (("default", {}), ("partition_subset_in_planned_events",
                                          {"DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS": "true"})):
        with tempfile.TemporaryDirectory() as home:
            env = {**os.environ, "DAGSTER_HOME": home, **extra}
            done = subprocess.run([sys.executable, __file__, "--child", "--assets", str(args.assets),
                                   "--partitions", str(args.partitions)],
                                  capture_output=True, text=True, env=env, cwd=Path(home))
            if done.returncode != 0:
                raise SystemExit(done.stderr[-3000:])
            results[name] = json.loads(done.stdout.strip().splitlines()[-1])
            print(name, results[name], file=sys.stderr)
    results["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
