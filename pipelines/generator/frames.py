"""A simulated day as one polars frame per entity, in the input contract's columns, and the
writer that lands them as `<out>/<entity>/<entity>_YYYYMMDD.<csv|parquet>`."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.generator.counterparties import DESCRIPTIONS, Pools
from pipelines.generator.params import CHANNELS, IS_CREDIT, MCC, TXN_TYPES
from pipelines.generator.population import NEVER, RMs, Book, Population
from pipelines.generator.simulate import Day

MONEY = pl.Decimal(18, 2)
STATUS = np.array(["active", "dormant", "closed"])


def money(cents: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(cents, dtype=np.int64) / 100).cast(MONEY)


def dates(days: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(days, dtype=np.int64).astype("datetime64[D]"))


def stamps(day: int, sec: np.ndarray) -> pl.Series:
    return pl.Series(((day * 86_400 + np.asarray(sec, dtype=np.int64)) * 1000).astype("datetime64[ms]"))


def opt_str(values: np.ndarray) -> pl.Series:
    """Strings with "" for missing (numpy has no nullable strings)."""
    s = pl.Series(np.asarray(values).astype(str), dtype=pl.String)
    return s.set(s == "", None)


def opt_dates(days: np.ndarray) -> pl.Series:
    days = np.asarray(days, dtype=np.int64)
    return pl.Series(np.where(days < NEVER, days, 0).astype("datetime64[D]")).set(pl.Series(days >= NEVER), None)


class Frames:
    def __init__(self, pop: Population, rms: RMs, book: Book, pools: Pools, sim):
        self.pop, self.rms, self.book, self.pools, self.sim = pop, rms, book, pools, sim
        self.cid = pl.Series(pop.cid)
        book.account_id = np.char.add("AC", np.char.zfill(np.arange(1, len(book) + 1).astype("<U10"), 10))
        self.aid = pl.Series(book.account_id)
        self.rm_ids = opt_str(np.append(rms.rm_id, ""))   # the last index is "no RM"
        self.branch_ids = pl.Series(rms.branch_ids)
        self.txn_types = pl.Series(TXN_TYPES)
        self.channels = pl.Series(CHANNELS)
        self.mcc = opt_str(np.append(MCC, ""))
        self.desc = pl.Series([DESCRIPTIONS[t] for t in TXN_TYPES])
        self.direction = pl.Series(np.where(IS_CREDIT, "credit", "debit"))
        self.currency = pl.Series(book.currency)

    def customers(self, idx: np.ndarray) -> pl.DataFrame:
        p, sim = self.pop.profile, self.sim
        idx = np.asarray(idx, dtype=np.int64)
        return pl.DataFrame({
            "customer_id": self.cid.gather(idx),
            "customer_type": p["customer_type"][idx],
            "full_name": p["full_name"][idx],
            "gender": opt_str(p["gender"][idx]),
            "birth_date": opt_dates(p["birth_date"][idx]),
            "id_number": p["id_number"][idx],
            "phone": p["phone"][idx],
            "email": opt_str(p["email"][idx]),
            "city": p["city"][idx],
            "branch_id": self.branch_ids.gather(sim.branch[idx]),
            "rm_id": self.rm_ids.gather(np.where(sim.rm[idx] >= 0, sim.rm[idx], len(self.rms.rm_id))),
            "onboard_date": dates(self.pop.onboard[idx]),
            "annual_income": money(np.rint(p["annual_income"][idx] * 100)),
            "occupation": p["occupation"][idx],
            "risk_tolerance": p["risk_tolerance"][idx],
            "marketing_consent": p["marketing_consent"][idx],
            "status": np.where(sim.cust_closed[idx], "closed", "active"),
        })

    def accounts(self, idx: np.ndarray, day: int) -> pl.DataFrame:
        b = self.book
        idx = np.asarray(idx, dtype=np.int64)
        closed = np.where(b.close_day[idx] <= day, b.close_day[idx], NEVER)
        limit, principal = b.credit_limit[idx], b.principal[idx]
        return pl.DataFrame({
            "account_id": self.aid.gather(idx),
            "customer_id": self.cid.gather(b.cust[idx]),
            "product_code": b.product[idx],
            "open_date": dates(b.open_day[idx]),
            "close_date": opt_dates(closed),
            "status": STATUS[self.sim.acct_status[idx]],
            "currency": b.currency[idx],
            "credit_limit": money(limit).set(pl.Series(limit == 0), None),
            "principal": money(principal).set(pl.Series(principal == 0), None),
        })

    def relationship_managers(self, idx: np.ndarray, day: int) -> pl.DataFrame:
        r = self.rms
        return pl.DataFrame({
            "rm_id": r.rm_id[idx], "rm_name": r.name[idx], "branch_id": self.branch_ids.gather(r.branch[idx]),
            "team": r.team[idx], "hire_date": dates(r.hire[idx]),
            "status": np.where(r.leave[idx] <= day, "left", "active"),
        })

    def transactions(self, d: Day, prefix: str) -> pl.DataFrame:
        t = d.txns
        n = len(t["acct"])
        cp = np.where(t["cash"], 0, t["cp"])
        mcc = np.where(t["mcc"] >= 0, t["mcc"], len(MCC)).astype(np.int64)
        ttype = t["ttype"].astype(np.int64)
        seq = pl.Series(np.arange(1, n + 1)).cast(pl.String).str.zfill(9)
        return pl.DataFrame({
            "txn_id": (prefix + seq) if n else pl.Series([], dtype=pl.String),
            "account_id": self.aid.gather(t["acct"]),
            "txn_ts": stamps(d.day, t["sec"]),
            "amount": money(t["cents"]),
            "direction": self.direction.gather(ttype),
            "currency": self.currency.gather(t["acct"]),
            "txn_type": self.txn_types.gather(ttype),
            "channel": self.channels.gather(t["chan"].astype(np.int64)),
            "is_cash": t["cash"],
            "is_cross_border": t["xb"],
            "counterparty_account": self.pools.accounts.gather(cp),
            "counterparty_name": self.pools.names.gather(cp),
            "mcc": self.mcc.gather(mcc),
            "balance_after": money(t["balance_after"]),
            "description": self.desc.gather(ttype),
        })

    def balances(self, d: Day) -> pl.DataFrame:
        idx = d.balance_rows
        return pl.DataFrame({"account_id": self.aid.gather(idx), "balance_date": dates(np.full(len(idx), d.day)),
                             "balance": money(d.balances[idx])})

    def loan_performance(self, d: Day) -> pl.DataFrame:
        idx = d.loan_rows
        return pl.DataFrame({"account_id": self.aid.gather(idx), "as_of_date": dates(np.full(len(idx), d.day)),
                             "outstanding": money(np.maximum(-d.balances[idx], 0)),
                             "days_past_due": d.dpd[idx].astype(np.int64)})

    def interactions(self, d: Day, prefix: str) -> pl.DataFrame:
        i = d.interactions
        seq = pl.Series(i["id"] + 1).cast(pl.String).str.zfill(8)
        return pl.DataFrame({
            "interaction_id": (prefix + seq) if len(seq) else pl.Series([], dtype=pl.String),
            "customer_id": self.cid.gather(i["cust"]),
            "rm_id": self.rm_ids.gather(np.where(i["rm"] >= 0, i["rm"], len(self.rms.rm_id))),
            "interaction_ts": stamps(d.day, i["sec"]),
            "channel": opt_str(i["channel"]), "kind": opt_str(i["kind"]),
            "event_name": opt_str(i["event_name"]), "outcome": opt_str(i["outcome"]),
        })

    def feedback(self, d: Day, prefix: str) -> pl.DataFrame:
        f = d.feedback
        seq = pl.Series(f["id"] + 1).cast(pl.String).str.zfill(8)
        resolved = stamps(d.day, np.maximum(f["resolved_sec"], 0)).set(pl.Series(f["resolved_sec"] < 0), None)
        return pl.DataFrame({
            "feedback_id": (prefix + seq) if len(seq) else pl.Series([], dtype=pl.String),
            "customer_id": self.cid.gather(f["cust"]),
            "feedback_ts": stamps(d.day, f["sec"]),
            "kind": opt_str(f["kind"]),
            "score": pl.Series(f["score"], dtype=pl.Float64, nan_to_null=True).cast(pl.Int64),
            "category": opt_str(f["category"]),
            "status": opt_str(f["status"]),
            "resolved_ts": resolved,
            "text": opt_str(f["text"]),
        })


def write(frame: pl.DataFrame, out: Path, entity: str, day: date, fmt: str) -> Path:
    folder = out / entity
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{entity}_{day:%Y%m%d}.{fmt}"
    tmp = path.with_name(path.name + ".tmp")
    if fmt == "parquet":
        frame.write_parquet(tmp, compression="zstd", statistics=False)
    else:
        frame.write_csv(tmp, datetime_format="%Y-%m-%d %H:%M:%S", date_format="%Y-%m-%d")
    tmp.replace(path)
    return path
