"""Benchmark the whole pipeline, step by step (not a test): wall time, rows/s, peak memory.

    python benchmarks/bench_pipeline.py --transactions 1000000 [--days 365] [--out bench_out/pipeline]
    python benchmarks/bench_pipeline.py --transactions 1000000 --backfill    # also `crm run --from --to`
    python benchmarks/bench_pipeline.py --transactions 1000000 --steps staging  # one step only

1. `pipelines.generator.generate` writes a landing zone (Parquet) of about N transactions: the
   customer count is chosen for `--days` business dates at the generator's measured rate.
2. Every step of the nightly job (ingestion, then each asset or multi-asset, in dependency
   order, with the asset checks that target it) runs over the whole date range as one Dagster
   run (`BackfillPolicy.single_run`), on one DuckDB warehouse file, each step in its own
   process: so its peak RSS (VmHWM) is its own. The steps are read from the job, so assets
   added later are measured too.
3. With `--backfill`, `crm run --from --to` then runs the same range as one Dagster run of the
   whole job on a fresh warehouse: the first-day task of loading history.

Per step: wall seconds (the Dagster run of that step, imports excluded), transactions of the
range per second, rows the step wrote (rows of its warehouse tables) and peak RSS. Results go
to <out>/results.json."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Counted on a generated sample (1,000 customers x 90 days: 74,065 transactions).
TXNS_PER_CUSTOMER_DAY = 0.82
FIRST_DATE = date(2025, 1, 1)
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def _peak_rss_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024)
    return 0


def _env(out: Path, warehouse: Path, memory_limit: str) -> dict:
    home = out / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "dagster.yaml", home / "dagster.yaml")
    return {**os.environ, "CRM_LANDING": str(out / "landing"), "CRM_WAREHOUSE": str(warehouse),
            "CRM_OUTPUT": str(warehouse.parent / "output"), "CRM_MODELS": str(warehouse.parent / "models"),
            "CRM_DUCKDB_MEMORY_LIMIT": memory_limit, "DAGSTER_HOME": str(home)}


# ---------------------------------------------------------------- child processes

def child_generate(out: Path, customers: int, first: date, last: date) -> dict:
    from pipelines.generator import generate

    started = time.perf_counter()
    summary = generate(out / "landing", customers=customers, start=first, end=last, seed=42, fmt="parquet",
                       progress=False)
    seconds = time.perf_counter() - started
    return {"step": "generate", "seconds": round(seconds, 2), "transactions": summary["rows"]["transactions"],
            "rows_written": sum(summary["rows"].values()), "peak_rss_mb": _peak_rss_mb()}


def nightly_steps() -> list[tuple[str, list]]:
    """(op name, asset keys) of the nightly job's steps, in dependency order."""
    import dagster as dg

    from pipelines.definitions import defs

    job = defs.resolve_job_def("nightly")
    selected = set(job.asset_layer.selected_asset_keys)
    graph = defs.resolve_asset_graph()
    by_op: dict[str, list] = {}
    for key in graph.toposorted_asset_keys:
        if key in selected and graph.get(key).is_materializable:
            by_op.setdefault(graph.get(key).assets_def.op.name, []).append(key)
    assert all(isinstance(k, dg.AssetKey) for keys in by_op.values() for k in keys)
    return list(by_op.items())


def _table_rows(warehouse: Path, keys: list) -> int | None:
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables()").fetchall()}
        names = [k.path[-1] for k in keys if k.path[-1] in tables]
        if not names:
            return None
        return sum(con.execute(f'select count(*) from "{name}"').fetchall()[0][0] for name in names)
    finally:
        con.close()


def child_step(op: str, warehouse: Path, first: date, last: date) -> dict:
    import warnings

    import dagster as dg

    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    from pipelines.definitions import defs

    keys = dict(nightly_steps())[op]
    job = defs.resolve_job_def("nightly")
    before = _table_rows(warehouse, keys) or 0 if warehouse.exists() else 0
    with dg.DagsterInstance.get() as instance:
        started = time.perf_counter()
        result = job.execute_in_process(
            instance=instance, asset_selection=keys, raise_on_error=False,
            run_config={"loggers": {"console": {"config": {"log_level": "ERROR"}}}},
            tags={RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()})
        seconds = time.perf_counter() - started
    failed_checks = [e.event_specific_data.check_name for e in result.all_events
                     if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed]
    after = _table_rows(warehouse, keys)
    return {"step": op, "assets": [k.to_user_string() for k in keys], "seconds": round(seconds, 2),
            "success": result.success, "failed_checks": failed_checks,
            "rows_written": None if after is None else after - before, "peak_rss_mb": _peak_rss_mb()}


# ---------------------------------------------------------------- parent

def _child(args: list[str], env: dict) -> dict:
    done = subprocess.run([sys.executable, __file__, *args], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        raise SystemExit(f"step {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _backfill(out: Path, first: date, last: date, memory_limit: str) -> dict:
    """`crm run --from --to` on a fresh warehouse: one Dagster run of the whole nightly job."""
    warehouse = out / "backfill" / "warehouse.duckdb"
    shutil.rmtree(warehouse.parent, ignore_errors=True)
    warehouse.parent.mkdir(parents=True)
    env = _env(out, warehouse, memory_limit)
    command = [str(Path(sys.executable).parent / "crm"), "run", "--landing", env["CRM_LANDING"],
               "--warehouse", str(warehouse), "--output", env["CRM_OUTPUT"],
               "--from", first.isoformat(), "--to", last.isoformat()]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    seconds = time.perf_counter() - started
    # A failed backfill is a result too: the per-step figures are kept either way.
    return {"command": " ".join(["crm", *command[1:]]), "seconds": round(seconds, 1),
            "business_dates": (last - first).days + 1, "success": done.returncode == 0,
            "error": None if done.returncode == 0 else done.stderr[-2000:]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=365, help="business dates of the landing zone")
    parser.add_argument("--out", type=Path, default=ROOT / "bench_out" / "pipeline")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory_limit of the warehouse")
    parser.add_argument("--backfill", action="store_true", help="also time `crm run --from --to` over the range")
    parser.add_argument("--steps", nargs="+", metavar="OP",
                        help="time only these steps (a step reads what earlier steps wrote: staging needs none)")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    first, last = FIRST_DATE, FIRST_DATE + timedelta(days=args.days - 1)
    run_dir = (args.out / f"{args.transactions}_{args.days}d").resolve()
    warehouse = run_dir / "steps" / "warehouse.duckdb"

    if args.child:
        kind, *rest = args.child
        if kind == "generate":
            print(json.dumps(child_generate(run_dir, int(rest[0]), first, last)))
        else:
            print(json.dumps(child_step(rest[0], warehouse, first, last)))
        return

    customers = max(50, round(args.transactions / (TXNS_PER_CUSTOMER_DAY * args.days)))
    load_before = os.getloadavg()
    shutil.rmtree(run_dir, ignore_errors=True)
    warehouse.parent.mkdir(parents=True)
    env = _env(run_dir, warehouse, args.memory_limit)
    base = ["--transactions", str(args.transactions), "--days", str(args.days), "--out", str(args.out)]
    steps = [_child([*base, "--child", "generate", str(customers)], env)]
    transactions = steps[0]["transactions"]
    print(json.dumps(steps[-1]), file=sys.stderr)
    for op, _ in nightly_steps():
        if args.steps and op not in args.steps:
            continue
        steps.append(_child([*base, "--child", "step", op], env))
        print(json.dumps(steps[-1]), file=sys.stderr)
    for step in steps:
        step["transactions_per_second"] = round(transactions / step["seconds"]) if step["seconds"] else None
    report = {
        "transactions": transactions, "customers": customers, "business_dates": args.days,
        "first_date": first.isoformat(), "last_date": last.isoformat(), "duckdb_memory_limit": args.memory_limit,
        "machine": {"cpus": os.cpu_count(), "load_average_before": [round(x, 1) for x in load_before]},
        "steps": steps,
        "pipeline_seconds": round(sum(s["seconds"] for s in steps[1:]), 1),
    }
    (run_dir / "results.json").write_text(json.dumps(report, indent=2))
    if args.backfill:
        report["backfill"] = _backfill(run_dir, first, last, args.memory_limit)
    report["machine"]["load_average_after"] = [round(x, 1) for x in os.getloadavg()]
    (run_dir / "results.json").write_text(json.dumps(report, indent=2))
    shutil.copy(run_dir / "results.json", args.out / f"results_{args.transactions}_{args.days}d.json")

    print(f"{transactions:,} transactions, {customers:,} customers, {args.days} business dates "
          f"({first}..{last}); load average {report['machine']['load_average_before']}")
    print("| step | assets | wall s | transactions/s | rows written | peak RSS MB |\n|---|---|---:|---:|---:|---:|")
    for s in steps:
        rows = "" if s["rows_written"] is None else f"{s['rows_written']:,}"
        assets = ", ".join(s.get("assets", [])) if len(s.get("assets", [])) <= 3 else f"{len(s['assets'])} assets"
        print(f"| {s['step']} | {assets} | {s['seconds']} | {s['transactions_per_second']:,} | {rows} | {s['peak_rss_mb']} |")
    print(f"pipeline total (without generation): {report['pipeline_seconds']} s")
    if args.backfill:
        outcome = "" if report["backfill"]["success"] else " (FAILED, see results.json)"
        print(f"backfill: {report['backfill']['command']}: {report['backfill']['seconds']} s{outcome}")


if __name__ == "__main__":
    main()
