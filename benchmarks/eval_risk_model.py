"""Quality of the PD scorecard on generated data: out-of-time AUC, KS, Gini and default rate by
grade, for docs/risk.md. Generates a long history (a 12-month outcome needs more than a year),
ingests it, builds the per-date risk tables, trains and evaluates.

    .venv/bin/python benchmarks/eval_risk_model.py --customers 1500 --start 2023-01-01 --end 2025-06-30
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

from pipelines.core.config import load_rules
from pipelines.core.engine import DateRange
from pipelines.generator import generate
from pipelines.ingestion.ingest import ingest_date, init_warehouse
from pipelines.risk.reports import build_risk_transactions
from pipelines.risk.scoring import train


def build_history(root: Path, customers: int, start: date, end: date, seed: int) -> duckdb.DuckDBPyConnection:
    rules = load_rules()
    generate(root / "landing", customers=customers, start=start, end=end, seed=seed, fmt="parquet", progress=False)
    con = duckdb.connect(str(root / "w.duckdb"))
    init_warehouse(con)
    day = start
    while day <= end:
        ingest_date(con, root / "landing", day, rules, "eval", "salt")
        day += timedelta(days=1)
    build_risk_transactions(con, DateRange(start, end), rules)
    return con


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=1500)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2023, 1, 1))
    parser.add_argument("--end", type=date.fromisoformat, default=date(2025, 6, 30))
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        con = build_history(Path(tmp), args.customers, args.start, args.end, args.seed)
        built = time.perf_counter() - began
        card, meta = train(con, args.start, args.end, load_rules())
        print(json.dumps({"customers": args.customers, "history": [str(args.start), str(args.end)],
                          "build_seconds": round(built, 1), "train_seconds": round(time.perf_counter() - began - built, 1),
                          **{k: meta[k] for k in ("training_window", "evaluation_window", "training_rows",
                                                  "training_defaults", "evaluation", "grades", "monotone_grades",
                                                  "approved", "coefficients")}}, indent=2, default=str))


if __name__ == "__main__":
    main()
