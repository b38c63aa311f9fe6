"""Hand-made warehouse rows for the segmentation tests: straight into stg_* tables of a fresh
DuckDB file, so each test states exactly the customers, accounts, balances and transactions it
needs (ingestion has its own tests)."""

from __future__ import annotations

import csv
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb

from pipelines.core.contracts import quote_ident as q
from pipelines.ingestion.ingest import DEFAULT_PRODUCTS, init_warehouse

EPOCH = date(2020, 1, 1)  # business date of the reference rows unless a test says otherwise


def warehouse(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp_path / "warehouse.duckdb"))
    init_warehouse(con)
    with open(DEFAULT_PRODUCTS, encoding="utf-8") as fh:
        products = [dict(r) for r in csv.DictReader(fh)]
    insert(con, "stg_products", products, EPOCH)
    return con


def insert(con, table: str, rows: list[dict], business_date: date) -> None:
    if not rows:
        return
    cols = list(dict.fromkeys(k for r in rows for k in r))
    all_cols = ["business_date", *cols, "_line"]
    placeholders = ", ".join("?" for _ in all_cols)
    statement = f"insert into {q(table)} ({', '.join(q(c) for c in all_cols)}) values ({placeholders})"
    con.executemany(
        statement,
        [[business_date, *(r.get(c) for c in cols), i + 1] for i, r in enumerate(rows)],
    )


def customer(customer_id: str, onboard_date: date = date(2020, 1, 1), **extra) -> dict:
    row = {"customer_id": customer_id, "customer_type": "individual", "onboard_date": onboard_date,
           "status": "active", "marketing_consent": True, "branch_id": "B1", "rm_id": "RM1"}
    row.update(extra)
    return row


def account(account_id: str, customer_id: str, product_code: str = "CA001",
            open_date: date = date(2020, 1, 1), **extra) -> dict:
    row = {"account_id": account_id, "customer_id": customer_id, "product_code": product_code,
           "open_date": open_date, "status": "active", "currency": "CNY"}
    row.update(extra)
    return row


def txn(txn_id: str, account_id: str, day: date, amount: float = 100.0,
        txn_type: str = "card_purchase", **extra) -> dict:
    row = {"txn_id": txn_id, "account_id": account_id,
           "txn_ts": datetime.combine(day, datetime.min.time()) + timedelta(hours=10),
           "amount": amount, "amount_reporting": amount, "direction": "debit", "currency": "CNY",
           "txn_type": txn_type}
    row.update(extra)
    return row


def balance(account_id: str, day: date, amount: float, amount_reporting: float | None = None) -> dict:
    return {"account_id": account_id, "balance_date": day, "balance": amount,
            "amount_reporting": amount if amount_reporting is None else amount_reporting}


def rows(con, query: str, params: dict | None = None) -> list[dict]:
    rel = con.sql(query, params=params or {})
    return [dict(zip(rel.columns, r)) for r in rel.fetchall()]
