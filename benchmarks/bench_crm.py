"""Benchmark crm_tasks and rm_scorecard at scale (not a test).

    python benchmarks/bench_crm.py [--customers 1000000] [--base 10000] [--out bench_out/crm]

Six months of generated data (2024-03-15..2024-09-13, Parquet, seed 42) for `--base` customers are
loaded into a warehouse and customer_lifecycle is built for the two benchmark nights (untimed: not
this step). Then what the CRM marts read is replicated (ids suffixed) up to `--customers`:
customers, accounts, interactions, feedback, customer_lifecycle; the relationship managers are not,
so each RM's book grows with the copies and the per-RM cap does real work. next_best_offer gets one
product per customer with a hash-spread probability (its own benchmark is bench_propensity.py).
Each step then runs in its own process (its own peak RSS) with DuckDB's memory limit of the
warehouse resource (4GB), for 2024-09-12 (first night, Mid-Autumn greetings start: 17 September),
2024-09-13 (second night: every task carried over from the first), then both nights as one range.
Prints and writes <out>/bench.json."""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

START, NIGHTS = date(2024, 3, 15), [date(2024, 9, 12), date(2024, 9, 13)]
MEMORY_LIMIT = "4GB"
REPLICATE = {
    "stg_customers": ["customer_id"],
    "stg_accounts": ["account_id", "customer_id"],
    "stg_interactions": ["interaction_id", "customer_id"],
    "stg_feedback": ["feedback_id", "customer_id"],
    "customer_lifecycle": ["customer_id"],
}
FAKE_OFFERS = """
insert into next_best_offer by name
select as_of_date, customer_id, 'FD001' as product_code, 'fund' as product_family,
       (hash(customer_id) % 1000) / 1000.0 as probability, 'bench' as model_version, ['bench'] as reasons,
       1 as eligible_products, []::varchar[] as excluded
from customer_lifecycle
"""


def _connect(db: Path):
    import duckdb

    con = duckdb.connect(str(db))
    con.execute("set memory_limit = $m", {"m": MEMORY_LIMIT})
    con.execute("set temp_directory = $t", {"t": str(db.parent / ".duckdb_tmp")})
    return con


def prepare(out: Path, customers: int, base: int) -> dict:
    from pipelines.core.config import load_rules
    from pipelines.core.contract_tables import ensure_contract_table
    from pipelines.core.contracts import output_contracts
    from pipelines.generator import generate
    from pipelines.ingestion.ingest import init_warehouse
    from pipelines.core.engine import DateRange
    from pipelines.customer.segmentation import build_segmentation
    from tests.kit.generated import load_landing

    landing = out / "landing"
    if not (landing / "transactions").exists():
        generate(landing, customers=base, start=START, end=NIGHTS[-1], seed=42, fmt="parquet", progress=False)
    db = out / "warehouse.duckdb"
    db.unlink(missing_ok=True)
    con = _connect(db)
    init_warehouse(con)
    load_landing(con, landing)
    build_segmentation(con, DateRange(NIGHTS[0], NIGHTS[-1]), load_rules())
    copies = max(1, customers // base)
    for table, keys in REPLICATE.items():
        cols = [r[0] for r in con.execute(f"describe {table}").fetchall()]
        select = ", ".join(f"{c} || '_' || k::varchar as {c}" if c in keys else c for c in cols)
        statement = f"insert into {table} select {select} from {table}, range(1, {copies}) r(k)"
        con.execute(statement)
    ensure_contract_table(con, output_contracts()["next_best_offer"])
    con.execute(FAKE_OFFERS)
    counts = {t: con.execute(f"select count(*) from {t}").fetchall()[0][0] for t in REPLICATE}
    counts["rms"] = con.execute("select count(distinct rm_id) from stg_customers").fetchall()[0][0]
    con.close()
    return {"copies": copies, "rows": counts}


def step(out: Path, name: str, first: date, last: date) -> dict:
    from pipelines.core.config import load_rules
    from pipelines.core.engine import DateRange
    from pipelines.relationship.crm_tasks import build_crm_tasks_range
    from pipelines.relationship.rm_scorecard import build_rm_scorecard_range

    build = {"crm_tasks": build_crm_tasks_range, "rm_scorecard": build_rm_scorecard_range}[name]
    dates = DateRange(first, last)
    con = _connect(out / "warehouse.duckdb")
    t = time.perf_counter()
    rows = build(con, dates, load_rules())
    wall = time.perf_counter() - t
    con.close()
    return {"step": name, "dates": str(dates), "wall_seconds": round(wall, 2), "rows": rows,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--base", type=int, default=10_000)
    parser.add_argument("--out", default="bench_out/crm")
    parser.add_argument("--step", choices=["crm_tasks", "rm_scorecard"])
    parser.add_argument("--first")
    parser.add_argument("--last")
    args = parser.parse_args()
    out = Path(args.out)
    if args.step:
        print(json.dumps(step(out, args.step, date.fromisoformat(args.first), date.fromisoformat(args.last))))
        return
    out.mkdir(parents=True, exist_ok=True)
    t = time.perf_counter()
    result = {"data": prepare(out, args.customers, args.base), "steps": [],
              "load_average": os.getloadavg()[0]}
    result["prepare_seconds"] = round(time.perf_counter() - t, 1)
    for first, last in [(NIGHTS[0], NIGHTS[0]), (NIGHTS[1], NIGHTS[1]), (NIGHTS[0], NIGHTS[1])]:
        for name in ("crm_tasks", "rm_scorecard"):
            proc = subprocess.run([sys.executable, __file__, "--out", str(out), "--step", name,
                                   "--first", first.isoformat(), "--last", last.isoformat()],
                                  check=True, capture_output=True, text=True)
            result["steps"].append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(result["steps"][-1], flush=True)
    result["load_average_after"] = os.getloadavg()[0]
    (out / "bench.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
