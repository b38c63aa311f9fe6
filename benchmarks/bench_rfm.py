"""Benchmark the RFM step of the pipeline against hand-written alternatives (not a test).

    python benchmarks/bench_rfm.py [--customers 2000000] [--txns 20000000] [--out bench_out/rfm]

One synthetic data set (numpy, seeded) is written once as Parquet and loaded into a warehouse
file; then each method runs in its own process (so its peak RSS is its own) on the same data:

  pipeline        the RFM path as the segmentation asset runs it: int_customer_activity (counted
                  transactions per customer over the windows, owner of each account as of the
                  date) then customer_rfm (base, tie-safe scores, segments), into the warehouse
  pipeline_rfm    customer_rfm alone, reading the int_customer_activity just built
  pipeline_day    int_customer_activity + int_customer_day (profile, holdings, AUM): the rest of
                  the segmentation intermediates (lifecycle, customer_360), for context
  duckdb_hand     one hand-written DuckDB query: R, F, M and the same tie-safe quintile scores,
                  from the warehouse's staging tables into a warehouse table
  polars_hand     the same as a polars lazy plan over the Parquet files, written to Parquet
  pandas_qcut     pandas read + merge + groupby + qcut (ties broken by rank(method='first')),
                  written to Parquet

Afterwards the scores of pipeline, duckdb_hand and polars_hand are compared customer by customer
(they implement the same definition), and pandas' agreement with them is reported."""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

AS_OF = date(2025, 6, 30)
HISTORY_DAYS = 400
MEMORY_LIMIT = "4GB"  # the warehouse resource's default (CRM_DUCKDB_MEMORY_LIMIT)
COUNTED = ["deposit", "withdrawal", "transfer_in", "transfer_out", "card_purchase", "bill_payment",
           "fund_purchase", "fund_redemption", "loan_repayment"]
UNCOUNTED = ["interest", "fee", "salary"]
METHODS = ["pipeline_day", "pipeline", "pipeline_rfm", "duckdb_hand", "polars_hand", "pandas_qcut"]


# ---------------------------------------------------------------- data

def generate(out: Path, customers: int, txns: int, seed: int = 7) -> None:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    rng = np.random.default_rng(seed)
    out.mkdir(parents=True, exist_ok=True)

    def ids(prefix: str, numbers) -> pa.Array:
        return pc.binary_join_element_wise(prefix, pc.cast(pa.array(numbers), pa.string()), "")

    cust = np.arange(customers)
    onboard = np.datetime64("2015-01-01") + rng.integers(0, 3650, customers).astype("timedelta64[D]")
    birth = np.datetime64("1950-01-01") + rng.integers(0, 18000, customers).astype("timedelta64[D]")
    pq.write_table(pa.table({"customer_id": ids("C", cust), "customer_type": ["individual"] * customers,
                             "onboard_date": onboard, "birth_date": birth}), out / "customers.parquet")

    second = cust[rng.random(customers) < 0.3]
    account_ids = pa.concat_arrays([ids("A", cust), ids("S", second)])
    owners = pa.concat_arrays([ids("C", cust), ids("C", second)])
    products = ["CA001"] * customers + ["SV001"] * len(second)
    opened = np.concatenate([onboard, onboard[second]])
    pq.write_table(pa.table({"account_id": account_ids, "customer_id": owners, "product_code": products,
                             "open_date": opened}), out / "accounts.parquet")
    balance_cents = (rng.lognormal(9, 2, len(account_ids)) * 100).astype("int64")
    pq.write_table(pa.table({"account_id": account_ids, "balance_date": [AS_OF - timedelta(days=3)] * len(account_ids),
                             "balance_cents": balance_cents}), out / "balances.parquet")

    # Activity per customer is heavy-tailed (many rare, few very active customers), as in a bank.
    weights = rng.lognormal(0, 1.2, customers)
    weights /= weights.sum()
    types = np.array(COUNTED + UNCOUNTED)
    type_p = np.array([0.12, 0.1, 0.1, 0.12, 0.25, 0.08, 0.03, 0.02, 0.03, 0.05, 0.05, 0.05])
    start = np.datetime64(AS_OF - timedelta(days=HISTORY_DAYS - 1)).astype("datetime64[s]")
    writer = None
    chunk = 2_000_000
    for first in range(0, txns, chunk):
        n = min(chunk, txns - first)
        who = rng.choice(customers, n, p=weights)
        on_second = rng.random(n) < 0.2
        has_second = np.isin(who, second)
        prefix = np.where(on_second & has_second, "S", "A")
        account = pc.binary_join_element_wise(pa.array(prefix), pc.cast(pa.array(who), pa.string()), "")
        seconds = rng.integers(0, HISTORY_DAYS * 86400, n)
        table = pa.table({
            "txn_id": ids("T", np.arange(first, first + n)),
            "account_id": account,
            "txn_ts": (start + seconds.astype("timedelta64[s]")),
            "amount_cents": (rng.lognormal(5, 1.5, n) * 100).astype("int64") + 1,
            "txn_type": types[rng.choice(len(types), n, p=type_p)],
        })
        if writer is None:
            writer = pq.ParquetWriter(out / "transactions.parquet", table.schema)
        writer.write_table(table)
    writer.close()


LOAD_SQL = [
    """insert into stg_customers (business_date, customer_id, customer_type, onboard_date, birth_date, status, _line)
       select date '2015-01-01', customer_id, customer_type, onboard_date, birth_date, 'active', 1
       from read_parquet($dir || '/customers.parquet')""",
    """insert into stg_accounts (business_date, account_id, customer_id, product_code, open_date, status, currency, _line)
       select date '2015-01-01', account_id, customer_id, product_code, open_date, 'active', 'CNY', 1
       from read_parquet($dir || '/accounts.parquet')""",
    """insert into stg_products (business_date, product_code, product_family, _line)
       values (date '2015-01-01', 'CA001', 'current_account', 1), (date '2015-01-01', 'SV001', 'savings', 2)""",
    """insert into stg_balances (business_date, account_id, balance_date, balance, amount_reporting, _line)
       select balance_date, account_id, balance_date, balance_cents / 100, balance_cents / 100, 1
       from read_parquet($dir || '/balances.parquet')""",
    # Rows land one business date at a time in production, so the table is clustered by date.
    """insert into stg_transactions (business_date, txn_id, account_id, txn_ts, amount, amount_reporting,
                                     direction, currency, txn_type, _line)
       select txn_ts::date, txn_id, account_id, txn_ts, amount_cents / 100, amount_cents / 100, 'debit', 'CNY',
              txn_type, 1
       from read_parquet($dir || '/transactions.parquet') order by txn_ts""",
]


def load_warehouse(data: Path, warehouse: Path) -> None:
    import duckdb

    from pipelines.ingestion.ingest import init_warehouse
    from pipelines.sql import run

    con = duckdb.connect(str(warehouse))
    init_warehouse(con)
    for statement in LOAD_SQL:
        run(con, statement, {"dir": str(data)})
    con.execute("checkpoint")
    con.close()


# ---------------------------------------------------------------- methods

DUCKDB_HAND = """
create or replace table bench_rfm_hand as
with txns as (
    select a.customer_id, t.txn_ts::date as day, t.amount_reporting as amount
    from stg_transactions t join stg_accounts a using (account_id)
    where t.txn_ts >= cast($as_of - 364 as timestamp) and t.txn_ts < cast($as_of + 1 as timestamp)
      and t.txn_type in ('deposit', 'withdrawal', 'transfer_in', 'transfer_out', 'card_purchase',
                         'bill_payment', 'fund_purchase', 'fund_redemption', 'loan_repayment')
),
rfm as (
    select customer_id, date_diff('day', max(day), $as_of) as recency_days, count(*) as frequency,
           sum(amount) as monetary
    from txns group by customer_id
)
select customer_id, recency_days, frequency, monetary,
    1 + (5 * (2 * (rank() over (order by recency_days desc) - 1) + count(*) over (partition by recency_days)))
        // (2 * count(*) over ()) as r_score,
    1 + (5 * (2 * (rank() over (order by frequency) - 1) + count(*) over (partition by frequency)))
        // (2 * count(*) over ()) as f_score,
    1 + (5 * (2 * (rank() over (order by monetary) - 1) + count(*) over (partition by monetary)))
        // (2 * count(*) over ()) as m_score
from rfm
"""


def _duckdb(warehouse: Path):
    import duckdb

    con = duckdb.connect(str(warehouse))
    con.execute("set memory_limit = $m", {"m": MEMORY_LIMIT})
    return con


def run_pipeline(warehouse: Path, data: Path, out: Path, tables: tuple[str, ...]) -> int:
    from pipelines.config import load_rules
    from pipelines.segmentation import build_step, params_for

    con = _duckdb(warehouse)
    params = params_for(load_rules())
    rows = [build_step(con, table, AS_OF, params) for table in tables]
    con.close()
    return rows[-1]


def run_duckdb_hand(warehouse: Path, data: Path, out: Path) -> int:
    from pipelines.sql import run

    con = _duckdb(warehouse)
    run(con, DUCKDB_HAND, {"as_of": AS_OF})
    rows = con.sql("select count(*) from bench_rfm_hand").fetchall()[0][0]
    con.close()
    return rows


def run_polars_hand(warehouse: Path, data: Path, out: Path) -> int:
    import polars as pl

    window_start = AS_OF - timedelta(days=364)
    txns = (pl.scan_parquet(data / "transactions.parquet")
            .filter(pl.col("txn_ts").dt.date().is_between(window_start, AS_OF), pl.col("txn_type").is_in(COUNTED))
            .select("account_id", pl.col("txn_ts").dt.date().alias("day"), "amount_cents"))
    accounts = pl.scan_parquet(data / "accounts.parquet").select("account_id", "customer_id")
    rfm = (txns.join(accounts, on="account_id")
           .group_by("customer_id")
           .agg(pl.col("day").max().alias("last_day"), pl.len().alias("frequency"),
                pl.col("amount_cents").sum().alias("monetary_cents"))
           .with_columns((pl.lit(AS_OF) - pl.col("last_day")).dt.total_days().alias("recency_days")))

    def score(column: str, descending: bool) -> pl.Expr:
        worse = pl.col(column).rank("min", descending=descending) - 1
        tied = pl.len().over(column)
        return (1 + (5 * (2 * worse + tied)) // (2 * pl.len())).alias(f"{column}_score")

    result = rfm.with_columns(score("recency_days", True), score("frequency", False),
                              score("monetary_cents", False))
    result.sink_parquet(out / "polars_hand.parquet")
    return pl.scan_parquet(out / "polars_hand.parquet").select(pl.len()).collect().item()


def run_pandas_qcut(warehouse: Path, data: Path, out: Path) -> int:
    import pandas as pd

    txns = pd.read_parquet(data / "transactions.parquet", columns=["account_id", "txn_ts", "amount_cents", "txn_type"])
    accounts = pd.read_parquet(data / "accounts.parquet", columns=["account_id", "customer_id"])
    day = txns["txn_ts"].dt.normalize()
    as_of = pd.Timestamp(AS_OF)
    keep = (day > as_of - pd.Timedelta(days=365)) & (day <= as_of) & txns["txn_type"].isin(COUNTED)
    txns = txns.loc[keep].assign(day=day[keep]).merge(accounts, on="account_id")
    rfm = txns.groupby("customer_id").agg(last_day=("day", "max"), frequency=("day", "size"),
                                          monetary_cents=("amount_cents", "sum"))
    rfm["recency_days"] = (as_of - rfm["last_day"]).dt.days
    labels = [1, 2, 3, 4, 5]
    # qcut cannot cut a tied column into quintiles; the usual workaround ranks first (splitting ties).
    rfm["r_score"] = pd.qcut((-rfm["recency_days"]).rank(method="first"), 5, labels=labels).astype(int)
    rfm["f_score"] = pd.qcut(rfm["frequency"].rank(method="first"), 5, labels=labels).astype(int)
    rfm["m_score"] = pd.qcut(rfm["monetary_cents"].rank(method="first"), 5, labels=labels).astype(int)
    rfm.reset_index().to_parquet(out / "pandas_qcut.parquet")
    return len(rfm)


RUNNERS = {
    # int_customer_day needs this date's activity: the first run builds both.
    "pipeline_day": lambda w, d, o: run_pipeline(w, d, o, ("int_customer_activity", "int_customer_day")),
    "pipeline": lambda w, d, o: run_pipeline(w, d, o, ("int_customer_activity", "customer_rfm")),
    "pipeline_rfm": lambda w, d, o: run_pipeline(w, d, o, ("customer_rfm",)),
    "duckdb_hand": run_duckdb_hand,
    "polars_hand": run_polars_hand,
    "pandas_qcut": run_pandas_qcut,
}


def _peak_rss_mb() -> float:
    # VmHWM belongs to this process image; ru_maxrss would carry the forking parent's peak over exec.
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_one(method: str, out: Path) -> None:
    """Child process: run one method, print its wall time and peak RSS as JSON."""
    started = time.perf_counter()
    rows = RUNNERS[method](out / "warehouse.duckdb", out / "data", out)
    seconds = time.perf_counter() - started
    peak_mb = _peak_rss_mb()
    print(json.dumps({"method": method, "seconds": round(seconds, 2), "peak_rss_mb": round(peak_mb), "rows": rows}))


# ---------------------------------------------------------------- compare and report

COMPARE_SQL = """
with pipe as (
    select customer_id, r_score, f_score, m_score from customer_rfm where as_of_date = $as_of and r_score is not null
),
hand as (select customer_id, r_score, f_score, m_score from bench_rfm_hand),
pol as (select customer_id, recency_days_score as r_score, frequency_score as f_score, monetary_cents_score as m_score
        from read_parquet($polars)),
pan as (select customer_id, frequency, r_score, f_score, m_score from read_parquet($pandas))
select
    (select count(*) from pipe) as pipeline_scored,
    (select count(*) from pipe full join hand using (customer_id)
      where pipe.r_score is distinct from hand.r_score or pipe.f_score is distinct from hand.f_score
         or pipe.m_score is distinct from hand.m_score) as pipeline_vs_duckdb_hand_differ,
    (select count(*) from pipe full join pol using (customer_id)
      where pipe.r_score is distinct from pol.r_score or pipe.f_score is distinct from pol.f_score
         or pipe.m_score is distinct from pol.m_score) as pipeline_vs_polars_differ,
    (select avg(((pipe.r_score = pan.r_score)::int + (pipe.f_score = pan.f_score)::int
                 + (pipe.m_score = pan.m_score)::int) / 3) from pipe join pan using (customer_id))
        as pandas_score_agreement,
    (select count(*) from (select frequency from pan group by frequency having count(distinct f_score) > 1))
        as pandas_frequency_values_split
"""


def compare(out: Path) -> dict:
    import duckdb

    con = duckdb.connect(str(out / "warehouse.duckdb"), read_only=True)
    rel = con.sql(COMPARE_SQL, params={"as_of": AS_OF, "polars": str(out / "polars_hand.parquet"),
                                       "pandas": str(out / "pandas_qcut.parquet")})
    result = dict(zip(rel.columns, rel.fetchall()[0]))
    con.close()
    return {k: (float(v) if k == "pandas_score_agreement" else int(v)) for k, v in result.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2_000_000)
    parser.add_argument("--txns", type=int, default=20_000_000)
    parser.add_argument("--out", type=Path, default=ROOT / "bench_out" / "rfm")
    parser.add_argument("--methods", nargs="*", default=METHODS, choices=METHODS)
    parser.add_argument("--repeat", type=int, default=2, help="runs per method; the fastest counts")
    parser.add_argument("--run-method", choices=METHODS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    out = args.out.resolve()
    if args.run_method:
        run_one(args.run_method, out)
        return

    marker = out / "data" / f"size-{args.customers}-{args.txns}"
    if not marker.exists():
        import shutil

        shutil.rmtree(out, ignore_errors=True)
        started = time.perf_counter()
        generate(out / "data", args.customers, args.txns)
        load_warehouse(out / "data", out / "warehouse.duckdb")
        marker.touch()
        print(f"generated and loaded {args.txns:,} transactions / {args.customers:,} customers "
              f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    results = {}
    for method in args.methods:
        runs = []
        for _ in range(args.repeat):
            done = subprocess.run([sys.executable, __file__, "--out", str(out), "--run-method", method],
                                  capture_output=True, text=True, check=True)
            runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(json.dumps(runs[-1]), file=sys.stderr)
        best = min(runs, key=lambda r: r["seconds"])
        results[method] = {**best, "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
                           "all_seconds": [r["seconds"] for r in runs]}
    report = {"customers": args.customers, "transactions": args.txns, "as_of": AS_OF.isoformat(),
              "results": results}
    if {"pipeline", "duckdb_hand", "polars_hand", "pandas_qcut"} <= results.keys():
        report["agreement"] = compare(out)
        fastest_hand = min(results["duckdb_hand"]["seconds"], results["polars_hand"]["seconds"])
        report["ratios"] = {
            "pipeline / best hand-written": round(results["pipeline"]["seconds"] / fastest_hand, 2),
            "pipeline / duckdb_hand": round(results["pipeline"]["seconds"] / results["duckdb_hand"]["seconds"], 2),
            "pipeline_rfm / duckdb_hand": round(results["pipeline_rfm"]["seconds"] / results["duckdb_hand"]["seconds"], 2)
            if "pipeline_rfm" in results else None,
            "pandas_qcut / pipeline": round(results["pandas_qcut"]["seconds"] / results["pipeline"]["seconds"], 1),
        }
    (out / "results.json").write_text(json.dumps(report, indent=2))
    print("| method | wall s | peak RSS MB | rows |\n|---|---:|---:|---:|")
    for method, r in results.items():
        print(f"| {method} | {r['seconds']} | {r['peak_rss_mb']} | {r['rows']:,} |")
    print(json.dumps({k: v for k, v in report.items() if k in ("agreement", "ratios")}, indent=2))


if __name__ == "__main__":
    main()
