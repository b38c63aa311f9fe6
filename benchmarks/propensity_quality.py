"""Propensity quality on generated data (against the planted appetite) and on UCI Bank Marketing.

    python benchmarks/propensity_quality.py [--customers 2000] [--out bench_out/propensity_quality]

Generated: a year (2025, Parquet, seed 42) loaded into staging, segmentation and int_features
built on every month end, the training job's code run as of 2025-12-31 (train on Jan..Jun month
ends, evaluate on Sep 30), and next to each family's out-of-time AUC the oracle AUC: the planted
appetite_<family> of the same evaluation rows scored as if it were the model.
Bank Marketing: the adapter (pipelines/ingestion/realdata/bank_marketing.py), held-out and out-of-time.
Writes <out>/quality.json and prints markdown tables."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "2")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from models.propensity import classifier as pm  # noqa: E402
from pipelines.core.config import load_rules  # noqa: E402
from tests.kit.generated import load_landing  # noqa: E402
from pipelines.ingestion.ingest import init_warehouse  # noqa: E402
from pipelines.core.engine import DateRange  # noqa: E402
from pipelines.propensity.build import build_feature_range, family_rows, score_range, train_all, training_set  # noqa: E402
from pipelines.ingestion.realdata import bank_marketing as bm  # noqa: E402
from pipelines.customer.segmentation import build_segmentation  # noqa: E402

START, END = date(2025, 1, 1), date(2025, 12, 31)
BANK_FULL = ROOT.parent / "shared" / "data" / "bank_marketing" / "bank-full.csv"


def month_ends(start: date, end: date) -> list[date]:
    out, d = [], start
    while d <= end:
        nxt = date(d.year + d.month // 12, d.month % 12 + 1, 1)
        out.append(nxt - timedelta(days=1))
        d = nxt
    return out


def generated_warehouse(out: Path, customers: int) -> duckdb.DuckDBPyConnection:
    from pipelines.generator import generate

    landing = out / "landing"
    if not (landing / "transactions").exists():
        generate(landing, customers=customers, start=START, end=END, seed=42, fmt="parquet", progress=False)
    db = out / "warehouse.duckdb"
    db.unlink(missing_ok=True)
    con = duckdb.connect(str(db))
    con.execute("set memory_limit = '4GB'")
    init_warehouse(con)
    load_landing(con, landing)
    rules = load_rules()
    for day in month_ends(START, END):
        build_segmentation(con, DateRange(day, day), rules)
        build_feature_range(con, DateRange(day, day), rules)
    con.execute("create table truth as select * from read_parquet($p)",
                {"p": str(landing / "_truth" / "customers.parquet")})
    return con


def oracle_aucs(con, summary: dict, rules: dict) -> dict[str, float]:
    """AUC of the planted appetite on each family's evaluation rows (non-holders on the date)."""
    evaluation = training_set(con, summary["eval_dates"], summary["as_of_date"], rules)
    truth = con.sql("select * from truth").pl()
    joined = evaluation.join(truth, on="customer_id", how="left")
    out = {}
    for r in summary["families"]:
        pop, y = family_rows(joined, r.family)
        col = f"appetite_{r.family}"
        if col in pop.columns and 0 < y.sum() < len(y):
            out[r.family] = pm.evaluate(y, pop[col].fill_null(0).to_numpy())["auc"]
    return out


def generated_quality(out: Path, customers: int, models: Path) -> dict:
    rules = load_rules()
    t0 = time.perf_counter()
    con = generated_warehouse(out, customers)
    t1 = time.perf_counter()
    summary = train_all(con, models, END, rules)
    t2 = time.perf_counter()
    scored = score_range(con, models, DateRange(END, END), rules)
    t3 = time.perf_counter()
    oracle = oracle_aucs(con, summary, rules)
    families = []
    for r in summary["families"]:
        row = {"family": r.family, "status": r.status, "train_rows": r.train_rows,
               "train_positives": r.train_positives, "approved": r.approved, "note": r.note,
               "oracle_auc": oracle.get(r.family)}
        for kind, m in r.metrics.items():
            row[kind] = {k: m[k] for k in ("rows", "positives", "auc", "top_decile_lift", "brier")}
        if r.metrics:
            row["calibration"] = r.metrics["hgb_calibrated"]["calibration"]
        families.append(row)
    return {"customers": customers, "train_dates": [str(d) for d in summary["train_dates"]],
            "eval_dates": [str(d) for d in summary["eval_dates"]], "families": families,
            "top1": summary["top1"], "scored_rows": scored["rows"],
            "seconds": {"load_and_features": t1 - t0, "train": t2 - t1, "score": t3 - t2}}


def bank_marketing_quality() -> dict:
    if not BANK_FULL.exists():
        return {"skipped": f"{BANK_FULL} absent"}
    from pipelines.propensity.build import train_family

    rules = load_rules()
    clients = bm.load(BANK_FULL, rules["lifecycle"]["age_band_edges"])
    out = {}
    for name, (train, evaluation) in bm.splits(clients, seed=42).items():
        result, _, _ = train_family(train, evaluation, bm.LABEL_FAMILY, rules)
        out[name] = {k: {m: v[m] for m in ("rows", "positives", "base_rate", "auc", "top_decile_lift", "brier")}
                     for k, v in result.metrics.items()}
    raw = pl.read_csv(BANK_FULL, separator=";").with_columns(y=(pl.col("y") == "yes").cast(pl.Int64))
    shuffled = raw.sample(fraction=1.0, shuffle=True, seed=42)
    cut = int(raw.height * 0.75)
    tr, ev = shuffled.head(cut), shuffled.tail(raw.height - cut)
    numeric = ["age", "balance", "campaign", "pdays", "previous", "day"]
    categorical = ["job", "marital", "education", "default", "housing", "loan", "contact", "month", "poutcome"]
    model = pm.fit("hgb", tr, tr["y"].to_numpy(), numeric, categorical, seed=42)
    m = pm.evaluate(ev["y"].to_numpy(), pm.predict(model, ev))
    out["held_out_all_columns_but_duration"] = {"hgb_calibrated": {k: m[k] for k in ("rows", "positives", "auc",
                                                                                        "top_decile_lift", "brier")}}
    return out


def markdown(result: dict) -> str:
    lines = ["| family | status | train positives | eval rows / positives | AUC | oracle AUC | logistic AUC | "
             "top-decile lift | Brier | popularity Brier |", "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    f3 = lambda v: "-" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.3f}"  # noqa: E731
    for r in result["generated"]["families"]:
        h, lg, pop = r.get("hgb_calibrated", {}), r.get("logistic", {}), r.get("popularity", {})
        lines.append(f"| {r['family']} | {r['status']} | {r['train_positives']} | "
                     f"{h.get('rows', '-')} / {h.get('positives', '-')} | {f3(h.get('auc'))} | {f3(r['oracle_auc'])} | "
                     f"{f3(lg.get('auc'))} | {f3(h.get('top_decile_lift'))} | {f3(h.get('brier'))} | {f3(pop.get('brier'))} |")
    lines += ["", "| Bank Marketing split | model | rows / positives | AUC | top-decile lift | Brier |",
              "|---|---|---:|---:|---:|---:|"]
    for split, models in result["bank_marketing"].items():
        if not isinstance(models, dict):
            continue
        for kind, m in models.items():
            lines.append(f"| {split} | {kind} | {m['rows']} / {m['positives']} | {f3(m['auc'])} | "
                         f"{f3(m['top_decile_lift'])} | {f3(m['brier'])} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--out", default="bench_out/propensity_quality")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    models = out / "models"
    result = {"generated": generated_quality(out, args.customers, models),
              "bank_marketing": bank_marketing_quality()}
    (out / "quality.json").write_text(json.dumps(result, indent=2, default=str))
    print(markdown(result))
    print(json.dumps({"top1": result["generated"]["top1"], "seconds": result["generated"]["seconds"],
                      "scored_rows": result["generated"]["scored_rows"]}, indent=2, default=str))


if __name__ == "__main__":
    main()
