"""int_customer_activity of one business date: carried forward from the day before when that is safe.

Transactions are the heaviest input. Re-reading a year of them every night costs seconds at bank
scale, while the day before's windows per customer plus the transactions that crossed a window
edge today give the same rows in a fraction of that. The premise is that the day before was built
by the same query and rules from the staging as it is now, so every build records fingerprints of
both; a date whose day before does not match (the first date, a gap, a re-delivered or edited
date, changed rules or SQL) is computed in full from the transactions.

An account that changes owner takes its windows with it. The windows of every account are kept
for the latest date built (int_account_activity_state), so that the night's cost follows the
night's delivery, not the length of the window: a move costs a lookup there, not a scan of a
year of transactions. A date rebuilt behind that state reads the moved accounts' transactions."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb

from pipelines.core.engine import count_date
from pipelines.core.sql import fingerprint, load_sql, one, run, transaction

TABLE = "int_customer_activity"
SQL = "int/customer/int_customer_activity"
ACCOUNT_SQL = "int/customer/int_account_activity"
# Every query whose text decides the rows: a change to one of them starts a new chain.
CHAIN_SQL = (SQL, ACCOUNT_SQL, "int/customer/int_account_activity_state_merge", "int/customer/int_account_activity_state_replace")
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

STATE_AS_OF = """
select max(as_of_date),
       bool_or(as_of_date = $previous_date and rules_fingerprint = $rules_fingerprint
               and staging_fingerprint = $staging_fingerprint)
from int_account_activity_state_as_of
"""
SET_STATE_AS_OF = """
insert into int_account_activity_state_as_of values ($as_of_date, $rules_fingerprint, $staging_fingerprint)
"""

RECORD_BUILD = """
insert into int_customer_activity_builds (as_of_date, method, rules_fingerprint, staging_fingerprint, rows)
values ($as_of_date, $method, $rules_fingerprint, $staging_fingerprint, $rows)
"""


def rules_fingerprint(params: dict) -> str:
    """The window rules and the query texts: a change to either makes earlier rows non-carryable."""
    return fingerprint({k: params[k] for k in RULE_PARAMS}, CHAIN_SQL)


def build_activity(con: duckdb.DuckDBPyConnection, as_of_date: date, params: dict, full: bool = False) -> int:
    """Replace one date of int_customer_activity; return its row count. `full` recomputes it from
    the transactions whatever the day before holds."""
    con.execute(load_sql("int/customer/int_customer_activity_ddl"))
    previous_date = as_of_date - timedelta(days=1)
    dates = {"as_of_date": as_of_date, "previous_date": previous_date}
    staged_before, staged = one(con, load_sql("int/customer/activity_staging_fingerprint"), dates)
    fingerprints = {"rules_fingerprint": rules_fingerprint(params), "staging_fingerprint": staged_before}
    carryable = not full and (bool(one(con, CAN_CARRY, {**dates, **fingerprints})[0])
                 and not (one(con, HAS_ORPHANS, dates)[0] and one(con, HAS_NEW_ACCOUNTS, dates)[0]))
    state_date, state_is_yesterday = one(con, STATE_AS_OF, {**dates, **fingerprints})
    behind_state = state_date is not None and as_of_date <= state_date
    account_state = carryable and bool(state_is_yesterday)
    # At the frontier a carry needs the state for owner changes, and must move it to today;
    # without it the date is computed in full, which sets the state afresh.
    incremental = account_state or (carryable and behind_state)
    refreshes_state = account_state or not (incremental or (state_date is not None and as_of_date < state_date))
    build = {**params, **dates, "incremental": incremental, "account_state": account_state}
    # The record goes first and comes back last: a build cut short leaves none, and the next date
    # then recomputes in full rather than carry rows of unknown origin.
    run(con, "delete from int_customer_activity_builds where as_of_date = $as_of_date", dates)
    with transaction(con):
        run(con, f"create or replace temp table activity_accounts_today as {load_sql(ACCOUNT_SQL)}", build)
        if refreshes_state:
            if not account_state:
                con.execute("delete from int_account_activity_state")
            name = "merge" if account_state else "replace"
            run(con, load_sql(f"int/customer/int_account_activity_state_{name}"), build)
            con.execute("delete from int_account_activity_state_as_of")
            run(con, SET_STATE_AS_OF, {**dates, **fingerprints, "staging_fingerprint": staged})
        run(con, f"delete from {TABLE} where as_of_date = $as_of_date", dates)
        run(con, f"insert into {TABLE} by name {load_sql(SQL)}", build)
        con.execute("drop table activity_accounts_today")
    rows = count_date(con, TABLE, as_of_date)
    run(con, RECORD_BUILD, {**dates, **fingerprints, "staging_fingerprint": staged, "rows": rows,
                            "method": "incremental" if incremental else "full"})
    return rows
