"""int_customer_activity carried forward date by date equals the full computation of each date,
on random hand-made staging with every case the carry must get right: transactions on each
window edge, late deliveries, uncounted types, accounts changing owner, new accounts, and
deliveries re-done after the fact. And it falls back to the full computation exactly when
its premise (same rules, same staging as the day before was built from) does not hold."""

from __future__ import annotations

import copy
import random
from datetime import date, timedelta

import pytest

from pipelines.customer.activity import ACCOUNT_SQL, SQL, build_activity
from pipelines.core.config import load_rules
from pipelines.customer.segmentation import params_for
from pipelines.core.sql import load_sql, one, run
from tests.kit.warehouse import EPOCH, account, customer, insert, rows, txn, warehouse

FIRST = date(2024, 3, 1)
NIGHTS = 30
NIGHT = [FIRST + timedelta(days=n) for n in range(NIGHTS)]
ORPHAN_NIGHT = NIGHT[12]
TYPES = ["card_purchase", "deposit", "transfer_out", "fee", "interest"]  # the last two are not counted


def params(**windows) -> dict:
    rules = copy.deepcopy(load_rules())
    rules["rfm"]["window_days"] = windows.get("rfm", 30)
    rules["lifecycle"]["trend_window_days"] = windows.get("trend", 7)
    rules["lifecycle"]["dormant_days"] = windows.get("dormant", 20)
    return params_for(rules)


def full_params(day: date, p: dict) -> dict:
    return {**p, "as_of_date": day, "previous_date": day - timedelta(days=1), "incremental": False,
            "account_state": False}


def full_account_rows(con, day: date, p: dict) -> list[tuple]:
    query = f"select * from ({load_sql(ACCOUNT_SQL)}) order by account_id"
    return run(con, query, full_params(day, p)).fetchall()


def full_rows(con, day: date, p: dict) -> list[tuple]:
    run(con, f"create or replace temp table activity_accounts_today as {load_sql(ACCOUNT_SQL)}", full_params(day, p))
    query = f"select * from ({load_sql(SQL)}) order by customer_id"
    result = run(con, query, full_params(day, p)).fetchall()
    con.execute("drop table activity_accounts_today")
    return result


def state_rows(con) -> list[tuple]:
    return con.execute("select * from int_account_activity_state order by account_id").fetchall()


def state_date(con) -> date:
    return one(con, "select max(as_of_date) from int_account_activity_state_as_of")[0]


def built_rows(con, day: date) -> list[tuple]:
    return con.execute("select * from int_customer_activity where as_of_date = $d order by customer_id",
                       {"d": day}).fetchall()


def method(con, day: date) -> str:
    return one(con, "select method from int_customer_activity_builds where as_of_date = $d", {"d": day})[0]


def random_staging(con, seed: int) -> None:
    """Thirty customers, forty accounts at the start and ten more during the nights, 800 transactions."""
    rng = random.Random(seed)
    customers = [f"C{k:02d}" for k in range(30)]
    insert(con, "stg_customers", [customer(c) for c in customers], EPOCH)
    insert(con, "stg_accounts", [account(f"A{k:02d}", rng.choice(customers)) for k in range(40)], EPOCH)
    # New accounts: M* first delivered on a night, their transactions from then on; N* have
    # transactions before they are delivered (on ORPHAN_NIGHT), which only staging written past
    # ingestion can hold.
    opened = {f"M{k}": NIGHT[15 + 3 * k] for k in range(5)}
    orphans = [f"N{k}" for k in range(4)]
    by_delivery: dict[date, list[dict]] = {}
    for i in range(800):
        day = FIRST + timedelta(days=rng.randrange(-70, NIGHTS))
        kind = rng.random()
        if kind < 0.85:
            acct = f"A{rng.randrange(40):02d}"
        elif kind < 0.92:
            acct = rng.choice(orphans)
        else:
            acct = rng.choice(list(opened))
            day = max(day, opened[acct])
        # Most land on their own day, some days or weeks late, a few a day early (ingestion would
        # quarantine a timestamp after its business date; staging written by hand can hold one).
        delivered = day + timedelta(days=rng.choice([0] * 12 + [1, 3, 15, rng.randrange(5, 30), -1]))
        if acct in opened:
            delivered = max(delivered, opened[acct])
        by_delivery.setdefault(delivered, []).append(
            txn(f"T{i}", acct, day, round(rng.uniform(1, 500), 2), rng.choice(TYPES)))
    for delivered, batch in by_delivery.items():
        insert(con, "stg_transactions", batch, delivered)
    for acct, night in opened.items():
        insert(con, "stg_accounts", [account(acct, rng.choice(customers))], night)
    insert(con, "stg_accounts", [account(a, rng.choice(customers)) for a in orphans], ORPHAN_NIGHT)
    # Accounts move to another owner (one of them back to the first owner on a later line of the
    # same delivery), or are re-delivered with the same owner.
    for night in NIGHT[3::4]:
        moved = rng.sample([f"A{k:02d}" for k in range(40)], 3)
        first_owner = one(con, "select arg_max(customer_id, business_date) from stg_accounts where account_id = $a",
                          {"a": moved[0]})[0]
        changes = [account(a, rng.choice(customers)) for a in moved] + [account(moved[0], first_owner)]
        insert(con, "stg_accounts", changes, night)


@pytest.mark.parametrize(("seed", "windows"), [
    (1, {}),                                      # RFM window the longest
    (2, {"rfm": 15, "trend": 9, "dormant": 25}),  # dormancy the longest, trend windows longer than RFM
    (3, {"rfm": 20, "trend": 10, "dormant": 20}),  # windows sharing edges
])
def test_carried_forward_equals_the_full_computation_every_night(tmp_path, seed, windows):
    con = warehouse(tmp_path)
    random_staging(con, seed)
    p = params(**windows)
    for n in range(NIGHTS):
        day = FIRST + timedelta(days=n)
        build_activity(con, day, p)
        assert built_rows(con, day) == full_rows(con, day, p), day
        # The account state moved to the night, with every account's windows as computed in full.
        assert state_date(con) == day
        assert state_rows(con) == full_account_rows(con, day, p), day
        # Computed in full: the first night, and the night accounts with earlier transactions arrive.
        assert method(con, day) == ("full" if day in (FIRST, ORPHAN_NIGHT) else "incremental"), day
    assert len(built_rows(con, day)) > 15


def test_changed_staging_rules_or_a_gap_make_the_next_date_recompute(tmp_path):
    con = warehouse(tmp_path)
    random_staging(con, 4)
    p = params()
    days = [FIRST + timedelta(days=n) for n in range(8)]
    for day in days[:3]:
        build_activity(con, day, p)
    # An earlier date re-delivered (a new load run), or edited in place: not carried forward.
    con.execute("update stg_transactions set _run_id = 'reload' where business_date = $d",
                {"d": days[0] - timedelta(days=5)})
    build_activity(con, days[3], p)
    assert method(con, days[3]) == "full"
    con.execute("update stg_transactions set amount_reporting = amount_reporting + 1 "
                "where txn_id = (select min(txn_id) from stg_transactions where business_date <= $d)", {"d": days[3]})
    build_activity(con, days[4], p)
    assert method(con, days[4]) == "full"
    assert built_rows(con, days[4]) == full_rows(con, days[4], p)
    build_activity(con, days[5], p)
    assert method(con, days[5]) == "incremental"
    # Other window rules: the day before's rows do not apply.
    other = params(rfm=31)
    build_activity(con, days[6], other)
    assert method(con, days[6]) == "full"
    # A gap: the day before was never built.
    build_activity(con, days[7] + timedelta(days=1), other)
    assert method(con, days[7] + timedelta(days=1)) == "full"
    # The day before's rows were removed behind the record's back.
    con.execute("delete from int_customer_activity where as_of_date = $d and customer_id = 'C00'", {"d": days[5]})
    build_activity(con, days[6], p)
    assert method(con, days[6]) == "full"


def test_a_rebuilt_earlier_date_is_the_nightly_answer_and_keeps_later_dates_carryable(tmp_path):
    con = warehouse(tmp_path)
    random_staging(con, 5)
    p = params()
    days = [FIRST + timedelta(days=n) for n in range(5)]
    for day in days:
        build_activity(con, day, p)
    nightly = {day: built_rows(con, day) for day in days}
    state = state_rows(con)
    build_activity(con, days[2], p)               # backfill of a date in the middle
    assert method(con, days[2]) == "incremental"
    build_activity(con, days[0], p)
    assert method(con, days[0]) == "full"
    assert {day: built_rows(con, day) for day in days} == nightly
    # Dates behind the account state leave it as the latest night left it.
    assert (state_date(con), state_rows(con)) == (days[4], state)
    # Records and rows of the table: one per built date.
    assert rows(con, "select as_of_date, method from int_customer_activity_builds order by 1") == [
        {"as_of_date": days[0], "method": "full"}, *({"as_of_date": d, "method": "incremental"} for d in days[1:])]


def test_a_redelivered_latest_date_is_carried_and_the_next_night_resets_the_account_state(tmp_path):
    con = warehouse(tmp_path)
    random_staging(con, 6)
    p = params()
    days = [FIRST + timedelta(days=n) for n in range(4)]
    for day in days[:3]:
        build_activity(con, day, p)
    # The latest date's transactions re-delivered with other amounts, and the date re-run.
    con.execute("update stg_transactions set amount_reporting = amount_reporting * 2, _run_id = 'redelivery' "
                "where business_date = $d", {"d": days[2]})
    build_activity(con, days[2], p)
    assert method(con, days[2]) == "incremental"
    assert built_rows(con, days[2]) == full_rows(con, days[2], p)
    # The account state was built from the first delivery: the next night does not trust it.
    build_activity(con, days[3], p)
    assert method(con, days[3]) == "full"
    assert built_rows(con, days[3]) == full_rows(con, days[3], p)
    assert (state_date(con), state_rows(con)) == (days[3], full_account_rows(con, days[3], p))
