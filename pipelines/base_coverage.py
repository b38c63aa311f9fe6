"""Every customer of the base exactly once: the check a per-customer mart owes the CRM."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.contracts import quote_ident as q
from pipelines.sql import one


def base_coverage_failures(con: duckdb.DuckDBPyConnection, table: str, as_of_date: date) -> dict[str, int]:
    """Customers known on the date (delivered on or before it) missing, unknown or repeated in `table`."""
    query = f"""
        with base as (
            select distinct customer_id from stg_customers where business_date <= $as_of_date
        ),
        mart as (
            select customer_id, count(*) as n from {q(table)} where as_of_date = $as_of_date group by customer_id
        )
        select
            count(*) filter (where mart.customer_id is null),
            count(*) filter (where base.customer_id is null),
            coalesce(sum(mart.n - 1) filter (where mart.n > 1), 0)
        from base full join mart on mart.customer_id = base.customer_id
    """
    missing, unknown, duplicated = one(con, query, {"as_of_date": as_of_date})
    return {"base customers missing": int(missing), "customers not in the base": int(unknown),
            "duplicate customer rows": int(duplicated)}
