"""The whole segmentation chain built over a range in one call equals building it date by date
in order, on random hand-made staging whose customers change stage, segment, tier and owner
inside the range: customers and accounts arriving and closing, balances in two currencies
(fx rates re-delivered), feedback re-delivered, a first date with no customer yet. And the
"latest earlier snapshot" of the range's first date (previous segment, previous stage, stage
since) comes from the table's rows before the range, whatever the gap."""

from __future__ import annotations

import copy
import random
from datetime import datetime, timedelta

import pytest

from pipelines.core.config import load_rules
from pipelines.core.engine import DateRange
from pipelines.customer.segmentation import build_customer_360, build_date, build_segmentation
from tests.customer.test_activity_range import FIRST, NIGHT, NIGHTS, random_staging
from tests.kit.warehouse import EPOCH, account, balance, customer, insert, rows, txn, warehouse

LAST = NIGHT[-1]
TABLES = ("int_customer_activity", "int_customer_day", "customer_rfm", "segment_migration", "customer_lifecycle",
          "customer_360")


def short_rules() -> dict:
    """Windows short enough for stages and segments to change inside a month."""
    rules = copy.deepcopy(load_rules())
    rules["rfm"]["window_days"] = 30
    rules["lifecycle"].update(trend_window_days=7, dormant_days=20, new_tenure_days=10, trend_min_prior_txns=1,
                              trend_min_prior_aum=1)
    return rules


def more_staging(con, seed: int) -> None:
    rng = random.Random(seed)
    # Late customers (known from their delivery), one of them closing, onboarded inside the range.
    late = [f"L{k}" for k in range(6)]
    for k, c in enumerate(late):
        night = NIGHT[2 + 4 * k]
        insert(con, "stg_customers", [customer(c, onboard_date=night - timedelta(days=rng.randrange(0, 15)))], night)
        insert(con, "stg_accounts", [account(f"LA{k}", c, "SV001", open_date=night)], night)
        insert(con, "stg_transactions", [txn(f"LT{k}_{i}", f"LA{k}", night + timedelta(days=i), 50.0 * (i + 1))
                                         for i in range(0, NIGHTS - 2 - 4 * k, 3)], LAST)
    insert(con, "stg_customers", [customer("L0", status="closed")], NIGHT[20])
    insert(con, "stg_accounts", [account("A03", "C03", status="closed", close_date=NIGHT[9])], NIGHT[9])
    # Balances: savings and a USD account, carried forward, some delivered late.
    usd = [account(f"U{k}", f"C{k:02d}", "SV001", currency="USD") for k in range(5)]
    insert(con, "stg_accounts", usd, EPOCH)
    insert(con, "stg_fx_rates", [{"currency": "USD", "rate_date": FIRST - timedelta(days=30), "rate_to_reporting": 7.1}],
           FIRST - timedelta(days=30))
    for n in (5, 12, 19):
        insert(con, "stg_fx_rates", [{"currency": "USD", "rate_date": NIGHT[n], "rate_to_reporting": 7.0 + n / 100}],
               NIGHT[n + 1])
    for n in range(-10, NIGHTS, 2):
        day = FIRST + timedelta(days=n)
        amounts = [rng.choice([0, 5_000, 60_000, 600_000, 6_000_000]) for _ in range(45)]
        batch = [balance(f"A{k:02d}", day, float(a)) for k, a in enumerate(amounts[:40])]
        batch += [balance(f"U{k}", day, float(a), float(a) * 7) for k, a in enumerate(amounts[40:])]
        insert(con, "stg_balances", batch, day + timedelta(days=rng.choice([0, 0, 1, 3])))
    # Feedback: NPS answers and complaints, a complaint re-delivered resolved.
    at = lambda d: datetime.combine(d, datetime.min.time()) + timedelta(hours=9)  # noqa: E731
    fb = [{"feedback_id": f"N{i}", "customer_id": f"C{rng.randrange(30):02d}", "kind": "nps",
           "score": rng.randrange(11), "feedback_ts": at(FIRST + timedelta(days=rng.randrange(-40, NIGHTS)))}
          for i in range(25)]
    fb += [{"feedback_id": f"K{i}", "customer_id": f"C{i:02d}", "kind": "complaint", "status": "open",
            "feedback_ts": at(NIGHT[i])} for i in range(8)]
    insert(con, "stg_feedback", fb, EPOCH)
    insert(con, "stg_feedback", [{"feedback_id": "K1", "customer_id": "C01", "kind": "complaint",
                                  "status": "resolved", "feedback_ts": at(NIGHT[1]), "resolved_ts": at(NIGHT[6])}],
           NIGHT[6])


def staged(tmp_path, seed: int):
    tmp_path.mkdir()
    con = warehouse(tmp_path)
    random_staging(con, seed)
    more_staging(con, seed)
    return con


def snapshot(con) -> dict[str, list[tuple]]:
    return {t: con.execute(f"select * from {t} order by all").fetchall() for t in TABLES}


def build(con, dates: DateRange, rules: dict) -> None:
    build_segmentation(con, dates, rules)
    build_customer_360(con, dates, rules)


@pytest.mark.parametrize("seed", [1, 2])
def test_one_call_over_the_range_equals_building_it_date_by_date(tmp_path, seed):
    rules = short_rules()
    by_date = staged(tmp_path / "a", seed)
    for day in [FIRST - timedelta(days=1), *NIGHT]:
        build_date(by_date, day, rules)
    expected = snapshot(by_date)
    # Something to compare: stages, segments and owners change inside the range.
    assert len({r[0] for r in expected["customer_lifecycle"]}) == NIGHTS + 1
    assert rows(by_date, "select count(*) as n from customer_lifecycle where stage_since > $d",
                {"d": FIRST})[0]["n"] > 10
    assert rows(by_date, "select count(*) as n from customer_rfm where previous_segment <> segment")[0]["n"] > 5
    whole = staged(tmp_path / "b", seed)
    build(whole, DateRange(FIRST - timedelta(days=1), LAST), rules)
    assert snapshot(whole) == expected
    split = staged(tmp_path / "c", seed)
    for lo, hi in ((FIRST - timedelta(days=1), NIGHT[0]), (NIGHT[1], NIGHT[17]), (NIGHT[18], LAST)):
        build(split, DateRange(lo, hi), rules)
    assert snapshot(split) == expected
    # A date or a stretch rebuilt inside the range: the same rows.
    build(split, DateRange(NIGHT[9], NIGHT[9]), rules)
    build(split, DateRange(NIGHT[3], NIGHT[12]), rules)
    assert snapshot(split) == expected


def test_the_range_is_seeded_from_the_latest_earlier_snapshot_before_it(tmp_path):
    rules = short_rules()
    by_date = staged(tmp_path / "a", 3)
    days = [NIGHT[0], NIGHT[4], *NIGHT[10:16]]     # gaps: the earlier snapshot is not the day before
    for day in days:
        build_date(by_date, day, rules)
    expected = snapshot(by_date)
    ranged = staged(tmp_path / "b", 3)
    build(ranged, DateRange(NIGHT[0], NIGHT[0]), rules)
    build(ranged, DateRange(NIGHT[4], NIGHT[4]), rules)
    build(ranged, DateRange(NIGHT[10], NIGHT[15]), rules)   # seeded from NIGHT[4]
    assert snapshot(ranged) == expected
    # Customers new since the seed have no previous segment; the others carry the seed's.
    first = {r["customer_id"]: r for r in rows(ranged, "select * from customer_rfm where as_of_date = $d",
                                                {"d": NIGHT[10]})}
    seed = {r["customer_id"]: r["segment"] for r in rows(ranged, "select * from customer_rfm where as_of_date = $d",
                                                        {"d": NIGHT[4]})}
    assert {c: r["previous_segment"] for c, r in first.items()} == {c: seed.get(c) for c in first}
    assert any(c not in seed for c in first)
    # Rows after the range are left as they were (their own earlier snapshot is not rewritten).
    build(ranged, DateRange(NIGHT[4], NIGHT[4]), rules)
    assert snapshot(ranged) == expected
