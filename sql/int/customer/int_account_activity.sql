-- One row per account for $as_of_date, in one of two meanings (pipelines/customer/activity.py picks one):
--   $incremental = false: the account's windows on the date, from the transactions of the
--     longest window: the last counted day in the RFM window, frequency and amount over the RFM
--     window, counts over the two trend windows and the dormancy window.
--   $incremental = true: how those windows changed since the day before: +1 / -1 per transaction
--     that entered or left a window, and the latest day among those that entered the RFM window.
-- Per account, not per owner: an account that changes owner keeps its windows, so the account
-- state (int_account_activity_state) stays valid across owner changes.
-- Each window is (D - a, D - b]: RFM (D - rfm, D], recent (D - trend, D], prior
-- (D - 2 trend, D - trend], dormancy (D - dormant, D]. From one day to the next a transaction
-- enters a window when delivered today inside it, or delivered earlier on day D - b; it leaves
-- when delivered earlier on day D - a. Timestamp bounds are constants, so DuckDB skips the row
-- groups of other days. Point in time: only rows delivered on or before $as_of_date are read.
with

window_transactions as (
    select account_id, txn_ts::date as txn_day, amount_reporting
    from stg_transactions
    where not $incremental and business_date <= $as_of_date
      and txn_ts >= cast($as_of_date - greatest($rfm_window_days, 2 * $trend_window_days, $dormant_days) + 1 as timestamp)
      and txn_ts < cast($as_of_date + 1 as timestamp)
      and list_contains($counted_txn_types, txn_type)
),

-- Delivered today, or delivered earlier on a window edge day: the only transactions whose
-- windows change from yesterday to today.
edge_transactions as (
    select account_id, txn_ts::date as txn_day, business_date, amount_reporting
    from stg_transactions
    where $incremental and business_date = $as_of_date
      and txn_ts >= cast($as_of_date - greatest($rfm_window_days, 2 * $trend_window_days, $dormant_days) + 1 as timestamp)
      and txn_ts < cast($as_of_date + 1 as timestamp)
      and list_contains($counted_txn_types, txn_type)
    union all
    select account_id, txn_ts::date as txn_day, business_date, amount_reporting
    from stg_transactions
    where $incremental and business_date < $as_of_date
      and ((txn_ts >= cast($as_of_date as timestamp) and txn_ts < cast($as_of_date + 1 as timestamp))
        or (txn_ts >= cast($as_of_date - $rfm_window_days as timestamp)
            and txn_ts < cast($as_of_date - $rfm_window_days + 1 as timestamp))
        or (txn_ts >= cast($as_of_date - $trend_window_days as timestamp)
            and txn_ts < cast($as_of_date - $trend_window_days + 1 as timestamp))
        or (txn_ts >= cast($as_of_date - 2 * $trend_window_days as timestamp)
            and txn_ts < cast($as_of_date - 2 * $trend_window_days + 1 as timestamp))
        or (txn_ts >= cast($as_of_date - $dormant_days as timestamp)
            and txn_ts < cast($as_of_date - $dormant_days + 1 as timestamp)))
      and list_contains($counted_txn_types, txn_type)
),

account_windows as (
    select
        account_id,
        max(txn_day) filter (where txn_day > $as_of_date - $rfm_window_days) as last_txn_day,
        count(*) filter (where txn_day > $as_of_date - $rfm_window_days) as frequency,
        coalesce(sum(amount_reporting) filter (where txn_day > $as_of_date - $rfm_window_days), 0) as monetary_amount,
        count(*) filter (where txn_day > $as_of_date - $trend_window_days) as txn_count_recent,
        count(*) filter (where txn_day > $as_of_date - 2 * $trend_window_days
                           and txn_day <= $as_of_date - $trend_window_days) as txn_count_prior,
        count(*) filter (where txn_day > $as_of_date - $dormant_days) as txn_count_dormancy
    from window_transactions
    group by account_id
),

-- +1 when the transaction entered the window today, -1 when it left, else 0.
edge_signs as (
    select
        account_id,
        txn_day,
        amount_reporting,
        case when txn_day > $as_of_date - $rfm_window_days
                  and (business_date = $as_of_date or txn_day = $as_of_date) then 1
             when txn_day = $as_of_date - $rfm_window_days and business_date < $as_of_date then -1
             else 0 end as rfm_sign,
        case when txn_day > $as_of_date - $trend_window_days
                  and (business_date = $as_of_date or txn_day = $as_of_date) then 1
             when txn_day = $as_of_date - $trend_window_days and business_date < $as_of_date then -1
             else 0 end as recent_sign,
        case when txn_day > $as_of_date - 2 * $trend_window_days and txn_day <= $as_of_date - $trend_window_days
                  and (business_date = $as_of_date or txn_day = $as_of_date - $trend_window_days) then 1
             when txn_day = $as_of_date - 2 * $trend_window_days and business_date < $as_of_date then -1
             else 0 end as prior_sign,
        case when txn_day > $as_of_date - $dormant_days
                  and (business_date = $as_of_date or txn_day = $as_of_date) then 1
             when txn_day = $as_of_date - $dormant_days and business_date < $as_of_date then -1
             else 0 end as dormancy_sign
    from edge_transactions
),

account_changes as (
    select
        account_id,
        max(txn_day) filter (where rfm_sign = 1) as last_txn_day,
        sum(rfm_sign) as frequency,
        sum(amount_reporting * rfm_sign) as monetary_amount,
        sum(recent_sign) as txn_count_recent,
        sum(prior_sign) as txn_count_prior,
        sum(dormancy_sign) as txn_count_dormancy
    from edge_signs
    group by account_id
),

rows_of_the_mode as (
    select * from account_windows
    union all
    select * from account_changes
),

final as (
    select
        account_id,
        last_txn_day,
        frequency::bigint as frequency,
        monetary_amount::decimal(18, 2) as monetary_amount,
        txn_count_recent::bigint as txn_count_recent,
        txn_count_prior::bigint as txn_count_prior,
        txn_count_dormancy::bigint as txn_count_dormancy
    from rows_of_the_mode
)

select * from final
