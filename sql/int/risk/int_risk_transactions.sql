-- One row per transaction delivered on a business date of [$date_from, $date_to] (as_of_date =
-- its delivery date), with its owner and the amounts the large-value and alert rules judge: built
-- once per delivery, so the rules read one narrow table filtered by time instead of joining
-- accounts and rates over the whole history.
-- The owner and customer type are those known on the delivery date (point in time: the latest
-- row delivered on or before it, ASOF-joined, so each delivery sees only what existed then).
-- usd_amount: the USD equivalent of a foreign-currency (non-CNY) amount, null for CNY amounts
-- (PBOC Art. 5 names RMB and foreign-currency thresholds separately), at the newest USD rate
-- dated on or before the transaction's day among the rates delivered by its delivery date.
with

transactions_delivered as (
    select business_date as as_of_date, txn_id, account_id, txn_ts, direction, txn_type,
           coalesce(is_cash, false) as is_cash, coalesce(is_cross_border, false) as is_cross_border,
           coalesce(currency, $reporting_currency) as currency, amount, amount_reporting
    from stg_transactions
    where business_date between $date_from and $date_to
),

-- The last line of each delivery: a later line of the same delivery wins, as in a per-date read.
account_versions as (
    select account_id, business_date, customer_id
    from stg_accounts
    where business_date <= $date_to
    qualify row_number() over (partition by account_id, business_date order by _line desc) = 1
),

customer_versions as (
    select customer_id, business_date, customer_type
    from stg_customers
    where business_date <= $date_to
    qualify row_number() over (partition by customer_id, business_date order by _line desc) = 1
),

usd_rates as (
    select business_date, rate_date, rate_to_reporting as usd_rate
    from stg_fx_rates
    where business_date <= $date_to and currency = 'USD'
),

owned as (
    select t.*, o.customer_id, t.txn_ts::date as txn_day
    from transactions_delivered t
    asof join account_versions o on o.account_id = t.account_id and t.as_of_date >= o.business_date
),

typed as (
    select owned.*, c.customer_type
    from owned
    asof left join customer_versions c on c.customer_id = owned.customer_id and owned.as_of_date >= c.business_date
),

-- Only amounts in a third currency need the rate: one lookup per (delivery, day) they occur on.
rate_keys as (
    select distinct as_of_date, txn_day
    from typed
    where currency <> $reporting_currency and currency <> 'USD'
),

-- As the per-date read: per rate_date the value of its latest delivery (by the key's date), then
-- the newest rate_date on or before the day.
rate_of_key as (
    select k.as_of_date, k.txn_day, arg_max(r.usd_rate, r.business_date) as usd_rate, r.rate_date
    from rate_keys k
    join usd_rates r on r.business_date <= k.as_of_date and r.rate_date <= k.txn_day
    group by k.as_of_date, k.txn_day, r.rate_date
    qualify row_number() over (partition by k.as_of_date, k.txn_day order by r.rate_date desc) = 1
),

priced as (
    select typed.*, r.usd_rate
    from typed
    left join rate_of_key r using (as_of_date, txn_day)
),

final as (
    select
        as_of_date,
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
