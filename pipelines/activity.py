"""int_customer_activity of one business date: carried forward from the day before when that is safe.

Transactions are the heaviest input. Re-reading a year of them every night costs seconds at bank
scale, while the day before's windows per customer plus the transactions that crossed a window
edge today give the same rows in a fraction of that. The premise is that the day before was built
by the same query and rules from the staging as it is now, so every build records fingerprints of
both; a date whose day before does not match (the first date, a gap, a re-delivered or edited
date, changed rules or SQL) is computed in full from the transactions."""

from __future__ import annotations

import hashlib
import json
from datetime import date, timedelta

import duckdb

from pipelines.marts import replace_date
from pipelines.sql import load_sql, one, run

TABLE = "int_customer_activity"
SQL = "int/int_customer_activity"
RULE_PARAMS = ("rfm_window_days", "trend_window_days", "dormant_days", "counted_txn_types")

# The day before was built by this query and rules from the staging as it is now.
CAN_CARRY = """
select exists (
    select 1 from int_customer_activity_builds
    where as_of_date = $previous_date
      and rules_fingerprint = $rules_fingerprint
      and staging_fingerprint = $staging_fingerprint
      and rows = (select count(*) from int_customer_activity where as_of_date = $previous_date))
"""

# No account first delivered today can have transactions delivered before: there were none of
# accounts unknown yesterday (no null customer_id row), or no account is new today. The second
# part scans every account, so it runs only when the first fails.
HAS_ORPHANS = """
select exists (select 1 from int_customer_activity where as_of_date = $previous_date and customer_id is null)
"""
HAS_NEW_ACCOUNTS = """
select exists (select 1 from stg_accounts where business_date = $as_of_date
               and account_id not in (select account_id from stg_accounts where business_date < $as_of_date))
"""

RECORD_BUILD = """
insert into int_customer_activity_builds (as_of_date, method, rules_fingerprint, staging_fingerprint, rows)
values ($as_of_date, $method, $rules_fingerprint, $staging_fingerprint, $rows)
"""


def rules_fingerprint(params: dict) -> str:
    """The window rules and the query text: a change to either makes earlier rows non-carryable."""
    rules = json.dumps({k: params[k] for k in RULE_PARAMS}, sort_keys=True, default=str)
    return hashlib.sha256((rules + load_sql(SQL)).encode()).hexdigest()


def build_activity(con: duckdb.DuckDBPyConnection, as_of_date: date, params: dict) -> int:
    """Replace one date of int_customer_activity; return its row count."""
    con.execute(load_sql("int/int_customer_activity_ddl"))
    previous_date = as_of_date - timedelta(days=1)
    dates = {"as_of_date": as_of_date, "previous_date": previous_date}
    staged_before, staged = one(con, load_sql("int/activity_staging_fingerprint"), dates)
    fingerprints = {"rules_fingerprint": rules_fingerprint(params), "staging_fingerprint": staged_before}
    incremental = (bool(one(con, CAN_CARRY, {**dates, **fingerprints})[0])
                   and not (one(con, HAS_ORPHANS, dates)[0] and one(con, HAS_NEW_ACCOUNTS, dates)[0]))
    # The record goes first and comes back last: a build cut short leaves none, and the next date
    # then recomputes in full rather than carry rows of unknown origin.
    run(con, "delete from int_customer_activity_builds where as_of_date = $as_of_date", dates)
    rows = replace_date(con, TABLE, SQL, {**params, **dates, "incremental": incremental})
    run(con, RECORD_BUILD, {**dates, **fingerprints, "staging_fingerprint": staged, "rows": rows,
                            "method": "incremental" if incremental else "full"})
    return rows
