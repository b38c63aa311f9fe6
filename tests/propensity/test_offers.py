"""Offer marts on hand-made customers and scores: exact eligibility (already held, risk level vs
tolerance, consent, minimum amount), pre-approval capacity and delinquency, event caps."""

from __future__ import annotations

from datetime import date

import polars as pl
from tests.kit import warehouse as k

from pipelines.core.config import load_rules
from pipelines.core.engine import DateRange
from pipelines.propensity.build import build_feature_range, build_offer_marts
from pipelines.customer.segmentation import build_segmentation

D = date(2020, 6, 30)
RULES = load_rules()


def _score(con, scores: list[tuple[str, str, float]], rules=RULES):
    """Build the offer marts for D from given (customer, family, probability) scores."""
    build_segmentation(con, DateRange(D, D), rules)
    build_feature_range(con, DateRange(D, D), rules)
    frame = pl.DataFrame(scores, schema=["customer_id", "product_family", "probability"], orient="row").with_columns(
        as_of_date=pl.lit(D), model_version=pl.lit("v-test"),
        reasons=pl.lit(["salary credited monthly"], dtype=pl.List(pl.String)))
    build_offer_marts(con, frame, DateRange(D, D), rules)


def _nbo(con) -> dict[str, dict]:
    return {r["customer_id"]: r for r in k.rows(con, "select * from next_best_offer where as_of_date = $d", {"d": D})}


def test_next_best_offer_eligibility(tmp_path):
    con = k.warehouse(tmp_path)
    k.insert(con, "stg_customers", [
        k.customer("LOWRISK", risk_tolerance="C2"),
        k.customer("NOCONSENT", risk_tolerance="C5", marketing_consent=False),
        k.customer("UNASSESSED"),
        k.customer("POOR", risk_tolerance="C5"),
        k.customer("RICH", risk_tolerance="C4"),
    ], date(2020, 1, 1))
    k.insert(con, "stg_accounts", [k.account(f"A{c}", c, "SV001") for c in
                                   ("LOWRISK", "NOCONSENT", "UNASSESSED", "POOR", "RICH")]
             + [k.account("CCR", "RICH", "CC001")], date(2020, 1, 1))
    k.insert(con, "stg_balances", [k.balance("ALOWRISK", D, 20000.0), k.balance("ARICH", D, 60000.0),
                                   k.balance("APOOR", D, 500.0)], D)
    _score(con, [
        # consumer_loan is R3 > C2; wealth WM001 is R2 (needs 10,000: has 20,000) -> WM001
        ("LOWRISK", "consumer_loan", 0.30), ("LOWRISK", "wealth_management", 0.20), ("LOWRISK", "fund", 0.10),
        ("NOCONSENT", "credit_card", 0.50),
        # not assessed: R1 only -> insurance IN001 (R1), fund R1 FD001 lower
        ("UNASSESSED", "credit_card", 0.40), ("UNASSESSED", "insurance", 0.20), ("UNASSESSED", "fund", 0.10),
        # AUM 500: WM needs 10,000 / 50,000; fund FD001 needs 1 -> FD001 even though FD002/FD003 are suitable
        ("POOR", "wealth_management", 0.60), ("POOR", "fund", 0.30),
        # credit card already held (a stale score must still be refused); private banking needs 6M
        ("RICH", "credit_card", 0.90), ("RICH", "private_banking", 0.50), ("RICH", "wealth_management", 0.40),
    ])
    nbo = _nbo(con)
    assert nbo["LOWRISK"]["product_code"] == "WM001"
    assert nbo["LOWRISK"]["excluded"] == ["CL001 (consumer_loan): risk R3 above tolerance C2"]
    assert nbo["LOWRISK"]["eligible_products"] == 2  # WM001 and FD001 (WM002, FD002, FD003 are R3+)
    assert nbo["NOCONSENT"]["product_code"] is None
    assert nbo["NOCONSENT"]["excluded"] == ["all products: no marketing consent"]
    assert nbo["UNASSESSED"]["product_code"] == "IN001"
    assert nbo["UNASSESSED"]["excluded"] == [
        "CC001 (credit_card): risk R2 above tolerance not assessed",
        "CC002 (credit_card): risk R2 above tolerance not assessed"]
    assert nbo["POOR"]["product_code"] == "FD001"
    assert nbo["POOR"]["excluded"] == [
        "WM001 (wealth_management): below minimum amount 10000.00",
        "WM002 (wealth_management): below minimum amount 50000.00"]
    assert nbo["RICH"]["product_code"] == "WM001"
    assert nbo["RICH"]["excluded"][:2] == ["CC001 (credit_card): already held", "CC002 (credit_card): already held"]
    assert nbo["RICH"]["excluded"][2] == "PB001 (private_banking): below minimum amount 6000000.00"
    assert nbo["RICH"]["probability"] == 0.40 and nbo["RICH"]["reasons"] == ["salary credited monthly"]


def test_propensity_rank_and_decile(tmp_path):
    con = k.warehouse(tmp_path)
    ids = [f"C{i:02d}" for i in range(20)]
    k.insert(con, "stg_customers", [k.customer(c) for c in ids], date(2020, 1, 1))
    _score(con, [(c, "fund", i / 100) for i, c in enumerate(ids)] + [("C00", "insurance", 0.5)])
    rows = {(r["customer_id"], r["product_family"]): r for r in
            k.rows(con, "select * from customer_propensity where as_of_date = $d", {"d": D})}
    assert rows[("C19", "fund")]["decile"] == 10 and rows[("C00", "fund")]["decile"] == 1
    assert rows[("C10", "fund")]["decile"] == 6
    assert rows[("C00", "insurance")]["rank_in_customer"] == 1 and rows[("C00", "fund")]["rank_in_customer"] == 2


def _salary(account, amount, months=(1, 2, 3, 4, 5, 6)):
    return [k.txn(f"S{account}{m}", account, date(2020, m, 10), amount, "salary", direction="credit") for m in months]


def test_preapproved_capacity_delinquency_and_limit(tmp_path):
    con = k.warehouse(tmp_path)
    ids = ["OK", "REPAYING", "LATE", "IRREGULAR", "NOCONSENT", "LOWDECILE"] + [f"F{i}" for i in range(14)]
    k.insert(con, "stg_customers", [k.customer(c, marketing_consent=c != "NOCONSENT") for c in ids], date(2020, 1, 1))
    k.insert(con, "stg_accounts", [k.account(f"A{c}", c) for c in ids]
             + [k.account("LREPAYING", "REPAYING", "CL001"), k.account("LLATE", "LATE", "CL001")], date(2020, 1, 1))
    txns = _salary("AOK", 10000) + _salary("AREPAYING", 10000) + _salary("ALATE", 10000)
    txns += _salary("AIRREGULAR", 10000, months=(1, 6)) + _salary("ANOCONSENT", 10000) + _salary("ALOWDECILE", 10000)
    txns += [k.txn(f"R{i}", "AREPAYING", date(2020, 5 + i, 1), 3000, "loan_repayment") for i in range(2)]
    k.insert(con, "stg_transactions", txns, D)
    k.insert(con, "stg_loan_performance", [{"account_id": "LLATE", "as_of_date": date(2020, 3, 31), "days_past_due": 5}], D)
    scores = [(c, "consumer_loan", 0.9 - i * 0.001) for i, c in enumerate(ids[:5])]
    scores += [("LOWDECILE", "consumer_loan", 0.01)] + [(c, "consumer_loan", 0.1) for c in ids[6:]]
    _score(con, scores)
    offers = {r["customer_id"]: r for r in k.rows(con, "select * from preapproved_offers where as_of_date = $d", {"d": D})}
    assert set(offers) == {"OK", "REPAYING"}
    # 10,000 x 0.5 x 24 = 120,000; with 6,000 repaid over 90 days (2,000 / 30 days): 3,000 x 24 = 72,000.
    assert float(offers["OK"]["indicative_limit"]) == 120000
    assert float(offers["REPAYING"]["monthly_repayments"]) == 2000
    assert float(offers["REPAYING"]["indicative_limit"]) == 72000


def test_event_invitations_cap_and_consent(tmp_path):
    con = k.warehouse(tmp_path)
    custs = [k.customer(f"B1_{i}", branch_id="B1") for i in range(30)]
    custs += [k.customer("B2_a", branch_id="B2"), k.customer("B2_b", branch_id="B2", marketing_consent=False)]
    k.insert(con, "stg_customers", custs, date(2020, 1, 1))
    scores = [(f"B1_{i}", "fund", 0.5 - i * 0.01) for i in range(30)]
    scores += [("B1_0", "wealth_management", 0.9), ("B2_a", "private_banking", 0.3), ("B2_b", "fund", 0.9),
               ("B2_a", "credit_card", 0.99)]
    _score(con, scores)
    rows = k.rows(con, "select * from event_invitations where as_of_date = $d order by branch_id, rank_in_branch", {"d": D})
    b1 = [r for r in rows if r["branch_id"] == "B1"]
    assert len(b1) == RULES["propensity"]["events"][0]["per_branch_cap"] == 25
    assert (b1[0]["customer_id"], b1[0]["product_family"], b1[0]["probability"]) == ("B1_0", "wealth_management", 0.9)
    assert [r["customer_id"] for r in rows if r["branch_id"] == "B2"] == ["B2_a"]
    assert [r["product_family"] for r in rows if r["branch_id"] == "B2"] == ["private_banking"]
