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

from pipelines.activity import SQL, build_activity
from pipelines.config import load_rules
from pipelines.segmentation import params_for
from pipelines.sql import load_sql, one, run
from tests.segmentation_kit import EPOCH, account, customer, insert, rows, txn, warehouse

FIRST = date(2024, 3, 1)
NIGHTS = 30
TYPES = ["card_purchase", "deposit", "transfer_out", "fee", "interest"]  # the last two are not counted


def params(**windows) -> dict:
    rules = copy.deepcopy(load_rules())
    rules["rfm"]["window_days"] = windows.get("rfm", 30)
    rules["lifecycle"]["trend_window_days"] = windows.get("trend", 7)
    rules["lifecycle"]["dormant_days"] = windows.get("dormant", 20)
    return params_for(rules)


def full_rows(con, day: date, p: dict) -> list[tuple]:
    query = f"select * from ({load_sql(SQL)}) order by customer_id"
    return run(con, query, {**p, "as_of_date": day, "previous_date": day - timedelta(days=1),
                            "incremental": False}).fetchall()


def built_rows(con, day: date) -> list[tuple]:
    return con.execute("select * from int_customer_activity where as_of_date = $d order by customer_id",
                       {"d": day}).fetchall()


def method(con, day: date) -> str:
    return one(con, "select method from int_customer_activity_builds where as_of_date = $d", {"d": day})[0]


def random_staging(con, seed: int) -> None:
    """Thirty customers, forty accounts, 800 transactions over the windows before and during the nights."""
    rng = random.Random(seed)
    customers = [f"C{k:02d}" for k in range(30)]
    insert(con, "stg_customers", [customer(c) for c in customers], EPOCH)
    owners = {f"A{k:02d}": rng.choice(customers) for k in range(40)}
    insert(con, "stg_accounts", [account(a, c) for a, c in owners.items()], EPOCH)
    nights = [FIRST + timedelta(days=n) for n in range(NIGHTS)]
    by_delivery: dict[date, list[dict]] = {}
    for i in range(800):
        day = FIRST + timedelta(days=rng.randrange(-70, NIGHTS))
        # Most land on their own day, some days or weeks late, a few a day early (ingestion would
        # quarantine a timestamp after its business date; staging written by hand can hold one).
        delivered = day + timedelta(days=rng.choice([0] * 12 + [1, 3, 15, rng.randrange(5, 30), -1]))
        acct = rng.choice(list(owners)) if rng.random() < 0.9 else f"N{rng.randrange(8)}"
        by_delivery.setdefault(max(delivered, FIRST - timedelta(days=70)), []).append(
            txn(f"T{i}", acct, day, round(rng.uniform(1, 500), 2), rng.choice(TYPES)))
    for delivered, batch in by_delivery.items():
        insert(con, "stg_transactions", batch, delivered)
    # During the nights: accounts move to another owner, new accounts appear (some with
    # transactions delivered before them), and accounts are re-delivered with the same owner.
    for night in nights[3::4]:
        moved = rng.sample(sorted(owners), 3)
        changes = [account(a, rng.choice(customers)) for a in moved]
        changes.append(account(moved[0], owners[moved[0]]))  # same day, a later line: back to the first owner
        changes.append(account(f"N{rng.randrange(8)}", rng.choice(customers)))
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
        assert method(con, day) == ("full" if n == 0 else "incremental"), day
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
    build_activity(con, days[2], p)               # backfill of a date in the middle
    assert method(con, days[2]) == "incremental"
    build_activity(con, days[0], p)
    assert method(con, days[0]) == "full"
    assert {day: built_rows(con, day) for day in days} == nightly
    # Records and rows of the table: one per built date.
    assert rows(con, "select as_of_date, method from int_customer_activity_builds order by 1") == [
        {"as_of_date": days[0], "method": "full"}, *({"as_of_date": d, "method": "incremental"} for d in days[1:])]
