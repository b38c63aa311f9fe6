"""Segmentation on generated data: planted churners land in the risk segments and stages more
often than the base does, planted wealth orders the tiers, every date's marts meet their
contracts, and a backfilled date equals the run that built it in order.

The generated landing zone is loaded straight into staging (typed by the contracts, money
converted at the as-of fx rate): ingestion has its own tests, and going through it date by date
would cost minutes here."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pipelines.core.base_coverage import base_coverage_failures
from pipelines.core.engine import DateRange
from pipelines.core.config import load_rules
from pipelines.core.contracts import output_contracts
from pipelines.publishing.snapshot import contract_violations
from pipelines.customer.segmentation import build_date
from pipelines.core.sql import run
from tests.kit.generated import generated_warehouse


pytestmark = pytest.mark.slow

START, END = date(2024, 1, 1), date(2024, 12, 31)
MONTH_ENDS = [date(2024, m + 1, 1) - timedelta(days=1) for m in range(1, 12)] + [END]
CUSTOMERS = 1500
RISK_SEGMENTS = ("At Risk", "Hibernating", "Lost")
RISK_STAGES = ("at_risk", "dormant")


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("generated")
    con = generated_warehouse(root, customers=CUSTOMERS, start=START, end=END, seed=11)
    for day in MONTH_ENDS:
        build_date(con, day, load_rules())
    con.execute("create temp table truth as select * from read_parquet($p)",
                {"p": str(root / "landing" / "_truth" / "customers.parquet")})
    yield con
    con.close()


def ratio(con, query: str, day: date, risky: tuple[str, ...]) -> tuple[float, float, float]:
    """(share among planted churners, share in the base, their ratio) for one date."""
    churners, base = run(con, query, {"d": day, "risky": list(risky)}).fetchall()[0]
    return churners, base, churners / base


def test_planted_churners_are_over_represented_in_risk_segments_and_stages(warehouse):
    # RFM sees a churner once they have gone quiet; the generator's churners first move money out
    # (more debits), so RFM is judged on churners at least 120 days into their exit.
    rfm_query = """
        select avg(list_contains($risky, r.segment)::int) filter (where t.churns and t.churn_start <= $d - 120),
               avg(list_contains($risky, r.segment)::int)
        from customer_rfm r join truth t using (customer_id) where r.as_of_date = $d"""
    stage_query = """
        select avg(list_contains($risky, l.stage)::int) filter (where t.churns and t.churn_start <= $d - 30),
               avg(list_contains($risky, l.stage)::int)
        from customer_lifecycle l join truth t using (customer_id) where l.as_of_date = $d"""
    for day in (date(2024, 9, 30), END):
        assert ratio(warehouse, rfm_query, day, RISK_SEGMENTS)[2] > 1.5, day
        assert ratio(warehouse, stage_query, day, RISK_STAGES)[2] > 1.8, day


def test_planted_wealth_orders_the_tiers(warehouse):
    frame = warehouse.sql(
        "select t.wealth, l.aum::double as aum, case l.tier when 'mass' then 1 when 'affluent' then 2 "
        "when 'wealth' then 3 else 4 end as tier from customer_lifecycle l join truth t using (customer_id) "
        "where l.as_of_date = $d", params={"d": END}).df()
    assert frame["wealth"].rank().corr(frame["tier"].rank()) > 0.6
    medians = frame.groupby("tier")["wealth"].median()
    assert list(medians.index) == sorted(medians.index) and medians.is_monotonic_increasing


def test_every_date_meets_the_contracts_and_covers_the_base(warehouse):
    for day in MONTH_ENDS:
        for table in ("customer_rfm", "segment_migration", "customer_lifecycle", "customer_360"):
            assert contract_violations(warehouse, table, output_contracts()[table], day) == [], (table, day)
        for table in ("customer_rfm", "customer_lifecycle", "customer_360"):
            assert not base_coverage_failures(warehouse, table, DateRange(day, day)), (table, day)


def test_a_backfilled_date_equals_the_run_that_built_it_in_order(warehouse):
    day = date(2024, 6, 30)
    snapshot = ("select * from {t} where as_of_date = $d order by customer_id")
    before = {t: run(warehouse, snapshot.format(t=t), {"d": day}).fetchall()
              for t in ("customer_rfm", "customer_lifecycle", "customer_360")}
    build_date(warehouse, day, load_rules())
    for table, rows in before.items():
        assert run(warehouse, snapshot.format(t=table), {"d": day}).fetchall() == rows, table
