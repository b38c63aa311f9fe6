"""A generated landing zone loaded straight into staging (typed by the contracts, money converted
at the as-of fx rate): ingestion has its own tests, and going through it date by date would cost
minutes in the tests that need a year of generated history."""

from __future__ import annotations

from pathlib import Path

import duckdb

from pipelines.core.contracts import LOAD_ORDER, input_contracts, quote_ident as q
from pipelines.core.sql import run


def load_landing(con: duckdb.DuckDBPyConnection, landing: Path) -> None:
    """Every generated file into its staging table, business_date from the file name."""
    for entity in LOAD_ORDER:
        files = str(landing / entity / "*.parquet")
        if not list((landing / entity).glob("*.parquet")):
            continue
        present = {r[0] for r in run(con, "describe select * from read_parquet($f, union_by_name = true)",
                                     {"f": files}).fetchall()}
        cols = [c.name for c in input_contracts()[entity].staged_columns if c.name in present]
        select = ", ".join(q(c) for c in cols)
        statement = (
            f"insert into {q('stg_' + entity)} by name "
            f"select {select}, strptime(regexp_extract(filename, '_([0-9]{{8}})[.]parquet$', 1), '%Y%m%d')::date "
            "as business_date, row_number() over (partition by filename) as _line, filename as _source_file "
            "from read_parquet($f, filename = true, union_by_name = true)")
        run(con, statement, {"f": files})
    for statement in TO_REPORTING_CURRENCY:
        con.execute(statement)


# Amounts in the reporting currency at the newest rate on or before the day (as ingestion does).
TO_REPORTING_CURRENCY = [
    """update stg_transactions set amount_reporting = coalesce(round(amount * (
           select arg_max(f.rate_to_reporting, f.rate_date) from stg_fx_rates f
           where f.currency = stg_transactions.currency and f.rate_date <= stg_transactions.txn_ts::date), 2), amount)""",
    """update stg_balances set amount_reporting = coalesce(round(balance * (
           select arg_max(f.rate_to_reporting, f.rate_date)
           from stg_fx_rates f join (select distinct account_id, currency from stg_accounts) a on a.currency = f.currency
           where a.account_id = stg_balances.account_id and f.rate_date <= stg_balances.balance_date), 2), balance)""",
]


def generated_warehouse(root: Path, *, customers: int, start, end, seed: int) -> duckdb.DuckDBPyConnection:
    """A generated bank (Parquet landing under root/landing) staged into root/warehouse.duckdb."""
    from pipelines.generator import generate
    from pipelines.ingestion.ingest import init_warehouse

    generate(root / "landing", customers=customers, start=start, end=end, seed=seed, fmt="parquet", progress=False)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    init_warehouse(con)
    load_landing(con, root / "landing")
    return con
