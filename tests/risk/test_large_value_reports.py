"""Large-value reports (PBOC Order [2016] No. 3, Art. 5): the boundaries of every standard,
cumulation across accounts, directions, calendar days, currencies and late deliveries."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from pipelines.core.config import load_rules
from pipelines.core.engine import DateRange
from pipelines.core.contracts import output_contracts
from pipelines.publishing.snapshot import contract_violations
from pipelines.risk.reports import build_reports
from tests.kit.warehouse import EPOCH, account, customer, insert, rows, warehouse

D1, D2 = date(2024, 3, 1), date(2024, 3, 2)
USD_RATE = 7.1


def one_day(day):
    return DateRange(day, day)


def txn(txn_id, account_id, amount, *, ts="2024-03-01 10:00:00", direction="credit", txn_type="deposit",
        currency="CNY", is_cash=False, is_cross_border=False):
    rate = USD_RATE if currency == "USD" else 1.0
    return {"txn_id": txn_id, "account_id": account_id, "txn_ts": datetime.fromisoformat(ts), "amount": amount,
            "amount_reporting": round(amount * rate, 2), "direction": direction, "currency": currency,
            "txn_type": txn_type, "is_cash": is_cash, "is_cross_border": is_cross_border}


def cash(txn_id, amount, account_id="A1", **kw):
    return txn(txn_id, account_id, amount, is_cash=True, **kw)


@pytest.fixture
def con(tmp_path):
    con = warehouse(tmp_path)
    insert(con, "stg_customers", [customer("P1"), customer("B1", customer_type="business")], EPOCH)
    insert(con, "stg_accounts", [account("A1", "P1"), account("A2", "P1", "SV001"),
                                 account("AU", "P1", currency="USD"), account("BA", "B1")], EPOCH)
    insert(con, "stg_fx_rates", [{"rate_date": EPOCH, "currency": "USD", "rate_to_reporting": USD_RATE}], EPOCH)
    yield con
    con.close()


def reports(con, transactions, day=D1, deliveries=None):
    """Deliver `transactions` on `day` (plus earlier deliveries) and return that date's reports."""
    for when, batch in sorted((deliveries or {}).items()):
        insert(con, "stg_transactions", batch, when)
        build_reports(con, one_day(when), load_rules())
    insert(con, "stg_transactions", transactions, day)
    build_reports(con, one_day(day), load_rules())
    return rows(con, "select * from large_value_reports where as_of_date = $d order by standard, direction, txn_date",
                {"d": day})


STANDARDS = [
    # (standard, threshold, transaction factory at an amount)
    ("cash", 50_000.00, lambda a: cash("T1", a)),
    ("non_natural_transfer", 2_000_000.00, lambda a: txn("T1", "BA", a, txn_type="transfer_out", direction="debit")),
    ("natural_domestic_transfer", 500_000.00, lambda a: txn("T1", "A1", a, txn_type="transfer_in")),
    ("natural_cross_border_transfer", 200_000.00,
     lambda a: txn("T1", "A1", a, txn_type="transfer_out", direction="debit", is_cross_border=True)),
    ("cash", 10_000.00, lambda a: cash("T1", a, "AU", currency="USD")),
    ("natural_cross_border_transfer", 10_000.00,
     lambda a: txn("T1", "AU", a, currency="USD", txn_type="transfer_in", is_cross_border=True)),
    ("non_natural_transfer", 200_000.00, lambda a: txn("T1", "BA", a, currency="USD", txn_type="transfer_in")),
    ("natural_domestic_transfer", 100_000.00, lambda a: txn("T1", "AU", a, currency="USD", txn_type="transfer_in")),
]


@pytest.mark.parametrize("standard,threshold,make", STANDARDS,
                         ids=[f"{s}-{t:.0f}" for s, t, _ in STANDARDS])
def test_exactly_at_the_threshold_reports(con, standard, threshold, make):
    got = reports(con, [make(threshold)])
    assert [(r["standard"], float(r["threshold"]), float(r["total_amount"]), r["single_or_cumulative"], r["txn_ids"])
            for r in got] == [(standard, threshold, threshold, "single", ["T1"])]


@pytest.mark.parametrize("standard,threshold,make", STANDARDS,
                         ids=[f"{s}-{t:.0f}" for s, t, _ in STANDARDS])
def test_one_fen_below_the_threshold_does_not_report(con, standard, threshold, make):
    assert reports(con, [make(round(threshold - 0.01, 2))]) == []


def test_a_day_split_across_two_accounts_cumulates(con):
    got = reports(con, [cash("T1", 30_000.00, "A1", ts="2024-03-01 09:00:00"),
                        cash("T2", 20_000.00, "A2", ts="2024-03-01 17:00:00")])
    assert len(got) == 1
    r = got[0]
    assert (r["customer_id"], r["txn_date"], r["standard"], r["direction"], float(r["total_amount"]),
            r["single_or_cumulative"], r["txn_count"], r["account_ids"], r["txn_ids"]) == (
        "P1", D1, "cash", "credit", 50_000.0, "cumulative", 2, ["A1", "A2"], ["T1", "T2"])


def test_a_credit_and_a_debit_of_the_same_day_do_not_net(con):
    assert reports(con, [cash("T1", 30_000.00), cash("T2", 30_000.00, direction="debit", txn_type="withdrawal")]) == []


def test_each_direction_is_reported_separately(con):
    got = reports(con, [cash("T1", 50_000.00), cash("T2", 60_000.00, direction="debit", txn_type="withdrawal")])
    assert [(r["direction"], float(r["total_amount"]), r["txn_ids"]) for r in got] == [
        ("credit", 50_000.0, ["T1"]), ("debit", 60_000.0, ["T2"])]
    assert len({r["report_id"] for r in got}) == 2


def test_2359_59_and_0000_00_fall_on_different_days(con):
    late = cash("T1", 25_000.00, ts="2024-03-01 23:59:59")
    early = cash("T2", 25_000.00, ts="2024-03-02 00:00:00")
    assert reports(con, [early], day=D2, deliveries={D1: [late]}) == []
    assert rows(con, "select * from large_value_reports") == []


def test_the_first_and_last_second_of_one_day_cumulate(con):
    got = reports(con, [cash("T1", 25_000.00, ts="2024-03-01 00:00:00"), cash("T2", 25_000.00, ts="2024-03-01 23:59:59")])
    assert [(r["txn_date"], r["txn_ids"]) for r in got] == [(D1, ["T1", "T2"])]


def test_usd_amounts_are_judged_against_the_usd_threshold_not_their_cny_equivalent(con):
    # USD 9,999.99 is CNY 70,999.93, far over the RMB threshold, but foreign currency has its own.
    assert reports(con, [cash("T1", 9_999.99, "AU", currency="USD")]) == []


def test_cny_and_usd_amounts_do_not_mix(con):
    got = reports(con, [cash("T1", 40_000.00), cash("T2", 9_000.00, "AU", currency="USD"),
                        cash("T3", 1_000.00, "AU", currency="USD")])
    assert [(r["currency_basis"], float(r["total_amount"]), float(r["amount_reporting"]), r["txn_ids"])
            for r in got] == [("USD", 10_000.0, 71_000.0, ["T2", "T3"])]


def test_a_business_is_judged_by_the_non_natural_standard_only(con):
    got = reports(con, [txn("T1", "BA", 600_000.00, txn_type="transfer_in"),
                        txn("T2", "BA", 300_000.00, txn_type="transfer_in", is_cross_border=True)])
    assert got == []
    got = reports(con, [txn("T3", "BA", 1_100_000.00, txn_type="transfer_in")])
    assert [(r["standard"], float(r["total_amount"]), r["txn_ids"]) for r in got] == [
        ("non_natural_transfer", 2_000_000.0, ["T1", "T2", "T3"])]


def test_domestic_and_cross_border_transfers_of_a_person_are_separate_standards(con):
    got = reports(con, [txn("T1", "A1", 300_000.00, txn_type="transfer_out", direction="debit"),
                        txn("T2", "A1", 300_000.00, txn_type="transfer_out", direction="debit",
                            is_cross_border=True)])
    assert [(r["standard"], r["txn_ids"]) for r in got] == [("natural_cross_border_transfer", ["T2"])]


def test_cash_is_not_a_transfer_and_other_types_are_not_transfers(con):
    got = reports(con, [txn("T1", "A1", 600_000.00, txn_type="salary"),
                        txn("T2", "A1", 600_000.00, txn_type="transfer_in", is_cash=True)])
    assert [(r["standard"], r["txn_ids"]) for r in got] == [("cash", ["T2"])]


def test_a_late_delivery_reissues_the_day_under_the_same_report_id(con):
    reports(con, [cash("T1", 30_000.00, ts="2024-03-01 09:00:00")])
    first = rows(con, "select * from large_value_reports")
    assert first == []
    got = reports(con, [cash("T2", 20_000.00, ts="2024-03-01 18:00:00")], day=D2)
    assert [(r["txn_date"], r["late_delivery"], r["txn_ids"]) for r in got] == [(D1, True, ["T1", "T2"])]
    # The same finding computed on its own day has the same id.
    again = reports(con, [cash("T3", 50_000.00, ts="2024-03-02 08:00:00")], day=D2)
    assert {r["report_id"] for r in again} >= {got[0]["report_id"]}


def test_table_meets_its_contract(con):
    reports(con, [cash("T1", 50_000.00), txn("T2", "BA", 2_500_000.00, txn_type="transfer_out", direction="debit")])
    assert contract_violations(con, "large_value_reports", output_contracts()["large_value_reports"], D1) == []
