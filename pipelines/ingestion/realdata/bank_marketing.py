"""UCI Bank Marketing (bank-full.csv) adapted into the propensity feature contract.

Source profile (what each contract feature is read from; everything else takes the value a
customer without that data gets in int_features):
- age -> age_band (lifecycle.age_band_edges); job -> occupation; balance (average yearly
  balance, EUR) -> aum; housing -> holds_mortgage; loan -> holds_consumer_loan; every client
  holds a current account; default = yes -> max_dpd 90 (in default);
- campaign (contacts in this campaign, including the last) -> contacts_short and, with
  previous (contacts before it), contacts_long; pdays -> days_since_contact (-1: none);
  poutcome -> last_contact_outcome (unknown -> none);
- label: y = yes -> opened the time_deposit family (term deposit);
- never used: duration (known only after the call), day / month (the call date), marital,
  education, contact type (no contract feature).
Rows are in call order (May 2008 .. Nov 2010), which gives the out-of-time split."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from models.propensity.features import FEATURES

LABEL_FAMILY = "time_deposit"
NEVER_USED = ("duration", "day", "month", "marital", "education", "contact")


def _age_band(age: pl.Expr, edges: list[int]) -> pl.Expr:
    expr = pl.lit(f"<{edges[0]}")
    for lo, hi in zip(edges, [*edges[1:], None]):
        label = f"{lo}+" if hi is None else f"{lo}-{hi - 1}"
        expr = pl.when(age >= lo).then(pl.lit(label)).otherwise(expr)
    return expr


def load(path: Path, age_band_edges: list[int]) -> pl.DataFrame:
    """One row per client in the int_features shape plus opened_families and call_order."""
    raw = pl.read_csv(path, separator=";", quote_char='"')
    yes = lambda c: pl.col(c) == "yes"  # noqa: E731
    mapped = {
        "customer_type": pl.lit("individual"),
        "age_band": _age_band(pl.col("age"), age_band_edges),
        "occupation": pl.col("job"),
        "aum": pl.col("balance").cast(pl.Float64),
        "holds_current_account": pl.lit(True),
        "holds_mortgage": yes("housing"),
        "holds_consumer_loan": yes("loan"),
        "accounts_open": 1 + yes("housing").cast(pl.Int64) + yes("loan").cast(pl.Int64),
        "max_dpd": pl.when(yes("default")).then(90).otherwise(0),
        "contacts_short": pl.col("campaign"),
        "contacts_long": pl.col("campaign") + pl.col("previous"),
        "days_since_contact": pl.when(pl.col("pdays") >= 0).then(pl.col("pdays")),
        "last_contact_outcome": pl.when(pl.col("poutcome") == "unknown").then(pl.lit("none")).otherwise(pl.col("poutcome")),
    }
    columns = []
    for f in FEATURES:
        if f.name in mapped:
            expr = mapped[f.name]
        elif f.name.startswith("holds_"):
            expr = pl.lit(False)
        elif f.kind == "categorical":
            expr = pl.lit("unknown")
        elif f.name in ("aum_change_ratio", "last_nps"):
            expr = pl.lit(None, dtype=pl.Float64)
        else:
            expr = pl.lit(0.0)
        columns.append(expr.alias(f.name))
    return raw.with_row_index("call_order").select(
        pl.lit(date(2010, 11, 30)).alias("as_of_date"),
        ("BM" + pl.col("call_order").cast(pl.String)).alias("customer_id"),
        *columns,
        pl.when(yes("y")).then(pl.lit([LABEL_FAMILY])).otherwise(pl.lit([], dtype=pl.List(pl.String)))
        .alias("opened_families"),
        pl.col("call_order"),
    )


def splits(frame: pl.DataFrame, seed: int, eval_share: float = 0.25) -> dict[str, tuple[pl.DataFrame, pl.DataFrame]]:
    """'held_out': a seeded random split (as the published baselines use); 'out_of_time': the
    first calls train, the last eval_share of calls evaluate."""
    cut = int(frame.height * (1 - eval_share))
    shuffled = frame.sample(fraction=1.0, shuffle=True, seed=seed)
    return {
        "held_out": (shuffled.head(cut), shuffled.tail(frame.height - cut)),
        "out_of_time": (frame.head(cut), frame.tail(frame.height - cut)),
    }
