"""How much of the planted truth the generated behaviour carries (not a test).

    python benchmarks/generator_quality.py [--customers 3000] [--out bench_out/generator_quality]

Generates a year (2025, Parquet, seed 42), then, straight from the landing zone with DuckDB:
- wealth vs AUM and tier at the year end (Spearman), median wealth per tier;
- default: a logistic regression on observable behaviour at the feature date (cash share,
  balance trend, card utilisation, salary regularity, activity) against "90+ dpd within the rest
  of the year", 5-fold cross-validated AUC, beside the oracle AUC of the latent propensity;
- propensity: per product family, "opened within 90 days of the feature date" among non-holders,
  the same kind of model on observable features, beside the oracle AUC of the latent appetite;
- churn: AUM 120 days after churn_start vs before, churners vs the rest;
- background noise: customers who are not planted but meet a rule's plain definition.
Writes <out>/quality.json and prints it."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FEATURE_DATE = date(2025, 7, 1)
END = date(2025, 12, 31)
FAMILIES = ["credit_card", "consumer_loan", "time_deposit", "wealth_management", "fund", "insurance", "savings"]


def views(con, landing: Path) -> None:
    for entity in ("customers", "accounts", "transactions", "balances", "loan_performance", "interactions", "products"):
        con.execute(f"create view {entity} as select * from read_parquet('{landing / entity}/*.parquet', "
                    "union_by_name = true, filename = true)")
    con.execute(f"create view truth as select * from read_parquet('{landing / '_truth' / 'customers.parquet'}')")
    con.execute(f"create view patterns as select * from read_parquet('{landing / '_truth' / 'patterns.parquet'}')")
    con.execute("create table acct as select * from (select *, row_number() over (partition by account_id "
                "order by filename desc) as rn from accounts) where rn = 1")
    con.execute("create table acct_fam as select a.*, p.product_family from acct a join products p using (product_code)")


def aum_on(con, day: date) -> str:
    return f"""
        select a.customer_id, sum(b.balance * case when a.currency = 'USD' then 7.2 else 1 end)::double as aum
        from (select account_id, arg_max(balance, balance_date) as balance from balances
              where balance_date <= DATE '{day}' group by account_id) b
        join acct_fam a using (account_id)
        where a.product_family in ('current_account', 'savings', 'time_deposit', 'wealth_management', 'fund',
                                   'insurance', 'private_banking')
          and (a.close_date is null or a.close_date > DATE '{day}')
        group by a.customer_id"""


def auc(y, score) -> float:
    from sklearn.metrics import roc_auc_score
    return round(float(roc_auc_score(y, score)), 3)


def cv_auc(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """5-fold cross-validated AUC of a regularised logistic regression (on signed log features)
    and of gradient boosting; with a few dozen positives the simpler model is the steadier one."""
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    logistic = make_pipeline(FunctionTransformer(lambda v: np.sign(v) * np.log1p(np.abs(v))), StandardScaler(),
                             LogisticRegression(C=0.1, max_iter=2000))
    boosting = HistGradientBoostingClassifier(max_depth=3, max_iter=150, learning_rate=0.05, random_state=0)
    return {name: auc(y, cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1])
            for name, model in (("logistic_auc", logistic), ("boosting_auc", boosting))}


def features(con) -> str:
    f = FEATURE_DATE
    return f"""
    with t as (
        select a.customer_id, x.* from transactions x join acct a using (account_id)
        where x.txn_ts < TIMESTAMP '{f}' and x.txn_ts >= TIMESTAMP '{f}' - interval 90 day),
    agg as (
        select customer_id,
            count(*) filter (where txn_type not in ('interest', 'fee', 'salary', 'loan_disbursement')) as counted,
            count(*) filter (where is_cash and direction = 'debit') as cash_out,
            count(*) filter (where txn_type = 'salary') as salaries,
            coalesce(stddev(day(txn_ts)) filter (where txn_type = 'salary'), 10) as salary_day_sd,
            count(*) filter (where counterparty_name like '%证券%') as broker,
            count(*) filter (where counterparty_name like '%保险%') as insurer,
            count(*) filter (where counterparty_name like '%租赁%') as rent,
            count(*) filter (where counterparty_name in ('蚂蚁花呗', '京东白条', '微粒贷', '美团月付')) as platform,
            count(*) filter (where counterparty_name = '本人他行账户' and day(txn_ts) = 20) as to_own_bank,
            avg(balance_after) filter (where txn_type in ('card_purchase', 'transfer_out', 'bill_payment')
                                       and currency = 'CNY')::double as ca_balance,
            count(*) filter (where txn_type = 'card_purchase') as cards,
            sum(amount) filter (where direction = 'debit')::double as debits
        from t group by customer_id),
    util as (
        select a.customer_id, max(l.outstanding / nullif(a.credit_limit, 0))::double as utilisation,
               max(l.days_past_due) as max_dpd
        from loan_performance l join acct a using (account_id)
        where l.as_of_date < DATE '{f}' group by a.customer_id),
    crm as (
        select customer_id, count(*) filter (where kind = 'event') as seminars,
               count(*) filter (where outcome = 'interested' and interaction_ts >= TIMESTAMP '{f}' - interval 30 day) as interested
        from interactions where interaction_ts < TIMESTAMP '{f}' group by customer_id),
    now as ({aum_on(con, f)}), before as ({aum_on(con, date(f.year, f.month - 3, 1))}),
    cust as (select * from (select *, row_number() over (partition by customer_id order by filename desc) rn
                            from customers where filename <= (select max(filename) from customers
                                where regexp_extract(filename, '_([0-9]{{8}})', 1) <= '{f:%Y%m%d}')) where rn = 1)
    select c.customer_id, (c.customer_type = 'business')::int as business, c.annual_income::double as income,
           right(c.risk_tolerance, 1)::int as tolerance,
           coalesce(date_diff('year', c.birth_date, DATE '{f}'), 0) as age,
           coalesce(now.aum, 0) as aum, coalesce(now.aum, 0) / nullif(before.aum, 0) as aum_ratio,
           coalesce(agg.counted, 0) as counted, coalesce(agg.cash_out, 0) / greatest(agg.counted, 1) as cash_share,
           coalesce(agg.salaries, 0) as salaries, coalesce(agg.salary_day_sd, 10) as salary_day_sd,
           coalesce(agg.broker, 0) as broker, coalesce(agg.insurer, 0) as insurer, coalesce(agg.rent, 0) as rent,
           coalesce(agg.cards, 0) as cards, coalesce(agg.platform, 0) as platform, coalesce(agg.to_own_bank, 0) as to_own_bank,
           coalesce(agg.ca_balance, 0) / greatest(c.annual_income::double, 1) as ca_balance_ratio, coalesce(agg.debits, 0) / greatest(c.annual_income::double / 4, 1) as spend_ratio,
           coalesce(util.utilisation, -1) as utilisation, coalesce(util.max_dpd, 0) as max_dpd,
           coalesce(crm.seminars, 0) as seminars, coalesce(crm.interested, 0) as interested
    from cust c left join agg using (customer_id) left join util using (customer_id) left join crm using (customer_id)
    left join now using (customer_id) left join before using (customer_id)
    where c.onboard_date < DATE '{f}'"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=3000)
    parser.add_argument("--out", default=str(ROOT / "bench_out" / "generator_quality"))
    parser.add_argument("--reuse", action="store_true", help="use an existing landing zone in --out")
    args = parser.parse_args()
    out = Path(args.out)
    landing = out / "landing"
    if not args.reuse:
        from pipelines.generator import generate
        summary = generate(landing, customers=args.customers, start=date(2025, 1, 1), end=END, seed=42,
                           fmt="parquet", progress=False)
        print(json.dumps(summary["rows"]))
    con = duckdb.connect()
    con.execute("set memory_limit = '3GB'")
    views(con, landing)
    result = {}

    tiers = con.sql(f"""select t.wealth, coalesce(a.aum, 0) as aum,
        case when coalesce(a.aum, 0) >= 6e6 then 4 when a.aum >= 5e5 then 3 when a.aum >= 5e4 then 2 else 1 end as tier
        from truth t left join ({aum_on(con, END)}) a using (customer_id)""").fetchnumpy()
    from scipy.stats import spearmanr
    result["spearman_wealth_aum"] = round(float(spearmanr(tiers["wealth"], tiers["aum"]).statistic), 3)
    result["spearman_wealth_tier"] = round(float(spearmanr(tiers["wealth"], tiers["tier"]).statistic), 3)
    result["median_wealth_by_tier"] = {int(k): round(float(np.median(tiers["wealth"][tiers["tier"] == k])))
                                       for k in np.unique(tiers["tier"])}
    result["tier_counts"] = {int(k): int((tiers["tier"] == k).sum()) for k in np.unique(tiers["tier"])}

    feats = con.sql(features(con)).df()
    truth = con.sql("select * from truth").df().set_index("customer_id")
    feats = feats.join(truth, on="customer_id")
    cols = ["business", "income", "tolerance", "age", "aum", "aum_ratio", "counted", "cash_share", "salaries",
            "salary_day_sd", "broker", "insurer", "rent", "cards", "platform", "to_own_bank", "ca_balance_ratio", "spend_ratio", "utilisation", "max_dpd",
            "seminars", "interested"]
    x = feats[cols].fillna(-1).to_numpy(dtype=float)

    onset = feats["delinquency_onset"]
    has_credit = feats["utilisation"] >= 0
    base = has_credit & (onset.isna() | (onset >= pd.Timestamp(FEATURE_DATE)))
    y = (feats["default_date"].notna() & (feats["default_date"] > pd.Timestamp(FEATURE_DATE))).to_numpy()[base]
    result["default"] = {"base": int(base.sum()), "positives": int(y.sum()),
                         **cv_auc(x[base], y), "oracle_auc": auc(y, feats["default_propensity"][base])}

    opened = con.sql(f"""select customer_id, product_family from read_parquet('{landing / '_truth' / 'product_openings.parquet'}')
        where open_date > DATE '{FEATURE_DATE}' and open_date <= DATE '{FEATURE_DATE}' + 90 and not new_customer""").df()
    held = con.sql(f"""select distinct customer_id, product_family from acct_fam
        where open_date <= DATE '{FEATURE_DATE}' and (close_date is null or close_date > DATE '{FEATURE_DATE}')""").df()
    result["propensity"] = {}
    for fam in FAMILIES:
        holders = set(held.loc[held.product_family == fam, "customer_id"])
        base = ~feats["customer_id"].isin(holders) & (feats[f"appetite_{fam}"] > 0)
        y = feats["customer_id"].isin(set(opened.loc[opened.product_family == fam, "customer_id"]))[base].to_numpy()
        if y.sum() < 10:
            result["propensity"][fam] = {"base": int(base.sum()), "positives": int(y.sum())}
            continue
        result["propensity"][fam] = {"base": int(base.sum()), "positives": int(y.sum()),
                                     **cv_auc(x[base.to_numpy()], y),
                                     "oracle_auc": auc(y, feats[f"appetite_{fam}"][base])}

    churn = con.sql(f"""with c as (select customer_id, churn_start from truth where churns and churn_start <= DATE '{END}' - 120)
        select count(*), median(coalesce(a.aum, 0) / nullif(b.aum, 0)) from c
        left join ({aum_on(con, date(2025, 12, 31))}) a using (customer_id)
        left join ({aum_on(con, date(2025, 1, 1))}) b using (customer_id)""").fetchall()[0]
    result["churn"] = {"churners_120d_in": churn[0], "median_aum_ratio_year_end_vs_start": round(float(churn[1] or 0), 3)}

    # Background noise: non-planted customers meeting a rule's plain definition.
    con.execute("""create table tx as select a.customer_id, c.customer_type, x.* from transactions x
                   join acct a using (account_id) join (select distinct customer_id, customer_type from customers) c using (customer_id)""")
    planted = "(select distinct unnest(txn_ids) from patterns)"
    noise = {}
    noise["cash_50k_day"] = con.sql(f"""select count(distinct customer_id) from (select customer_id, direction, txn_ts::date d,
        sum(amount) s from tx where is_cash and txn_id not in {planted} group by all) where s >= 50000""").fetchall()[0][0]
    noise["transfer_threshold_day"] = con.sql(f"""select count(distinct customer_id) from (select customer_id, customer_type, direction,
        txn_ts::date d, sum(amount) s from tx where txn_type in ('transfer_in', 'transfer_out') and txn_id not in {planted}
        group by all) where s >= case when customer_type = 'business' then 2000000 else 500000 end""").fetchall()[0][0]
    noise["frequent_cash"] = con.sql(f"""select count(distinct customer_id) from (select customer_id, txn_ts::date, count(*) n
        from tx where is_cash and direction = 'debit' and txn_id not in {planted} group by all) where n >= 5""").fetchall()[0][0]
    noise["structuring_like"] = con.sql(f"""select count(distinct customer_id) from tx where is_cash and amount >= 45000
        and amount < 50000 and txn_id not in {planted}""").fetchall()[0][0]
    noise["churners_customers"] = int(truth["churns"].sum())
    result["noise_customers"] = noise
    result["transactions_per_customer_day"] = round(con.sql("select count(*) from transactions").fetchall()[0][0]
                                                    / args.customers / 365, 2)
    (out / "quality.json").write_text(json.dumps(result, indent=2, default=str), encoding="utf-8")
    print(json.dumps(result, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
