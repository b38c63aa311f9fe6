"""Loyalty programme (rules.md: points from balances and activity, tiers, expiry, perks by tier) on
hand-made staging: exact points of a known balance and known transactions, expiry on its boundary
day, a tier crossed on the day with previous_tier / tier_since, a backfill equal to the night,
config errors, and the Dagster asset."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import dagster as dg
import pytest

from assets.relationship import customer_loyalty
from pipelines.core.config import RulesResource, load_rules
from pipelines.core.contracts import output_contracts
from pipelines.core.engine import DateRange
from pipelines.relationship.loyalty import LEDGER, LoyaltyConfigError, build_loyalty_range, loyalty_rules, window_bounds
from pipelines.publishing.snapshot import contract_violations
from pipelines.core.resources import WarehouseResource
from pipelines.customer.segmentation import build_customer_360, build_segmentation
from tests.kit.warehouse import EPOCH, account, balance, customer, insert, rows, txn, warehouse

RULES = load_rules()
D = date(2025, 6, 30)
SILVER = ["points_redemption", "birthday_gift", "fee_waiver_transfers"]


def rules_with(**loyalty) -> dict:
    rules = copy.deepcopy(RULES)
    rules["loyalty"].update(loyalty)
    return rules


def build(con, day: date, rules: dict = RULES) -> dict[str, dict]:
    """Segmentation, loyalty, then customer_360 of one date, as the nightly graph orders them."""
    one = DateRange(day, day)
    build_segmentation(con, one, rules)
    build_loyalty_range(con, one, loyalty_rules(rules))
    build_customer_360(con, one, rules)
    return {r["customer_id"]: r for r in rows(con, "select * from customer_loyalty where as_of_date = $d", {"d": day})}


def ledger(con, customer_id: str, day: date, points: int) -> dict:
    return {"as_of_date": day, "customer_id": customer_id, "balance_points": points, "transaction_points": 0,
            "card_points": 0, "points": points}


def put_ledger(con, entries: list[dict]) -> None:
    for e in entries:
        con.execute(f"insert into {LEDGER} by name select $as_of_date as as_of_date, $customer_id as customer_id, "
                    "$balance_points::bigint as balance_points, $transaction_points::bigint as transaction_points, "
                    "$card_points::bigint as card_points, $points::bigint as points", e)


def base(con) -> None:
    insert(con, "stg_customers", [customer("C1"), customer("C2"), customer("C3")], EPOCH)
    insert(con, "stg_accounts", [account("A1", "C1", "SV001"), account("A2", "C1", "CC001"),
                                 account("A3", "C2", "CA001")], EPOCH)


def test_points_from_a_known_balance_and_known_transactions(tmp_path):
    con = warehouse(tmp_path)
    base(con)
    insert(con, "stg_balances", [balance("A1", D - timedelta(days=3), 125_000.0),   # carried forward: 12 units
                                 balance("A3", D, 9_999.99)], D - timedelta(days=3))
    insert(con, "stg_transactions", [
        txn("T1", "A1", D, 500.0, "deposit", direction="credit"),
        txn("T2", "A1", D, 80.0, "bill_payment"),
        txn("T3", "A1", D - timedelta(days=2), 300.0, "transfer_out"),   # delivered late: earns on its delivery date
        txn("T4", "A2", D, 250.0, "card_purchase"),                     # counted + 2 spend units
        txn("T5", "A2", D, 99.99, "card_purchase"),                     # counted, no full spend unit
        txn("T6", "A2", D, 300.0, "card_purchase", direction="credit"),  # a refund: counted, no card points
        txn("T7", "A1", D, 12.0, "interest", direction="credit"),       # not customer-initiated
        *(txn(f"U{i}", "A3", D, 20.0, "withdrawal") for i in range(12)),  # 12 counted, capped at 10
    ], D)
    got = build(con, D)
    assert {c: (r["balance_points_today"], r["transaction_points_today"], r["card_points_today"],
                r["points_earned_today"], r["points_balance"]) for c, r in got.items()} == {
        "C1": (12, 12, 2, 26, 26), "C2": (0, 20, 0, 20, 20), "C3": (0, 0, 0, 0, 0)}
    assert got["C3"]["tier"] == "member" and got["C3"]["perks"] == ["points_redemption"]
    assert (got["C1"]["next_tier"], got["C1"]["points_to_next_tier"]) == ("silver", 2000 - 26)
    assert contract_violations(con, "customer_loyalty", output_contracts()["customer_loyalty"], D) == []
    assert contract_violations(con, "customer_360", output_contracts()["customer_360"], D) == []
    c360 = {r["customer_id"]: (r["loyalty_tier"], r["loyalty_points_balance"])
            for r in rows(con, "select * from customer_360 where as_of_date = $d", {"d": D})}
    assert c360 == {"C1": ("member", 26), "C2": ("member", 20), "C3": ("member", 0)}


def test_points_expire_on_the_day_the_expiry_months_end(tmp_path):
    rules = rules_with(expiry_months=12)
    day, before = date(2026, 1, 15), date(2026, 1, 14)
    con = warehouse(tmp_path)
    base(con)
    build(con, before, rules)
    put_ledger(con, [ledger(con, "C1", date(2025, 1, 14), 1), ledger(con, "C1", date(2025, 1, 15), 10),
                     ledger(con, "C1", date(2025, 1, 16), 100), ledger(con, "C1", date(2025, 2, 14), 1000),
                     ledger(con, "C1", date(2025, 2, 15), 10000)])
    got = build(con, before, rules)["C1"]
    # On 14 Jan 2026 the points of 14 Jan 2025 are gone; those of 15 Jan expire tomorrow; 14 Feb is
    # 31 days away, outside the 30.
    assert (got["points_balance"], got["points_expiring_soon"]) == (11110, 110)
    got = build(con, day, rules)["C1"]
    # 15 Jan 2026: the points of 15 Jan 2025 expire; within 30 days (to 14 Feb) expire 16 Jan and 14 Feb.
    assert (got["points_balance"], got["points_expiring_soon"], got["qualifying_points"]) == (11100, 1100, 11100)


def test_a_short_month_brings_the_expiry_to_its_month_end():
    # Earned 30 or 31 Jan expire on 29 Feb 2024 (one month later, clamped): on 29 Feb only points
    # from 1 Feb on are held; those earned 1..29 Feb expire by 30 Mar (29 Feb + 30 days).
    assert window_bounds(date(2024, 2, 29), 1, 30, 12) == {
        "balance_from": date(2024, 2, 1), "expiring_until": date(2024, 2, 29), "qualifying_from": date(2023, 3, 1)}


def test_a_tier_crossed_on_the_day_keeps_previous_tier_and_tier_since(tmp_path):
    d1, d2, d3 = D, D + timedelta(days=1), D + timedelta(days=2)
    con = warehouse(tmp_path)
    base(con)
    insert(con, "stg_balances", [balance("A1", d1, 50_000.0)], d1)   # 5 balance points a day
    build(con, d1)
    # 1 Jul 2024 is the first day of d1's 12-month window and has left it on d2.
    put_ledger(con, [ledger(con, "C1", D - timedelta(days=100), 1990), ledger(con, "C1", date(2024, 7, 1), 7)])
    nights = [build(con, day)["C1"] for day in (d1, d2, d3)]
    assert [(n["qualifying_points"], n["tier"], n["previous_tier"], n["tier_since"]) for n in nights] == [
        (2002, "silver", None, d1),
        # d2: the 7 points of a year ago left the window: 1990 + 5 + 5 = 2000, silver exactly at its bound
        (2000, "silver", None, d1),
        (2005, "silver", None, d1)]
    # With silver at 2001 the same history drops to member on d2 and is back to silver on d3.
    tiers = copy.deepcopy(RULES["loyalty"]["tiers"])
    tiers[1]["min_points"] = 2001
    rules = rules_with(tiers=tiers)
    nights = [build(con, day, rules)["C1"] for day in (d1, d2, d3)]
    assert [(n["tier"], n["previous_tier"], n["tier_since"], n["perks"]) for n in nights] == [
        ("silver", None, d1, SILVER), ("member", "silver", d2, ["points_redemption"]),
        ("silver", "member", d3, SILVER)]
    # The same nights in one call, and split at d2 (seeded from d1's snapshot): the same rows.
    expected = [{k: n[k] for k in ("tier", "previous_tier", "tier_since", "perks")} for n in nights]
    for ranges in ([(d1, d3)], [(d1, d1), (d2, d3)], [(d1, d2), (d3, d3)]):
        for first, last in ranges:
            build_loyalty_range(con, DateRange(first, last), loyalty_rules(rules))
        assert [{k: r[k] for k in expected[0]} for r in rows(
            con, "select * from customer_loyalty where customer_id = 'C1' order by as_of_date")] == expected
    # Under the default tiers, silver since d1 continues across a range boundary at d2.
    build_loyalty_range(con, DateRange(d1, d1), loyalty_rules(RULES))
    build_loyalty_range(con, DateRange(d2, d3), loyalty_rules(RULES))
    assert rows(con, "select tier, previous_tier, tier_since from customer_loyalty where customer_id = 'C1' "
                     "order by as_of_date") == [{"tier": "silver", "previous_tier": None, "tier_since": d1}] * 3


def test_a_backfill_of_an_earlier_date_equals_the_nightly_run(tmp_path):
    days = [D + timedelta(days=i) for i in range(3)]
    con = warehouse(tmp_path)
    base(con)
    insert(con, "stg_balances", [balance("A1", days[0], 80_000.0)], days[0])
    insert(con, "stg_balances", [balance("A1", days[1], 20_000.0)], days[1])
    nightly = []
    for i, day in enumerate(days):
        # A card purchase of 1,234 (2 + 12 points) and a late-delivered transfer of the day before (2).
        insert(con, "stg_transactions", [txn(f"T{i}", "A2", day, 1234.0),
                                         txn(f"L{i}", "A3", day - timedelta(days=1), 50.0, "transfer_out")], day)
        nightly.append(build(con, day))
    assert [(n["C1"]["points_earned_today"], n["C1"]["points_balance"], n["C2"]["points_balance"])
            for n in nightly] == [(22, 22, 2), (16, 38, 4), (16, 54, 6)]
    # A balance of days[1] delivered on days[2] (after its night) must not change a backfill of days[1].
    insert(con, "stg_balances", [balance("A1", days[1], 9_000_000.0)], days[2])
    assert build(con, days[1]) == nightly[1]


def mart(con, day: date) -> list[dict]:
    return rows(con, "select * from customer_loyalty where as_of_date = $d order by customer_id", {"d": day})


# The sums of one date from the ledger as it stands, the windows' bounds applied as plain filters.
RECOMPUTE = """
select customer_id,
       coalesce(sum(points) filter (where as_of_date >= $balance_from), 0) as points_balance,
       coalesce(sum(points) filter (where as_of_date between $balance_from and $expiring_until), 0)
           as points_expiring_soon,
       coalesce(sum(points) filter (where as_of_date >= $qualifying_from), 0) as qualifying_points
from int_loyalty_points
where as_of_date <= $day
group by customer_id
"""


def test_a_range_in_one_call_equals_its_nights_in_order_and_a_full_recompute(tmp_path):
    # One-month expiry and qualifying, a 30-day horizon: over the end of February 2024 points expire
    # three earn days at once (29..31 Jan on 29 Feb) and the horizon reaches past the expiry itself.
    rules = rules_with(expiry_months=1, qualifying_months=1)
    params = loyalty_rules(rules)
    nights = [date(2024, 2, 26) + timedelta(days=i) for i in range(6)]
    every = DateRange(nights[0], nights[-1])
    con = warehouse(tmp_path)
    base(con)
    insert(con, "stg_balances", [balance("A1", nights[0], 30_000.0), balance("A3", nights[0], 70_000.0)], nights[0])
    for day in nights:
        insert(con, "stg_transactions", [txn(f"T{day}", "A2", day, 420.0)], day)
    build_segmentation(con, every, rules)
    build_loyalty_range(con, DateRange(nights[0], nights[0]), params)
    put_ledger(con, [ledger(con, c, date(2024, 1, 20) + timedelta(days=i), 10 * i + (c == "C2"))
                     for i in range(37) for c in ("C1", "C2")])
    nightly = {}
    for day in nights:
        build_loyalty_range(con, DateRange(day, day), params)
        nightly[day] = mart(con, day)
    for ranges in ([every], [DateRange(nights[0], nights[2]), DateRange(nights[3], nights[5])]):
        for dates in ranges:
            build_loyalty_range(con, dates, params)
        assert {day: mart(con, day) for day in nights} == nightly
    # Every night's sums equal a recompute from the ledger with the date's window bounds.
    for day in nights:
        bounds = window_bounds(day, 1, params["expiring_soon_days"], 1)
        recomputed = {r.pop("customer_id"): r for r in rows(con, RECOMPUTE, {**bounds, "day": day})}
        got = {r["customer_id"]: {k: r[k] for k in ("points_balance", "points_expiring_soon", "qualifying_points")}
               for r in nightly[day]}
        assert got == {c: recomputed.get(c, dict.fromkeys(got[c], 0)) for c in got}
    # 29 Feb: held from 1 Feb (the hand-made days 12..36), plus four nights of 3 balance, 2 transaction
    # and 4 card points (C1) or 7 balance points (C2).
    assert [r["points_balance"] for r in nightly[nights[3]]] == [
        sum(10 * i for i in range(12, 37)) + 4 * (3 + 2 + 4), sum(10 * i + 1 for i in range(12, 37)) + 4 * 7, 0]
    # One night rebuilt inside the range, later ledger dates present: they are not read.
    build_loyalty_range(con, DateRange(nights[1], nights[1]), params)
    assert mart(con, nights[1]) == nightly[nights[1]]


@pytest.mark.parametrize(("change", "message"), [
    ({"tiers": [{"name": "member", "min_points": 0}, {"name": "gold", "min_points": 10000},
                {"name": "silver", "min_points": 2000}]}, "strictly ascending"),
    ({"tiers": [{"name": "member", "min_points": 100}]}, "starting at 0"),
    ({"tiers": [{"name": "member", "min_points": 0}, {"name": "bronze", "min_points": 10}]}, "not in the customer_loyalty contract"),
    ({"expiry_months": 0}, "expiry_months must be a whole number >= 1"),
    ({"balance_points": {"per_unit": 1, "aum_unit": 0}}, "aum_unit"),
])
def test_an_invalid_programme_is_refused_with_a_clear_message(change, message):
    with pytest.raises(LoyaltyConfigError, match=message):
        loyalty_rules(rules_with(**change))


def test_the_asset_materializes_with_a_tier_distribution(tmp_path):
    con = warehouse(tmp_path)
    base(con)
    insert(con, "stg_balances", [balance("A1", D, 20_000_000.0)], D)
    build_segmentation(con, DateRange(D, D), RULES)
    con.close()
    result = dg.materialize([customer_loyalty], partition_key=str(D), resources={
        "warehouse": WarehouseResource(path=str(tmp_path / "warehouse.duckdb")), "rules": RulesResource()})
    assert result.success
    metadata = result.asset_materializations_for_node("customer_loyalty")[0].metadata
    assert metadata["rows"].value == 3 and metadata["points_balance"].value == 2000
    assert "| member | 2 |\n| silver | 1 |" in metadata["tier_distribution"].value
