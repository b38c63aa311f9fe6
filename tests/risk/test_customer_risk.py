"""customer_risk, model_monitoring, crm_tasks and customer_360's risk columns on hand-made
warehouses: exact point-in-time features, the labelled rule-based score, a trained model
scoring through the store, PSI bands, stable risk-review tasks."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl
import pytest

from models.risk import scorecard as rm
from models.store import save_model
from pipelines.core.config import load_rules
from pipelines.core.contracts import output_contracts
from pipelines.core.engine import DateRange
from pipelines.relationship.crm_tasks import build_crm_tasks_range
from pipelines.publishing.snapshot import contract_violations
from pipelines.risk.reports import build_reports
from pipelines.risk.scoring import (MODEL_NAME, METHOD_MODEL, METHOD_RULES, build_features, build_scoring,
                                    current_model, features_of, score)
from pipelines.customer.segmentation import build_date
from tests.kit.warehouse import EPOCH, account, balance, customer, insert, rows, warehouse

RULES = load_rules()
D = date(2024, 6, 30)


def one_day(day):
    return DateRange(day, day)


def at(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=hour)


def txn(txn_id, account_id, day, amount, txn_type, direction, is_cash=False):
    return {"txn_id": txn_id, "account_id": account_id, "txn_ts": at(day), "amount": amount,
            "amount_reporting": amount, "direction": direction, "currency": "CNY", "txn_type": txn_type,
            "is_cash": is_cash, "is_cross_border": False}


def perf(account_id, day, dpd, outstanding):
    return {"account_id": account_id, "as_of_date": day, "days_past_due": dpd, "outstanding": outstanding}


@pytest.fixture
def con(tmp_path):
    con = warehouse(tmp_path)
    insert(con, "stg_customers", [
        customer("C1", onboard_date=date(2019, 6, 30), annual_income=120_000.0, rm_id="RM1"),
        customer("C2", onboard_date=date(2023, 6, 30), annual_income=60_000.0, rm_id="RM2"),
    ], EPOCH)
    insert(con, "stg_accounts", [
        account("A1", "C1"), account("A1C", "C1", "CC001", credit_limit=10_000.0),
        account("A1L", "C1", "CL001", principal=50_000.0), account("A2", "C2"),
    ], EPOCH)
    # C1: card 95 % used, loan 45 days past due now and 15 two months ago, two salaries in six
    # months, 40 % of spending in cash; C2 has no credit product and a regular salary.
    month_ends = [date(2024, 4, 30), date(2024, 5, 31), D]
    insert(con, "stg_loan_performance", [perf("A1L", month_ends[0], 15, 40_000.0), perf("A1L", month_ends[1], 0, 39_000.0),
                                         perf("A1L", D, 45, 38_000.0), perf("A1C", D, 0, 9_500.0)], D)
    insert(con, "stg_balances", [balance("A1C", D, -9_500.0), balance("A1", D - timedelta(days=10), 1_000.0),
                                 balance("A1", D, 3_000.0), balance("A2", D, 20_000.0)], D)
    transactions = [txn("S1", "A1", date(2024, 2, 10), 10_000.0, "salary", "credit"),
                    txn("S2", "A1", date(2024, 5, 10), 10_000.0, "salary", "credit"),
                    txn("W1", "A1", date(2024, 6, 1), 4_000.0, "withdrawal", "debit", is_cash=True),
                    txn("P1", "A1", date(2024, 6, 2), 6_000.0, "card_purchase", "debit")]
    transactions += [txn(f"S2{m}", "A2", date(2024, m, 5), 5_000.0, "salary", "credit") for m in range(1, 7)]
    insert(con, "stg_transactions", transactions, D)
    build_reports(con, one_day(D), RULES)
    yield con
    con.close()


def test_features_are_exact_and_point_in_time(con):
    build_features(con, one_day(D), RULES)
    got = {r["customer_id"]: r for r in features_of(con, one_day(D)).to_dicts()}
    c1 = got["C1"]
    assert (c1["has_credit"], c1["max_dpd_12m"], c1["months_delinquent_12m"], c1["current_dpd"]) == (True, 45, 2, 45)
    assert c1["utilisation"] == pytest.approx(0.95)
    assert c1["income_stability"] == pytest.approx(2 / (183 / 30.4))  # February and May of the last 183 days
    assert c1["cash_intensity"] == pytest.approx(0.4)
    assert c1["balance_volatility"] == pytest.approx(np.std([1_000, 3_000], ddof=1) / 2_000)
    assert c1["debt_to_income"] == pytest.approx(47_500 / 120_000)
    assert c1["deposit_balance"] == pytest.approx(3_000)
    c2 = got["C2"]
    assert (c2["has_credit"], c2["max_dpd_12m"], c2["utilisation"], c2["debt_to_income"]) == (False, None, None, None)
    assert c2["income_stability"] == pytest.approx(6 / (183 / 30.4))
    # A day before the June extracts were delivered, none of them is visible.
    build_features(con, one_day(D - timedelta(days=1)), RULES)
    early = {r["customer_id"]: r for r in features_of(con, one_day(D - timedelta(days=1))).to_dicts()}
    assert (early["C1"]["current_dpd"], early["C1"]["utilisation"], early["C1"]["cash_intensity"]) == (0, None, 0)


def test_rule_based_score_is_labelled_and_explained(con, tmp_path):
    model = current_model(tmp_path / "models", RULES)
    assert (model.method, model.version) == (METHOD_RULES, RULES["risk"]["rule_based"]["version"])
    build_scoring(con, one_day(D), RULES, model)
    got = {r["customer_id"]: r for r in rows(con, "select * from customer_risk where as_of_date = $d", {"d": D})}
    base = RULES["risk"]["rule_based"]["base_points"]
    # C1: current dpd >= 30 (-80) and >= 1 (-30), 12-month max >= 30 (-40), 2 months in arrears (-20),
    # utilisation >= 0.9 (-40) and >= 0.7 (-20), income stability <= 0.67 (-25).
    assert got["C1"]["score"] == base - 80 - 30 - 40 - 20 - 40 - 20 - 25
    assert got["C1"]["grade"] == "E" and got["C1"]["score_method"] == "rule_based"
    # Rules on one feature add up in its reason: current dpd cost 80 + 30.
    assert got["C1"]["reasons"][0] == "days past due now: 45 (-110 pts)"
    assert len(got["C1"]["reasons"]) == RULES["risk"]["top_reasons"]
    assert got["C2"]["score"] == base and got["C2"]["reasons"] == [] and got["C2"]["grade"] == "A"
    assert got["C1"]["pd_12m"] == pytest.approx(float(rm.Scale(**RULES["risk"]["scorecard"]).pd(got["C1"]["score"])), abs=1e-6)
    for table in ("customer_risk", "model_monitoring"):
        assert contract_violations(con, table, output_contracts()[table], D) == []


def test_monitoring_of_the_rules_compares_with_the_first_scored_date_at_first(con, tmp_path):
    model = current_model(tmp_path / "models", RULES)
    build_scoring(con, one_day(D), RULES, model)
    monitoring = rows(con, "select * from model_monitoring where as_of_date = $d", {"d": D})
    assert {r["subject"] for r in monitoring} == {"score", *RULES["risk"]["features"]}
    assert all(r["metric"] == "psi" and r["value"] == pytest.approx(0, abs=1e-9) and r["band"] == "stable"
               for r in monitoring)
    assert monitoring[0]["reference_window"] == f"scored {D}"


def trained_model(tmp_path, approved=True):
    """A scorecard fit on synthetic features in the store, as the training asset leaves it."""
    rng = np.random.default_rng(3)
    n = 3000
    frame = pl.DataFrame({f: rng.random(n) for f in RULES["risk"]["features"]})
    y = (rng.random(n) < 0.02 + 0.3 * frame["current_dpd"].to_numpy() ** 4).astype(int)
    card = rm.fit_scorecard(frame, y, RULES["risk"]["features"], 5, rm.Scale(**RULES["risk"]["scorecard"]), 30)
    meta = {"approved": approved, "training_window": ["2023-01-31", "2023-10-31"],
            "evaluation": {"auc": 0.7, "ks": 0.3, "gini": 0.4, "default_rate": 0.05}}
    return save_model(tmp_path / "models", MODEL_NAME, card, metadata=meta)


def test_the_latest_approved_model_scores_and_reports_its_evaluation(con, tmp_path):
    trained_model(tmp_path, approved=False)
    assert current_model(tmp_path / "models", RULES).method == METHOD_RULES  # unapproved: never used
    version = trained_model(tmp_path, approved=True)
    model = current_model(tmp_path / "models", RULES)
    assert (model.method, model.version) == (METHOD_MODEL, version)
    build_scoring(con, one_day(D), RULES, model)
    got = rows(con, "select * from customer_risk where as_of_date = $d order by customer_id", {"d": D})
    assert {r["score_method"] for r in got} == {"model"} and {r["model_version"] for r in got} == {version}
    features = set(RULES["risk"]["features"])
    labels = {RULES["risk"]["feature_labels"][f] for f in features}
    assert all(reason.split(":")[0] in labels for r in got for reason in r["reasons"])
    monitoring = {(r["metric"], r["subject"]): r for r in rows(con, "select * from model_monitoring where as_of_date = $d", {"d": D})}
    assert monitoring[("auc", "evaluation_window")]["value"] == 0.7
    assert monitoring[("psi", "score")]["reference_window"] == "training 2023-01-31..2023-10-31"
    # Two customers against a 3,000-row uniform training sample: far from stable.
    assert monitoring[("psi", "utilisation")]["band"] == "act"
    assert contract_violations(con, "customer_risk", output_contracts()["customer_risk"], D) == []


def test_scores_and_grades_follow_the_scale(con, tmp_path):
    build_features(con, one_day(D), RULES)
    frame = features_of(con, one_day(D))
    scored = score(frame, current_model(None, RULES), RULES)
    scale = rm.Scale(**RULES["risk"]["scorecard"])
    assert np.allclose(scale.points(scored["pd_12m"].to_numpy()), scored["score"].to_numpy(), atol=0.01)


def test_risk_review_tasks_for_grade_e_and_high_alerts_keep_their_ids(con, tmp_path):
    build_scoring(con, one_day(D), RULES, current_model(None, RULES))
    build_crm_tasks_range(con, one_day(D), RULES)
    tasks = rows(con, "select * from crm_tasks where as_of_date = $d", {"d": D})
    assert [(t["kind"], t["customer_id"], t["rm_id"], t["priority"], t["status"], t["due_date"]) for t in tasks] == [
        ("risk_review", "C1", "RM1", "medium", "new", D + timedelta(days=7))]
    assert tasks[0]["reason"].startswith("risk grade E (score ")
    # Next night: same task, still due on the first night's date; a high alert escalates it.
    nxt = D + timedelta(days=1)
    con.execute("insert into customer_risk select * replace ($n::date as as_of_date) from customer_risk "
                "where as_of_date = $d", {"n": nxt, "d": D})
    con.execute("insert into risk_alerts (as_of_date, alert_id, rule_id, rule_name, severity, customer_id, account_ids, "
                "window_start, window_end, amount, txn_count, txn_ids, explanation, status, first_seen_date) values "
                "($n, 'AL1', 'STR01', 'Structuring', 'high', 'C1', ['A1'], $t, $t, 1, 1, ['W1'], 'x', 'new', $n)",
                {"n": nxt, "t": at(nxt)})
    build_crm_tasks_range(con, DateRange(nxt, nxt), RULES)
    again = rows(con, "select * from crm_tasks where as_of_date = $d", {"d": nxt})
    assert [(t["task_id"], t["priority"], t["status"], t["created_date"], t["due_date"]) for t in again] == [
        (tasks[0]["task_id"], "high", "open", D, nxt + timedelta(days=1))]
    assert again[0]["reason"].startswith("high alert STR01 (AL1); risk grade E")
    assert contract_violations(con, "crm_tasks", output_contracts()["crm_tasks"], nxt) == []


def test_customer_360_carries_grade_and_open_alerts(con, tmp_path):
    build_scoring(con, one_day(D), RULES, current_model(None, RULES))
    build_date(con, D, RULES)
    got = {r["customer_id"]: r for r in rows(con, "select * from customer_360 where as_of_date = $d", {"d": D})}
    assert (got["C1"]["risk_grade"], got["C1"]["open_alert_count"], got["C2"]["risk_grade"]) == ("E", 0, "A")
