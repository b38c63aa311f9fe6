-- One row per customer known on $as_of_date (the feature date): the propensity features, computed
-- only from data on or before that date. Profile, holdings and AUM come from int_customer_day,
-- scores and stage from customer_rfm / customer_lifecycle (all point in time, built first for the
-- same date); transaction behaviour, salary, loan performance, interactions and feedback are read
-- here with both the delivery date and the event time bounded by $as_of_date.
-- The feature dictionary is docs/propensity.md.
with

customer_day as (
    select *
    from int_customer_day
    where as_of_date = $as_of_date
),

rfm as (
    select customer_id, r_score, f_score, m_score, segment
    from customer_rfm
    where as_of_date = $as_of_date
),

lifecycle as (
    select customer_id, stage, tier
    from customer_lifecycle
    where as_of_date = $as_of_date
),

customers_delivered as (
    select customer_id, business_date, _line, annual_income, occupation
    from stg_customers
    where business_date <= $as_of_date
),

accounts_delivered as (
    select account_id, customer_id, business_date, _line
    from stg_accounts
    where business_date <= $as_of_date
),

transactions_window as (
    select account_id, txn_ts::date as txn_day, amount_reporting as amount, direction, txn_type,
           coalesce(channel, 'other') as channel, coalesce(is_cash, false) as is_cash,
           coalesce(is_cross_border, false) as is_cross_border, mcc
    from stg_transactions
    where business_date <= $as_of_date
      and txn_ts >= cast($as_of_date - $long_days + 1 as timestamp)
      and txn_ts < cast($as_of_date + 1 as timestamp)
),

loan_performance_window as (
    select account_id, days_past_due
    from stg_loan_performance
    where business_date <= $as_of_date
      and as_of_date <= $as_of_date and as_of_date > $as_of_date - $delinquency_days
),

interactions_window as (
    select customer_id, interaction_ts, kind, outcome
    from stg_interactions
    where business_date <= $as_of_date
      and interaction_ts >= cast($as_of_date - $long_days + 1 as timestamp)
      and interaction_ts < cast($as_of_date + 1 as timestamp)
),

feedback_window as (
    select customer_id, feedback_ts, kind, score
    from stg_feedback
    where business_date <= $as_of_date
      and feedback_ts >= cast($as_of_date - $long_days + 1 as timestamp)
      and feedback_ts < cast($as_of_date + 1 as timestamp)
),

mcc_ranges as (
    select unnest($mcc_ranges, recursive := true)
),

customer_attributes as (
    select customer_id, annual_income, occupation
    from customers_delivered
    qualify row_number() over (partition by customer_id order by business_date desc, _line desc) = 1
),

account_owner as (
    select account_id, customer_id
    from accounts_delivered
    qualify row_number() over (partition by account_id order by business_date desc, _line desc) = 1
),

transactions_grouped as (
    select t.*, m.grp as mcc_group
    from transactions_window t
    left join mcc_ranges m on t.mcc between m.lo and m.hi and length(t.mcc) = length(m.lo)
),

-- Per account first, then per owner: one row per account goes through the owner join.
account_behaviour as (
    select
        account_id,
        count(*) filter (where txn_day > $as_of_date - $short_days) as txn_count_short,
        count(*) as txn_count_long,
        sum(amount) filter (where direction = 'credit' and txn_day > $as_of_date - $short_days) as credit_short,
        sum(amount) filter (where direction = 'debit' and txn_day > $as_of_date - $short_days) as debit_short,
        sum(amount) filter (where direction = 'credit') as credit_long,
        sum(amount) filter (where direction = 'debit') as debit_long,
        sum(amount) filter (where txn_type = 'salary' and txn_day > $as_of_date - $salary_days) as salary_amount,
        sum(amount) filter (where txn_type = 'card_purchase' and txn_day > $as_of_date - $short_days) as card_purchase_short,
        sum(amount) filter (where txn_type = 'bill_payment' and txn_day > $as_of_date - $short_days) as bill_payment_short,
        sum(amount) filter (where txn_type = 'transfer_out' and txn_day > $as_of_date - $short_days) as transfer_out_short,
        sum(amount) filter (where txn_type = 'transfer_in' and txn_day > $as_of_date - $short_days) as transfer_in_short,
        sum(amount) filter (where txn_type = 'deposit' and txn_day > $as_of_date - $short_days) as deposit_short,
        sum(amount) filter (where txn_type = 'withdrawal' and txn_day > $as_of_date - $short_days) as withdrawal_short,
        sum(amount) filter (where txn_type in ('fund_purchase', 'fund_redemption')) as fund_activity_long,
        sum(amount) filter (where txn_type = 'loan_repayment' and txn_day > $as_of_date - $short_days) as loan_repayment_short,
        sum(amount) filter (where txn_type = 'loan_disbursement') as loan_disbursement_long,
        count(*) filter (where is_cash and txn_day > $as_of_date - $short_days) as cash_count_short,
        count(*) filter (where is_cross_border) as cross_border_count_long,
        count(*) filter (where channel in ('mobile', 'online') and txn_day > $as_of_date - $short_days) as digital_count_short,
        count(*) filter (where channel in ('branch', 'counter') and txn_day > $as_of_date - $short_days) as branch_count_short,
        sum(amount) filter (where mcc_group = 'travel' and txn_day > $as_of_date - $short_days) as spend_travel_short,
        sum(amount) filter (where mcc_group = 'dining' and txn_day > $as_of_date - $short_days) as spend_dining_short,
        sum(amount) filter (where mcc_group = 'groceries' and txn_day > $as_of_date - $short_days) as spend_groceries_short,
        sum(amount) filter (where mcc_group = 'fuel' and txn_day > $as_of_date - $short_days) as spend_fuel_short
    from transactions_grouped
    group by account_id
),

behaviour as (
    select
        o.customer_id,
        sum(txn_count_short)::bigint as txn_count_short,
        sum(txn_count_long)::bigint as txn_count_long,
        sum(credit_short) as credit_short,
        sum(debit_short) as debit_short,
        sum(credit_long) as credit_long,
        sum(debit_long) as debit_long,
        sum(salary_amount) as salary_amount,
        sum(card_purchase_short) as card_purchase_short,
        sum(bill_payment_short) as bill_payment_short,
        sum(transfer_out_short) as transfer_out_short,
        sum(transfer_in_short) as transfer_in_short,
        sum(deposit_short) as deposit_short,
        sum(withdrawal_short) as withdrawal_short,
        sum(fund_activity_long) as fund_activity_long,
        sum(loan_repayment_short) as loan_repayment_short,
        sum(loan_disbursement_long) as loan_disbursement_long,
        sum(cash_count_short)::bigint as cash_count_short,
        sum(cross_border_count_long)::bigint as cross_border_count_long,
        sum(digital_count_short)::bigint as digital_count_short,
        sum(branch_count_short)::bigint as branch_count_short,
        sum(spend_travel_short) as spend_travel_short,
        sum(spend_dining_short) as spend_dining_short,
        sum(spend_groceries_short) as spend_groceries_short,
        sum(spend_fuel_short) as spend_fuel_short
    from account_behaviour a
    join account_owner o using (account_id)
    group by o.customer_id
),

-- Months with a salary credit, counted per customer (salary may move between accounts).
salary_months as (
    select o.customer_id, count(distinct date_trunc('month', t.txn_day)) as salary_months
    from transactions_window t
    join account_owner o using (account_id)
    where t.txn_type = 'salary' and t.txn_day > $as_of_date - $salary_days
    group by o.customer_id
),

delinquency as (
    select o.customer_id, max(l.days_past_due) as max_dpd
    from loan_performance_window l
    join account_owner o using (account_id)
    group by o.customer_id
),

interactions as (
    select
        customer_id,
        count(*) filter (where interaction_ts >= cast($as_of_date - $short_days + 1 as timestamp)) as contacts_short,
        count(*) as contacts_long,
        arg_max(outcome, interaction_ts) filter (where outcome is not null) as last_contact_outcome,
        count(*) filter (where kind = 'event') as events_long,
        date_diff('day', max(interaction_ts)::date, $as_of_date) as days_since_contact
    from interactions_window
    group by customer_id
),

feedback as (
    select
        customer_id,
        count(*) filter (where kind = 'complaint') as complaints_long,
        arg_max(score, feedback_ts) filter (where kind = 'nps' and score is not null) as last_nps
    from feedback_window
    group by customer_id
),

final as (
    select
        $as_of_date as as_of_date,
        d.customer_id,
        -- profile
        d.customer_type,
        coalesce(d.age_band, 'unknown') as age_band,
        case
            when a.annual_income is null then 'unknown'
            when len(list_filter($income_band_edges, lambda e: a.annual_income >= e)) = 0
                then '<' || $income_band_edges[1]
            else $income_band_edges[len(list_filter($income_band_edges, lambda e: a.annual_income >= e))] || '+'
        end as income_band,
        coalesce(a.occupation, 'unknown') as occupation,
        coalesce(try_cast(substr(d.risk_tolerance, 2) as integer), 0) as risk_tolerance_level,
        d.tenure_days,
        -- segmentation
        coalesce(r.r_score, 0) as r_score,
        coalesce(r.f_score, 0) as f_score,
        coalesce(r.m_score, 0) as m_score,
        coalesce(r.segment, 'unknown') as segment,
        coalesce(l.stage, 'unknown') as stage,
        coalesce(l.tier, 'unknown') as tier,
        -- holdings and balances
        d.accounts_open,
        d.current_account_accounts > 0 as holds_current_account,
        d.savings_accounts > 0 as holds_savings,
        d.time_deposit_accounts > 0 as holds_time_deposit,
        d.credit_card_accounts > 0 as holds_credit_card,
        d.consumer_loan_accounts > 0 as holds_consumer_loan,
        d.mortgage_accounts > 0 as holds_mortgage,
        d.business_loan_accounts > 0 as holds_business_loan,
        d.wealth_management_accounts > 0 as holds_wealth_management,
        d.fund_accounts > 0 as holds_fund,
        d.insurance_accounts > 0 as holds_insurance,
        d.private_banking_accounts > 0 as holds_private_banking,
        d.aum::double as aum,
        case when d.aum_trend_base > 0 then (d.aum - d.aum_trend_base)::double / d.aum_trend_base::double end as aum_change_ratio,
        -- transaction behaviour
        coalesce(b.txn_count_short, 0) as txn_count_short,
        coalesce(b.txn_count_long, 0) as txn_count_long,
        coalesce(b.credit_short, 0)::double as credit_short,
        coalesce(b.debit_short, 0)::double as debit_short,
        coalesce(b.credit_long, 0)::double as credit_long,
        coalesce(b.debit_long, 0)::double as debit_long,
        coalesce(s.salary_months, 0) as salary_months,
        coalesce(b.salary_amount, 0)::double / greatest(coalesce(s.salary_months, 0), 1) as salary_monthly,
        coalesce(b.card_purchase_short, 0)::double as card_purchase_short,
        coalesce(b.bill_payment_short, 0)::double as bill_payment_short,
        coalesce(b.transfer_out_short, 0)::double as transfer_out_short,
        coalesce(b.transfer_in_short, 0)::double as transfer_in_short,
        coalesce(b.deposit_short, 0)::double as deposit_short,
        coalesce(b.withdrawal_short, 0)::double as withdrawal_short,
        coalesce(b.fund_activity_long, 0)::double as fund_activity_long,
        coalesce(b.loan_repayment_short, 0)::double * 30 / $short_days as loan_repayment_monthly,
        coalesce(b.loan_disbursement_long, 0)::double as loan_disbursement_long,
        coalesce(b.cash_count_short, 0) as cash_count_short,
        coalesce(b.cross_border_count_long, 0) as cross_border_count_long,
        coalesce(b.digital_count_short, 0)::double / greatest(coalesce(b.txn_count_short, 0), 1) as digital_share_short,
        coalesce(b.branch_count_short, 0)::double / greatest(coalesce(b.txn_count_short, 0), 1) as branch_share_short,
        coalesce(b.spend_travel_short, 0)::double as spend_travel_short,
        coalesce(b.spend_dining_short, 0)::double as spend_dining_short,
        coalesce(b.spend_groceries_short, 0)::double as spend_groceries_short,
        coalesce(b.spend_fuel_short, 0)::double as spend_fuel_short,
        -- credit behaviour, service
        coalesce(q.max_dpd, 0) as max_dpd,
        coalesce(i.contacts_short, 0) as contacts_short,
        coalesce(i.contacts_long, 0) as contacts_long,
        coalesce(i.last_contact_outcome, 'none') as last_contact_outcome,
        coalesce(i.events_long, 0) as events_long,
        i.days_since_contact,
        coalesce(f.complaints_long, 0) as complaints_long,
        f.last_nps
    from customer_day d
    left join customer_attributes a using (customer_id)
    left join rfm r using (customer_id)
    left join lifecycle l using (customer_id)
    left join behaviour b using (customer_id)
    left join salary_months s using (customer_id)
    left join delinquency q using (customer_id)
    left join interactions i using (customer_id)
    left join feedback f using (customer_id)
)

select * from final
