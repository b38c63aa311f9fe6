"""PD-model training on a synthetic warehouse with a planted signal: observation dates with a
whole outcome window, out-of-time evaluation after the training window, approval gates, the
Dagster training asset writing an approved version the scorer then uses."""

from __future__ import annotations

from datetime import date, timedelta

import dagster as dg
import pytest

from assets.risk import risk_pd_model
from models.risk.scorecard import RiskModelError
from models.store import list_versions
from pipelines.core.config import RulesResource
from pipelines.core.config import load_rules
from pipelines.core.resources import ModelStoreResource, WarehouseResource
from pipelines.risk.reports import build_risk_transactions
from pipelines.risk.scoring import METHOD_MODEL, current_model, observation_dates, train
from tests.kit.warehouse import warehouse

RULES = load_rules()
FIRST, LAST = date(2022, 1, 1), date(2024, 6, 30)
CUSTOMERS = 1200

# Every customer holds a card; utilisation (drawn per customer, observed at each month-end)
# drives a customer's chance to fall into arrears, which then runs 30 days a month to default.
SYNTHETIC = f"""
create temp table _c as
select 'C' || lpad(i::varchar, 5, '0') as customer_id, i,
       (hash(i, 'u') % 1000) / 1000.0 as utilisation,
       case when (hash(i, 'd') % 1000) / 1000.0 < 0.05 + 0.5 * pow((hash(i, 'u') % 1000) / 1000.0, 3)
            then date '{FIRST}' + cast(hash(i, 'm') % 850 as integer) end as onset
from range({CUSTOMERS}) t(i);
insert into stg_customers (business_date, customer_id, customer_type, onboard_date, status, marketing_consent, annual_income, _line)
select date '{FIRST}', customer_id, 'individual', date '2015-01-01', 'active', true, 100000, i from _c;
insert into stg_accounts (business_date, account_id, customer_id, product_code, open_date, status, currency, credit_limit, _line)
select date '{FIRST}', 'K' || customer_id, customer_id, 'CC001', date '2015-01-01', 'active', 'CNY', 10000, i from _c;
create temp table _months as
select (date_trunc('month', d) + interval 1 month - interval 1 day)::date as month_end
from range(date '{FIRST}', date '{LAST}' + interval 1 day, interval 1 month) t(d);
insert into stg_balances (business_date, account_id, balance_date, balance, amount_reporting, _line)
select month_end, 'K' || customer_id, month_end, -10000 * utilisation, -10000 * utilisation, i from _c, _months;
insert into stg_loan_performance (business_date, account_id, as_of_date, outstanding, days_past_due, _line)
select month_end, 'K' || customer_id, month_end, 10000 * utilisation,
       case when onset is not null and month_end >= onset then date_diff('day', onset, month_end) else 0 end, i
from _c, _months;
"""


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    root = tmp_path_factory.mktemp("training")
    con = warehouse(root)
    con.execute(SYNTHETIC)
    build_risk_transactions(con, FIRST, RULES)  # no transactions: the behaviour features are empty
    con.close()
    return root


@pytest.fixture
def con(history):
    import duckdb

    con = duckdb.connect(str(history / "warehouse.duckdb"), read_only=True)
    yield con
    con.close()


def test_observation_dates_leave_a_whole_outcome_window():
    dates = observation_dates(FIRST, LAST, RULES)
    assert dates == sorted(dates) and dates[-1] == LAST - timedelta(days=365)
    assert dates[0] >= FIRST + timedelta(days=RULES["risk"]["training"]["first_observation_offset_days"])


def test_training_evaluates_out_of_time_and_approves_a_good_model(con):
    card, meta = train(con, FIRST, LAST, RULES)
    assert meta["training_window"][1] < meta["evaluation_window"][0]
    assert meta["features"] == RULES["risk"]["features"] and card.features == RULES["risk"]["features"]
    assert meta["evaluation"]["auc"] > 0.7 and meta["monotone_grades"] and meta["approved"]
    rates = [g["observed_default_rate"] for g in meta["grades"] if g["rows"] >= 30]
    assert rates == sorted(rates) and len(rates) >= 3
    weights = dict(zip(card.features, card.coef))
    assert weights["utilisation"] > 0.5


def test_a_history_shorter_than_the_outcome_window_trains_nothing(con):
    with pytest.raises(RiskModelError, match="12-month outcome"):
        train(con, FIRST, FIRST + timedelta(days=400), RULES)


def test_training_asset_stores_an_approved_version_that_scoring_uses(history, tmp_path):
    store = tmp_path / "models"
    result = dg.materialize([risk_pd_model], partition_key=str(LAST), resources={
        "warehouse": WarehouseResource(path=str(history / "warehouse.duckdb")),
        "model_store": ModelStoreResource(path=str(store)), "rules": RulesResource()})
    assert result.success
    versions = list_versions(store, "risk_pd")
    assert len(versions) == 1 and versions[0]["approved"]
    model = current_model(store, RULES)
    assert (model.method, model.version) == (METHOD_MODEL, versions[0]["version"])


def test_training_asset_without_loan_performance_keeps_the_rules(tmp_path):
    con = warehouse(tmp_path)
    con.close()
    result = dg.materialize([risk_pd_model], partition_key=str(LAST), resources={
        "warehouse": WarehouseResource(path=str(tmp_path / "warehouse.duckdb")),
        "model_store": ModelStoreResource(path=str(tmp_path / "models")), "rules": RulesResource()})
    assert result.success and list_versions(tmp_path / "models", "risk_pd") == []
