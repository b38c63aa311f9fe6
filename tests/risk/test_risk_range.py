"""Range builds of the risk tables equal nightly builds: a history with every alert pattern, late
deliveries, a re-delivered loan month, a customer and an account that change, and foreign
currency, built date by date in order, over the whole range in one call, and in two calls
(the second seeded from the first's last snapshot) gives the same rows in every risk table."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pipelines.core.config import load_rules
from pipelines.core.engine import DateRange
from pipelines.risk.reports import build_reports
from pipelines.risk.scoring import build_scoring, current_model
from tests.kit.warehouse import warehouse

RULES = load_rules()
FIRST, SEED_LAST, LAST = date(2024, 1, 1), date(2024, 7, 19), date(2024, 8, 12)
TABLES = ("int_risk_transactions", "large_value_reports", "int_alert_findings", "risk_alerts",
          "int_risk_features", "customer_risk", "model_monitoring")

# 24 customers over eight months; a tenth of the transactions and balances arrive two days late.
HISTORY = f"""
create temp table _c as
select i, 'C' || lpad(i::varchar, 2, '0') as customer_id from range(24) t(i);
create temp table _d as
select i as n, (date '{FIRST}' + cast(i as integer)) as day from range(date_diff('day', date '{FIRST}', date '{LAST}') + 1) t(i);
insert into stg_customers (business_date, customer_id, customer_type, onboard_date, status, marketing_consent, annual_income, _line)
select date '{FIRST}', customer_id, case when i % 6 = 0 then 'business' else 'individual' end, date '2019-03-01',
       'active', true, 60000 + 5000 * i, i
from _c;
-- A later delivery changes a customer's type: reports and features follow it from that night.
insert into stg_customers (business_date, customer_id, customer_type, onboard_date, status, marketing_consent, annual_income, _line)
values (date '2024-07-25', 'C03', 'business', date '2019-03-01', 'active', true, 90000, 1);
insert into stg_accounts (business_date, account_id, customer_id, product_code, open_date, status, currency, credit_limit, _line)
select date '{FIRST}', 'A' || customer_id, customer_id, 'CA001', date '2019-03-01', 'active', 'CNY', null, 4 * i from _c
union all
select date '{FIRST}', 'S' || customer_id, customer_id, 'SV001', date '2019-03-01', 'active', 'USD', null, 4 * i + 1 from _c
union all
select date '{FIRST}', 'K' || customer_id, customer_id, 'CC001', date '2019-03-01', 'active', 'CNY', 20000, 4 * i + 2
from _c where i % 3 = 0
union all
select date '{FIRST}', 'D' || customer_id, customer_id, 'CA001', date '2019-03-01', 'active', 'CNY', null, 4 * i + 3
from _c where i % 4 = 1;
-- The card of C00 is closed in the window.
insert into stg_accounts (business_date, account_id, customer_id, product_code, open_date, close_date, status, currency, credit_limit, _line)
values (date '2024-07-28', 'KC00', 'C00', 'CC001', date '2019-03-01', date '2024-07-28', 'closed', 'CNY', 20000, 1);
insert into stg_fx_rates (business_date, rate_date, currency, rate_to_reporting, _line)
select day, day, 'USD', 7.1 + (n % 7) / 100.0, 1 from _d;
create temp table _t as
-- everyday card purchases
select c.customer_id, 'A' || c.customer_id as account_id, d.day, d.day + interval 12 hour as txn_ts,
       'debit' as direction, 'card_purchase' as txn_type, false as is_cash, 'CNY' as currency,
       (50 + hash(c.i, d.n, 'p') % 450)::decimal(18, 2) as amount
from _c c, _d d
union all  -- salary on the 10th
select c.customer_id, 'A' || c.customer_id, d.day, d.day + interval 8 hour, 'credit', 'salary', false, 'CNY',
       (8000 + 500 * c.i)::decimal(18, 2)
from _c c, _d d where day(d.day) = 10
union all  -- cash just under the threshold (structuring)
select c.customer_id, 'A' || c.customer_id, d.day, d.day + interval 11 hour, 'credit', 'deposit', true, 'CNY',
       (45000 + hash(c.i, d.n, 's') % 4900)::decimal(18, 2)
from _c c, _d d where c.i % 5 = 2 and d.n % 9 in (0, 3, 5)
union all  -- five cash withdrawals in a morning (frequent cash)
select c.customer_id, 'A' || c.customer_id, d.day, d.day + to_hours(9 + k), 'debit', 'withdrawal', true, 'CNY',
       1000::decimal(18, 2)
from _c c, _d d, range(5) t(k) where c.i % 5 = 3 and d.n % 17 = 0
union all  -- in and out again the same day (rapid in-out)
select c.customer_id, 'A' || c.customer_id, d.day, d.day + interval 9 hour, 'credit', 'transfer_in', false, 'CNY',
       80000::decimal(18, 2)
from _c c, _d d where c.i % 5 = 4 and d.n % 23 = 0
union all
select c.customer_id, 'A' || c.customer_id, d.day, d.day + interval 15 hour, 'debit', 'transfer_out', false, 'CNY',
       75000::decimal(18, 2)
from _c c, _d d where c.i % 5 = 4 and d.n % 23 = 0
union all  -- small transfers out, then a large one (large vs history)
select c.customer_id, 'A' || c.customer_id, d.day, d.day + interval 14 hour, 'debit', 'transfer_out', false, 'CNY',
       (case when d.day = date '2024-08-01' then 60000 else 2000 end)::decimal(18, 2)
from _c c, _d d where c.i % 7 = 1 and (d.n % 5 = 0 or d.day = date '2024-08-01')
union all  -- foreign-currency deposits on the USD account (large-value USD basis)
select c.customer_id, 'S' || c.customer_id, d.day, d.day + interval 10 hour, 'credit', 'deposit', true, 'USD',
       (6000 + hash(c.i, d.n, 'u') % 6000)::decimal(18, 2)
from _c c, _d d where c.i % 4 = 0 and d.n % 11 = 0
union all  -- dormant accounts: one payment in January, a large flow in July (dormant reactivation)
select c.customer_id, 'D' || c.customer_id, d.day, d.day + interval 10 hour,
       case when d.day = date '2024-07-27' then 'debit' else 'credit' end,
       case when d.day = date '2024-07-27' then 'withdrawal' else 'deposit' end, false, 'CNY',
       (case when d.day = date '{FIRST}' then 100 else 40000 end)::decimal(18, 2)
from _c c, _d d where c.i % 4 = 1 and d.day in (date '{FIRST}', date '2024-07-26', date '2024-07-27');
insert into stg_transactions (business_date, txn_id, account_id, txn_ts, amount, amount_reporting, direction, currency,
                              txn_type, is_cash, is_cross_border, _line)
select day + case when hash(account_id, txn_ts, 'late') % 10 = 0 then 2 else 0 end,
       'T' || row_number() over (order by account_id, txn_ts, txn_type), account_id, txn_ts, amount,
       case when currency = 'USD' then round(amount * 7.1, 2) else amount end, direction, currency, txn_type,
       is_cash, false, row_number() over (order by account_id, txn_ts, txn_type)
from _t;
insert into stg_balances (business_date, account_id, balance_date, balance, amount_reporting, _line)
select day + case when hash(c.i, n, 'bl') % 10 = 0 then 2 else 0 end, 'A' || customer_id, day,
       (5000 + hash(c.i, n, 'b') % 20000)::decimal(18, 2), (5000 + hash(c.i, n, 'b') % 20000)::decimal(18, 2), 1
from _c c, _d d
union all
select day, 'K' || customer_id, day, -(hash(c.i, n, 'k') % 19000)::decimal(18, 2), -(hash(c.i, n, 'k') % 19000)::decimal(18, 2), 2
from _c c, _d d where c.i % 3 = 0 and day(d.day + 1) = 1;
insert into stg_loan_performance (business_date, account_id, as_of_date, outstanding, days_past_due, _line)
select day, 'K' || customer_id, day, 5000, case when c.i % 9 = 0 and day >= date '2024-05-01' then 35 else 0 end, 1
from _c c, _d d where c.i % 3 = 0 and day(d.day + 1) = 1;
-- A re-delivered month: June of C03's card, corrected in July's window.
insert into stg_loan_performance (business_date, account_id, as_of_date, outstanding, days_past_due, _line)
values (date '2024-07-24', 'KC03', date '2024-06-30', 7000, 60, 1);
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Three warehouses from one history: nightly, one range, two ranges (seeded with the
    history before the compared window in each)."""
    model = current_model(None, RULES)
    out = {}
    for name, windows in (("nightly", [DateRange(d, d) for d in DateRange(SEED_LAST + timedelta(days=1), LAST).days]),
                          ("range", [DateRange(SEED_LAST + timedelta(days=1), LAST)]),
                          ("split", [DateRange(SEED_LAST + timedelta(days=1), date(2024, 7, 29)),
                                     DateRange(date(2024, 7, 30), LAST)])):
        root = tmp_path_factory.mktemp(name)
        con = warehouse(root)
        con.execute(HISTORY)
        for dates in [DateRange(FIRST, SEED_LAST), *windows]:
            build_reports(con, dates, RULES)
            build_scoring(con, dates, RULES, model)
        con.close()
        out[name] = root / "warehouse.duckdb"
    return out


def differences(a, b) -> dict[str, tuple[int, int]]:
    import duckdb

    con = duckdb.connect()
    con.execute(f"attach '{a}' as a (read_only)")
    con.execute(f"attach '{b}' as b (read_only)")
    out = {}
    for t in TABLES:
        one_way = con.sql(f"select count(*) from (select * from a.{t} except all select * from b.{t})").fetchall()[0][0]
        other = con.sql(f"select count(*) from (select * from b.{t} except all select * from a.{t})").fetchall()[0][0]
        out[t] = (one_way, other)
    con.close()
    return out


def test_the_history_raises_every_rule_with_new_and_ongoing_alerts(built):
    import duckdb

    con = duckdb.connect(str(built["nightly"]), read_only=True)
    window = {"f": SEED_LAST + timedelta(days=1)}
    rules = {r[0] for r in con.sql("select distinct rule_id from risk_alerts where as_of_date >= $f",
                                   params=window).fetchall()}
    statuses = {r[0] for r in con.sql("select distinct status from risk_alerts where as_of_date >= $f",
                                      params=window).fetchall()}
    late = con.sql("select count(*) from large_value_reports where late_delivery").fetchall()[0][0]
    con.close()
    assert rules == {"STR01", "RIO01", "FCW01", "DRM01", "LTH01"}
    assert statuses == {"new", "ongoing"} and late > 0


@pytest.mark.parametrize("other", ["range", "split"])
def test_a_range_build_equals_the_nightly_builds(built, other):
    assert differences(built["nightly"], built[other]) == {t: (0, 0) for t in TABLES}


def test_a_date_rebuilt_inside_the_range_keeps_its_rows(built, tmp_path):
    import shutil

    import duckdb

    path = tmp_path / "rebuilt.duckdb"
    shutil.copy(built["range"], path)
    con = duckdb.connect(str(path))
    day = DateRange(date(2024, 7, 27), date(2024, 7, 27))
    build_reports(con, day, RULES)
    build_scoring(con, day, RULES, current_model(None, RULES))
    con.close()
    assert differences(built["range"], path) == {t: (0, 0) for t in TABLES}
