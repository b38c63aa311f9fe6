"""int_customer_activity over a range of business dates, in one set-based query.

The windows of every account are computed directly on the range's first date, then moved through
the range by the transactions entering and leaving each window (sql/int/customer/int_customer_activity.sql):
a night reads one window of transactions once, a backfill of a year reads a year and a window
once. This replaced a per-date carry-forward (a per-account window state and fingerprints of the
staging it was built from), which the range query makes unnecessary."""

from __future__ import annotations

import duckdb

from pipelines.core.engine import DateRange, replace_range
from pipelines.core.sql import load_sql

TABLE = "int_customer_activity"
SQL = "int/customer/int_customer_activity"


def build_activity(con: duckdb.DuckDBPyConnection, dates: DateRange, params: dict) -> int:
    """Replace the range's rows of int_customer_activity; return their count."""
    # Created typed first (a zstd key), and the carry-forward tables of older warehouses dropped.
    con.execute(load_sql("int/customer/int_customer_activity_ddl"))
    return replace_range(con, TABLE, SQL, params, dates)
