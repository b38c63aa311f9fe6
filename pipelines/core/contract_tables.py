"""Mart tables typed by their output contract before the first build.

A mart that reads its own earlier snapshot (previous segment, stage history) needs its table to
exist before its query first runs; creating it from the contract also pins every column to the
contract's type. A newer contract version's added columns are added in place."""

from __future__ import annotations

import duckdb

from pipelines.core.contracts import Contract, quote_ident as q
from pipelines.core.sql import run

DATE_COLUMN = "as_of_date"
# A single-column string key is unique within a date, so DICT_FSST (DuckDB's choice for strings)
# finds nothing to share, and its analysis is most of the cost of writing a 2 M-row date. ZSTD
# writes such a column in about half the CPU and into fewer blocks (docs/segmentation.md).
KEY_COMPRESSION = "zstd"


def _column_sql(contract: Contract, column) -> str:
    sql = f"{q(column.name)} {column.duckdb_type}"
    if contract.key == (column.name,) and column.duckdb_type == "varchar":
        sql += f" using compression {KEY_COMPRESSION}"
    return sql


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    # duckdb_columns() rather than information_schema.columns: the same rows, in half the time,
    # and this runs for every table on every date of a backfill.
    rows = run(con, "select column_name from duckdb_columns() "
                    "where table_name = $t and schema_name = current_schema() order by column_index",
               {"t": table}).fetchall()
    return [r[0] for r in rows]


def ensure_contract_table(con: duckdb.DuckDBPyConnection, contract: Contract) -> None:
    table = q(contract.entity)
    present = _columns(con, contract.entity)
    if not present:
        cols = [f"{q(DATE_COLUMN)} date not null", *(_column_sql(contract, c) for c in contract.columns)]
        statement = f"create table {table} ({', '.join(cols)})"
        con.execute(statement)
        return
    for c in contract.columns:
        if c.name not in present:
            statement = f"alter table {table} add column {q(c.name)} {c.duckdb_type}"
            con.execute(statement)
