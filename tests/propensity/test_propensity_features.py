"""int_features on hand-made rows: exact values, the feature dictionary, the leakage test, and
label construction on a hand-made timeline."""

from __future__ import annotations

import copy
from datetime import date, datetime

import pytest
from tests.kit import warehouse as k

from models.propensity.features import FEATURE_NAMES
from pipelines.core.config import load_rules
from pipelines.core.engine import DateRange
from pipelines.propensity.build import build_feature_range, family_rows, training_plan, training_set
from pipelines.customer.segmentation import build_segmentation

D = date(2020, 6, 30)
RULES = load_rules()


def _base(con):
    k.insert(con, "stg_customers", [
        k.customer("C1", birth_date=date(1980, 5, 1), annual_income=120000, occupation="engineer",
                   risk_tolerance="C3"),
        k.customer("C2", customer_type="business"),
    ], date(2020, 1, 1))
    k.insert(con, "stg_accounts", [k.account("A1", "C1"), k.account("A2", "C2", "SV001"),
                                   k.account("L1", "C1", "CL001", open_date=date(2020, 2, 1))], date(2020, 1, 1))
    txns = [k.txn(f"S{m}", "A1", date(2020, m, 10), 8000, "salary", direction="credit") for m in (2, 3, 5, 6)]
    txns += [
        k.txn("P1", "A1", date(2020, 6, 1), 300, "card_purchase", mcc="5812", channel="pos"),
        k.txn("P2", "A1", date(2020, 5, 20), 700, "card_purchase", mcc="3005", channel="pos"),
        k.txn("P3", "A1", date(2020, 4, 20), 50, "card_purchase", mcc="5411", channel="mobile"),
        k.txn("R1", "A1", date(2020, 6, 15), 1500, "loan_repayment", channel="online"),
        k.txn("X1", "A1", date(2019, 12, 1), 999, "transfer_out"),  # long window only
        k.txn("B1", "A2", date(2020, 6, 2), 400, "transfer_out", channel="branch"),
    ]
    k.insert(con, "stg_transactions", txns, date(2020, 6, 30))
    k.insert(con, "stg_loan_performance", [{"account_id": "L1", "as_of_date": date(2020, 6, 30),
                                            "outstanding": 10000, "days_past_due": 12}], date(2020, 6, 30))
    k.insert(con, "stg_interactions", [
        {"interaction_id": "I1", "customer_id": "C1", "interaction_ts": datetime(2020, 6, 20, 9), "kind": "contact"},
        {"interaction_id": "I2", "customer_id": "C1", "interaction_ts": datetime(2019, 9, 1, 9), "kind": "event"},
    ], date(2020, 6, 20))
    k.insert(con, "stg_feedback", [
        {"feedback_id": "F1", "customer_id": "C1", "feedback_ts": datetime(2020, 5, 1, 9), "kind": "nps", "score": 6},
        {"feedback_id": "F2", "customer_id": "C1", "feedback_ts": datetime(2020, 6, 1, 9), "kind": "nps", "score": 9},
        {"feedback_id": "F3", "customer_id": "C2", "feedback_ts": datetime(2020, 6, 1, 9), "kind": "complaint"},
    ], date(2020, 6, 1))


def _features(con, day=D) -> dict[str, dict]:
    build_segmentation(con, DateRange(day, day), RULES)
    build_feature_range(con, DateRange(day, day), RULES)
    frame = con.sql("select * from int_features where as_of_date = $d order by customer_id", params={"d": day}).pl()
    return {r["customer_id"]: r for r in frame.to_dicts()}


def test_feature_values_and_dictionary(tmp_path):
    con = k.warehouse(tmp_path)
    _base(con)
    f = _features(con)
    cols = con.sql("select * from int_features limit 0").columns
    assert cols == ["as_of_date", "customer_id", *FEATURE_NAMES]
    c1, c2 = f["C1"], f["C2"]
    assert (c1["age_band"], c1["income_band"], c1["occupation"], c1["risk_tolerance_level"]) == ("35-44", "100000+", "engineer", 3)
    assert (c2["customer_type"], c2["age_band"], c2["income_band"], c2["risk_tolerance_level"]) == ("business", "unknown", "unknown", 0)
    # Salary in Feb, Mar, May, Jun (within 180 days of Jun 30): 4 months, 8000 a month.
    assert (c1["salary_months"], c1["salary_monthly"]) == (4, 8000.0)
    assert c1["spend_dining_short"] == 300 and c1["spend_travel_short"] == 700 and c1["spend_groceries_short"] == 50
    assert c1["card_purchase_short"] == 1050 and c1["transfer_out_short"] == 0
    assert c1["loan_repayment_monthly"] == pytest.approx(1500 * 30 / 90)
    assert c1["txn_count_long"] == 9 and c1["txn_count_short"] == 6  # since Apr 2
    assert c1["digital_share_short"] == pytest.approx(2 / 6)
    assert c1["holds_consumer_loan"] and c1["holds_current_account"] and not c1["holds_credit_card"]
    assert c1["max_dpd"] == 12
    assert (c1["contacts_short"], c1["contacts_long"], c1["events_long"], c1["days_since_contact"]) == (1, 2, 1, 10)
    assert (c1["last_nps"], c1["complaints_long"], c2["complaints_long"]) == (9, 0, 1)
    assert c2["branch_share_short"] == 1.0 and c2["transfer_out_short"] == 400 and c2["holds_savings"]


def _future_rows(con, shift_days: int):
    """Rows that happen after D (delivered after D): none may change D's features."""
    day = date.fromordinal(D.toordinal() + 1 + shift_days)
    when = datetime.combine(day, datetime.min.time()).replace(hour=11)
    k.insert(con, "stg_accounts", [k.account(f"N{shift_days}", "C1", "CC001", open_date=day)], day)
    k.insert(con, "stg_customers", [k.customer("C1", birth_date=date(1980, 5, 1), annual_income=999999,
                                               occupation="ceo", risk_tolerance="C5")], day)
    k.insert(con, "stg_transactions", [
        k.txn(f"F{shift_days}a", "A1", day, 7777, "salary", direction="credit"),
        k.txn(f"F{shift_days}b", "A2", day, 5000, "card_purchase", mcc="5812"),
    ], day)
    k.insert(con, "stg_balances", [k.balance("A1", day, 123456.0)], day)
    k.insert(con, "stg_loan_performance", [{"account_id": "L1", "as_of_date": day, "days_past_due": 95}], day)
    k.insert(con, "stg_interactions", [{"interaction_id": f"I{shift_days}", "customer_id": "C2",
                                        "interaction_ts": when, "kind": "event"}], day)
    k.insert(con, "stg_feedback", [{"feedback_id": f"F{shift_days}", "customer_id": "C2", "feedback_ts": when,
                                    "kind": "complaint"}], day)


def test_leakage_future_events_do_not_change_features(tmp_path):
    con = k.warehouse(tmp_path)
    _base(con)
    before = _features(con)
    _future_rows(con, 0)
    after = _features(con)
    assert after == before
    # Shifting the future events further (a later day) changes nothing either.
    con.execute("delete from stg_transactions where txn_id like 'F0%'")
    _future_rows(con, 40)
    assert _features(con) == before
    # Control: the same kind of event on the feature date does change them.
    k.insert(con, "stg_transactions", [k.txn("NOW", "A2", D, 5000, "card_purchase", mcc="5812")], D)
    assert _features(con)["C2"]["spend_dining_short"] == 5000


def test_labels_on_a_hand_made_timeline(tmp_path):
    con = k.warehouse(tmp_path)
    jan, feb = date(2020, 1, 31), date(2020, 2, 29)
    k.insert(con, "stg_customers", [k.customer(c) for c in ("C1", "C2", "C3", "C4")], date(2020, 1, 1))
    k.insert(con, "stg_accounts", [k.account(f"A{c}", c) for c in ("C1", "C2", "C3", "C4")], date(2020, 1, 1))
    for day in (jan, feb):
        _features(con, day)
    # Each account delivered on its opening day, as a core system does.
    for acc in (k.account("CC1", "C1", "CC001", open_date=date(2020, 2, 15)),   # Jan label; held at Feb
                k.account("FD2", "C2", "FD002", open_date=date(2020, 5, 1)),    # after Jan+90, within Feb+90
                k.account("CC3", "C3", "CC002", open_date=date(2020, 4, 30)),   # exactly Jan+90: inside
                k.account("CC3b", "C3", "CC001", open_date=date(2020, 5, 2))):  # second card: one label
        k.insert(con, "stg_accounts", [acc], acc["open_date"])
    _features(con, feb)  # rebuilt after C1's card: Feb features see it as held
    k.insert(con, "stg_accounts", [k.account("IN4", "C4", "IN001", open_date=date(2020, 5, 3))],
             date(2020, 6, 1))  # delivered after the label date: not visible
    frame = training_set(con, [jan, feb], date(2020, 5, 31), RULES)
    labels = {(r["as_of_date"], r["customer_id"]): r["opened_families"] for r in frame.to_dicts()}
    assert labels == {
        (jan, "C1"): ["credit_card"], (jan, "C2"): [], (jan, "C3"): ["credit_card"], (jan, "C4"): [],
        (feb, "C1"): [], (feb, "C2"): ["fund"], (feb, "C3"): ["credit_card"], (feb, "C4"): [],
    }
    pop, y = family_rows(frame, "credit_card")
    # C1 holds a card on Feb 29: out of that date's credit-card population.
    assert sorted(zip(pop["as_of_date"], pop["customer_id"], y)) == [
        (jan, "C1", 1), (jan, "C2", 0), (jan, "C3", 1), (jan, "C4", 0),
        (feb, "C2", 0), (feb, "C3", 1), (feb, "C4", 0)]


def test_training_sample_is_capped_per_date_whatever_the_base(tmp_path):
    con = k.warehouse(tmp_path)
    jan, feb = date(2020, 1, 31), date(2020, 2, 29)
    rules = copy.deepcopy(RULES)
    rules["propensity"]["training"]["max_rows_per_date"] = 15
    sizes = {}
    for base in (20, 60):
        k.insert(con, "stg_customers", [k.customer(f"C{i:03d}") for i in range(sizes and 20 or 0, base)],
                 date(2020, 1, 1))
        for day in (jan, feb):
            _features(con, day)
        frame = training_set(con, [jan, feb], date(2020, 5, 31), rules)
        sizes[base] = frame.group_by("as_of_date").len().sort("as_of_date")["len"].to_list()
        again = training_set(con, [jan, feb], date(2020, 5, 31), rules)
        assert frame["customer_id"].to_list() == again["customer_id"].to_list()  # reproducible sample
    # Tripling the base leaves the training set at the cap.
    assert sizes == {20: [15, 15], 60: [15, 15]}


def test_training_plan_keeps_evaluation_later_and_disjoint():
    ends = [date(2025, m + 1, 1).replace(day=1) for m in range(1, 12)]
    month_ends = [date.fromordinal(d.toordinal() - 1) for d in ends] + [date(2025, 12, 31)]
    train, evaluation = training_plan(month_ends + [date(2025, 12, 15)], date(2025, 12, 31), RULES)
    assert evaluation == [date(2025, 9, 30)]
    assert train == [date(2025, m, d) for m, d in ((1, 31), (2, 28), (3, 31), (4, 30), (5, 31), (6, 30))]
    from pipelines.propensity.build import NotEnoughHistory
    with pytest.raises(NotEnoughHistory):
        training_plan(month_ends[:4], date(2025, 6, 30), RULES)


def test_docs_carry_the_feature_dictionary():
    from pathlib import Path

    from models.propensity.features import dictionary_markdown

    doc = Path(__file__).resolve().parents[2] / "docs" / "propensity.md"
    assert dictionary_markdown() in doc.read_text(encoding="utf-8")
