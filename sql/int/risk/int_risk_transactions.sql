-- One row per transaction delivered on business date $as_of_date, with its owner and the
-- amounts the large-value and alert rules judge: built once per delivery, so the rules read one
-- narrow table filtered by time instead of joining accounts and rates over the whole history.
-- The owner and customer type are those known on the delivery date (point in time).
-- usd_amount: the USD equivalent of a foreign-currency (non-CNY) amount, null for CNY amounts
-- (PBOC Art. 5 names RMB and foreign-currency thresholds separately).
with

transactions_delivered as (
    select txn_id, account_id, txn_ts, direction, txn_type, coalesce(is_cash, false) as is_cash,
           coalesce(is_cross_border, false) as is_cross_border, coalesce(currency, $reporting_currency) as currency,
           amount, amount_reporting
    from stg_transactions
    where business_date = $as_of_date
),

account_owner as (
    select account_id, customer_id
    from stg_accounts
    where business_date <= $as_of_date
    qualify row_number() over (partition by account_id order by business_date desc, _line desc) = 1
),

customer_state as (
    select customer_id, customer_type
    from stg_customers
    where business_date <= $as_of_date
    qualify row_number() over (partition by customer_id order by business_date desc, _line desc) = 1
),

usd_rates as (
    select rate_date, arg_max(rate_to_reporting, business_date) as usd_rate
    from stg_fx_rates
    where business_date <= $as_of_date and currency = 'USD'
    group by rate_date
),

owned as (
    select t.*, o.customer_id, c.customer_type, t.txn_ts::date as txn_day
    from transactions_delivered t
    join account_owner o using (account_id)
    left join customer_state c using (customer_id)
),

priced as (
    select owned.*, r.usd_rate
    from owned
    asof left join usd_rates r on owned.txn_day >= r.rate_date
),

final as (
    select
        $as_of_date as as_of_date,
        txn_id,
        account_id,
        customer_id,
        coalesce(customer_type, 'individual') as customer_type,
        txn_ts,
        txn_day,
        direction,
        txn_type,
        is_cash,
        is_cross_border,
        currency,
        amount,
        amount_reporting,
        case
            when currency = $reporting_currency then null
            when currency = 'USD' then amount
            else round(amount_reporting / usd_rate, 2)
        end::decimal(18, 2) as usd_amount
    from priced
)

select * from final
