"""Benchmark a bank's first load (not a test): generate a landing zone, then `crm run --from --to`
over it as one Dagster run, timed end to end with the time of each step read from the run's
event log (planned-event bookkeeping before the first step included).

    python benchmarks/bench_backfill.py --customers 4000 --start 2023-01-01 --end 2024-12-31
    python benchmarks/bench_backfill.py --customers 2000 --start 2025-01-01 --end 2025-12-31 --out bench_out/demo

Prints a markdown table (step, seconds) and writes <out>/results.json with the load average
before and after, the peak RSS of the run's process, and the event counts by type."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def generate(landing: Path, customers: int, first: date, last: date) -> dict:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pipelines.cli", "generate", "--customers", str(customers),
                    "--start", first.isoformat(), "--end", last.isoformat(), "--seed", "42",
                    "--out", str(landing), "--quiet"], check=True, capture_output=True, cwd=ROOT)
    return {"seconds": round(time.perf_counter() - started, 1)}


def run_backfill(out: Path, first: date, last: date, memory_limit: str) -> dict:
    home = out / "dagster_home"
    for path in (home, out / "warehouse.duckdb", out / "output", out / "models"):
        shutil.rmtree(path, ignore_errors=True) if path.is_dir() else path.unlink(missing_ok=True)
    env = {**os.environ, "DAGSTER_HOME": str(home), "CRM_DUCKDB_MEMORY_LIMIT": memory_limit}
    command = [sys.executable, "-m", "pipelines.cli", "run", "--landing", str(out / "landing"),
               "--warehouse", str(out / "warehouse.duckdb"), "--output", str(out / "output"),
               "--models", str(out / "models"), "--from", first.isoformat(), "--to", last.isoformat()]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - started
    peak_mb = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
    return {"command": "crm " + " ".join(command[3:]), "seconds": round(seconds, 1), "success": done.returncode == 0,
            "peak_rss_mb": peak_mb, "stderr_tail": done.stderr[-2000:] if done.returncode else "",
            **step_times(home)}


def step_times(home: Path) -> dict:
    """Seconds per step and the planned-event time, from the run's event log."""
    os.environ["DAGSTER_HOME"] = str(home)
    import dagster as dg

    with dg.DagsterInstance.get() as instance:
        run = instance.get_runs(limit=1)[0]
        events = [r for r in instance.all_logs(run.run_id)]
    kinds = Counter(e.dagster_event.event_type_value for e in events if e.dagster_event)
    starts, steps = {}, {}
    first_step = None
    run_start = next((e.timestamp for e in events if e.dagster_event
                      and e.dagster_event.event_type_value == "RUN_START"), events[0].timestamp)
    for e in events:
        if not e.dagster_event:
            continue
        kind = e.dagster_event.event_type_value
        if kind == "STEP_START":
            starts[e.step_key] = e.timestamp
            first_step = first_step or e.timestamp
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and e.step_key in starts:
            steps[e.step_key] = round(e.timestamp - starts[e.step_key], 1)
    return {"run_id": run.run_id, "steps": steps, "events_by_type": dict(kinds),
            "before_first_step_seconds": round((first_step or run_start) - events[0].timestamp, 1),
            "run_start_to_first_step_seconds": round((first_step or run_start) - run_start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=4000)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2023, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2024, 12, 31))
    parser.add_argument("--out", type=Path, default=ROOT / "bench_out" / "backfill")
    parser.add_argument("--memory-limit", default="4GB")
    parser.add_argument("--reuse-landing", action="store_true", help="keep <out>/landing if it exists")
    args = parser.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    report = {"customers": args.customers, "first_date": str(args.start), "last_date": str(args.end),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                       cwd=ROOT).stdout.strip(),
              "load_average_before": [round(x, 2) for x in os.getloadavg()]}
    if not (args.reuse_landing and (out / "landing").exists()):
        shutil.rmtree(out / "landing", ignore_errors=True)
        report["generate"] = generate(out / "landing", args.customers, args.start, args.end)
    report["backfill"] = run_backfill(out, args.start, args.end, args.memory_limit)
    report["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    (out / "results.json").write_text(json.dumps(report, indent=2))
    backfill = report["backfill"]
    print(f"{args.customers:,} customers, {args.start}..{args.end}, commit {report['commit']}, "
          f"load average before {report['load_average_before']}")
    if "generate" in report:
        print(f"generate: {report['generate']['seconds']} s")
    print(f"crm run: {backfill['seconds']} s, success={backfill['success']}, peak RSS {backfill['peak_rss_mb']} MB; "
          f"{backfill['before_first_step_seconds']} s before the first step")
    print("| step | seconds |\n|---|---:|")
    for step, seconds in sorted(backfill["steps"].items(), key=lambda kv: -kv[1]):
        print(f"| {step} | {seconds} |")
    print(f"events: {backfill['events_by_type']}")


if __name__ == "__main__":
    main()
