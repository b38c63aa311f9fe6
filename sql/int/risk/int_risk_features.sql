-- One row per customer known on $as_of_date: the point-in-time features of the risk score.
-- Only rows delivered on or before $as_of_date and describing days on or before it are read,
-- so the features of a past observation date are what a nightly run on that date saw (the
-- PD model trains on exactly these). A customer without a credit product has null credit
-- features (a bin of their own in the scorecard).
with

customers_delivered as (
    select business_date, _line, customer_id, customer_type, onboard_date, annual_income
    from stg_customers
    where business_date <= $as_of_date
),

accounts_delivered as (
    select business_date, _line, account_id, customer_id, product_code, open_date, close_date, status, credit_limit
    from stg_accounts
    where business_date <= $as_of_date
),

products_delivered as (
    select business_date, _line, product_code, product_family
    from stg_products
    where business_date <= $as_of_date
),

-- Loan performance is a monthly snapshot per credit account; a re-delivered month replaces.
performance_delivered as (
    select account_id, as_of_date as performance_date, days_past_due, outstanding
    from stg_loan_performance
    where business_date <= $as_of_date
      and as_of_date <= $as_of_date and as_of_date > $as_of_date - $delinquency_window_days
    qualify row_number() over (partition by account_id, as_of_date order by business_date desc, _line desc) = 1
),

balances_delivered as (
    select account_id, balance_date, balance
    from stg_balances
    where business_date <= $as_of_date
      and balance_date <= $as_of_date and balance_date > $as_of_date - $behaviour_window_days
),

transactions_recent as (
    select customer_id, txn_day, txn_type, direction, is_cash, amount_reporting
    from int_risk_transactions
    where as_of_date <= $as_of_date
      and txn_ts >= cast($as_of_date - $salary_window_days + 1 as timestamp)
      and txn_ts < cast($as_of_date + 1 as timestamp)
),

customer_state as (
    select *
    from customers_delivered
    qualify row_number() over (partition by customer_id order by business_date desc, _line desc) = 1
),

product_state as (
    select product_code, product_family
    from products_delivered
    qualify row_number() over (partition by product_code order by business_date desc, _line desc) = 1
),

account_state as (
    select a.account_id, a.customer_id, a.credit_limit, p.product_family,
           a.open_date <= $as_of_date and coalesce(a.status, 'active') <> 'closed'
               and (a.close_date is null or a.close_date > $as_of_date) as is_open
    from accounts_delivered a
    left join product_state p using (product_code)
    qualify row_number() over (partition by a.account_id order by a.business_date desc, a._line desc) = 1
),

credit_accounts as (
    select * from account_state where is_open and list_contains($credit_families, product_family)
),

delinquency as (
    select
        a.customer_id,
        max(p.days_past_due) as max_dpd_12m,
        count(distinct p.performance_date) filter (where p.days_past_due > 0) as months_delinquent_12m
    from performance_delivered p
    join account_state a using (account_id)
    group by a.customer_id
),

latest_performance as (
    select a.customer_id, max(p.days_past_due) as current_dpd, sum(p.outstanding) as outstanding
    from (select * from performance_delivered
          qualify row_number() over (partition by account_id order by performance_date desc) = 1) p
    join credit_accounts a using (account_id)
    group by a.customer_id
),

card_balances as (
    select a.customer_id, sum(greatest(-b.balance, 0)) as card_owed, sum(a.credit_limit) as card_limit
    from (select account_id, arg_max(balance, balance_date) as balance from balances_delivered group by account_id) b
    join credit_accounts a using (account_id)
    where a.product_family = 'credit_card' and a.credit_limit > 0
    group by a.customer_id
),

deposits as (
    select a.customer_id, sum(b.balance) as deposit_balance
    from (select account_id, arg_max(balance, balance_date) as balance from balances_delivered group by account_id) b
    join account_state a using (account_id)
    where a.is_open and list_contains($deposit_families, a.product_family)
    group by a.customer_id
),

deposit_volatility as (
    select a.customer_id, stddev_samp(b.balance) / nullif(abs(avg(b.balance)), 0) as balance_volatility
    from balances_delivered b
    join account_state a using (account_id)
    where a.product_family = 'current_account'
    group by a.customer_id
),

behaviour as (
    select
        customer_id,
        sum(amount_reporting) filter (where direction = 'debit' and is_cash
                                        and txn_day > $as_of_date - $behaviour_window_days)
            / nullif(sum(amount_reporting) filter (where direction = 'debit'
                                                     and txn_day > $as_of_date - $behaviour_window_days), 0)
            as cash_intensity,
        count(distinct date_trunc('month', txn_day)) filter (where txn_type = 'salary'
                                                              and txn_day > $as_of_date - $income_window_days)
            as salary_months,
        count(*) filter (where txn_type = 'salary') as salary_credits_year
    from transactions_recent
    group by customer_id
),

final as (
    select
        $as_of_date as as_of_date,
        c.customer_id,
        c.customer_type,
        cr.customer_id is not null as has_credit,
        case when cr.customer_id is not null then coalesce(d.max_dpd_12m, 0) end::double as max_dpd_12m,
        case when cr.customer_id is not null then coalesce(d.months_delinquent_12m, 0) end::double
            as months_delinquent_12m,
        case when cr.customer_id is not null then coalesce(lp.current_dpd, 0) end::double as current_dpd,
        (cb.card_owed / cb.card_limit)::double as utilisation,
        -- Share of the months of the income window with a salary credit; null when no salary all year.
        case when b.salary_credits_year > 0
             then least(b.salary_months / ($income_window_days / 30.4), 1) end::double as income_stability,
        coalesce(b.cash_intensity, 0)::double as cash_intensity,
        dv.balance_volatility::double as balance_volatility,
        (lp.outstanding / nullif(c.annual_income, 0))::double as debt_to_income,
        coalesce(dep.deposit_balance, 0)::double as deposit_balance,
        (date_diff('day', c.onboard_date, $as_of_date) / 365.25)::double as tenure_years
    from customer_state c
    left join (select distinct customer_id from credit_accounts) cr using (customer_id)
    left join delinquency d using (customer_id)
    left join latest_performance lp using (customer_id)
    left join card_balances cb using (customer_id)
    left join deposits dep using (customer_id)
    left join deposit_volatility dv using (customer_id)
    left join behaviour b using (customer_id)
)

select * from final
