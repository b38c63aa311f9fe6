"""customer_lifecycle on hand-made warehouse rows: AUM and tiers (with a boundary crossed on the
day), each stage rule on its boundary, recommended actions, stage history across dates."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest

from models.customer.segmentation import SegmentationConfigError, action_rules, tier_ladder
from pipelines.core.config import load_rules
from pipelines.core.base_coverage import base_coverage_failures
from pipelines.core.engine import DateRange
from pipelines.core.contracts import output_contracts
from pipelines.publishing.snapshot import contract_violations
from pipelines.customer.segmentation import build_date
from tests.kit.warehouse import EPOCH, account, balance, customer, insert, rows, txn, warehouse

D = date(2024, 3, 1)


def ago(days: int) -> date:
    return D - timedelta(days=days)


def lifecycle(con, day: date = D) -> dict[str, dict]:
    return {r["customer_id"]: r for r in
            rows(con, "select * from customer_lifecycle where as_of_date = $d", {"d": day})}


def activity(customer_id: str, days_ago: list[int]) -> list[dict]:
    return [txn(f"T_{customer_id}_{i}", f"A_{customer_id}", ago(n)) for i, n in enumerate(days_ago)]


# Counted transactions: recent window = 0..89 days ago, prior window = 90..179 days ago.
STEADY = [10, 20, 30, 100, 110, 120]          # 3 recent, 3 prior


def test_aum_counts_open_accounts_of_aum_families_in_cny(tmp_path):
    con = warehouse(tmp_path)
    insert(con, "stg_customers", [customer("C")], EPOCH)
    insert(con, "stg_accounts", [
        account("CUR", "C", "CA001"), account("SAV", "C", "SV001"), account("TD", "C", "TD012"),
        account("WM", "C", "WM001"), account("FD", "C", "FD001"), account("INS", "C", "IN001"),
        account("USD", "C", "SV001", currency="USD"),
        account("CARD", "C", "CC001"), account("LOAN", "C", "CL001"),
        account("GONE", "C", "SV001", status="closed", close_date=ago(3)),
    ], EPOCH)
    insert(con, "stg_fx_rates", [{"rate_date": ago(5), "currency": "USD", "rate_to_reporting": 7.1}], ago(5))
    insert(con, "stg_fx_rates", [{"rate_date": D, "currency": "USD", "rate_to_reporting": 7.2}], D)
    insert(con, "stg_balances", [
        balance("CUR", ago(40), 100.0),          # carried forward 40 days
        balance("SAV", ago(2), 5_000.0), balance("SAV", ago(1), 1_000.0),   # the latest wins
        balance("TD", ago(1), 20_000.0), balance("WM", ago(1), 30_000.0), balance("FD", ago(1), 4_000.0),
        balance("INS", ago(1), 500.0),
        balance("USD", ago(5), 1_000.0, 7_100.0),  # revalued at the rate of D: 7,200
        balance("CARD", ago(1), 9_999.0), balance("LOAN", ago(1), 88_888.0),  # not AUM families
        balance("GONE", ago(10), 77_777.0),      # closed before D
    ], D)
    # A balance delivered after D must not be seen by D.
    insert(con, "stg_balances", [balance("TD", D, 1_000_000.0)], D + timedelta(days=1))
    build_date(con, D, load_rules())
    got = lifecycle(con)["C"]
    assert float(got["aum"]) == 100 + 1_000 + 20_000 + 30_000 + 4_000 + 500 + 7_200
    assert got["tier"] == "affluent"
    c360 = rows(con, "select * from customer_360")[0]
    assert (c360["accounts_open"], c360["savings_accounts"], c360["credit_card_accounts"]) == (9, 2, 1)


def test_tiers_are_inclusive_lower_bounds_and_a_customer_crosses_one_on_the_day(tmp_path):
    con = warehouse(tmp_path)
    amounts = {"M": 49_999.99, "AF": 50_000.0, "W": 500_000.0, "W2": 5_999_999.99, "P": 6_000_000.0, "NEG": -20.0}
    insert(con, "stg_customers", [customer(c) for c in [*amounts, "X"]], EPOCH)
    insert(con, "stg_accounts", [account(f"A_{c}", c, "SV001") for c in [*amounts, "X"]], EPOCH)
    insert(con, "stg_balances", [balance(f"A_{c}", ago(1), a) for c, a in amounts.items()], ago(1))
    insert(con, "stg_balances", [balance("A_X", ago(1), 49_999.99)], ago(1))
    insert(con, "stg_balances", [balance("A_X", D, 50_000.0)], D)
    build_date(con, ago(1), load_rules())
    build_date(con, D, load_rules())
    got = lifecycle(con)
    assert {c: got[c]["tier"] for c in amounts} == {
        "M": "mass", "AF": "affluent", "W": "wealth", "W2": "wealth", "P": "private", "NEG": "mass"}
    assert lifecycle(con, ago(1))["X"]["tier"] == "mass"
    assert (got["X"]["tier"], float(got["X"]["aum"])) == ("affluent", 50_000.0)


def test_each_stage_rule_on_its_boundary(tmp_path):
    con = warehouse(tmp_path)
    insert(con, "stg_customers", [
        customer("CHURN_ACC"), customer("CHURN_CUST", status="closed"),
        customer("NEW89", onboard_date=ago(89)), customer("OLD90", onboard_date=ago(90)),
        customer("DORMANT"), customer("AWAKE"), customer("AT_RISK"), customer("STEADY"),
        customer("GROWING"), customer("AUM_DROP"), customer("AUM_UP"), customer("TINY_AUM"),
        customer("NO_ACCOUNTS"),
    ], EPOCH)
    insert(con, "stg_accounts", [
        account("A_CHURN_ACC", "CHURN_ACC", status="closed", close_date=ago(10)),
        *(account(f"A_{c}", c) for c in ("CHURN_CUST", "NEW89", "OLD90", "DORMANT", "AWAKE", "AT_RISK",
                                         "STEADY", "GROWING", "AUM_DROP", "AUM_UP", "TINY_AUM")),
    ], EPOCH)
    insert(con, "stg_transactions", [
        *activity("CHURN_ACC", [20, 30, 40]), *activity("CHURN_CUST", [20, 30, 40]),
        *activity("DORMANT", [180, 200]),                 # dormant: nothing in the last 180 days
        *activity("AWAKE", [179]),                        # one in the window: not dormant; too few to judge a trend
        *activity("AT_RISK", [10, 20, 100, 110, 120, 130]),          # 2 vs 4: down 50 %
        *activity("STEADY", [10, 20, 30, 100, 110, 120, 130]),       # 3 vs 4: down 25 %
        *activity("GROWING", [1, 2, 3, 4, 5, 6, 100, 110, 120, 130, 140]),  # 6 vs 5: up 20 %
        *activity("AUM_DROP", STEADY), *activity("AUM_UP", STEADY), *activity("TINY_AUM", STEADY),
    ], D)
    insert(con, "stg_balances", [
        balance("A_AUM_DROP", ago(100), 100_000.0), balance("A_AUM_DROP", ago(1), 50_000.0),
        balance("A_AUM_UP", ago(95), 10_000.0), balance("A_AUM_UP", ago(2), 12_000.0),
        balance("A_TINY_AUM", ago(95), 900.0), balance("A_TINY_AUM", ago(2), 1.0),
    ], D)
    build_date(con, D, load_rules())
    assert {c: r["stage"] for c, r in lifecycle(con).items()} == {
        "CHURN_ACC": "churned", "CHURN_CUST": "churned", "NEW89": "new", "OLD90": "dormant",
        "DORMANT": "dormant", "AWAKE": "mature", "AT_RISK": "at_risk", "STEADY": "mature",
        "GROWING": "growing", "AUM_DROP": "at_risk", "AUM_UP": "growing", "TINY_AUM": "mature",
        "NO_ACCOUNTS": "dormant"}
    got = lifecycle(con)
    assert (got["NEW89"]["stage_since"], got["NEW89"]["previous_stage"]) == (ago(89), None)
    assert (got["STEADY"]["stage_since"], got["STEADY"]["previous_stage"]) == (D, None)
    assert got["NEW89"]["tenure_days"] == 89


def test_recommended_action_by_stage_and_tier(tmp_path):
    con = warehouse(tmp_path)
    cases = {  # customer: (onboard days ago, transactions days ago, savings balance now, 90 days ago)
        "PRIVATE_AT_RISK": (400, STEADY, 3_000_000.0, 7_000_000.0),
        "PRIVATE_MATURE": (400, STEADY, 7_000_000.0, 7_000_000.0),
        "PRIVATE_NEW": (10, [1], 7_000_000.0, None),
        "NEW_MASS": (10, [], 100.0, None),
        "DORMANT_WEALTH": (400, [], 600_000.0, 600_000.0),
        "MATURE_WEALTH": (400, STEADY, 600_000.0, 600_000.0),
        "GROWING_AFFLUENT": (400, STEADY, 90_000.0, 60_000.0),
        "MATURE_MASS": (400, STEADY, 100.0, None),
    }
    insert(con, "stg_customers", [customer(c, onboard_date=ago(o)) for c, (o, *_) in cases.items()], EPOCH)
    insert(con, "stg_accounts", [account(f"A_{c}", c, "SV001", open_date=ago(o)) for c, (o, *_) in cases.items()]
           + [account("A_GONE", "CHURNED", open_date=ago(400), status="closed", close_date=ago(1))], EPOCH)
    insert(con, "stg_customers", [customer("CHURNED", onboard_date=ago(400))], EPOCH)
    insert(con, "stg_transactions", [t for c, (_, days, *_) in cases.items() for t in activity(c, days)], D)
    insert(con, "stg_balances", [balance(f"A_{c}", ago(1), now) for c, (_, _, now, _) in cases.items()]
           + [balance(f"A_{c}", ago(95), then) for c, (_, _, _, then) in cases.items() if then is not None], D)
    build_date(con, D, load_rules())
    assert {c: (r["stage"], r["tier"], r["recommended_action"]) for c, r in lifecycle(con).items()} == {
        "PRIVATE_AT_RISK": ("at_risk", "wealth", "retention_call"),
        "PRIVATE_MATURE": ("mature", "private", "private_banking_service"),
        "PRIVATE_NEW": ("new", "private", "private_banking_service"),
        "NEW_MASS": ("new", "mass", "welcome_offer"),
        "DORMANT_WEALTH": ("dormant", "wealth", "reactivation_offer"),
        "MATURE_WEALTH": ("mature", "wealth", "tailored_wealth_product"),
        "GROWING_AFFLUENT": ("growing", "affluent", "tailored_wealth_product"),
        "MATURE_MASS": ("mature", "mass", "tailored_loan_product"),
        "CHURNED": ("churned", "mass", "win_back_review"),
    }


def test_previous_stage_and_stage_since_are_kept_across_dates_and_backfills(tmp_path):
    con = warehouse(tmp_path)
    onboard = date(2024, 1, 1)
    day_a, day_b, day_c, day_e = date(2024, 3, 30), date(2024, 3, 31), date(2024, 4, 1), date(2024, 4, 5)
    insert(con, "stg_customers", [customer("H", onboard_date=onboard)], onboard)
    insert(con, "stg_accounts", [account("A_H", "H", open_date=onboard)], onboard)
    insert(con, "stg_transactions", [txn("h1", "A_H", date(2024, 3, 20))], date(2024, 3, 20))

    def history(day):
        r = lifecycle(con, day)["H"]
        return r["stage"], r["previous_stage"], r["stage_since"]

    for day in (day_a, day_b, day_c):
        build_date(con, day, load_rules())
    nightly = [history(day) for day in (day_a, day_b, day_c)]
    assert nightly == [("new", None, onboard),            # tenure 89
                       ("mature", "new", day_b),           # tenure 90; too little history to judge a trend
                       ("mature", "new", day_b)]
    build_date(con, day_b, load_rules())                   # backfill B after C exists
    build_date(con, day_c, load_rules())
    assert [history(day) for day in (day_a, day_b, day_c)] == nightly
    build_date(con, day_e, load_rules())                   # a gap of three dates: still mature since B
    assert history(day_e) == ("mature", "new", day_b)
    # The customer closes the account: churned from the date the close is delivered.
    insert(con, "stg_accounts", [account("A_H", "H", open_date=onboard, status="closed",
                                         close_date=date(2024, 4, 6))], date(2024, 4, 6))
    build_date(con, date(2024, 4, 6), load_rules())
    assert history(date(2024, 4, 6)) == ("churned", "mature", date(2024, 4, 6))


def test_lifecycle_checks_pass_and_catch_an_unknown_tier(tmp_path):
    con = warehouse(tmp_path)
    insert(con, "stg_customers", [customer(f"C{k}") for k in range(4)], EPOCH)
    build_date(con, D, load_rules())
    contract = output_contracts()["customer_lifecycle"]
    assert contract_violations(con, "customer_lifecycle", contract, D) == []
    assert not base_coverage_failures(con, "customer_lifecycle", DateRange(D, D))
    con.execute("update customer_lifecycle set tier = 'platinum', stage_since = null where customer_id = 'C0'")
    assert contract_violations(con, "customer_lifecycle", contract, D) == [
        "tier not allowed: 1 rows", "stage_since null: 1 rows"]


def test_config_that_leaves_a_stage_and_tier_without_action_or_tiers_unordered_is_refused():
    lc = copy.deepcopy(load_rules()["lifecycle"])
    lc["recommended_actions"] = [a for a in lc["recommended_actions"] if a["action"] != "reactivation_offer"]
    with pytest.raises(SegmentationConfigError, match=r"no recommended action for \(stage, tier\) \('dormant', 'mass'\)"):
        action_rules(lc)
    lc = copy.deepcopy(load_rules()["lifecycle"])
    lc["tiers"] = [{"name": "mass", "min_aum": 0}, {"name": "wealth", "min_aum": 500000},
                   {"name": "affluent", "min_aum": 50000}]
    with pytest.raises(SegmentationConfigError, match="strictly ascending"):
        tier_ladder(lc)
    lc["tiers"] = [{"name": "affluent", "min_aum": 50000}]
    with pytest.raises(SegmentationConfigError, match="min_aum is 0"):
        tier_ladder(lc)
