"""Writing one business date of a mart: replace that date's rows, nothing else."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.contracts import quote_ident as q
from pipelines.sql import load_sql, one, run, transaction


def replace_date(con: duckdb.DuckDBPyConnection, table: str, sql_name: str, params: dict) -> int:
    """Run sql/<sql_name>.sql for params['as_of_date'] into `table`; return the date's row count.

    The query returns an `as_of_date` column; the table is created from its shape on first use."""
    query = load_sql(sql_name)
    target = q(table)
    with transaction(con):
        # Planning the whole query only to learn its shape costs more than the date's insert on
        # small dates, on every date of a backfill: only a missing table is created from it.
        if not table_exists(con, table):
            run(con, f"create table {target} as select * from ({query}) limit 0", params)
        run(con, f"delete from {target} where as_of_date = $as_of_date", params)
        run(con, f"insert into {target} by name {query}", params)
    return count_date(con, table, params["as_of_date"])


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    query = ("select count(*) > 0 from duckdb_tables() where table_name = $t "
             "and schema_name = current_schema() and database_name = current_database()")
    return one(con, query, {"t": table})[0]


def count_date(con: duckdb.DuckDBPyConnection, table: str, as_of_date: date) -> int:
    query = f"select count(*) from {q(table)} where as_of_date = $as_of_date"
    return one(con, query, {"as_of_date": as_of_date})[0]


def distribution_markdown(con: duckdb.DuckDBPyConnection, table: str, column: str, as_of_date: date,
                          date_column: str = "as_of_date") -> str:
    """A `value | rows` markdown table of one date of a table, for asset metadata."""
    query = (f"select coalesce({q(column)}::varchar, '(null)') as v, count(*) as n from {q(table)} "
             f"where {q(date_column)} = $as_of_date group by all order by n desc, v")
    rows = run(con, query, {"as_of_date": as_of_date}).fetchall()
    return "\n".join([f"| {column} | rows |", "|---|---:|", *(f"| {v} | {n} |" for v, n in rows)])
