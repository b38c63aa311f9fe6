-- One row per customer with a counted (customer-initiated) transaction in the longest activity
-- window up to $as_of_date: the last such day in the RFM window, frequency and amount over the
-- RFM window, counts over the two trend windows and the dormancy window.
-- Transactions are the heaviest input, so they are aggregated once here, for RFM and lifecycle.
-- Point in time: only rows delivered on or before $as_of_date are read.
with

accounts_delivered as (
    select account_id, customer_id, business_date, _line
    from stg_accounts
    where business_date <= $as_of_date
),

-- The timestamp bounds are constants so DuckDB can skip row groups outside the longest window.
counted_transactions as (
    select account_id, txn_ts::date as txn_day, amount_reporting
    from stg_transactions
    where business_date <= $as_of_date
      and txn_ts >= cast($as_of_date - greatest($rfm_window_days, 2 * $trend_window_days, $dormant_days) + 1 as timestamp)
      and txn_ts < cast($as_of_date + 1 as timestamp)
      and list_contains($counted_txn_types, txn_type)
),

-- An account's owner on the date is the one of its latest delivered row.
account_owner as (
    select account_id, customer_id
    from accounts_delivered
    qualify row_number() over (partition by account_id order by business_date desc, _line desc) = 1
),

-- Aggregated per account first, then per owner: the millions of transactions are hashed
-- once, and only one row per account goes through the join to its owner.
account_activity as (
    select
        account_id,
        max(txn_day) filter (where txn_day > $as_of_date - $rfm_window_days) as last_txn_day,
        count(*) filter (where txn_day > $as_of_date - $rfm_window_days) as frequency,
        sum(amount_reporting) filter (where txn_day > $as_of_date - $rfm_window_days) as monetary_amount,
        count(*) filter (where txn_day > $as_of_date - $trend_window_days) as txn_count_recent,
        count(*) filter (where txn_day > $as_of_date - 2 * $trend_window_days
                           and txn_day <= $as_of_date - $trend_window_days) as txn_count_prior,
        count(*) filter (where txn_day > $as_of_date - $dormant_days) as txn_count_dormancy
    from counted_transactions
    group by account_id
),

activity as (
    select
        o.customer_id,
        max(a.last_txn_day) as last_txn_day,
        sum(a.frequency)::bigint as frequency,
        sum(a.monetary_amount) as monetary_amount,
        sum(a.txn_count_recent)::bigint as txn_count_recent,
        sum(a.txn_count_prior)::bigint as txn_count_prior,
        sum(a.txn_count_dormancy)::bigint as txn_count_dormancy
    from account_activity a
    join account_owner o using (account_id)
    group by o.customer_id
),

final as (
    select
        $as_of_date as as_of_date,
        customer_id,
        last_txn_day,
        date_diff('day', last_txn_day, $as_of_date) as recency_days,
        frequency,
        coalesce(monetary_amount, 0)::decimal(18, 2) as monetary_amount,
        txn_count_recent,
        txn_count_prior,
        txn_count_dormancy
    from activity
)

select * from final
