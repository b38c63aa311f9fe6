"""The alert rules on real labelled data: the IBM AMLSim sample (200 fan-in laundering patterns,
954 of 20,000 accounts), through the adapter. The numbers themselves are reported in
docs/risk.md (benchmarks/quality_risk_alerts.py); this checks the run and the properties that
hold for rules that fit the data only partly."""

from __future__ import annotations


import duckdb
import pytest

from pipelines.ingestion.adapters.amlsim import evaluate_alerts, scaled_rules
from pipelines.core.config import load_rules
from tests.kit.real_data import SHARED_DATA

FOLDER = SHARED_DATA / "amlsim_20k_fanin200"

pytestmark = pytest.mark.skipif(not (FOLDER / "nodes.csv").is_file(),
                                reason=f"AMLSim sample not found at {FOLDER}")


@pytest.fixture(scope="module")
def result():
    con = duckdb.connect()
    quality = {r["rule_id"]: r for r in evaluate_alerts(con, FOLDER, scaled_rules(load_rules()))["per_rule"]}
    staged = con.sql("select (select count(*) from stg_customers), (select count(*) from stg_transactions), "
                     "(select count(*) from int_risk_transactions)").fetchall()[0]
    yield quality, staged
    con.close()


def test_every_account_and_both_legs_of_every_transfer_are_staged(result):
    _, (customers, transactions, enriched) = result
    assert customers == 20_000 and transactions == 2 * 118_250 and enriched == transactions


def test_flagged_accounts_are_enriched_for_laundering_and_the_alert_rate_is_low(result):
    quality, _ = result
    overall = quality["any"]
    assert overall["laundering_accounts"] == 954 and overall["accounts"] == 20_000
    base_rate = 954 / 20_000
    assert overall["alert_rate"] < 0.05
    assert overall["precision"] > 1.5 * base_rate
    assert 0 < overall["recall"] <= 1


def test_rules_that_cannot_fit_this_data_raise_nothing(result):
    quality, _ = result
    # No cash in AMLSim, and the sample (149 days) is shorter than the 180-day dormancy.
    assert not {"STR01", "FCW01", "DRM01"} & set(quality)
