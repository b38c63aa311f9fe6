"""Benchmark propensity feature building and nightly scoring at scale (not a test).

    python benchmarks/bench_propensity.py [--customers 1000000] [--base 50000] [--out bench_out/propensity]
                                          [--skip-prepare]

92 days of generated data (2025-10-01..2025-12-31, Parquet, seed 42) for `--base` customers are
loaded into a warehouse and replicated (ids suffixed) up to `--customers`; segmentation is built
for 2025-12-31 (untimed, it is not this step). So that the history fills every feature window,
the windows are shortened for the benchmark (BENCH_WINDOWS: short 30, long / salary /
delinquency 90 days instead of 90 / 365 / 180 / 365): the SQL is the same, it reads fewer days
per customer. Then, each in its own process so that its peak RSS is its own, with the DuckDB
memory limit of the warehouse resource (4GB):
  features   int_features for the date (sql/int/int_features.sql)
  score      customer_propensity with reasons + the offer marts, with the model versions of
             benchmarks/propensity_quality.py (trained on 2,000 customers: training cost does not
             depend on the base, it samples at most propensity.training.max_rows_per_date per date)
Wall, CPU and peak RSS per step, rows/s and the load average before and after. Prints and writes
<out>/bench.json."""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

START, DAY = date(2025, 10, 1), date(2025, 12, 31)
BENCH_WINDOWS = {"short": 30, "long": 90, "salary": 90, "delinquency": 90}
MEMORY_LIMIT = "4GB"
# Tables whose keys are replicated, and the key columns that get the copy suffix.
REPLICATE = {
    "stg_customers": ["customer_id"],
    "stg_accounts": ["account_id", "customer_id"],
    "stg_transactions": ["txn_id", "account_id"],
    "stg_balances": ["account_id"],
    "stg_loan_performance": ["account_id"],
    "stg_interactions": ["interaction_id", "customer_id"],
    "stg_feedback": ["feedback_id", "customer_id"],
}


def _connect(db: Path):
    import duckdb

    con = duckdb.connect(str(db))
    con.execute("set memory_limit = $m", {"m": MEMORY_LIMIT})
    con.execute("set temp_directory = $t", {"t": str(db.parent / ".duckdb_tmp")})
    return con


def bench_rules() -> dict:
    from pipelines.core.config import load_rules

    rules = load_rules()
    p = rules["propensity"]
    p["feature_windows_days"] = {"short": BENCH_WINDOWS["short"], "long": BENCH_WINDOWS["long"]}
    p["salary_window_days"] = BENCH_WINDOWS["salary"]
    p["preapproved"]["delinquency_lookback_days"] = BENCH_WINDOWS["delinquency"]
    return rules


def prepare(out: Path, customers: int, base: int) -> dict:
    from pipelines.generator import generate
    from tests.kit.generated import load_landing
    from pipelines.ingestion.ingest import init_warehouse
    from pipelines.core.engine import DateRange
    from pipelines.customer.segmentation import build_segmentation

    landing = out / "landing"
    if not (landing / "transactions").exists():
        generate(landing, customers=base, start=START, end=DAY, seed=42, fmt="parquet", progress=False)
    db = out / "warehouse.duckdb"
    db.unlink(missing_ok=True)
    con = _connect(db)
    init_warehouse(con)
    load_landing(con, landing)
    copies = max(1, customers // base)
    for table, keys in REPLICATE.items():
        cols = [r[0] for r in con.execute(f"describe {table}").fetchall()]
        select = ", ".join(f"{c} || '_' || k::varchar as {c}" if c in keys else c for c in cols)
        statement = (f"insert into {table} select {select} from {table}, range(1, {copies}) r(k)")
        con.execute(statement)
    t = time.perf_counter()
    build_segmentation(con, DateRange(DAY, DAY), bench_rules())
    n = con.execute("select count(*) from int_customer_day where as_of_date = $d", {"d": DAY}).fetchall()[0][0]
    txns = con.execute("select count(*) from stg_transactions").fetchall()[0][0]
    con.close()
    return {"customers": n, "transactions": txns, "copies": copies, "segmentation_seconds": time.perf_counter() - t}


def step(out: Path, name: str) -> dict:
    from pipelines.core.engine import DateRange
    from pipelines.propensity.build import build_feature_range, score_range

    rules = bench_rules()
    con = _connect(out / "warehouse.duckdb")
    if name == "score":
        from models.propensity import classifier  # noqa: F401  (import outside the clock, as in a running step)
    load = os.getloadavg()[0]
    t, cpu = time.perf_counter(), time.process_time()
    extra = {}
    if name == "features":
        rows = {"int_features": build_feature_range(con, DateRange(DAY, DAY), rules)}
    else:
        result = score_range(con, out / "models", DateRange(DAY, DAY), rules)
        rows, extra = result["rows"], {"explained_rows": result["explained_rows"]}
    wall, cpu = time.perf_counter() - t, time.process_time() - cpu
    con.close()
    main_rows = rows["int_features" if name == "features" else "customer_propensity"]
    return {"step": name, "wall_seconds": round(wall, 1), "cpu_seconds": round(cpu, 1), "rows": rows, **extra,
            "rows_per_second": round(main_rows / wall), "load_average_before_after": [load, os.getloadavg()[0]],
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--base", type=int, default=50_000)
    parser.add_argument("--out", default="bench_out/propensity")
    parser.add_argument("--models", default="bench_out/propensity_quality/models")
    parser.add_argument("--step", choices=["features", "score"])
    parser.add_argument("--skip-prepare", action="store_true", help="reuse <out>/warehouse.duckdb as prepared")
    parser.add_argument("--prepare-only", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    if args.step:
        print(json.dumps(step(out, args.step)))
        return
    out.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(out / "models", ignore_errors=True)
    shutil.copytree(args.models, out / "models")
    data_file = out / "data.json"
    if not args.skip_prepare:
        data_file.write_text(json.dumps(prepare(out, args.customers, args.base), default=str))
    if args.prepare_only:
        return
    result = {"data": json.loads(data_file.read_text()), "windows_days": BENCH_WINDOWS, "steps": []}
    for name in ("features", "score"):
        proc = subprocess.run([sys.executable, __file__, "--out", str(out), "--step", name],
                              capture_output=True, text=True, check=True)
        result["steps"].append(json.loads(proc.stdout.strip().splitlines()[-1]))
    (out / "bench.json").write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
