"""crm_tasks' loyalty kinds on hand-made customer_loyalty rows: a tier upgrade raises one
congratulation task the night it happens (a downgrade, an unchanged tier or a first snapshot
none), expiring points reaching the minimum raise one reminder per crossing, both keep their id
until their due date or an RM contact, and consent, RM and the cap apply as to the other kinds."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import dagster as dg
import pytest

from pipelines.core.config import load_rules
from pipelines.core.engine import DateRange
from pipelines.relationship.crm_tasks import build_crm_tasks_range, crm_task_params
from tests.kit.warehouse import EPOCH, customer, insert, rows, warehouse
from tests.relationship.test_crm_care import contact, lifecycle, put, tasks

RULES = load_rules()
D = date(2025, 3, 31)
PERKS = {t["name"]: t["perks"] for t in RULES["loyalty"]["tiers"]}
UPGRADE, EXPIRY = "loyalty_tier_upgrade", "points_expiry_reminder"


def loyalty(customer_id: str, day: date, tier: str = "silver", previous_tier: str | None = None,
            tier_since: date = EPOCH, expiring: int = 0, balance: int = 3_000) -> dict:
    return {"as_of_date": day, "customer_id": customer_id, "points_earned_today": 0, "balance_points_today": 0,
            "transaction_points_today": 0, "card_points_today": 0, "points_balance": balance,
            "points_expiring_soon": expiring, "qualifying_points": balance, "tier": tier,
            "previous_tier": previous_tier, "tier_since": tier_since, "next_tier": None, "points_to_next_tier": None,
            "perks": PERKS[tier]}


def summary(found: list[dict]) -> list[tuple]:
    return [(t["customer_id"], t["rm_id"], t["priority"], t["created_date"], t["due_date"], t["status"], t["occasion"])
            for t in found]


@pytest.fixture
def con(tmp_path):
    con = warehouse(tmp_path)
    yield con
    con.close()


def test_a_tier_upgrade_raises_one_task_the_night_it_happens(con):
    insert(con, "stg_customers", [customer("UP"), customer("DOWN"), customer("SAME"), customer("FIRST"),
                                  customer("NOCONSENT", marketing_consent=False), customer("NORM", rm_id=None),
                                  customer("CLOSED", status="closed")], EPOCH)
    put(con, "customer_loyalty", [
        loyalty("UP", D, "gold", "silver", D),
        loyalty("DOWN", D, "silver", "gold", D),
        # Upgraded ten days ago: the tier is unchanged tonight.
        loyalty("SAME", D, "gold", "silver", D - timedelta(days=10)),
        # The customer's first snapshot: no previous tier, nothing rose.
        loyalty("FIRST", D, "gold", None, D),
        loyalty("NOCONSENT", D, "gold", "silver", D),
        loyalty("NORM", D, "gold", "silver", D),
        loyalty("CLOSED", D, "gold", "silver", D),
    ])
    got = tasks(con, D)
    assert summary(got) == [("UP", "RM1", "medium", D, D + timedelta(days=7), "new", f"gold since {D}")]
    assert (got[0]["kind"], got[0]["reason"]) == (
        UPGRADE, f"loyalty tier up from silver to gold on {D}; new perks: priority_counter, airport_lounge")


def test_the_upgrade_task_stays_until_its_due_date_or_an_rm_contact(con):
    insert(con, "stg_customers", [customer("UP"), customer("CALLED"), customer("AGAIN")], EPOCH)
    nights = [D + timedelta(days=n) for n in range(9)]
    put(con, "customer_loyalty", [loyalty(c, day, "gold", "silver", D) for day in nights for c in ("UP", "CALLED")]
        + [loyalty("AGAIN", day, "gold", "silver", D) for day in nights[:2]]
        # A second upgrade two nights later: the gold task gives way to the platinum one.
        + [loyalty("AGAIN", day, "platinum", "gold", nights[2]) for day in nights[2:4]])
    # A contact on the day of the upgrade came before the RM knew of it; the one two days later closes it.
    insert(con, "stg_interactions", [contact("I1", "CALLED", D), contact("I2", "CALLED", D + timedelta(days=2))], D)
    first = tasks(con, D, kind=UPGRADE)
    assert [t["customer_id"] for t in first] == ["AGAIN", "CALLED", "UP"]
    second = tasks(con, nights[1], kind=UPGRADE)
    assert summary(second) == [
        ("AGAIN", "RM1", "medium", D, D + timedelta(days=7), "open", f"gold since {D}"),
        ("CALLED", "RM1", "medium", D, D + timedelta(days=7), "open", f"gold since {D}"),
        ("UP", "RM1", "medium", D, D + timedelta(days=7), "open", f"gold since {D}")]
    assert [t["task_id"] for t in second] == [t["task_id"] for t in first]
    third = tasks(con, nights[2], kind=UPGRADE)
    assert summary(third) == [
        ("AGAIN", "RM1", "medium", nights[2], nights[2] + timedelta(days=7), "new", f"platinum since {nights[2]}"),
        ("UP", "RM1", "medium", D, D + timedelta(days=7), "open", f"gold since {D}")]
    assert third[0]["task_id"] != first[0]["task_id"]
    for day in nights[3:8]:
        tasks(con, day)
    assert [t["customer_id"] for t in tasks(con, nights[7], kind=UPGRADE)] == ["UP"]
    # Due on D + 7: not raised again after it.
    assert tasks(con, nights[8], kind=UPGRADE) == []


def test_expiring_points_at_the_minimum_raise_one_reminder_per_crossing(con):
    insert(con, "stg_customers", [customer(c) for c in ("AT", "BELOW", "NEW", "ALREADY", "DROP")]
           + [customer("NOCONSENT", marketing_consent=False), customer("NORM", rm_id=None)], EPOCH)
    yesterday = D - timedelta(days=1)
    put(con, "customer_loyalty", [
        loyalty("AT", yesterday, expiring=499), loyalty("AT", D, expiring=500),
        loyalty("BELOW", yesterday, expiring=300), loyalty("BELOW", D, expiring=499),
        loyalty("ALREADY", yesterday, expiring=600), loyalty("ALREADY", D, expiring=600),
        loyalty("DROP", yesterday, expiring=499), loyalty("DROP", D, expiring=700),
        loyalty("NOCONSENT", yesterday, expiring=0), loyalty("NOCONSENT", D, expiring=900),
        loyalty("NORM", yesterday, expiring=0), loyalty("NORM", D, expiring=900),
        # Absent from the earlier snapshot: a first crossing.
        loyalty("NEW", D, expiring=800, balance=800),
    ])
    first = tasks(con, D)
    occasion = f"expiry reminder {D}"
    assert summary(first) == [("AT", "RM1", "medium", D, D + timedelta(days=7), "new", occasion),
                              ("DROP", "RM1", "medium", D, D + timedelta(days=7), "new", occasion),
                              ("NEW", "RM1", "medium", D, D + timedelta(days=7), "new", occasion)]
    assert {t["kind"] for t in first} == {EXPIRY}
    assert first[0]["reason"] == "500 points expiring within 30 days (balance 3000)"
    # The next night the points are still above the minimum: no second reminder, the same task.
    # DROP's points expired (below the minimum): its reminder is gone.
    night2 = D + timedelta(days=1)
    put(con, "customer_loyalty", [loyalty("AT", night2, expiring=520), loyalty("NEW", night2, expiring=800),
                                  loyalty("DROP", night2, expiring=100)])
    second = tasks(con, night2)
    assert summary(second) == [("AT", "RM1", "medium", D, D + timedelta(days=7), "open", occasion),
                               ("NEW", "RM1", "medium", D, D + timedelta(days=7), "open", occasion)]
    assert [t["task_id"] for t in second] == [first[0]["task_id"], first[2]["task_id"]]
    assert second[0]["reason"] == "520 points expiring within 30 days (balance 3000)"
    # A new batch of DROP's points reaches the minimum again: a new reminder, another id.
    night3 = D + timedelta(days=2)
    put(con, "customer_loyalty", [loyalty("AT", night3, expiring=520), loyalty("DROP", night3, expiring=500)])
    third = tasks(con, night3)
    assert summary(third) == [("AT", "RM1", "medium", D, D + timedelta(days=7), "open", occasion),
                              ("DROP", "RM1", "medium", night3, night3 + timedelta(days=7), "new",
                               f"expiry reminder {night3}")]
    assert third[1]["task_id"] != first[1]["task_id"]


def test_the_expiry_minimum_and_loyalty_priorities_come_from_the_rules(con):
    rules = copy.deepcopy(RULES)
    rules["crm_tasks"]["points_expiry_reminder"]["min_points"] = 1_000
    rules["crm_tasks"]["points_expiry_reminder"]["priority"] = "low"
    rules["crm_tasks"]["loyalty_tier_upgrade"]["priority"] = "high"
    insert(con, "stg_customers", [customer("P999"), customer("P1000"), customer("UP")], EPOCH)
    put(con, "customer_loyalty", [loyalty("P999", D, expiring=999), loyalty("P1000", D, expiring=1_000),
                                  loyalty("UP", D, "silver", "member", D)])
    got = tasks(con, D, rules)
    assert [(t["kind"], t["customer_id"], t["priority"], t["due_date"]) for t in got] == [
        (UPGRADE, "UP", "high", D + timedelta(days=1)), (EXPIRY, "P1000", "low", D + timedelta(days=14))]
    assert got[0]["reason"] == (f"loyalty tier up from member to silver on {D}; "
                                "new perks: birthday_gift, fee_waiver_transfers")


def test_loyalty_tasks_are_capped_with_the_care_kinds(con):
    rules = copy.deepcopy(RULES)
    rules["crm_tasks"]["max_tasks_per_rm"] = 2
    insert(con, "stg_customers", [customer("UP"), customer("P"), customer("M")], EPOCH)
    put(con, "customer_lifecycle", [lifecycle("P", D, "private"), lifecycle("M", D, "mass")])
    put(con, "customer_loyalty", [loyalty("UP", D, "gold", "silver", D)])
    # The private contact (high) and the upgrade (medium) fill the list; the mass contact (low) waits.
    assert [(t["kind"], t["customer_id"]) for t in tasks(con, D, rules)] == [("contact_due", "P"), (UPGRADE, "UP")]


@pytest.mark.parametrize("min_points", [0, "500", None, True])
def test_an_invalid_expiry_minimum_fails(min_points):
    rules = copy.deepcopy(RULES)
    rules["crm_tasks"]["points_expiry_reminder"]["min_points"] = min_points
    with pytest.raises(ValueError, match="min_points"):
        crm_task_params(rules, DateRange(D, D))


@pytest.mark.parametrize("kind", [UPGRADE, EXPIRY])
def test_a_loyalty_priority_without_due_days_fails(kind):
    rules = copy.deepcopy(RULES)
    rules["crm_tasks"][kind]["priority"] = "urgent"
    with pytest.raises(ValueError, match="urgent"):
        crm_task_params(rules, DateRange(D, D))


def test_crm_tasks_depends_on_customer_loyalty_in_the_asset_graph():
    from pipelines.relationship.crm_tasks import UPSTREAM
    from pipelines.definitions import defs

    graph = defs.resolve_asset_graph()
    parents = graph.get(dg.AssetKey("crm_tasks")).parent_keys
    assert {dg.AssetKey(t) for t in UPSTREAM} <= parents and dg.AssetKey("customer_loyalty") in parents
    # Both in the nightly job, which runs an asset after its deps.
    nightly = defs.resolve_job_def("nightly")
    assert {dg.AssetKey("customer_loyalty"), dg.AssetKey("crm_tasks")} <= set(nightly.asset_layer.selected_asset_keys)


def all_tasks(con) -> list[dict]:
    return rows(con, "select * from crm_tasks order by as_of_date, task_id")


def test_nights_in_one_call_or_split_equal_the_nights_built_in_order(con):
    # The upgrade scenario above, the cap at 2 so that on the third night the tasks already on the
    # list win the tie with the new platinum task.
    rules = copy.deepcopy(RULES)
    rules["crm_tasks"]["max_tasks_per_rm"] = 2
    insert(con, "stg_customers", [customer("UP"), customer("CALLED"), customer("AGAIN")], EPOCH)
    nights = [D + timedelta(days=n) for n in range(9)]
    put(con, "customer_loyalty", [loyalty(c, day, "gold", "silver", D) for day in nights for c in ("UP", "CALLED")]
        + [loyalty("AGAIN", day, "gold", "silver", D) for day in nights[:2]]
        + [loyalty("AGAIN", day, "platinum", "gold", nights[2]) for day in nights[2:4]])
    insert(con, "stg_interactions", [contact("I1", "CALLED", D), contact("I2", "CALLED", D + timedelta(days=2))], D)
    for day in nights:
        tasks(con, day, rules)
    nightly = all_tasks(con)
    assert len({t["as_of_date"] for t in nightly}) == 8 and len([t for t in nightly if t["status"] == "open"]) > 5
    for ranges in ([(nights[0], nights[-1])], [(nights[0], nights[3]), (nights[4], nights[-1])],
                   [(nights[5], nights[5])]):
        for first, last in ranges:
            build_crm_tasks_range(con, DateRange(first, last), rules)
        assert all_tasks(con) == nightly


def test_a_night_without_tasks_passes_the_list_before_it_on(con):
    # No loyalty row for UP on the second night (no task at all that night): the third night's
    # previous list is the first night's, so the upgrade task stays open with its first night.
    insert(con, "stg_customers", [customer("UP")], EPOCH)
    nights = [D + timedelta(days=n) for n in range(3)]
    put(con, "customer_loyalty", [loyalty("UP", nights[0], "gold", "silver", D),
                                  loyalty("UP", nights[2], "gold", "silver", D)])
    build_crm_tasks_range(con, DateRange(nights[0], nights[-1]), RULES)
    assert summary(rows(con, "select * from crm_tasks order by as_of_date")) == [
        ("UP", "RM1", "medium", D, D + timedelta(days=7), "new", f"gold since {D}"),
        ("UP", "RM1", "medium", D, D + timedelta(days=7), "open", f"gold since {D}")]
    once = all_tasks(con)
    for day in nights:
        build_crm_tasks_range(con, DateRange(day, day), RULES)
    assert all_tasks(con) == once
