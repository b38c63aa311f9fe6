-- Fingerprints of what int_customer_activity reads from staging, as delivered on or before
-- $previous_date and on or before $as_of_date: each business date's transactions by row count,
-- amount total and load run (a load replaces a whole date under a new run id), and every
-- account row by its owner. pipelines/customer/activity.py carries a day's activity forward only while
-- the staging it was built from still has the fingerprint it recorded.
with

transaction_deliveries as (
    select business_date, count(*) as n, coalesce(sum(amount_reporting), 0) as amount, max(_run_id) as run_id
    from stg_transactions
    where business_date <= $as_of_date
    group by business_date
),

account_rows as (
    select business_date, hash(business_date, account_id, customer_id, _line) as h
    from stg_accounts
    where business_date <= $as_of_date
),

hashed as (
    select business_date, hash(business_date, n, amount, run_id) as h from transaction_deliveries
    union all
    select business_date, h from account_rows
),

-- A sum, not an xor: two identical rows must not cancel out.
final as (
    select
        coalesce(sum(h) filter (where business_date <= $previous_date), 0)::varchar as previous_fingerprint,
        coalesce(sum(h), 0)::varchar as fingerprint
    from hashed
)

select * from final
