"""int_customer_activity built over a range of dates in one call equals the plain computation of
each date on its own, on random hand-made staging with every case the range query must get
right: transactions on each window edge, late and early deliveries, uncounted types, accounts
changing owner, new accounts, accounts with transactions before their first delivery, and
deliveries re-done after the fact. The range may be split anywhere, or a date rebuilt alone,
with the same rows."""

from __future__ import annotations

import copy
import random
from datetime import date, timedelta

import pytest

from pipelines.customer.activity import build_activity
from pipelines.core.config import load_rules
from pipelines.core.engine import DateRange
from pipelines.customer.segmentation import params_for
from pipelines.core.sql import one, run
from tests.kit.warehouse import EPOCH, account, customer, insert, txn, warehouse

FIRST = date(2024, 3, 1)
NIGHTS = 30
NIGHT = [FIRST + timedelta(days=n) for n in range(NIGHTS)]
LAST = NIGHT[-1]
ORPHAN_NIGHT = NIGHT[12]
TYPES = ["card_purchase", "deposit", "transfer_out", "fee", "interest"]  # the last two are not counted

# The windows of one date straight from their definition: each counted transaction delivered by
# the date, for the owner of its account on the date (its latest delivered row), nobody before.
PLAIN_DATE = """
with owners as (
    select account_id, customer_id from stg_accounts where business_date <= $d
    qualify row_number() over (partition by account_id order by business_date desc, _line desc) = 1
),
seen as (
    select account_id, txn_ts::date as day, amount_reporting as amount
    from stg_transactions
    where business_date <= $d and txn_ts::date <= $d and list_contains($types, txn_type)
      and txn_ts::date > $d - greatest($rfm, 2 * $trend, $dormant)
)
select $d as as_of_date, o.customer_id,
       max(day) filter (where day > $d - $rfm) as last_txn_day,
       date_diff('day', max(day) filter (where day > $d - $rfm), $d) as recency_days,
       count(*) filter (where day > $d - $rfm) as frequency,
       coalesce(sum(amount) filter (where day > $d - $rfm), 0)::decimal(18, 2) as monetary_amount,
       count(*) filter (where day > $d - $trend) as txn_count_recent,
       count(*) filter (where day > $d - 2 * $trend and day <= $d - $trend) as txn_count_prior,
       count(*) filter (where day > $d - $dormant) as txn_count_dormancy
from seen s left join owners o using (account_id)
group by o.customer_id
order by customer_id
"""


def params(**windows) -> dict:
    rules = copy.deepcopy(load_rules())
    rules["rfm"]["window_days"] = windows.get("rfm", 30)
    rules["lifecycle"]["trend_window_days"] = windows.get("trend", 7)
    rules["lifecycle"]["dormant_days"] = windows.get("dormant", 20)
    return params_for(rules)


def plain_rows(con, day: date, p: dict) -> list[tuple]:
    return run(con, PLAIN_DATE, {"d": day, "types": p["counted_txn_types"], "rfm": p["rfm_window_days"],
                                 "trend": p["trend_window_days"], "dormant": p["dormant_days"]}).fetchall()


def built_rows(con, day: date) -> list[tuple]:
    return con.execute("select * from int_customer_activity where as_of_date = $d order by customer_id",
                       {"d": day}).fetchall()


def all_rows(con) -> list[tuple]:
    return con.execute("select * from int_customer_activity order by as_of_date, customer_id").fetchall()


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
def test_a_range_in_one_call_equals_the_plain_computation_of_every_date(tmp_path, seed, windows):
    con = warehouse(tmp_path)
    random_staging(con, seed)
    p = params(**windows)
    written = build_activity(con, DateRange(FIRST, LAST), p)
    assert written == one(con, "select count(*) from int_customer_activity")[0]
    for day in NIGHT:
        assert built_rows(con, day) == plain_rows(con, day, p), day
    assert len(built_rows(con, LAST)) > 15
    # The orphans' transactions: a null customer_id row before their accounts arrive, none after.
    assert one(con, "select count(*) from int_customer_activity where customer_id is null and as_of_date < $d",
               {"d": ORPHAN_NIGHT})[0] > 0


@pytest.mark.parametrize("seed", [4, 5])
def test_date_by_date_and_any_split_of_the_range_give_the_same_rows(tmp_path, seed):
    con = warehouse(tmp_path)
    random_staging(con, seed)
    p = params()
    build_activity(con, DateRange(FIRST, LAST), p)
    whole = all_rows(con)
    con.execute("delete from int_customer_activity")
    for day in NIGHT:
        build_activity(con, DateRange(day, day), p)
    assert all_rows(con) == whole
    con.execute("delete from int_customer_activity")
    cuts = sorted(random.Random(seed).sample(range(1, NIGHTS), 4))
    for lo, hi in zip([0, *cuts], [*cuts, NIGHTS]):
        build_activity(con, DateRange(NIGHT[lo], NIGHT[hi - 1]), p)
    assert all_rows(con) == whole


def test_a_rebuilt_date_or_subrange_replaces_only_its_rows_and_follows_redelivered_staging(tmp_path):
    con = warehouse(tmp_path)
    random_staging(con, 6)
    p = params()
    build_activity(con, DateRange(FIRST, LAST), p)
    nightly = all_rows(con)
    build_activity(con, DateRange(NIGHT[7], NIGHT[7]), p)
    build_activity(con, DateRange(NIGHT[10], NIGHT[20]), p)
    assert all_rows(con) == nightly
    # A date's transactions re-delivered with other amounts, and a later part of the range re-run:
    # those dates follow the new staging, the dates before keep theirs.
    con.execute("update stg_transactions set amount_reporting = amount_reporting * 2, _run_id = 'redelivery' "
                "where business_date = $d", {"d": NIGHT[15]})
    build_activity(con, DateRange(NIGHT[15], LAST), p)
    for day in NIGHT[15:]:
        assert built_rows(con, day) == plain_rows(con, day, p), day
    assert all_rows(con)[:len([r for r in nightly if r[0] < NIGHT[15]])] == [r for r in nightly if r[0] < NIGHT[15]]
    assert built_rows(con, NIGHT[20]) != [r for r in nightly if r[0] == NIGHT[20]]


def test_other_window_rules_give_other_rows_and_old_carry_forward_tables_are_dropped(tmp_path):
    con = warehouse(tmp_path)
    random_staging(con, 7)
    con.execute("create table int_account_activity_state (account_id varchar)")
    con.execute("create table int_customer_activity_builds (as_of_date date)")
    build_activity(con, DateRange(FIRST, LAST), params())
    other = params(rfm=31)
    build_activity(con, DateRange(FIRST, LAST), other)
    for day in NIGHT[::5]:
        assert built_rows(con, day) == plain_rows(con, day, other), day
    left = one(con, "select count(*) from duckdb_tables() where table_name in "
                    "('int_account_activity_state', 'int_account_activity_state_as_of', 'int_customer_activity_builds')")
    assert left == (0,)
