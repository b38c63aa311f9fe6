"""Blocking checks of a date-keyed mart against its output contract, pushed into DuckDB.

Each check counts offending rows for one as_of_date; a non-zero count fails it. Values are
never returned, only counts, so no customer data reaches logs or Dagster metadata."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.contracts import Contract, quote_ident as q, quote_literal as lit


def _numeric(value: float) -> str:
    return repr(float(value))


def contract_failures(con: duckdb.DuckDBPyConnection, contract: Contract, as_of_date: date) -> dict[str, int]:
    """{check name: offending rows} for the key, required, allowed and min/max rules of the contract."""
    table = q(contract.entity)
    counts: list[tuple[str, str]] = []
    if contract.key:
        key = ", ".join(q(k) for k in contract.key)
        counts.append((f"unique key ({', '.join(contract.key)})",
                       f"(select coalesce(sum(n - 1), 0) from (select count(*) as n from {table} "
                       f"where as_of_date = $d group by {key}))"))
    for c in contract.columns:
        col = q(c.name)
        if c.required:
            counts.append((f"{c.name} not null", f"count(*) filter (where {col} is null)"))
        if c.allowed:
            values = ", ".join(lit(v) for v in c.allowed)
            counts.append((f"{c.name} in allowed values",
                           f"count(*) filter (where {col} is not null and {col} not in ({values}))"))
        if c.min is not None:
            counts.append((f"{c.name} >= {c.min:g}", f"count(*) filter (where {col} < {_numeric(c.min)})"))
        if c.max is not None:
            counts.append((f"{c.name} <= {c.max:g}", f"count(*) filter (where {col} > {_numeric(c.max)})"))
    select = ", ".join(expr for _, expr in counts)
    values = con.execute(f"select {select} from {table} where as_of_date = $d", {"d": as_of_date}).fetchone()
    return {name: int(v) for (name, _), v in zip(counts, values)}


def base_coverage_failures(con: duckdb.DuckDBPyConnection, table: str, as_of_date: date) -> dict[str, int]:
    """Every customer known on the date (delivered on or before it) present exactly once."""
    row = con.execute(
        f"""
        with base as (
            select distinct customer_id from stg_customers where business_date <= $d
        ),
        mart as (
            select customer_id, count(*) as n from {q(table)} where as_of_date = $d group by customer_id
        )
        select
            count(*) filter (where mart.customer_id is null) as missing,
            count(*) filter (where base.customer_id is null) as unknown,
            coalesce(sum(mart.n - 1) filter (where mart.n > 1), 0) as duplicated
        from base full join mart using (customer_id)
        """,
        {"d": as_of_date},
    ).fetchone()
    return {"base customers missing": int(row[0]), "customers not in the base": int(row[1]),
            "duplicate customer rows": int(row[2])}
