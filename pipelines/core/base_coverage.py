"""Every customer of the base exactly once: the check a per-customer mart owes the CRM."""

from __future__ import annotations

import duckdb

from pipelines.core.contracts import quote_ident as q
from pipelines.core.engine import DateRange
from pipelines.core.sql import run


def base_coverage_failures(con: duckdb.DuckDBPyConnection, table: str, dates: DateRange) -> dict[str, int]:
    """Per business date of the range: customers known on the date (delivered on or before it)
    missing, unknown or repeated in `table`; keys "<date> <what>", failures only."""
    query = f"""
        with dates as (
            select unnest(generate_series($date_from::date, $date_to::date, interval 1 day))::date as as_of_date
        ),
        first_known as (
            select customer_id, min(business_date) as since from stg_customers
            where business_date <= $date_to group by customer_id
        ),
        base as (
            select d.as_of_date, k.customer_id
            from dates d join first_known k on k.since <= d.as_of_date
        ),
        mart as (
            select as_of_date, customer_id, count(*) as n from {q(table)}
            where as_of_date between $date_from and $date_to group by all
        ),
        final as (
            select
                coalesce(base.as_of_date, mart.as_of_date) as as_of_date,
                count(*) filter (where mart.customer_id is null) as missing,
                count(*) filter (where base.customer_id is null) as unknown,
                coalesce(sum(mart.n - 1) filter (where mart.n > 1), 0) as duplicated
            from base full join mart on mart.as_of_date = base.as_of_date and mart.customer_id = base.customer_id
            group by all
        )
        select * from final where missing + unknown + duplicated > 0 order by as_of_date
    """
    failures = {}
    for day, missing, unknown, duplicated in run(con, query, dates.params).fetchall():
        for what, n in (("base customers missing", missing), ("customers not in the base", unknown),
                        ("duplicate customer rows", duplicated)):
            if n:
                failures[f"{day} {what}"] = int(n)
    return failures
