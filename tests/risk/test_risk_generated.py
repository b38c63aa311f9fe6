"""Alerts and large-value reports on a year of generated data against the generator's planted
patterns (its _truth): recall and precision targets of issue #5, exact large-value boundaries,
and every date's risk tables within their contracts. The full-size numbers are in docs/risk.md
(benchmarks/quality_risk_alerts.py)."""

from __future__ import annotations

from datetime import date

import pytest

from pipelines.core.config import load_rules
from pipelines.core.contracts import output_contracts
from pipelines.publishing.snapshot import contract_violations
from pipelines.risk.quality import build_history, planted_quality
from tests.kit.generated import generated_warehouse


pytestmark = pytest.mark.slow

START, END = date(2024, 1, 1), date(2024, 12, 31)
CUSTOMERS = 1500


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    root = tmp_path_factory.mktemp("risk_generated")
    con = generated_warehouse(root, customers=CUSTOMERS, start=START, end=END, seed=5)
    build_history(con, START, END, load_rules())
    quality = {r["pattern"]: r for r in planted_quality(con, root / "landing" / "_truth")}
    yield con, quality
    con.close()


@pytest.mark.parametrize("pattern", ["structuring", "rapid_in_out"])
def test_structuring_and_rapid_in_out_meet_the_recall_and_precision_targets(generated, pattern):
    _, quality = generated
    q = quality[pattern]
    assert q["planted"] >= 5
    assert q["recall"] >= 0.9 and q["precision"] >= 0.5, q


@pytest.mark.parametrize("pattern", ["frequent_cash", "dormant_reactivation", "large_transfer_vs_history"])
def test_the_other_rules_find_most_of_their_planted_patterns(generated, pattern):
    _, quality = generated
    assert quality[pattern]["recall"] >= 0.8, quality[pattern]


@pytest.mark.parametrize("pattern", ["large_cash_threshold", "large_transfer_threshold"])
def test_large_value_reports_take_every_amount_at_the_threshold_and_none_a_fen_below(generated, pattern):
    _, quality = generated
    q = quality[pattern]
    assert q["planted"] > 0 and q["planted_below"] > 0
    assert (q["recall"], q["reported_below"]) == (1.0, 0), q


def test_risk_tables_meet_their_contracts_on_the_last_date(generated):
    con, _ = generated
    for table in ("large_value_reports", "risk_alerts"):
        last = con.sql(f"select max(as_of_date) from {table}").fetchall()[0][0]
        assert contract_violations(con, table, output_contracts()[table], last) == []
