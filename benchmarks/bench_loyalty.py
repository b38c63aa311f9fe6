"""Benchmark customer_loyalty (not a test).

    python benchmarks/bench_loyalty.py [--customers 2000] [--days 60] [--scale-customers 1000000]
                                       [--scale-days 730] [--out bench_out/loyalty]

1. Real: `--customers` generated customers over `--days` business dates (Parquet, seed 7) are
   loaded, the segmentation chain is built over the range (untimed: not this step) and then the
   loyalty step (ledger + customer_loyalty) is timed over the whole range in one call, then date
   by date (ranges of one, oldest first) to compare both the time and the rows.
2. Scale: a synthetic ledger of `--scale-customers` customers each earning on every one of
   `--scale-days` days (the worst case: every customer holds AUM above one unit) and
   int_customer_day for them on two nights; the mart query alone is timed on the night before,
   on the night (seeded from it), and on both nights as one range (compared with the two).
DuckDB memory_limit 4GB. Prints and writes <out>/bench.json."""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

START = date(2025, 1, 1)
MEMORY_LIMIT = "4GB"
SCALE_NIGHT = date(2026, 12, 31)

SCALE_LEDGER = """
insert into int_loyalty_points
select $night - d.k::integer as as_of_date, 'S' || c.k::varchar as customer_id,
       (c.k % 50)::bigint as balance_points, (c.k % 3 * 2)::bigint as transaction_points, 0::bigint as card_points,
       (c.k % 50 + c.k % 3 * 2 + 1)::bigint as points
from range($days) d(k), range($customers) c(k)
order by as_of_date
"""


def _connect(db: Path):
    import duckdb

    con = duckdb.connect(str(db))
    con.execute("set memory_limit = $m", {"m": MEMORY_LIMIT})
    con.execute("set temp_directory = $t", {"t": str(db.parent / ".duckdb_tmp")})
    return con


def real(out: Path, customers: int, days: int) -> dict:
    from pipelines.core.config import load_rules
    from pipelines.generator import generate
    from pipelines.ingestion.ingest import init_warehouse
    from pipelines.core.engine import DateRange
    from pipelines.customer.segmentation import build_segmentation
    from pipelines.relationship.loyalty import build_loyalty_range, loyalty_rules
    from tests.kit.generated import load_landing

    end = START + timedelta(days=days - 1)
    landing = out / "landing"
    if not (landing / "transactions").exists():
        generate(landing, customers=customers, start=START, end=end, seed=7, fmt="parquet", progress=False)
    db = out / "real.duckdb"
    db.unlink(missing_ok=True)
    con = _connect(db)
    init_warehouse(con)
    load_landing(con, landing)
    rules, params = load_rules(), loyalty_rules(load_rules())
    dates = DateRange(START, end)
    build_segmentation(con, dates, rules)
    t = time.perf_counter()
    build_loyalty_range(con, dates, params)
    range_seconds = time.perf_counter() - t
    ranged = con.sql("select * from customer_loyalty order by all").fetchall()
    seconds = []
    for day in dates.days:
        t = time.perf_counter()
        build_loyalty_range(con, DateRange(day, day), params)
        seconds.append(time.perf_counter() - t)
    per_date = con.sql("select * from customer_loyalty order by all").fetchall()
    tiers = con.sql("select tier, count(*) from customer_loyalty where as_of_date = $d group by all order by 2 desc",
                    params={"d": end}).fetchall()
    ledger_rows = con.sql("select count(*) from int_loyalty_points").fetchall()[0][0]
    con.close()
    return {"customers": customers, "days": days, "ledger_rows": ledger_rows,
            "loyalty_range_seconds": round(range_seconds, 2), "loyalty_per_date_seconds_total": round(sum(seconds), 2),
            "loyalty_per_date_seconds_max": round(max(seconds), 3), "range_equals_per_date": ranged == per_date,
            "tiers_last_date": tiers}


def scale(out: Path, customers: int, days: int) -> dict:
    from pipelines.core.config import load_rules
    from pipelines.core.contract_tables import ensure_contract_table
    from pipelines.core.contracts import output_contracts
    from pipelines.core.engine import DateRange, replace_range
    from pipelines.relationship.loyalty import loyalty_rules, mart_params

    db = out / "scale.duckdb"
    db.unlink(missing_ok=True)
    con = _connect(db)
    con.execute("create table int_loyalty_points (as_of_date date, customer_id varchar using compression zstd, "
                "balance_points bigint, transaction_points bigint, card_points bigint, points bigint)")
    con.execute("create table int_customer_day as select $night - n.k::integer as as_of_date, 'S' || r.k::varchar "
                "as customer_id from range($n) r(k), range(2) n(k)", {"night": SCALE_NIGHT, "n": customers})
    t = time.perf_counter()
    con.execute(SCALE_LEDGER, {"night": SCALE_NIGHT, "days": days, "customers": customers})
    prepare = time.perf_counter() - t
    ensure_contract_table(con, output_contracts()["customer_loyalty"])
    rules = loyalty_rules(load_rules())
    timings = {}
    before, night = SCALE_NIGHT - timedelta(days=1), SCALE_NIGHT
    for name, dates in (("previous_night", DateRange(before, before)), ("night", DateRange(night, night)),
                        ("both_nights", DateRange(before, night))):
        if name == "both_nights":
            con.execute("create temp table by_night as from customer_loyalty")
        cpu0, t = time.process_time(), time.perf_counter()
        rows = replace_range(con, "customer_loyalty", "marts/relationship/customer_loyalty", mart_params(rules, dates), dates)
        timings[name] = {"wall_seconds": round(time.perf_counter() - t, 2),
                         "cpu_seconds": round(time.process_time() - cpu0, 2), "rows": rows}
    differing = con.sql("select count(*) from (from customer_loyalty except all from by_night)").fetchall()[0][0]
    con.close()
    return {"customers": customers, "ledger_days": days, "ledger_rows": customers * days,
            "prepare_seconds": round(prepare, 1), "mart": timings, "range_rows_differing_from_nights": differing,
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--scale-customers", type=int, default=1_000_000)
    parser.add_argument("--scale-days", type=int, default=730)
    parser.add_argument("--skip", choices=["real", "scale"])
    parser.add_argument("--out", default="bench_out/loyalty")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = {"load_average": os.getloadavg()[0]}
    if args.skip != "real":
        result["real"] = real(out, args.customers, args.days)
        print(result["real"], flush=True)
    if args.skip != "scale":
        result["scale"] = scale(out, args.scale_customers, args.scale_days)
        print(result["scale"], flush=True)
    result["load_average_after"] = os.getloadavg()[0]
    (out / "bench.json").write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
