"""customer_360 v1: one wide row per customer joining the profile, RFM and lifecycle marts,
typed by its contract, without direct identifiers; int_customer_day's profile columns."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from pipelines.core.config import load_rules
from pipelines.core.base_coverage import base_coverage_failures
from pipelines.core.engine import DateRange
from pipelines.core.contracts import Column, output_contracts
from pipelines.publishing.snapshot import contract_violations
from pipelines.core.contract_tables import ensure_contract_table
from pipelines.customer.segmentation import build_date
from tests.kit.warehouse import EPOCH, account, balance, customer, insert, rows, txn, warehouse

D = date(2024, 3, 1)
DIRECT_IDENTIFIERS = {"full_name", "id_number", "phone", "email", "birth_date", "counterparty_account",
                      "counterparty_name", "description", "rm_name", "text"}


def setup(con) -> None:
    insert(con, "stg_customers", [
        customer("C1", birth_date=date(2000, 3, 2), gender="F", city="Shanghai", risk_tolerance="C3"),
        customer("C2", birth_date=date(2000, 3, 1)),
        customer("C3", birth_date=date(1999, 3, 1)),
        customer("C4", birth_date=date(2010, 6, 1), onboard_date=D - timedelta(days=5)),
        customer("C5", birth_date=date(1950, 1, 1), marketing_consent=False),
        customer("B1", customer_type="business", rm_id="RM9", branch_id="B7"),
    ], EPOCH)
    insert(con, "stg_accounts", [
        account("A1", "C1"), account("A1S", "C1", "SV001"), account("A1F", "C1", "FD002"),
        account("A1C", "C1", "CC001"), account("A1M", "C1", "MG001"),
        account("A2", "C2"), account("BA", "B1", "BL001"), account("BC", "B1", "CA001"),
    ], EPOCH)
    insert(con, "stg_transactions", [txn("t1", "A1", D - timedelta(days=3), 250.0),
                                     txn("t2", "A1S", D - timedelta(days=1), 750.0)], D)
    insert(con, "stg_balances", [balance("A1S", D, 80_000.0), balance("A1F", D, 20_000.0),
                                 balance("A1M", D, 900_000.0)], D)


def test_one_row_per_customer_joining_profile_rfm_and_lifecycle(tmp_path):
    con = warehouse(tmp_path)
    setup(con)
    build_date(con, D, load_rules())
    got = {r["customer_id"]: r for r in rows(con, "select * from customer_360 where as_of_date = $d", {"d": D})}
    assert set(got) == {"C1", "C2", "C3", "C4", "C5", "B1"}
    c1 = got["C1"]
    assert {k: c1[k] for k in ("age_band", "gender", "city", "risk_tolerance", "marketing_consent",
                               "tenure_days", "frequency", "recency_days", "segment", "stage", "tier",
                               "recommended_action", "accounts_open", "held_families")} == {
        "age_band": "18-24", "gender": "F", "city": "Shanghai", "risk_tolerance": "C3",
        "marketing_consent": True, "tenure_days": 1521, "frequency": 2, "recency_days": 1,
        "segment": "Need Attention", "stage": "mature", "tier": "affluent",
        "recommended_action": "tailored_wealth_product", "accounts_open": 5,
        "held_families": ["credit_card", "current_account", "fund", "mortgage", "savings"]}
    # The mortgage balance is a liability, not AUM; the card and mortgage still count as holdings.
    assert float(c1["aum"]) == 100_000.0 and float(c1["monetary"]) == 1_000.0
    assert (c1["savings_accounts"], c1["fund_accounts"], c1["mortgage_accounts"], c1["credit_card_accounts"],
            c1["wealth_management_accounts"]) == (1, 1, 1, 1, 0)
    assert {c: got[c]["age_band"] for c in got} == {
        "C1": "18-24", "C2": "18-24", "C3": "25-34", "C4": "<18", "C5": "65+", "B1": None}
    assert (got["C4"]["stage"], got["C4"]["recommended_action"], got["C4"]["segment"]) == (
        "new", "welcome_offer", "Inactive")
    assert (got["B1"]["customer_type"], got["B1"]["rm_id"], got["B1"]["branch_id"], got["B1"]["held_families"]) == (
        "business", "RM9", "B7", ["business_loan", "current_account"])
    assert got["C5"]["marketing_consent"] is False and got["C3"]["held_families"] == []


def test_table_matches_its_contract_and_carries_no_direct_identifiers(tmp_path):
    con = warehouse(tmp_path)
    setup(con)
    build_date(con, D, load_rules())
    contract = output_contracts()["customer_360"]
    columns = [r["column_name"] for r in rows(
        con, "select column_name from information_schema.columns where table_name = 'customer_360' "
             "order by ordinal_position")]
    assert columns == ["as_of_date", *contract.names]
    assert not DIRECT_IDENTIFIERS & set(columns)
    int_columns = {r["column_name"] for r in rows(
        con, "select column_name from information_schema.columns where table_name = 'int_customer_day'")}
    assert not DIRECT_IDENTIFIERS & int_columns
    assert contract_violations(con, "customer_360", contract, D) == []
    assert not base_coverage_failures(con, "customer_360", DateRange(D, D))


def test_rebuilding_a_date_replaces_only_that_date(tmp_path):
    con = warehouse(tmp_path)
    setup(con)
    d2 = D + timedelta(days=1)
    build_date(con, D, load_rules())
    build_date(con, d2, load_rules())
    before = rows(con, "select * from customer_360 where as_of_date = $d order by customer_id", {"d": D})
    insert(con, "stg_customers", [customer("C9")], d2)
    build_date(con, d2, load_rules())
    build_date(con, d2, load_rules())
    counts = rows(con, "select as_of_date, count(*) as n from customer_360 group by all order by all")
    assert counts == [{"as_of_date": D, "n": 6}, {"as_of_date": d2, "n": 7}]
    assert rows(con, "select * from customer_360 where as_of_date = $d order by customer_id", {"d": D}) == before


def test_a_newer_contract_version_adds_its_columns_to_the_existing_table(tmp_path):
    con = warehouse(tmp_path)
    setup(con)
    build_date(con, D, load_rules())
    v1 = output_contracts()["customer_360"]
    v2 = replace(v1, schema_version="1.1.0",
                 columns=(*v1.columns, Column(name="next_best_offer", type="str")))
    ensure_contract_table(con, v2)
    got = rows(con, "select count(*) as n, count(next_best_offer) as offers from customer_360")
    assert got == [{"n": 6, "offers": 0}]


def test_crm_run_backfill_publishes_the_segmentation_tables_for_every_date(tmp_path, monkeypatch):
    import json
    import shutil
    from pathlib import Path

    import duckdb

    from tests.kit.landing import D1, D2, TXN_COLUMNS, basic_landing, entity_file, txn as landing_txn, write_csv
    from pipelines.cli import main

    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(Path(__file__).resolve().parents[2] / "dagster.yaml", home / "dagster.yaml")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    landing = basic_landing(tmp_path / "landing")
    write_csv(entity_file(landing, "fx_rates", D2), [{"rate_date": "2024-03-02", "currency": "USD",
                                                      "rate_to_reporting": "7.2"}])
    write_csv(entity_file(landing, "transactions", D2), [landing_txn("T9", ts="2024-03-02 08:00:00")], TXN_COLUMNS)
    out = tmp_path / "out"
    assert main(["run", "--landing", str(landing), "--warehouse", str(tmp_path / "w.duckdb"),
                 "--output", str(out), "--from", "2024-03-01", "--to", "2024-03-02"]) == 0
    for day in (D1, D2):
        manifest = json.loads((out / "_manifests" / f"{day}.json").read_text())
        assert {t: manifest["tables"][t]["rows"] for t in
                ("customer_rfm", "customer_lifecycle", "customer_360")} == {
            "customer_rfm": 2, "customer_lifecycle": 2, "customer_360": 2}
        assert manifest["tables"]["customer_360"]["schema_version"] == output_contracts()["customer_360"].schema_version
    published = duckdb.sql(
        "select as_of_date, customer_id, segment, previous_segment "
        "from read_parquet($files, hive_partitioning = true) order by all",
        params={"files": str(out / "customer_rfm" / "*" / "*.parquet")}).fetchall()
    # C2 has no transactions; C1's two purchases on D1 and one more on D2 keep it the only scored customer.
    assert [(str(d), c, s, p) for d, c, s, p in published] == [
        ("2024-03-01", "C1", "Need Attention", None), ("2024-03-01", "C2", "Inactive", None),
        ("2024-03-02", "C1", "Need Attention", "Need Attention"), ("2024-03-02", "C2", "Inactive", "Inactive")]


def test_latest_nps_band_and_open_complaints_per_customer(tmp_path):
    from tests.relationship.test_crm_care import at, complaint
    from tests.relationship.test_rm_scorecard import nps

    con = warehouse(tmp_path)
    setup(con)
    insert(con, "stg_feedback", [
        nps("N1", "C1", D - timedelta(days=30), 10), nps("N2", "C1", D - timedelta(days=3), 6),   # latest: detractor
        nps("N3", "C2", D - timedelta(days=10), 9), nps("N4", "C3", D - timedelta(days=10), 7),
        nps("N5", "C4", D - timedelta(days=366), 10),                                              # older than a year
        complaint("F1", "C1", D - timedelta(days=20)), complaint("F2", "C1", D - timedelta(days=2)),
        complaint("F3", "C2", D - timedelta(days=2), status="resolved", resolved=D - timedelta(days=1)),
        {**complaint("F4", "C3", D + timedelta(days=1)), "feedback_ts": at(D + timedelta(days=1))},  # after the date
    ], D)
    build_date(con, D, load_rules())
    got = {r["customer_id"]: (r["nps_score"], r["nps_category"], r["open_complaint_count"])
           for r in rows(con, "select * from customer_360 where as_of_date = $d", {"d": D})}
    assert got == {"C1": (6, "detractor", 2), "C2": (9, "promoter", 0), "C3": (7, "passive", 0),
                   "C4": (None, None, 0), "C5": (None, None, 0), "B1": (None, None, 0)}
    assert contract_violations(con, "customer_360", output_contracts()["customer_360"], D) == []
