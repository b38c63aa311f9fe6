"""SQL lives in sql/*.sql; this only finds and reads it."""

import re
from contextlib import contextmanager
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"


@cache
def load_sql(name: str) -> str:
    """`load_sql("marts/customer/customer_rfm")` reads sql/marts/customer_rfm.sql."""
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def bind(query: str, params: dict) -> dict:
    """The subset of `params` a query names (DuckDB rejects unused named parameters)."""
    names = set(_PARAM.findall(query))
    missing = names - params.keys()
    if missing:
        raise KeyError(f"query needs parameters {sorted(missing)}")
    return {k: params[k] for k in names}


def run(con, query: str, params: dict | None = None):
    """Execute with named parameters, passing only those the query uses."""
    return con.execute(query, bind(query, params or {}))


def one(con, query: str, params: dict | None = None) -> tuple:
    """The single row of a query (fetched whole: DuckDB 2 keeps an unread result open)."""
    return run(con, query, params).fetchall()[0]


@contextmanager
def transaction(con):
    """One DuckDB transaction: committed when the block ends, rolled back when it raises."""
    con.execute("begin transaction")
    try:
        yield con
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
