"""Small hand-made landing zones for tests: exact rows, every file written the way a bank would."""

from __future__ import annotations

import csv
import gzip
from datetime import date
from pathlib import Path

D1 = date(2024, 3, 1)
D2 = date(2024, 3, 2)

CUSTOMERS = [
    {"customer_id": "C1", "customer_type": "individual", "full_name": "张伟", "gender": "M",
     "birth_date": "1980-05-04", "id_number": "110101198005040012", "phone": "13800000001",
     "onboard_date": "2020-01-01", "risk_tolerance": "C3", "marketing_consent": "true",
     "branch_id": "B1", "rm_id": "RM1"},
    {"customer_id": "C2", "customer_type": "business", "full_name": "某某有限公司",
     "onboard_date": "2019-06-01", "risk_tolerance": "C4", "marketing_consent": "false",
     "branch_id": "B1", "rm_id": "RM1"},
]
ACCOUNTS = [
    {"account_id": "A1", "customer_id": "C1", "product_code": "CA001", "open_date": "2020-01-01", "currency": "CNY"},
    {"account_id": "A2", "customer_id": "C1", "product_code": "SV001", "open_date": "2020-01-01", "currency": "USD"},
    {"account_id": "A3", "customer_id": "C2", "product_code": "CA001", "open_date": "2019-06-01", "currency": "CNY"},
]
TXN_COLUMNS = ["txn_id", "account_id", "txn_ts", "amount", "direction", "currency", "txn_type",
               "channel", "is_cash", "counterparty_account", "counterparty_name"]


def txn(txn_id, account_id="A1", ts="2024-03-01 10:00:00", amount="100.00", direction="credit",
        currency="CNY", txn_type="deposit", channel="mobile", is_cash="false", **extra):
    row = dict(txn_id=txn_id, account_id=account_id, txn_ts=ts, amount=amount, direction=direction,
               currency=currency, txn_type=txn_type, channel=channel, is_cash=is_cash,
               counterparty_account="6222020000000001", counterparty_name="李四")
    row.update(extra)
    return row


def write_csv(path: Path, rows: list[dict], columns: list[str] | None = None, *,
              delimiter: str = ",", encoding: str = "utf-8", gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = columns or list(dict.fromkeys(k for r in rows for k in r))
    opener = gzip.open if gz else open
    with opener(path, "wt", encoding=encoding, newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, delimiter=delimiter, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def entity_file(landing: Path, entity: str, day: date, suffix: str = ".csv") -> Path:
    return landing / entity / f"{entity}_{day:%Y%m%d}{suffix}"


def basic_landing(landing: Path, transactions: list[dict] | None = None, day: date = D1) -> Path:
    """Customers, accounts, an fx rate and transactions for one business date."""
    write_csv(entity_file(landing, "customers", day), CUSTOMERS)
    write_csv(entity_file(landing, "accounts", day), ACCOUNTS)
    write_csv(entity_file(landing, "fx_rates", day),
              [{"rate_date": day.isoformat(), "currency": "USD", "rate_to_reporting": "7.100000"}])
    rows = transactions if transactions is not None else [txn("T1"), txn("T2", amount="50.50", direction="debit", txn_type="card_purchase")]
    write_csv(entity_file(landing, "transactions", day), rows, TXN_COLUMNS if rows else TXN_COLUMNS)
    return landing
