"""Suspicious-pattern alerts on hand-made histories: each rule fires on its pattern and not on
the near miss, evidence and window are exact, and ids are stable across nights."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from pipelines.core.config import load_rules
from pipelines.core.engine import DateRange
from pipelines.core.contracts import output_contracts
from pipelines.publishing.snapshot import contract_violations
from pipelines.risk.reports import RiskConfigError, alert_rules, build_reports
from tests.kit.warehouse import EPOCH, account, customer, insert, rows, warehouse

D = date(2024, 3, 10)


def one_day(day):
    return DateRange(day, day)


def at(day: date, hour: float = 10.0) -> datetime:
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=hour)


def txn(txn_id, when, amount, *, account_id="A1", direction="credit", txn_type="deposit", is_cash=False):
    return {"txn_id": txn_id, "account_id": account_id, "txn_ts": when, "amount": amount,
            "amount_reporting": amount, "direction": direction, "currency": "CNY", "txn_type": txn_type,
            "is_cash": is_cash, "is_cross_border": False}


def cash_in(txn_id, when, amount, account_id="A1"):
    return txn(txn_id, when, amount, account_id=account_id, is_cash=True)


def cash_out(txn_id, when, amount, account_id="A1"):
    return txn(txn_id, when, amount, account_id=account_id, direction="debit", txn_type="withdrawal", is_cash=True)


@pytest.fixture
def con(tmp_path):
    con = warehouse(tmp_path)
    insert(con, "stg_customers", [customer("P1"), customer("P2")], EPOCH)
    insert(con, "stg_accounts", [account("A1", "P1"), account("A2", "P1", "SV001"), account("B1", "P2")], EPOCH)
    yield con
    con.close()


def run_dates(con, deliveries: dict[date, list[dict]], last: date = D, first: date | None = None) -> None:
    """Deliver each date's transactions and build those dates and `last` (every date from `first` if given)."""
    days = set(deliveries) | {last}
    if first:
        days |= {first + timedelta(days=i) for i in range((last - first).days + 1)}
    for day in sorted(days):
        insert(con, "stg_transactions", deliveries.get(day, []), day)
        build_reports(con, one_day(day), load_rules())


def alerts(con, rule_id=None, day=D):
    return rows(con, "select * from risk_alerts where as_of_date = $d and ($r is null or rule_id = $r) "
                     "order by rule_id, window_start", {"d": day, "r": rule_id})


def by_txn_day(transactions):
    out: dict[date, list[dict]] = {}
    for t in transactions:
        out.setdefault(t["txn_ts"].date(), []).append(t)
    return out


def test_structuring_three_near_threshold_cash_deposits_in_a_week(con):
    run_dates(con, by_txn_day([cash_in("S1", at(D - timedelta(days=6)), 48_000.0),
                               cash_in("S2", at(D - timedelta(days=3)), 49_500.0, "A2"),
                               cash_in("S3", at(D), 45_000.0),
                               cash_in("N1", at(D), 44_999.99)]))  # below 90 %: not evidence
    got = alerts(con, "STR01")
    assert [(a["customer_id"], a["txn_ids"], a["account_ids"], float(a["amount"]), a["severity"], a["status"])
            for a in got] == [("P1", ["S1", "S2", "S3"], ["A1", "A2"], 142_500.0, "high", "new")]
    assert (got[0]["window_start"], got[0]["window_end"]) == (at(D - timedelta(days=6)), at(D))


def test_structuring_needs_three_within_the_window(con):
    run_dates(con, by_txn_day([cash_in("S1", at(D - timedelta(days=7), 9), 48_000.0),
                               cash_in("S2", at(D - timedelta(days=3)), 49_500.0),
                               cash_in("S3", at(D), 45_000.0),
                               cash_in("S4", at(D), 50_000.0)]))  # at the threshold: a large-value report, not structuring
    assert alerts(con, "STR01") == []


# The oldest loaded transaction: the warehouse holds more than the rules' 90-day baselines.
HISTORY_START = txn("H0", at(D - timedelta(days=100)), 10.0, account_id="B1")


def test_rapid_in_and_out_within_48_hours(con):
    run_dates(con, by_txn_day([HISTORY_START,
        txn("I1", at(D - timedelta(days=2), 9), 100_000.0, txn_type="transfer_in"),
        txn("O1", at(D - timedelta(days=1), 9), 60_000.0, account_id="A2", direction="debit", txn_type="transfer_out"),
        txn("O2", at(D - timedelta(days=1), 15), 25_000.0, direction="debit", txn_type="transfer_out"),
        # Customer P2 moves out only 70 % within 48 hours and the rest after: no alert.
        txn("J1", at(D - timedelta(days=3), 9), 100_000.0, account_id="B1", txn_type="transfer_in"),
        txn("P1", at(D - timedelta(days=2), 9), 70_000.0, account_id="B1", direction="debit", txn_type="transfer_out"),
        txn("P2", at(D, 10), 30_000.0, account_id="B1", direction="debit", txn_type="transfer_out"),
    ]))
    got = alerts(con, "RIO01")
    assert [(a["customer_id"], a["txn_ids"], float(a["amount"]), a["explanation"]) for a in got] == [
        ("P1", ["I1", "O1", "O2"], 100_000.0, "CNY 100000.00 in, CNY 85000.00 (85%) out again within 48 hours")]


def test_rapid_in_and_out_of_a_customers_usual_volume_is_not_alerted(con):
    # P1 receives CNY 100,000 every other day: today's 100,000 in and out is its usual turnover.
    usual = [txn(f"U{i}", at(D - timedelta(days=2 * i)), 100_000.0, txn_type="transfer_in") for i in range(1, 45)]
    run_dates(con, by_txn_day(usual + [txn("I1", at(D, 9), 100_000.0, txn_type="transfer_in"),
                                       txn("O1", at(D, 11), 95_000.0, direction="debit", txn_type="transfer_out")]))
    assert alerts(con, "RIO01") == []


def test_rapid_in_and_out_below_the_amount_is_not_alerted(con):
    run_dates(con, by_txn_day([HISTORY_START, txn("I1", at(D, 9), 49_999.0, txn_type="transfer_in"),
                               txn("O1", at(D, 11), 49_999.0, direction="debit", txn_type="transfer_out")]))
    assert alerts(con, "RIO01") == []


def test_frequent_cash_withdrawals_five_in_24_hours(con):
    start = at(D - timedelta(days=1), 12)
    burst = [cash_out(f"W{i}", start + timedelta(hours=5 * i), 2_000.0) for i in range(5)]  # 0h..20h
    spread = [cash_out(f"X{i}", at(D - timedelta(days=3), 1) + timedelta(hours=12 * i), 500.0, "B1") for i in range(5)]
    run_dates(con, by_txn_day(burst + spread))
    got = alerts(con, "FCW01")
    assert [(a["customer_id"], a["txn_ids"], a["txn_count"]) for a in got] == [("P1", [f"W{i}" for i in range(5)], 5)]


def test_frequent_cash_withdrawals_far_above_the_customers_own_baseline(con):
    # One withdrawal a month for three months, then four on one day (baseline 3/90 a day).
    history = [cash_out(f"H{i}", at(D - timedelta(days=30 * i + 5)), 1_000.0) for i in range(1, 4)]
    day = [cash_out(f"W{i}", at(D, 8 + 3 * i), 1_000.0) for i in range(4)]
    run_dates(con, by_txn_day(history + day))
    got = alerts(con, "FCW01")
    assert [(a["customer_id"], a["txn_ids"], "baseline" in a["explanation"]) for a in got] == [
        ("P1", ["W0", "W1", "W2", "W3"], True)]


def test_dormant_account_reactivated_with_a_large_flow(con):
    quiet_since = D - timedelta(days=200)
    run_dates(con, {
        quiet_since: [txn("Q0", at(quiet_since), 100.0)],
        D - timedelta(days=1): [txn("R1", at(D - timedelta(days=1)), 30_000.0, txn_type="transfer_in"),
                                txn("R2", at(D - timedelta(days=1), 14), 25_000.0, direction="debit",
                                    txn_type="transfer_out")],
        # Account B1 was active 100 days ago: not dormant.
        D - timedelta(days=100): [txn("B0", at(D - timedelta(days=100)), 100.0, account_id="B1")],
        D: [txn("B2", at(D), 80_000.0, account_id="B1", txn_type="transfer_in")],
    })
    got = alerts(con, "DRM01")
    assert [(a["customer_id"], a["account_ids"], a["txn_ids"], float(a["amount"])) for a in got] == [
        ("P1", ["A1"], ["R1", "R2"], 55_000.0)]
    # The dormancy window is all that is read: a longer quiet spell shows as "180+".
    assert got[0]["explanation"].startswith("account quiet for 180+ days")


def test_rapid_in_and_out_is_not_judged_without_a_baseline_window_of_history(con):
    run_dates(con, by_txn_day([txn("I1", at(D, 9), 100_000.0, txn_type="transfer_in"),
                               txn("O1", at(D, 11), 95_000.0, direction="debit", txn_type="transfer_out")]))
    assert alerts(con, "RIO01") == []


def test_no_account_is_dormant_before_the_warehouse_holds_the_dormancy_window(con):
    # The first transaction ever loaded, 100 days ago: nothing is known of the 80 days before.
    run_dates(con, {D - timedelta(days=100): [txn("F0", at(D - timedelta(days=100)), 100.0, account_id="B1")],
                    D: [txn("R1", at(D), 80_000.0, txn_type="transfer_in")]})
    assert alerts(con, "DRM01") == []


def test_transfer_far_above_the_customers_history(con):
    history = [txn(f"H{i}", at(D - timedelta(days=10 * i)), 10_000.0, txn_type="transfer_out", direction="debit")
               for i in range(1, 4)]
    big = txn("BIG", at(D), 50_000.0, txn_type="transfer_out", direction="debit")
    near = txn("NEAR", at(D, 12), 49_999.0, account_id="A2", txn_type="transfer_out", direction="debit")
    run_dates(con, by_txn_day(history + [big, near]))
    got = alerts(con, "LTH01")
    assert [(a["txn_ids"], a["explanation"]) for a in got] == [
        (["BIG"], "outgoing transfer of CNY 50000.00 is 5.0x the largest of the previous 90 days (CNY 10000.00)")]


def test_the_same_finding_next_night_keeps_its_id_and_is_ongoing(con):
    first = D - timedelta(days=1)
    run_dates(con, by_txn_day([cash_in("S1", at(first - timedelta(days=4)), 48_000.0),
                               cash_in("S2", at(first - timedelta(days=2)), 49_000.0),
                               cash_in("S3", at(first), 47_000.0),
                               cash_in("S4", at(D), 46_000.0)]), first=first)
    yesterday, today = alerts(con, "STR01", first), alerts(con, "STR01", D)
    assert [a["status"] for a in yesterday] == ["new"] and [a["status"] for a in today] == ["ongoing"]
    assert today[0]["alert_id"] == yesterday[0]["alert_id"]
    assert today[0]["txn_ids"] == ["S1", "S2", "S3", "S4"] and today[0]["first_seen_date"] == first
    # A week after its last evidence the finding is closed: no longer in the snapshot.
    run_dates(con, {}, D + timedelta(days=7), first=D + timedelta(days=1))
    assert alerts(con, "STR01", D + timedelta(days=6))[0]["alert_id"] == today[0]["alert_id"]
    assert alerts(con, "STR01", D + timedelta(days=7)) == []


def test_alerts_meet_their_contract(con):
    run_dates(con, by_txn_day([cash_in("S1", at(D - timedelta(days=2)), 48_000.0),
                               cash_in("S2", at(D - timedelta(days=1)), 48_000.0),
                               cash_in("S3", at(D), 48_000.0)]))
    assert contract_violations(con, "risk_alerts", output_contracts()["risk_alerts"], D) == []


def test_rule_config_errors_are_named():
    rules = load_rules()
    broken = {**rules, "risk_alerts": {**rules["risk_alerts"],
                                        "rules": [*rules["risk_alerts"]["rules"], {**rules["risk_alerts"]["rules"][0]}]}}
    with pytest.raises(RiskConfigError, match="duplicate rule ids"):
        alert_rules(broken)
    unknown = {**rules, "risk_alerts": {**rules["risk_alerts"],
                                         "rules": [{**rules["risk_alerts"]["rules"][0], "type": "smurfing"}]}}
    with pytest.raises(RiskConfigError, match="unknown type"):
        alert_rules(unknown)
