"""Benchmark the suspicious-pattern alert rules over a long transaction history (not a test).

    python benchmarks/bench_risk.py [--txns 100000000] [--days 365] [--out bench_out/risk]

A synthetic history is generated straight into the warehouse with DuckDB (range() + hash, no
CSV): `int_risk_transactions`, the table the rules read, in time order as nightly deliveries
append it, plus the accounts the dormancy rule joins. Accounts scale with the volume (two per
customer, half a transaction per account and day); amounts are mostly everyday, with 1 in
1,000 near the cash threshold and 1 in 500 large, so the rules' windows and joins do real work
(what they find in random data is reported, not judged). Then every configured alert rule
(build_alert_findings: the SQL the nightly risk asset runs) is evaluated for one business date,
each evaluation in its own process with DuckDB's memory_limit, at three points of the history:
after 20 %, 50 % and 100 % of it is loaded (e.g. 20M, 50M, 100M transactions), to show that wall
time and peak memory follow the rules' windows (at most ~200 days), not the history length.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST = date(2024, 1, 1)
MEMORY_LIMIT = "4GB"
TXNS_PER_ACCOUNT_DAY = 0.5

GENERATE = """
insert into int_risk_transactions
with t as (
    select i,
           $first_day::date + cast(i // $per_day as integer) as txn_day,
           hash(i, 'acct') % $accounts as acct,
           hash(i, 'kind') % 1000 as kind,
           hash(i, 'amt') % 100000 as a
    from range($lo, $hi) r(i)
)
select
    txn_day as as_of_date,
    'T' || i as txn_id,
    'A' || acct as account_id,
    'C' || (acct // 2) as customer_id,
    case when acct % 20 = 0 then 'business' else 'individual' end as customer_type,
    cast(txn_day as timestamp) + to_seconds(cast((i % $per_day) * 86400 // $per_day as bigint)) as txn_ts,
    txn_day,
    case when kind < 450 then 'credit' else 'debit' end as direction,
    case when kind < 150 then 'transfer_in' when kind < 200 then 'deposit' when kind < 450 then 'salary'
         when kind < 650 then 'card_purchase' when kind < 800 then 'transfer_out' when kind < 950 then 'withdrawal'
         else 'bill_payment' end as txn_type,
    (kind >= 150 and kind < 200) or (kind >= 800 and kind < 950) as is_cash,
    kind % 97 = 0 as is_cross_border,
    'CNY' as currency,
    -- Mostly everyday amounts; 1 in 1,000 near the cash threshold, 1 in 500 large. Rows are
-- generated in time order (i ascending), as nightly deliveries append them.
    (case when a < 100 then 45000 + a * 49 when a < 300 then 60000 + a * 1000 else 20 + a % 5000 end)::decimal(18, 2) as amount,
    (case when a < 100 then 45000 + a * 49 when a < 300 then 60000 + a * 1000 else 20 + a % 5000 end)::decimal(18, 2) as amount_reporting,
    null::decimal(18, 2) as usd_amount
from t
"""


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(path: Path, txns: int, days: int) -> dict:
    import duckdb

    from pipelines.ingestion.ingest import init_warehouse

    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        path.unlink()
    con = duckdb.connect(str(path))
    con.execute("set memory_limit = $m", {"m": MEMORY_LIMIT})
    con.execute("set temp_directory = $t", {"t": str(path.parent / ".duckdb_tmp")})
    init_warehouse(con)
    per_day = txns // days
    accounts = max(1000, int(per_day / TXNS_PER_ACCOUNT_DAY))
    con.execute("""create table int_risk_transactions (
        as_of_date date, txn_id varchar, account_id varchar, customer_id varchar, customer_type varchar,
        txn_ts timestamp, txn_day date, direction varchar, txn_type varchar, is_cash boolean,
        is_cross_border boolean, currency varchar, amount decimal(18,2), amount_reporting decimal(18,2),
        usd_amount decimal(18,2))""")
    con.execute("insert into stg_accounts (business_date, account_id, customer_id, product_code, open_date, status, "
                "currency, _line) select $d, 'A' || i, 'C' || (i // 2), 'CA001', $d - 400, 'active', 'CNY', i "
                "from range($n) r(i)", {"d": FIRST, "n": accounts})
    began = time.perf_counter()
    chunk = 10_000_000
    for lo in range(0, txns, chunk):
        con.execute(GENERATE, {"first_day": FIRST, "per_day": per_day, "accounts": accounts, "lo": lo,
                               "hi": min(lo + chunk, txns)})
        print(f"  generated {min(lo + chunk, txns):,} rows", file=sys.stderr, flush=True)
    con.execute("checkpoint")
    con.close()
    return {"txns": txns, "days": days, "per_day": per_day, "accounts": accounts,
            "generate_seconds": round(time.perf_counter() - began, 1),
            "file_gb": round(path.stat().st_size / 1e9, 2)}


def evaluate(path: Path, day: date) -> dict:
    """One night's alert rules, in this process: wall and peak RSS."""
    import duckdb

    from pipelines.core.config import load_rules
    from pipelines.core.engine import DateRange
    from pipelines.risk.reports import build_alert_findings

    rules = load_rules()
    con = duckdb.connect(str(path))
    con.execute("set memory_limit = $m", {"m": MEMORY_LIMIT})
    con.execute("set temp_directory = $t", {"t": str(path.parent / ".duckdb_tmp")})
    before = rss_mb()
    began = time.perf_counter()
    findings = build_alert_findings(con, DateRange(day, day), rules)
    wall = time.perf_counter() - began
    loaded = con.sql("select count(*) from int_risk_transactions where as_of_date <= $d", params={"d": day}).fetchall()[0][0]
    per_rule = dict(con.sql("select rule_id, count(*) from int_alert_findings where as_of_date = $d group by 1 order by 1",
                            params={"d": day}).fetchall())
    con.close()
    return {"as_of_date": str(day), "history_txns": loaded, "wall_seconds": round(wall, 1),
            "peak_rss_mb": round(rss_mb()), "rss_before_mb": round(before), "findings": findings, "per_rule": per_rule}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--txns", type=int, default=100_000_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--out", default="bench_out/risk")
    parser.add_argument("--evaluate", help=argparse.SUPPRESS)
    parser.add_argument("--day", help=argparse.SUPPRESS)
    args = parser.parse_args()
    path = Path(args.out) / "risk_bench.duckdb"
    if args.evaluate:
        print(json.dumps(evaluate(Path(args.evaluate), date.fromisoformat(args.day))))
        return
    report = {"memory_limit": MEMORY_LIMIT, "cores": os.cpu_count(), "data": generate(path, args.txns, args.days)}
    runs = []
    for share in (0.2, 0.5, 1.0):
        day = FIRST + timedelta(days=max(int(args.days * share) - 1, 0))
        out = subprocess.run([sys.executable, __file__, "--evaluate", str(path), "--day", str(day)],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout))
        print(f"  evaluated {day}: {runs[-1]['wall_seconds']} s, {runs[-1]['peak_rss_mb']} MB", file=sys.stderr, flush=True)
    report["alert_rules"] = runs
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
