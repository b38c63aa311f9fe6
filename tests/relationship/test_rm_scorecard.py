"""rm_scorecard on a hand-made book: AUM and its growth, contacts made against due, offer
conversions, complaints and NPS (promoters 9-10, detractors 0-6) per relationship manager."""

from __future__ import annotations

from datetime import date, timedelta

from pipelines.core.config import load_rules
from pipelines.core.contracts import output_contracts
from pipelines.publishing.snapshot import contract_violations
from pipelines.core.engine import DateRange
from pipelines.relationship.rm_scorecard import build_rm_scorecard_range
from tests.kit.warehouse import EPOCH, account, customer, insert, rows, warehouse
from tests.relationship.test_crm_care import at, complaint, contact, lifecycle, put

RULES = load_rules()
D = date(2025, 6, 30)
THEN = D - timedelta(days=90)


def nps(feedback_id: str, customer_id: str, day: date, score: int) -> dict:
    return {"feedback_id": feedback_id, "customer_id": customer_id, "feedback_ts": at(day), "kind": "nps", "score": score}


def offer_task(customer_id: str, day: date, product_code: str, rm_id: str = "RM1") -> dict:
    return {"as_of_date": day, "task_id": f"T{customer_id}", "kind": "offer", "customer_id": customer_id, "rm_id": rm_id,
            "priority": "low", "created_date": day, "due_date": day, "reason": "offer", "occasion": None,
            "product_code": product_code, "status": "new"}


def test_the_book_of_each_relationship_manager(tmp_path):
    con = warehouse(tmp_path)
    insert(con, "stg_customers", [customer("C1"), customer("C2"), customer("C4", onboard_date=D - timedelta(days=10)), customer("C3", rm_id="RM2", status="closed"),
                                  customer("NORM", rm_id=None)], EPOCH)
    insert(con, "stg_relationship_managers", [
        {"rm_id": "RM1", "branch_id": "B1", "team": "wealth", "status": "active"},
        {"rm_id": "RM3", "branch_id": "B2", "team": "mass", "status": "active"},
        {"rm_id": "RM9", "branch_id": "B2", "team": "mass", "status": "left"}], EPOCH)
    # AUM 150,000 now against 100,000 ninety days ago (C4 is new: no earlier AUM, no contact due yet); 91 days ago is
    # not used when the 90-day snapshot exists.
    put(con, "customer_lifecycle", [
        lifecycle("C1", D, "affluent", aum=100_000.0), lifecycle("C2", D, "affluent", aum=50_000.0),
        lifecycle("C4", D, "mass", aum=0.0), lifecycle("C1", THEN, "affluent", aum=80_000.0),
        lifecycle("C2", THEN, "mass", aum=20_000.0), lifecycle("C1", THEN - timedelta(days=1), aum=1.0)])
    insert(con, "stg_interactions", [
        contact("I1", "C1", D - timedelta(days=100)),                     # C1: 100 days > affluent 90: due
        contact("I2", "C2", D - timedelta(days=5)), contact("I3", "C2", D - timedelta(days=29)),
        contact("I4", "C2", D - timedelta(days=30)),                      # outside the 30-day activity window
        contact("I5", "C1", D - timedelta(days=1), outcome="no_answer"),  # not counted
        contact("I6", "C3", D - timedelta(days=2), rm_id="RM2"),
    ], D)
    insert(con, "stg_feedback", [
        nps("N1", "C1", D - timedelta(days=200), 3), nps("N2", "C1", D - timedelta(days=10), 10),  # latest counts
        nps("N3", "C2", D - timedelta(days=20), 9), nps("N4", "C4", D - timedelta(days=5), 5),
        nps("N5", "NORM", D - timedelta(days=5), 0),
        complaint("F1", "C2", D - timedelta(days=10)),
        complaint("F2", "C1", D - timedelta(days=40), status="resolved", resolved=D - timedelta(days=39)),
    ], D)
    # Offers: C1 opened a fund after its fund offer (a conversion), C2 did not open a wealth product.
    insert(con, "stg_accounts", [account("A1", "C1", "FD002", open_date=D - timedelta(days=5)),
                                 account("A2", "C2", "FD001", open_date=D - timedelta(days=5))], D)
    put(con, "crm_tasks", [offer_task("C1", D - timedelta(days=20), "FD001"), offer_task("C1", D - timedelta(days=19), "FD001"),
                           offer_task("C2", D - timedelta(days=20), "WM001")])
    build_rm_scorecard_range(con, DateRange(D, D), RULES)
    assert contract_violations(con, "rm_scorecard", output_contracts()["rm_scorecard"], D) == []
    got = {r["rm_id"]: r for r in rows(con, "select * exclude (as_of_date) from rm_scorecard where as_of_date = $d", {"d": D})}
    assert sorted(got) == ["RM1", "RM3"]
    rm1 = got["RM1"]
    assert (rm1["branch_id"], rm1["customers"], float(rm1["aum"]), float(rm1["aum_previous"]), rm1["aum_growth"]) == (
        "B1", 3, 150_000.0, 100_000.0, 0.5)
    assert (rm1["contacts_made"], rm1["customers_contacted"], rm1["contacts_due"]) == (2, 1, 1)
    assert (rm1["offers"], rm1["offer_conversions"], rm1["conversion_rate"]) == (2, 1, 0.5)
    assert (rm1["complaints"], rm1["open_complaints"], rm1["overdue_complaints"]) == (1, 1, 1)
    assert (rm1["nps_responses"], rm1["promoters"], rm1["detractors"], rm1["nps"]) == (3, 2, 1, 33.3)
    assert (got["RM3"]["customers"], got["RM3"]["aum"], got["RM3"]["nps"], got["RM3"]["aum_growth"]) == (0, 0, None, None)
    con.close()
