"""Range behaviour: int_features and the offer marts built over a multi-date range equal the same
dates built one at a time in order (late deliveries, an account changing owner, a profile change
mid-range), the retention rule at a range boundary, and scoring dates grouped by model version."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from tests.kit import warehouse as k

from models.store import save_model
from pipelines.core.config import load_rules
from pipelines.core.engine import DateRange
from pipelines.customer.segmentation import build_segmentation
from pipelines.propensity.build import (MART_STEPS, build_feature_range, build_offer_marts, model_name,
                                        scoring_plan)
from tests.propensity.test_propensity_features import _base

RULES = load_rules()
FIRST, LAST = date(2020, 6, 25), date(2020, 8, 5)
RANGE = DateRange(FIRST, LAST)


def _timeline(con):
    """_base plus rows that make dates differ: late deliveries, an owner change, a new income."""
    _base(con)
    # Happened on Jun 26, delivered Jul 3: visible from Jul 3 only.
    k.insert(con, "stg_transactions", [k.txn("LATE1", "A1", date(2020, 6, 26), 2500, "card_purchase", mcc="5812"),
                                       k.txn("LATE2", "A2", date(2020, 6, 27), 8000, "salary", direction="credit")],
             date(2020, 7, 3))
    k.insert(con, "stg_transactions", [k.txn(f"D{i}", "A2", date(2020, 7, 1) + timedelta(days=3 * i), 100 + i,
                                             "transfer_out", channel="mobile") for i in range(12)], date(2020, 8, 5))
    for i in range(12):  # the same transfers, delivered on their day for A1
        day = date(2020, 7, 1) + timedelta(days=3 * i)
        k.insert(con, "stg_transactions", [k.txn(f"E{i}", "A1", day, 50 + i, "deposit", direction="credit")], day)
    k.insert(con, "stg_transactions", [k.txn("S7", "A1", date(2020, 7, 10), 8000, "salary", direction="credit")],
             date(2020, 7, 10))
    # A2 moves to C1 from Jul 15: its history counts for C1 from then on.
    k.insert(con, "stg_accounts", [k.account("A2", "C1", "SV001")], date(2020, 7, 15))
    k.insert(con, "stg_customers", [k.customer("C1", birth_date=date(1980, 5, 1), annual_income=40000,
                                               occupation="teacher", risk_tolerance="C3")], date(2020, 7, 5))
    k.insert(con, "stg_loan_performance", [{"account_id": "L1", "as_of_date": date(2020, 7, 20), "days_past_due": 40}],
             date(2020, 7, 28))
    k.insert(con, "stg_interactions", [{"interaction_id": "I9", "customer_id": "C2", "kind": "event",
                                        "interaction_ts": datetime(2020, 7, 2, 9), "outcome": "accepted"}],
             date(2020, 7, 6))
    k.insert(con, "stg_feedback", [{"feedback_id": "F9", "customer_id": "C2", "feedback_ts": datetime(2020, 7, 8, 9),
                                    "kind": "nps", "score": 3}], date(2020, 7, 12))
    build_segmentation(con, RANGE, RULES)


@pytest.fixture(scope="module")
def timeline_file(tmp_path_factory) -> Path:
    """The timeline and its segmentation, built once; each test works on copies."""
    root = tmp_path_factory.mktemp("propensity_range")
    con = k.warehouse(root)
    _timeline(con)
    con.close()
    return root / "warehouse.duckdb"


def _warehouses(source: Path, tmp_path: Path, n: int = 2) -> list[duckdb.DuckDBPyConnection]:
    out = []
    for i in range(n):
        target = tmp_path / f"{i}.duckdb"
        shutil.copy(source, target)
        out.append(duckdb.connect(str(target)))
    return out


def _table(con, table: str) -> pl.DataFrame:
    return con.sql(f"select * from {table} order by all").pl()


def test_feature_range_equals_date_by_date(timeline_file, tmp_path):
    one, loop = _warehouses(timeline_file, tmp_path)
    build_feature_range(one, RANGE, RULES)
    for day in RANGE.days:
        build_feature_range(loop, DateRange(day, day), RULES)
    got, want = _table(one, "int_features"), _table(loop, "int_features")
    assert got.equals(want)
    # Month ends and the last feature_retention_days days only.
    kept = sorted(set(got["as_of_date"]))
    cutoff = LAST - timedelta(days=RULES["propensity"]["feature_retention_days"])
    assert kept == [date(2020, 6, 30)] + [d for d in RANGE.days if d >= cutoff]
    by_day = {(r["as_of_date"], r["customer_id"]): r for r in got.to_dicts()}
    # The late card purchase counts from its delivery day; A2's history follows its new owner.
    assert by_day[(date(2020, 7, 2), "C1")]["spend_dining_short"] == 300
    assert by_day[(date(2020, 7, 3), "C1")]["spend_dining_short"] == 2800
    assert by_day[(date(2020, 7, 14), "C2")]["transfer_out_short"] == 400
    assert by_day[(date(2020, 7, 15), "C1")]["transfer_out_short"] == 400
    assert (date(2020, 7, 15), "C2") in by_day and by_day[(date(2020, 7, 15), "C2")]["transfer_out_short"] == 0
    assert by_day[(date(2020, 7, 4), "C1")]["income_band"] == "100000+"
    assert by_day[(date(2020, 7, 5), "C1")]["income_band"] == "<50000"
    assert by_day[(date(2020, 7, 27), "C1")]["max_dpd"] == 12 and by_day[(date(2020, 7, 28), "C1")]["max_dpd"] == 40


def test_feature_range_split_and_single_date_rebuild(timeline_file, tmp_path):
    one, split = _warehouses(timeline_file, tmp_path)
    build_feature_range(one, RANGE, RULES)
    build_feature_range(split, DateRange(FIRST, date(2020, 7, 20)), RULES)
    # The first call kept Jun 16.. Jul 20; the second drops what the retention no longer keeps.
    build_feature_range(split, DateRange(date(2020, 7, 21), LAST), RULES)
    assert _table(split, "int_features").equals(_table(one, "int_features"))
    before = _table(one, "int_features")
    build_feature_range(one, DateRange(LAST, LAST), RULES)
    assert _table(one, "int_features").equals(before)


def _scores(days: list[date]) -> pl.DataFrame:
    rows = []
    for n, day in enumerate(days):
        for i, c in enumerate(("C1", "C2")):
            rows += [(day, c, "fund", 0.1 + 0.05 * ((i + n) % 3)), (day, c, "consumer_loan", 0.2 - 0.01 * n),
                     (day, c, "wealth_management", 0.3 if (i + n) % 2 else 0.01)]
    return pl.DataFrame(rows, schema=["as_of_date", "customer_id", "product_family", "probability"],
                        orient="row").with_columns(model_version=pl.lit("v-test"),
                                                   reasons=pl.lit(["salary credited monthly"], dtype=pl.List(pl.String)))


def test_offer_marts_range_equals_date_by_date(timeline_file, tmp_path):
    one, loop = _warehouses(timeline_file, tmp_path)
    dates = DateRange(date(2020, 7, 20), LAST)
    for con in (one, loop):
        build_feature_range(con, RANGE, RULES)
    scores = _scores(dates.days)
    build_offer_marts(one, scores, dates, RULES)
    for day in dates.days:
        build_offer_marts(loop, scores.filter(pl.col("as_of_date") == day), DateRange(day, day), RULES)
    for table, _ in MART_STEPS:
        got, want = _table(one, table), _table(loop, table)
        assert got.equals(want), table
    assert _table(one, "customer_propensity").height == len(dates) * 6
    # Deciles and ranks are per date: each date ranks its own scores.
    assert _table(one, "next_best_offer")["as_of_date"].n_unique() == len(dates)


def test_scoring_plan_groups_dates_by_the_version_that_applies(tmp_path):
    root = tmp_path / "models"
    for as_of, approved, version in ((date(2020, 7, 1), True, "20200701T000000-a"),
                                     (date(2020, 7, 10), False, "20200710T000000-b"),
                                     (date(2020, 7, 20), True, "20200720T000000-c")):
        save_model(root, model_name("fund"), {"stub": 1}, version=version,
                   metadata={"as_of_date": as_of.isoformat(), "approved": approved})
    plan = scoring_plan(root, DateRange(date(2020, 6, 30), date(2020, 7, 22)))
    assert plan["credit_card"] == {}
    assert plan["fund"] == {
        "20200701T000000-a": [date(2020, 7, 1) + timedelta(days=i) for i in range(19)],
        "20200720T000000-c": [date(2020, 7, 20), date(2020, 7, 21), date(2020, 7, 22)],
    }
