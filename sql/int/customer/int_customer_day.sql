-- One row per customer known on $as_of_date: profile (no direct identifiers), tenure, age band,
-- open accounts by product family, AUM in the reporting currency today and one trend window
-- ago, and counted-transaction activity over the RFM, trend and dormancy windows (from
-- int_customer_activity, built first for the same date).
-- Point in time: only rows delivered on or before $as_of_date are read, so a backfill of a
-- past date gives what the nightly run gave.
with

customers_delivered as (
    select business_date, _line, customer_id, customer_type, status, gender, city, branch_id, rm_id,
           risk_tolerance, marketing_consent, onboard_date, birth_date
    from stg_customers
    where business_date <= $as_of_date
),

accounts_delivered as (
    select business_date, _line, account_id, customer_id, product_code, open_date, close_date, status, currency
    from stg_accounts
    where business_date <= $as_of_date
),

products_delivered as (
    select business_date, _line, product_code, product_family
    from stg_products
    where business_date <= $as_of_date
),

-- delivery_order ranks rows by balance date, then delivery (business date, line): one hugeint,
-- which arg_max compares several times faster than a struct.
balances_delivered as (
    select
        account_id, balance_date, balance, amount_reporting,
        (date_diff('day', date '1900-01-01', balance_date)::hugeint << 64)
            + (date_diff('day', date '1900-01-01', business_date)::hugeint << 32) + _line as delivery_order
    from stg_balances
    where business_date <= $as_of_date and balance_date <= $as_of_date
),

fx_delivered as (
    select currency, rate_date, rate_to_reporting, business_date
    from stg_fx_rates
    where business_date <= $as_of_date and rate_date <= $as_of_date
),

activity as (
    select customer_id, last_txn_day, recency_days, frequency, monetary_amount, txn_count_recent,
           txn_count_prior, txn_count_dormancy
    from int_customer_activity
    where as_of_date = $as_of_date
),

customer_state as (
    select *
    from customers_delivered
    qualify row_number() over (partition by customer_id order by business_date desc, _line desc) = 1
),

account_state as (
    select *
    from accounts_delivered
    qualify row_number() over (partition by account_id order by business_date desc, _line desc) = 1
),

product_state as (
    select product_code, product_family
    from products_delivered
    qualify row_number() over (partition by product_code order by business_date desc, _line desc) = 1
),

accounts as (
    select
        a.account_id,
        a.customer_id,
        coalesce(a.currency, $reporting_currency) as currency,
        p.product_family,
        a.open_date <= $as_of_date
            and coalesce(a.status, 'active') <> 'closed'
            and (a.close_date is null or a.close_date > $as_of_date) as is_open,
        -- A closed status without a close date cannot be placed in time: it counts as open then.
        a.open_date <= $as_of_date - $trend_window_days
            and (a.close_date is null or a.close_date > $as_of_date - $trend_window_days) as was_open_at_trend_base,
        coalesce(list_contains($aum_families, p.product_family), false) as counts_for_aum
    from account_state a
    left join product_state p using (product_code)
),

-- Balances carry forward: an account's balance on a date is its latest balance_date on or before it
-- (a re-delivered balance of the same day: the latest delivery wins).
latest_balances as (
    select
        b.account_id,
        arg_max(b.balance, b.delivery_order) as balance_now,
        arg_max(b.amount_reporting, b.delivery_order) as reporting_now,
        arg_max(b.balance, b.delivery_order)
            filter (where b.balance_date <= $as_of_date - $trend_window_days) as balance_base,
        arg_max(b.amount_reporting, b.delivery_order)
            filter (where b.balance_date <= $as_of_date - $trend_window_days) as reporting_base
    from balances_delivered b
    group by b.account_id
),

-- A carried-forward foreign balance is revalued at the newest rate on or before each date; the
-- rate of its own balance date (ingestion guaranteed one) is the fallback, never 1.0.
fx_now as (
    select currency, arg_max(rate_to_reporting, {'d': rate_date, 'b': business_date}) as rate
    from fx_delivered
    group by currency
),

fx_base as (
    select f.currency, arg_max(f.rate_to_reporting, {'d': f.rate_date, 'b': f.business_date}) as rate
    from fx_delivered f
    where f.rate_date <= $as_of_date - $trend_window_days
    group by f.currency
),

account_balances as (
    select
        a.*,
        -- decimal(18,2) again after conversion: sums stay on 64-bit decimals.
        case when a.currency = $reporting_currency then lb.balance_now
             else coalesce(round(lb.balance_now * fn.rate, 2), lb.reporting_now) end::decimal(18, 2) as balance_now_cny,
        case when a.currency = $reporting_currency then lb.balance_base
             else coalesce(round(lb.balance_base * fb.rate, 2), lb.reporting_base) end::decimal(18, 2) as balance_base_cny
    from accounts a
    left join latest_balances lb using (account_id)
    left join fx_now fn on fn.currency = a.currency
    left join fx_base fb on fb.currency = a.currency
),

holdings as (
    select
        customer_id,
        count(*) as accounts_known,
        count(*) filter (where is_open) as accounts_open,
        count(*) filter (where is_open and product_family = 'current_account') as current_account_accounts,
        count(*) filter (where is_open and product_family = 'savings') as savings_accounts,
        count(*) filter (where is_open and product_family = 'time_deposit') as time_deposit_accounts,
        count(*) filter (where is_open and product_family = 'credit_card') as credit_card_accounts,
        count(*) filter (where is_open and product_family = 'consumer_loan') as consumer_loan_accounts,
        count(*) filter (where is_open and product_family = 'mortgage') as mortgage_accounts,
        count(*) filter (where is_open and product_family = 'business_loan') as business_loan_accounts,
        count(*) filter (where is_open and product_family = 'wealth_management') as wealth_management_accounts,
        count(*) filter (where is_open and product_family = 'fund') as fund_accounts,
        count(*) filter (where is_open and product_family = 'insurance') as insurance_accounts,
        count(*) filter (where is_open and product_family = 'private_banking') as private_banking_accounts,
        coalesce(sum(balance_now_cny) filter (where is_open and counts_for_aum), 0) as aum,
        coalesce(sum(balance_base_cny) filter (where was_open_at_trend_base and counts_for_aum), 0) as aum_trend_base
    from account_balances
    group by customer_id
),

customer_ages as (
    select
        *,
        year($as_of_date) - year(birth_date)
            - case when strftime($as_of_date, '%m%d') < strftime(birth_date, '%m%d') then 1 else 0 end as age
    from customer_state
),

customer_bands as (
    select
        *,
        case when age is not null then len(list_filter($age_band_edges, lambda e: age >= e)) end as band_index
    from customer_ages
),

final as (
    select
        $as_of_date as as_of_date,
        c.customer_id,
        c.customer_type,
        coalesce(c.status, 'active') as status,
        c.gender,
        c.city,
        c.branch_id,
        c.rm_id,
        c.risk_tolerance,
        coalesce(c.marketing_consent, false) as marketing_consent,
        c.onboard_date,
        date_diff('day', c.onboard_date, $as_of_date) as tenure_days,
        case
            when c.band_index is null then null
            when c.band_index = 0 then '<' || $age_band_edges[1]
            when c.band_index = len($age_band_edges) then $age_band_edges[c.band_index] || '+'
            else $age_band_edges[c.band_index] || '-' || ($age_band_edges[c.band_index + 1] - 1)
        end as age_band,
        coalesce(h.accounts_known, 0) as accounts_known,
        coalesce(h.accounts_open, 0) as accounts_open,
        coalesce(h.accounts_known, 0) > 0 and coalesce(h.accounts_open, 0) = 0 as all_accounts_closed,
        coalesce(h.current_account_accounts, 0) as current_account_accounts,
        coalesce(h.savings_accounts, 0) as savings_accounts,
        coalesce(h.time_deposit_accounts, 0) as time_deposit_accounts,
        coalesce(h.credit_card_accounts, 0) as credit_card_accounts,
        coalesce(h.consumer_loan_accounts, 0) as consumer_loan_accounts,
        coalesce(h.mortgage_accounts, 0) as mortgage_accounts,
        coalesce(h.business_loan_accounts, 0) as business_loan_accounts,
        coalesce(h.wealth_management_accounts, 0) as wealth_management_accounts,
        coalesce(h.fund_accounts, 0) as fund_accounts,
        coalesce(h.insurance_accounts, 0) as insurance_accounts,
        coalesce(h.private_banking_accounts, 0) as private_banking_accounts,
        -- Derived from the counts: a list aggregate per customer is several times slower.
        list_sort(list_filter([
            case when h.current_account_accounts > 0 then 'current_account' end,
            case when h.savings_accounts > 0 then 'savings' end,
            case when h.time_deposit_accounts > 0 then 'time_deposit' end,
            case when h.credit_card_accounts > 0 then 'credit_card' end,
            case when h.consumer_loan_accounts > 0 then 'consumer_loan' end,
            case when h.mortgage_accounts > 0 then 'mortgage' end,
            case when h.business_loan_accounts > 0 then 'business_loan' end,
            case when h.wealth_management_accounts > 0 then 'wealth_management' end,
            case when h.fund_accounts > 0 then 'fund' end,
            case when h.insurance_accounts > 0 then 'insurance' end,
            case when h.private_banking_accounts > 0 then 'private_banking' end
        ], lambda f: f is not null))::varchar[] as held_families,
        coalesce(h.aum, 0)::decimal(18, 2) as aum,
        coalesce(h.aum_trend_base, 0)::decimal(18, 2) as aum_trend_base,
        act.last_txn_day,
        act.recency_days,
        coalesce(act.frequency, 0) as frequency,
        coalesce(act.monetary_amount, 0)::decimal(18, 2) as monetary_amount,
        coalesce(act.txn_count_recent, 0) as txn_count_recent,
        coalesce(act.txn_count_prior, 0) as txn_count_prior,
        coalesce(act.txn_count_dormancy, 0) as txn_count_dormancy
    from customer_bands c
    left join holdings h using (customer_id)
    left join activity act using (customer_id)
)

select * from final
