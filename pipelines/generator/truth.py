"""The planted truth in `<out>/_truth/`: what the pipeline's scores are measured against."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl

from pipelines.generator.frames import opt_dates
from pipelines.generator.params import FAMILIES
from pipelines.generator.patterns import Plan
from pipelines.generator.population import NEVER, Book, Population


def write_truth(folder: Path, pop: Population, book: Book, plan: Plan, evidence: list[pl.DataFrame]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    default_day = np.where((pop.onset < NEVER) & (pop.cure > pop.onset + 90) & (pop.onset + 90 <= pop.end),
                           pop.onset + 90, NEVER)
    customers = pl.DataFrame({
        "customer_id": pop.cid,
        "customer_type": pop.profile["customer_type"],
        "onboard_date": opt_dates(pop.onboard),
        "wealth": pop.wealth,
        "engagement": pop.engagement,
        "engagement_trend": pop.trend,
        "default_propensity": pop.propensity,
        "churns": pop.churns,
        "churn_start": opt_dates(pop.churn_start),
        "closes_all": pop.closes < NEVER,
        "close_date": opt_dates(pop.closes),
        "delinquency_onset": opt_dates(pop.onset),
        "defaults": default_day < NEVER,
        "default_date": opt_dates(default_day),
        **{f"appetite_{f}": pop.appetite[:, i] for i, f in enumerate(FAMILIES)},
    })
    customers.write_parquet(folder / "customers.parquet")

    inrange = np.flatnonzero((book.open_day > pop.start) & (book.open_day <= pop.end) & ~book.silent)
    pl.DataFrame({
        "customer_id": pop.cid[book.cust[inrange]],
        "account_id": book.account_id[inrange],
        "product_family": np.array(FAMILIES)[book.family[inrange]],
        "product_code": book.product[inrange],
        "open_date": opt_dates(book.open_day[inrange]),
        "new_customer": pop.onboard[book.cust[inrange]] == book.open_day[inrange],
    }).write_parquet(folder / "product_openings.parquet")

    ev = pl.concat(evidence) if evidence else pl.DataFrame(
        schema={"txn_id": pl.String, "account_id": pl.String, "txn_ts": pl.Datetime("us"), "pattern_row": pl.Int64})
    grouped = (ev.sort("txn_ts", "txn_id")
                 .group_by("pattern_row")
                 .agg(pl.col("account_id").unique(maintain_order=True).alias("account_ids"),
                      pl.col("txn_ts").min().alias("window_start"), pl.col("txn_ts").max().alias("window_end"),
                      pl.col("txn_id").alias("txn_ids")))
    table = pl.DataFrame({
        "pattern_row": np.arange(len(plan.p_name), dtype=np.int64),
        "pattern": plan.p_name.astype(str),
        "customer_id": pop.cid[plan.p_cust] if len(plan.p_cust) else np.array([], dtype=str),
        "variant": plan.p_variant.astype(str),
    })
    patterns = (table.join(grouped, on="pattern_row", how="inner")
                .sort("pattern_row")
                .with_columns(pattern_id=pl.format("P{}", pl.col("pattern_row").cast(pl.String).str.zfill(5)),
                              variant=pl.when(pl.col("variant") == "").then(None).otherwise(pl.col("variant")))
                .select("pattern_id", "pattern", "customer_id", "account_ids", "window_start", "window_end", "txn_ids",
                        "variant"))
    patterns.write_parquet(folder / "patterns.parquet")
    return folder
