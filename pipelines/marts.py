"""Date-keyed warehouse tables: created from their output contract, rebuilt one as_of_date at a time.

Re-running a date deletes that date's rows and inserts the query's result in one transaction,
so other dates stay as they were and a failed build leaves the previous rows in place."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.contracts import Contract, output_contracts, quote_ident as q
from pipelines.sql import load_sql, run


def _table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    return con.execute(
        "select count(*) from information_schema.tables where table_name = $t and table_schema = current_schema()",
        {"t": table},
    ).fetchone()[0] > 0


def ensure_contract_table(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    """Create the mart table typed by its contract; add columns a newer contract version brought."""
    table = contract.entity
    if not _table_exists(con, table):
        cols = ", ".join(f"{q(c.name)} {c.duckdb_type}" for c in contract.columns)
        con.execute(f"create table {q(table)} ({cols})")
        return
    present = {r[0] for r in con.execute(
        "select column_name from information_schema.columns where table_name = $t and table_schema = current_schema()",
        {"t": table}).fetchall()}
    for c in contract.columns:
        if c.name not in present:
            con.execute(f"alter table {q(table)} add column {q(c.name)} {c.duckdb_type}")


def replace_date(con: duckdb.DuckDBPyConnection, table: str, sql_name: str, as_of_date: date,
                 params: dict) -> int:
    """Rebuild `table` for one as_of_date from sql/<sql_name>.sql; returns the rows written.

    A table with an output contract is typed by it; an intermediate table (no contract) takes
    the query's own types on its first build."""
    query = load_sql(sql_name)
    params = {**params, "as_of_date": as_of_date}
    contract = output_contracts().get(table)
    con.execute("begin transaction")
    try:
        if contract is not None:
            ensure_contract_table(con, contract)
        if _table_exists(con, table):
            con.execute(f"delete from {q(table)} where as_of_date = $d", {"d": as_of_date})
            run(con, f"insert into {q(table)} by name {query}", params)
        else:
            run(con, f"create table {q(table)} as {query}", params)
        written = con.execute(f"select count(*) from {q(table)} where as_of_date = $d",
                              {"d": as_of_date}).fetchone()[0]
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return written
