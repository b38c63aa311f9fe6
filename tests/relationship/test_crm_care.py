"""crm_tasks' care and relationship kinds on hand-made warehouses: the contact cadence at its
boundary, birthdays 7 days ahead (year end, 29 Feb), festivals from the `holidays` calendar,
consent, lifecycle actions, offers, complaints past their deadline, the per-RM cap and ids that
stay stable from one night to the next."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta

import pytest

from pipelines.relationship.care import festival_dates
from pipelines.core.config import load_rules
from pipelines.core.contract_tables import ensure_contract_table
from pipelines.core.contracts import output_contracts
from pipelines.core.engine import DateRange
from pipelines.relationship.crm_tasks import build_crm_tasks_range
from pipelines.publishing.snapshot import contract_violations
from tests.kit.warehouse import EPOCH, customer, insert, rows, warehouse

RULES = load_rules()
D = date(2025, 3, 31)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=hour)


def lifecycle(customer_id: str, day: date, tier: str = "mass", stage: str = "mature",
              stage_since: date = EPOCH, action: str = "tailored_loan_product", aum: float = 1_000.0) -> dict:
    return {"as_of_date": day, "customer_id": customer_id, "tenure_days": 1000, "aum": aum, "tier": tier,
            "stage": stage, "previous_stage": None, "stage_since": stage_since, "recommended_action": action}


def contact(interaction_id: str, customer_id: str, day: date, outcome: str = "reached", kind: str = "contact",
            rm_id: str = "RM1") -> dict:
    return {"interaction_id": interaction_id, "customer_id": customer_id, "rm_id": rm_id, "interaction_ts": at(day),
            "channel": "phone", "kind": kind, "outcome": outcome}


def complaint(feedback_id: str, customer_id: str, day: date, status: str = "open", resolved: date | None = None,
              category: str = "fees") -> dict:
    return {"feedback_id": feedback_id, "customer_id": customer_id, "feedback_ts": at(day), "kind": "complaint",
            "category": category, "status": status, "resolved_ts": at(resolved, 15) if resolved else None}


def put(con, table: str, records: list[dict]) -> None:
    """Rows straight into a mart table typed by its output contract."""
    ensure_contract_table(con, output_contracts()[table])
    cols = list(records[0])
    con.executemany(f"insert into {table} ({', '.join(cols)}) values ({', '.join('?' for _ in cols)})",
                    [[r[c] for c in cols] for r in records])


def tasks(con, day: date, rules: dict = RULES, kind: str | None = None) -> list[dict]:
    build_crm_tasks_range(con, DateRange(day, day), rules)
    assert contract_violations(con, "crm_tasks", output_contracts()["crm_tasks"], day) == []
    found = rows(con, "select * from crm_tasks where as_of_date = $d order by kind, customer_id", {"d": day})
    return [t for t in found if kind is None or t["kind"] == kind]


@pytest.fixture
def con(tmp_path):
    con = warehouse(tmp_path)
    yield con
    con.close()


def test_contact_is_due_when_the_tier_cadence_has_elapsed(con):
    insert(con, "stg_customers", [
        customer("P29"), customer("P30", marketing_consent=False), customer("W60"), customer("W59"),
        customer("M179", onboard_date=D - timedelta(days=179)), customer("M180", onboard_date=D - timedelta(days=180)),
        customer("PNA"), customer("PNORM", rm_id=None), customer("PCLOSED", status="closed"),
    ], EPOCH)
    put(con, "customer_lifecycle", [lifecycle(c, D, tier) for c, tier in [
        ("P29", "private"), ("P30", "private"), ("W60", "wealth"), ("W59", "wealth"), ("M179", "mass"),
        ("M180", "mass"), ("PNA", "private"), ("PNORM", "private"), ("PCLOSED", "private")]])
    insert(con, "stg_interactions", [
        contact("I1", "P29", D - timedelta(days=29)), contact("I2", "P30", D - timedelta(days=30)),
        contact("I3", "W60", D - timedelta(days=60)), contact("I4", "W59", D - timedelta(days=59), kind="event"),
        # An unanswered call does not reset the clock; a service visit is not an RM contact.
        contact("I5", "PNA", D - timedelta(days=40)), contact("I6", "PNA", D - timedelta(days=3), outcome="no_answer"),
        contact("I7", "PNA", D - timedelta(days=2), kind="service"),
        contact("I8", "PNORM", D - timedelta(days=100)), contact("I9", "PCLOSED", D - timedelta(days=100)),
    ], D)
    got = tasks(con, D, kind="contact_due")
    # Consent is not needed for the cadence contact (service, not marketing).
    assert [(t["customer_id"], t["rm_id"], t["priority"], t["due_date"], t["status"]) for t in got] == [
        ("M180", "RM1", "low", D + timedelta(days=14), "new"),
        ("P30", "RM1", "high", D + timedelta(days=1), "new"),
        ("PNA", "RM1", "high", D + timedelta(days=1), "new"),
        ("W60", "RM1", "medium", D + timedelta(days=7), "new"),
    ]
    assert got[0]["reason"] == f"no RM contact since onboarding {D - timedelta(days=180)} (180 days; mass cadence 180 days)"
    assert got[2]["reason"] == f"last RM contact {D - timedelta(days=40)} (40 days ago; private cadence 30 days)"


def test_birthday_greeting_seven_days_ahead_across_year_end_and_on_29_february(con):
    insert(con, "stg_customers", [
        customer("JAN4", birth_date=date(1980, 1, 4)), customer("JAN5", birth_date=date(1980, 1, 5)),
        customer("DEC28", birth_date=date(1975, 12, 28)), customer("DEC27", birth_date=date(1975, 12, 27)),
        customer("NOCONSENT", birth_date=date(1980, 1, 1), marketing_consent=False),
        customer("LEAP", birth_date=date(2000, 2, 29)),
    ], EPOCH)
    year_end = date(2025, 12, 28)
    got = tasks(con, year_end, kind="birthday_greeting")
    assert [(t["customer_id"], t["due_date"], t["reason"], t["occasion"], t["priority"]) for t in got] == [
        ("DEC28", date(2025, 12, 28), "birthday on 12-28", "birthday 2025", "medium"),
        ("JAN4", date(2026, 1, 4), "birthday on 01-04", "birthday 2026", "medium"),
    ]
    # 29 February: greeted on 28 February in a common year, on the day in a leap year.
    common = tasks(con, date(2025, 2, 21), kind="birthday_greeting")
    assert [(t["customer_id"], t["due_date"], t["reason"]) for t in common] == [("LEAP", date(2025, 2, 28), "birthday on 02-28")]
    assert tasks(con, date(2025, 2, 20), kind="birthday_greeting") == []
    leap = tasks(con, date(2028, 2, 22), kind="birthday_greeting")
    assert [(t["customer_id"], t["due_date"], t["reason"]) for t in leap] == [("LEAP", date(2028, 2, 29), "birthday on 02-29")]
    # No birth year anywhere in the published rows.
    assert not any(str(y) in str(v) for t in got + common + leap for v in t.values() for y in (1975, 1980, 2000))


def test_festival_greeting_from_the_holidays_calendar_with_stable_ids(con):
    assert {"name": "Chinese New Year (Spring Festival)", "festival_date": date(2025, 1, 29)} in festival_dates(
        RULES["care"]["festivals"], [2025])
    insert(con, "stg_customers", [customer("YES"), customer("NO", marketing_consent=False),
                                  customer("NORM", rm_id=None)], EPOCH)
    assert tasks(con, date(2025, 1, 21), kind="festival_greeting") == []
    first = tasks(con, date(2025, 1, 22), kind="festival_greeting")
    assert [(t["customer_id"], t["due_date"], t["occasion"], t["priority"], t["status"]) for t in first] == [
        ("YES", date(2025, 1, 29), "Chinese New Year (Spring Festival) 2025", "low", "new")]
    second = tasks(con, date(2025, 1, 23), kind="festival_greeting")
    assert [(t["task_id"], t["created_date"], t["due_date"], t["status"]) for t in second] == [
        (first[0]["task_id"], date(2025, 1, 22), date(2025, 1, 29), "open")]
    # Next year's Spring Festival (2026-02-17) is another occasion: another id.
    next_year = tasks(con, date(2026, 2, 10), kind="festival_greeting")
    assert [(t["occasion"], t["due_date"]) for t in next_year] == [("Chinese New Year (Spring Festival) 2026", date(2026, 2, 17))]
    assert next_year[0]["task_id"] != first[0]["task_id"]


def test_an_unknown_festival_name_fails():
    with pytest.raises(ValueError, match="Lantern Day"):
        festival_dates(["Mid-Autumn Festival", "Lantern Day"], [2025])


def test_lifecycle_actions_and_offers_respect_consent_and_the_stage_window(con):
    insert(con, "stg_customers", [customer("AR"), customer("AROLD"), customer("ARCALLED"), customer("ARNO", marketing_consent=False),
                                  customer("MAT"), customer("OF"), customer("OFLOW"), customer("OFNO", marketing_consent=False)], EPOCH)
    put(con, "customer_lifecycle", [
        lifecycle("AR", D, stage="at_risk", stage_since=D - timedelta(days=3), action="retention_call"),
        lifecycle("AROLD", D, stage="at_risk", stage_since=D - timedelta(days=31), action="retention_call"),
        lifecycle("ARCALLED", D, stage="at_risk", stage_since=D - timedelta(days=10), action="retention_call"),
        lifecycle("ARNO", D, stage="at_risk", stage_since=D - timedelta(days=3), action="retention_call"),
        lifecycle("MAT", D, stage="mature", stage_since=D - timedelta(days=3)),
    ])
    insert(con, "stg_interactions", [contact("I1", "ARCALLED", D - timedelta(days=2)),
                                      contact("I2", "AR", D - timedelta(days=4))], D)
    nbo = {"as_of_date": D, "product_family": "fund", "model_version": "v1", "reasons": ["x"], "eligible_products": 1,
           "excluded": []}
    put(con, "next_best_offer", [{**nbo, "customer_id": "OF", "product_code": "FD001", "probability": 0.2},
                                 {**nbo, "customer_id": "OFLOW", "product_code": "FD001", "probability": 0.01},
                                 {**nbo, "customer_id": "OFNO", "product_code": "FD001", "probability": 0.9},
                                 {**nbo, "customer_id": "MAT", "product_code": None, "probability": None}])
    got = [t for t in tasks(con, D) if t["kind"] != "contact_due"]
    assert [(t["kind"], t["customer_id"], t["priority"], t["product_code"], t["reason"]) for t in got] == [
        ("lifecycle_action", "AR", "high", None, f"retention_call: at_risk since {D - timedelta(days=3)}"),
        ("offer", "OF", "low", "FD001", "offer FD001 (fund), propensity 0.2"),
    ]


def test_complaints_open_and_past_their_deadline_are_followed_up_and_escalate(con):
    insert(con, "stg_customers", [customer("NEW"), customer("LATE"), customer("DONE"), customer("LATER", rm_id=None)], EPOCH)
    insert(con, "stg_feedback", [
        complaint("F1", "NEW", D - timedelta(days=3)),
        complaint("F2", "LATE", D - timedelta(days=10), category="waiting_time"),
        complaint("F3", "LATE", D - timedelta(days=1), category="fees"),
        complaint("F4", "DONE", D - timedelta(days=10), status="resolved", resolved=D - timedelta(days=1)),
        # Resolved after the business date: still open on it.
        complaint("F5", "LATER", D - timedelta(days=2), status="resolved", resolved=D + timedelta(days=2)),
    ], D)
    got = tasks(con, D, kind="complaint_follow_up")
    assert [(t["customer_id"], t["rm_id"], t["priority"], t["due_date"], t["reason"]) for t in got] == [
        ("LATE", "RM1", "high", D + timedelta(days=1), "2 open complaint(s), 1 past the 7-day deadline: fees, waiting_time"),
        ("LATER", None, "medium", D + timedelta(days=5), "1 open complaint(s), 0 past the 7-day deadline: fees"),
        ("NEW", "RM1", "medium", D + timedelta(days=4), "1 open complaint(s), 0 past the 7-day deadline: fees"),
    ]
    # Five nights on NEW's complaint is past its deadline: same task, escalated, still due on the deadline.
    later = tasks(con, D + timedelta(days=5), kind="complaint_follow_up")
    new = next(t for t in later if t["customer_id"] == "NEW")
    assert (new["task_id"], new["priority"], new["status"], new["created_date"], new["due_date"]) == (
        got[2]["task_id"], "high", "open", D, D + timedelta(days=4))


def test_the_cap_per_rm_keeps_the_best_priorities_and_never_holds_back_complaints(con):
    rules = copy.deepcopy(RULES)
    rules["crm_tasks"]["max_tasks_per_rm"] = 2
    insert(con, "stg_customers", [customer(c) for c in ("P", "W", "M1", "M2")] + [customer("X", rm_id="RM2")], EPOCH)
    put(con, "customer_lifecycle", [lifecycle("P", D, "private"), lifecycle("W", D, "wealth"),
                                    lifecycle("M1", D, "mass"), lifecycle("M2", D, "mass"), lifecycle("X", D, "mass")])
    insert(con, "stg_feedback", [complaint("F1", "M2", D - timedelta(days=1))], D)
    got = tasks(con, D, rules)
    assert [(t["kind"], t["customer_id"]) for t in got] == [
        ("complaint_follow_up", "M2"), ("contact_due", "P"), ("contact_due", "W"), ("contact_due", "X")]
    # A task already on the list keeps its place against a newcomer of the same priority, even one
    # whose id would sort first.
    rules["crm_tasks"]["max_tasks_per_rm"] = 1
    insert(con, "stg_customers", [customer("OLD", rm_id="RM3"), customer("M0", rm_id="RM3")], EPOCH)
    put(con, "customer_lifecycle", [lifecycle("OLD", D + timedelta(days=1)), lifecycle("OLD", D + timedelta(days=2)),
                                    lifecycle("M0", D + timedelta(days=2))])
    first = tasks(con, D + timedelta(days=1), rules, kind="contact_due")
    assert [(t["customer_id"], t["status"]) for t in first if t["rm_id"] == "RM3"] == [("OLD", "new")]
    second = [t for t in tasks(con, D + timedelta(days=2), rules, kind="contact_due") if t["rm_id"] == "RM3"]
    assert [(t["customer_id"], t["status"]) for t in second] == [("OLD", "open")]
    assert rows(con, "select sha256('contact_due|M0') < sha256('contact_due|OLD') as earlier")[0]["earlier"]


def test_a_priority_without_due_days_or_a_tier_without_priority_fails():
    from pipelines.relationship.crm_tasks import crm_task_params

    rules = copy.deepcopy(RULES)
    rules["crm_tasks"]["lifecycle_action"]["actions"]["retention_call"] = "urgent"
    with pytest.raises(ValueError, match="urgent"):
        crm_task_params(rules, DateRange(D, D))
    rules = copy.deepcopy(RULES)
    del rules["crm_tasks"]["contact_due"]["priority"]["mass"]
    with pytest.raises(ValueError, match="tiers"):
        crm_task_params(rules, DateRange(D, D))
