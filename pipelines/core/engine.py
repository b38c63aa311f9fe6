"""The engine: a run's business dates as one range, and the write every mart shares: replace the
range's rows of a table with what its SQL computes over the whole range, in one statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from pipelines.core.contracts import quote_ident as q
from pipelines.core.sql import load_sql, one, run, transaction


@dataclass(frozen=True)
class DateRange:
    """The business dates of a run, both ends included; one date is a range of one."""

    first: date
    last: date

    def __post_init__(self):
        if self.last < self.first:
            raise ValueError(f"date range ends ({self.last}) before it starts ({self.first})")

    @classmethod
    def of(cls, dates) -> "DateRange":
        dates = sorted(dates)
        return cls(dates[0], dates[-1])

    @property
    def params(self) -> dict:
        """The SQL parameters naming the range: every range query reads `$date_from` and `$date_to`."""
        return {"date_from": self.first, "date_to": self.last}

    @property
    def days(self) -> list[date]:
        return [self.first + timedelta(days=i) for i in range(len(self))]

    def __len__(self) -> int:
        return (self.last - self.first).days + 1

    def __str__(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}..{self.last}"


def replace_range(con: duckdb.DuckDBPyConnection, table: str, sql_name: str, params: dict,
                  dates: DateRange) -> int:
    """Run sql/<sql_name>.sql over `dates` into `table`, replacing those dates; rows written.

    The query returns an `as_of_date` column; the table is created from its shape on first use."""
    query = load_sql(sql_name)
    target = q(table)
    params = {**params, **dates.params}
    with transaction(con):
        if not table_exists(con, table):
            run(con, f"create table {target} as select * from ({query}) limit 0", params)
        run(con, f"delete from {target} where as_of_date between $date_from and $date_to", params)
        run(con, f"insert into {target} by name {query}", params)
    return count_range(con, table, dates)


def table_exists(con: duckdb.DuckDBPyConnection, table: str) -> bool:
    query = ("select count(*) > 0 from duckdb_tables() where table_name = $t "
             "and schema_name = current_schema() and database_name = current_database()")
    return one(con, query, {"t": table})[0]


def count_range(con: duckdb.DuckDBPyConnection, table: str, dates: DateRange, date_column: str = "as_of_date") -> int:
    query = f"select count(*) from {q(table)} where {q(date_column)} between $date_from and $date_to"
    return one(con, query, dates.params)[0]


def distribution_markdown(con: duckdb.DuckDBPyConnection, table: str, column: str, as_of_date: date,
                          date_column: str = "as_of_date") -> str:
    """A `value | rows` markdown table of one date of a table, for asset metadata."""
    query = (f"select coalesce({q(column)}::varchar, '(null)') as v, count(*) as n from {q(table)} "
             f"where {q(date_column)} = $as_of_date group by all order by n desc, v")
    rows = run(con, query, {"as_of_date": as_of_date}).fetchall()
    return "\n".join([f"| {column} | rows |", "|---|---:|", *(f"| {v} | {n} |" for v, n in rows)])

