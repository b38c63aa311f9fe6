"""Propensity on generated data: the training code learns the planted appetite (AUC on the later
window, next to the oracle AUC of the appetite itself), versions are stored and loaded by
version, and the published marts meet their contracts and the eligibility rules.

Three families are modelled (propensity.families) to keep the test to seconds; the benchmark
benchmarks/propensity_quality.py trains all of them on 2,000 customers."""

from __future__ import annotations

import copy
import shutil
from datetime import date, timedelta

import duckdb
import pytest

from models.propensity import classifier as pm
from models.propensity.features import REASONS
from models.store import list_versions, load_model
from pipelines.core.config import load_rules
from pipelines.core.contracts import output_contracts
from tests.kit.generated import generated_warehouse
from pipelines.core.engine import DateRange
from pipelines.propensity.build import (MART_STEPS, approved_version, build_feature_range, family_rows, model_name,
                                        score_range, train_all, training_set)
from pipelines.publishing.snapshot import contract_violations
from pipelines.customer.segmentation import build_segmentation
from pipelines.core.sql import load_sql, run


pytestmark = pytest.mark.slow

START, END = date(2024, 1, 1), date(2024, 12, 31)
MONTH_ENDS = [date(2024, m + 1, 1) - timedelta(days=1) for m in range(1, 12)] + [END]
CUSTOMERS = 1500
FAMILIES = ["fund", "consumer_loan", "credit_card"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("propensity_generated")
    con = generated_warehouse(root, customers=CUSTOMERS, start=START, end=END, seed=5)
    rules = copy.deepcopy(load_rules())
    rules["propensity"]["families"] = FAMILIES
    for day in MONTH_ENDS:
        build_segmentation(con, DateRange(day, day), rules)
        build_feature_range(con, DateRange(day, day), rules)
    con.execute("create temp table truth as select * from read_parquet($p)",
                {"p": str(root / "landing" / "_truth" / "customers.parquet")})
    summary = train_all(con, root / "models", END, rules)
    scored = score_range(con, root / "models", DateRange(END, END), rules)
    yield {"con": con, "rules": rules, "summary": summary, "scored": scored, "models": root / "models", "root": root}
    con.close()


def test_models_learn_the_planted_appetite(trained):
    con, summary, rules = trained["con"], trained["summary"], trained["rules"]
    results = {r.family: r for r in summary["families"]}
    assert {f for f, r in results.items() if r.status == "trained"} <= set(FAMILIES)
    assert results["private_banking"].status == "skipped"
    evaluation = training_set(con, summary["eval_dates"], END, rules)
    truth = con.sql("select * from truth").pl()
    joined = evaluation.join(truth, on="customer_id", how="left")
    aucs = {}
    for family in FAMILIES:
        r = results[family]
        assert r.status == "trained", r.note
        pop, y = family_rows(joined, family)
        oracle = pm.evaluate(y, pop[f"appetite_{family}"].to_numpy())["auc"]
        aucs[family] = auc = r.metrics["hgb_calibrated"]["auc"]
        # The planted truth is the ceiling (a few dozen evaluation positives: some noise).
        assert auc < oracle + 0.05, (family, auc, oracle)
        assert r.metrics["popularity"]["auc"] == 0.5
    # Fund appetite shows in behaviour (transfers to brokers, seminars, tolerance): clearly learnt.
    assert aucs["fund"] > 0.65, aucs
    assert results["fund"].metrics["hgb_calibrated"]["brier"] < results["fund"].metrics["popularity"]["brier"]
    assert sum(aucs.values()) / len(aucs) > 0.55, aucs
    # The evaluation window is later than, and disjoint from, every training label window.
    assert summary["train_dates"][-1] + timedelta(days=rules["propensity"]["horizon_days"]) <= summary["eval_dates"][0]


def test_versions_are_stored_with_metadata_and_loaded_by_version(trained):
    root = trained["models"]
    meta = approved_version(root, "fund", END)
    assert meta is not None and meta["as_of_date"] == END.isoformat()
    model, loaded = load_model(root, model_name("fund"), meta["version"])
    assert loaded["training_window"] == [d.isoformat() for d in (trained["summary"]["train_dates"][0],
                                                                 trained["summary"]["train_dates"][-1])]
    assert set(loaded["features"]) == set(model.feature_columns_[0]) | set(model.feature_columns_[1])
    assert (root / model_name("fund") / meta["version"] / "model_card.md").read_text().count("AUC") >= 1
    # A date before the training date is never scored with it.
    assert approved_version(root, "fund", END - timedelta(days=1)) is None
    assert list_versions(root, model_name("private_banking")) == []
    metrics = run(trained["con"], "select product_family, status, model from model_metrics order by all").fetchall()
    assert ("private_banking", "skipped", None) in metrics and ("fund", "trained", "logistic") in metrics


def test_published_marts_meet_contracts_and_eligibility(trained):
    con = trained["con"]
    for table, _ in MART_STEPS:
        assert contract_violations(con, table, output_contracts()[table], END) == [], table
    assert trained["scored"]["rows"]["customer_propensity"] > CUSTOMERS
    versions = trained["scored"]["models"]
    assert versions["private_banking"] == "no approved model"
    phrases = {p for pair in REASONS.values() for p in pair} | set(pm.REASON_OVERRIDES.values())
    reasons = run(con, "select unnest(reasons) from customer_propensity where as_of_date = $d", {"d": END}).fetchall()
    assert reasons and {r[0] for r in reasons} <= phrases
    broken = run(con, """
        select count(*) from next_best_offer n
        join int_customer_day d using (as_of_date, customer_id)
        join (select product_code, risk_level from stg_products qualify row_number() over
              (partition by product_code order by business_date desc) = 1) p using (product_code)
        where n.as_of_date = $d and (not d.marketing_consent or list_contains(d.held_families, n.product_family)
              or substr(p.risk_level, 2)::int > coalesce(substr(d.risk_tolerance, 2)::int, 1))""", {"d": END}).fetchall()
    assert broken == [(0,)]
    offered = run(con, "select count(*) from next_best_offer where as_of_date = $d and product_code is not null",
                  {"d": END}).fetchall()[0][0]
    assert offered > 0
    assert run(con, "select count(*) from event_invitations e join int_customer_day d using (as_of_date, customer_id) "
                    "where e.as_of_date = $d and not d.marketing_consent", {"d": END}).fetchall() == [(0,)]


def test_reasons_are_computed_for_the_rows_people_read(trained):
    con = trained["con"]
    wanted = {tuple(r[1:]) for r in con.sql(load_sql("int/propensity/reason_rows"), params={
        "date_from": END, "date_to": END,
        "reason_ranks": trained["rules"]["propensity"]["scoring"]["reason_ranks"]}).fetchall()}
    with_reasons = {tuple(r) for r in run(con, "select customer_id, product_family from customer_propensity "
                                               "where as_of_date = $d and len(reasons) > 0", {"d": END}).fetchall()}
    total = trained["scored"]["rows"]["customer_propensity"]
    # Every customer's top family is among them, and reasons appear nowhere else.
    assert with_reasons <= wanted and len(with_reasons) > 0.9 * len(wanted)
    assert trained["scored"]["explained_rows"] == len(wanted) < total
    # The offer marts carry the reasons of the score they offer.
    differing = run(con, """
        select count(*) from next_best_offer n join customer_propensity p using (as_of_date, customer_id, product_family)
        where n.as_of_date = $d and n.product_code is not null and n.reasons <> p.reasons""", {"d": END}).fetchall()
    empty = run(con, "select count(*) from next_best_offer where as_of_date = $d and product_code is not null "
                     "and len(reasons) = 0", {"d": END}).fetchall()[0][0]
    assert differing == [(0,)] and empty < 0.1 * trained["scored"]["rows"]["next_best_offer"]


def test_a_model_scoring_several_dates_gives_what_each_date_gives(trained):
    """A version trained on Nov 30 scores Nov 30 .. Dec 31 (the dates with features: the two month
    ends): the range in one call equals the dates scored one by one."""
    con, rules, root = trained["con"], trained["rules"], trained["root"]
    con.execute("checkpoint")
    copies = []
    for name in ("range", "dates"):
        shutil.copy(root / "warehouse.duckdb", root / f"{name}.duckdb")
        copies.append(duckdb.connect(str(root / f"{name}.duckdb")))
    one, loop = copies
    store, trained_on = root / "models_nov", date(2024, 11, 30)
    summary = train_all(one, store, trained_on, rules)
    assert any(r.approved for r in summary["families"])
    dates = DateRange(trained_on, END)
    result = score_range(one, store, dates, rules)
    for day in dates.days:
        score_range(loop, store, DateRange(day, day), rules)
    for table, _ in MART_STEPS:
        query = f"select * from {table} where as_of_date between $date_from and $date_to order by all"
        got, want = (c.sql(query, params=dates.params).pl() for c in (one, loop))
        assert got.equals(want), table
    scored_days = one.execute("select distinct as_of_date from customer_propensity where as_of_date "
                              "between $date_from and $date_to order by 1", dates.params).fetchall()
    assert scored_days == [(trained_on,), (END,)]
    assert result["explained_rows"] > 0
    for c in copies:
        c.close()
