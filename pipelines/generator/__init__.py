"""Realistic demo extracts for a Chinese retail + SME bank, with the planted truth beside them.

`generate(out, customers=, start=, end=, seed=, fmt=, progress=)` writes the landing zone
`<out>/<entity>/<entity>_YYYYMMDD.<csv|parquet>` (all ten entities of the input contract) day by
day, and `<out>/_truth/` (latent traits, planted patterns, product openings), which the pipeline
never reads. Same seed, same bytes."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
from tqdm import tqdm

from pipelines.core.contracts import CONTRACTS_DIR
from pipelines.generator.counterparties import Pools
from pipelines.generator.frames import Frames, write
from pipelines.generator.params import FX_START
from pipelines.generator.patterns import plant
from pipelines.generator.population import assign_rms, draw_book, draw_customers, draw_delinquency
from pipelines.generator.simulate import Simulator, epoch_day, to_date
from pipelines.generator.truth import write_truth

__all__ = ["generate"]

ENTITIES = ("fx_rates", "products", "relationship_managers", "customers", "accounts", "transactions", "balances",
            "loan_performance", "interactions", "feedback")


def _fx_rates(seed: int, days: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng([seed, 3])
    return {cur: np.round(rate * np.exp(np.cumsum(rng.normal(0, 0.003, days))), 6) for cur, rate in FX_START.items()}


def generate(out: Path, *, customers: int = 2000, start: date, end: date, seed: int = 42, fmt: str = "csv",
             progress: bool = True) -> dict:
    """Write the landing zone for [start, end] and its truth; return a summary of what was written."""
    if fmt not in ("csv", "parquet"):
        raise ValueError(f"fmt must be csv or parquet, not {fmt!r}")
    if end < start:
        raise ValueError("end is before start")
    if customers < 50:
        raise ValueError("customers must be at least 50 (the planted patterns need a base)")
    began = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    first, last = epoch_day(start), epoch_day(end)
    rng = np.random.default_rng([seed, 0])
    pop = draw_customers(rng, customers, first, last)
    rms, moves, _ = assign_rms(rng, pop)
    book = draw_book(rng, pop)
    draw_delinquency(rng, pop, book)
    book, plan = plant(rng, pop, book)
    pools = Pools(np.random.default_rng([seed, 4]))
    sim = Simulator(seed, pop, rms, moves, book, plan, pools)
    frames = Frames(pop, rms, book, pools, sim)
    fx = _fx_rates(seed, last - first + 1)

    rows = dict.fromkeys(ENTITIES, 0)
    files = 0
    evidence = []
    for k in tqdm(range(last - first + 1), disable=not progress, desc="generate", unit="day"):
        day = first + k
        d = to_date(day)
        stamp = f"{d:%Y%m%d}"
        result = sim.step(day)
        batch = {
            "fx_rates": pl.DataFrame({"rate_date": [d] * len(fx), "currency": list(fx),
                                      "rate_to_reporting": pl.Series([float(v[k]) for v in fx.values()]).cast(pl.Decimal(18, 6))}),
            "relationship_managers": frames.relationship_managers(result.new_rms, day) if len(result.new_rms) else None,
            "customers": frames.customers(result.new_customers) if len(result.new_customers) else None,
            "accounts": frames.accounts(result.new_accounts, day) if len(result.new_accounts) else None,
            "transactions": frames.transactions(result, f"T{stamp}"),
            "balances": frames.balances(result) if len(result.balance_rows) else None,
            "loan_performance": frames.loan_performance(result) if len(result.loan_rows) else None,
            "interactions": frames.interactions(result, f"I{stamp}") if len(result.interactions["cust"]) else None,
            "feedback": frames.feedback(result, f"F{stamp}") if len(result.feedback["cust"]) else None,
        }
        if k == 0:
            products = CONTRACTS_DIR / "reference" / "products.csv"
            batch["products"] = pl.read_csv(products, schema_overrides={"min_balance": pl.Decimal(18, 2)})
        for entity in ENTITIES:
            frame = batch.get(entity)
            if frame is None:
                continue
            write(frame, out, entity, d, fmt)
            rows[entity] += frame.height
            files += 1
        planted = result.txns["plan"] >= 0
        if planted.any():
            txns = batch["transactions"].filter(pl.Series(planted))
            evidence.append(txns.select("txn_id", "account_id", "txn_ts").with_columns(
                pattern_row=pl.Series(result.txns["plan"][planted])))

    truth = write_truth(out / "_truth", pop, book, plan, evidence)
    seconds = time.perf_counter() - began
    return {
        "out": str(out), "truth": str(truth), "format": fmt, "seed": seed, "customers": customers,
        "first_date": start.isoformat(), "last_date": end.isoformat(), "dates": last - first + 1,
        "rows": rows, "files": files, "seconds": round(seconds, 2),
        "transactions_per_second": round(rows["transactions"] / max(seconds, 1e-9)),
    }
