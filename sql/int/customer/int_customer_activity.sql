-- One row per business date in [$date_from, $date_to] and customer with a counted
-- (customer-initiated) transaction in the longest activity window up to that date: the last such
-- day in the RFM window, frequency and amount over the RFM window, counts over the two trend
-- windows and the dormancy window. Each window is (D - a, D - b]: RFM (D - rfm, D], recent
-- (D - trend, D], prior (D - 2 trend, D - trend], dormancy (D - dormant, D].
-- Transactions count for the owner of their account on D (its latest delivered row); those of
-- accounts not delivered yet (staging written past ingestion, which quarantines them as
-- orphan_key) make one row with a null customer_id.
-- Point in time: a transaction counts on D only when delivered on or before D, so it is in a
-- window from greatest(its day, its delivery) to its day + window - 1.
--
-- Set-based over the range without a customer x date x transaction join: every window of every account computed directly on
-- $date_from (the anchor), then only the changes inside the range (a group entering or leaving a
-- window) as +/- events, summed cumulatively per account. Each account's values hold from one
-- change to the next, so a night (a range of one) is the anchor alone: one pass over a window of
-- transactions. Reads transactions of [$date_from - longest window + 1, $date_to] only.
with

business_dates as (
    select unnest(generate_series($date_from::date, $date_to::date, interval 1 day))::date as as_of_date
),

-- Grouping by (account, day, day seen) first would not pay: nearly every transaction is its own group.
counted_transactions as materialized (
    select account_id, txn_ts::date as txn_day, greatest(txn_ts::date, business_date) as seen_day,
           1 as n, amount_reporting as amount
    from stg_transactions
    where business_date <= $date_to
      and txn_ts >= cast($date_from::date - greatest($rfm_window_days, 2 * $trend_window_days, $dormant_days) + 1 as timestamp)
      and txn_ts < cast($date_to::date + 1 as timestamp)
      and list_contains($counted_txn_types, txn_type)
),

-- The first and last date each transaction is in each window (empty when first > last).
group_windows as (
    select
        account_id, txn_day, n, amount,
        seen_day as rfm_first, txn_day + $rfm_window_days - 1 as rfm_last,
        seen_day as recent_first, txn_day + $trend_window_days - 1 as recent_last,
        greatest(seen_day, txn_day + $trend_window_days) as prior_first, txn_day + 2 * $trend_window_days - 1 as prior_last,
        seen_day as dormancy_first, txn_day + $dormant_days - 1 as dormancy_last
    from counted_transactions
),

anchor as (
    select
        account_id,
        $date_from::date as day,
        sum(n) filter (where rfm_first <= $date_from and $date_from <= rfm_last) as frequency,
        sum(amount) filter (where rfm_first <= $date_from and $date_from <= rfm_last) as monetary_amount,
        sum(n) filter (where recent_first <= $date_from and $date_from <= recent_last) as txn_count_recent,
        sum(n) filter (where prior_first <= $date_from and $date_from <= prior_last) as txn_count_prior,
        sum(n) filter (where dormancy_first <= $date_from and $date_from <= dormancy_last) as txn_count_dormancy,
        max(txn_day) filter (where rfm_first <= $date_from and $date_from <= rfm_last) as latest_day
    from group_windows
    group by account_id
),

-- A group enters a window on its first date and leaves the day after its last (a window whose
-- first date is after its last, a delivery later than the window, never counts). Only entries
-- and exits after $date_from and up to $date_to change a value in the range.
window_events as (
    select account_id, rfm_first as day, n as f, amount as m, 0 as r, 0 as p, 0 as d, txn_day as latest
    from group_windows where rfm_first <= rfm_last and rfm_first > $date_from and rfm_first <= $date_to
    union all
    select account_id, rfm_last + 1, -n, -amount, 0, 0, 0, null
    from group_windows where rfm_first <= rfm_last and rfm_last >= $date_from and rfm_last < $date_to
    union all
    select account_id, recent_first, 0, 0, n, 0, 0, null
    from group_windows where recent_first <= recent_last and recent_first > $date_from and recent_first <= $date_to
    union all
    select account_id, recent_last + 1, 0, 0, -n, 0, 0, null
    from group_windows where recent_first <= recent_last and recent_last >= $date_from and recent_last < $date_to
    union all
    select account_id, prior_first, 0, 0, 0, n, 0, null
    from group_windows where prior_first <= prior_last and prior_first > $date_from and prior_first <= $date_to
    union all
    select account_id, prior_last + 1, 0, 0, 0, -n, 0, null
    from group_windows where prior_first <= prior_last and prior_last >= $date_from and prior_last < $date_to
    union all
    select account_id, dormancy_first, 0, 0, 0, 0, n, null
    from group_windows where dormancy_first <= dormancy_last and dormancy_first > $date_from and dormancy_first <= $date_to
    union all
    select account_id, dormancy_last + 1, 0, 0, 0, 0, -n, null
    from group_windows where dormancy_first <= dormancy_last and dormancy_last >= $date_from and dormancy_last < $date_to
),

changes as (
    select account_id, day, frequency, monetary_amount, txn_count_recent, txn_count_prior, txn_count_dormancy,
           latest_day
    from anchor
    union all
    select account_id, day, sum(f), sum(m), sum(r), sum(p), sum(d), max(latest)
    from window_events
    group by account_id, day
),

-- Each account's windows from one change to the day before the next. The latest day is a
-- running max: it leaves the RFM window only together with every earlier day.
account_spans as (
    select
        account_id,
        day as valid_from,
        coalesce(lead(day) over (partition by account_id order by day) - 1, $date_to::date) as valid_to,
        sum(coalesce(frequency, 0)) over running as frequency,
        sum(coalesce(monetary_amount, 0)) over running as monetary_amount,
        sum(coalesce(txn_count_recent, 0)) over running as txn_count_recent,
        sum(coalesce(txn_count_prior, 0)) over running as txn_count_prior,
        sum(coalesce(txn_count_dormancy, 0)) over running as txn_count_dormancy,
        max(latest_day) over running as latest_day
    from changes
    window running as (partition by account_id order by day rows between unbounded preceding and current row)
),

active_spans as (
    select * from account_spans
    where frequency > 0 or txn_count_recent > 0 or txn_count_prior > 0 or txn_count_dormancy > 0
),

-- An account's owner from each delivery to the day before the next (the delivery's last line),
-- and nobody before its first delivery.
owner_deliveries as (
    select account_id, business_date as valid_from, arg_max(customer_id, _line) as customer_id
    from stg_accounts
    where business_date <= $date_to
    group by account_id, business_date
),

owner_spans as (
    select account_id, customer_id, valid_from,
           coalesce(lead(valid_from) over (partition by account_id order by valid_from) - 1, $date_to::date) as valid_to
    from owner_deliveries
    union all
    select account_id, null, date '0001-01-01', min(valid_from) - 1
    from owner_deliveries
    group by account_id
),

-- The account's windows on each date of the range, with its owner on that date.
account_dates as (
    select
        d.as_of_date,
        o.customer_id,
        s.frequency, s.monetary_amount, s.txn_count_recent, s.txn_count_prior, s.txn_count_dormancy,
        case when s.frequency > 0 then s.latest_day end as last_txn_day
    from active_spans s
    join business_dates d on d.as_of_date between s.valid_from and s.valid_to
    left join owner_spans o on o.account_id = s.account_id and d.as_of_date between o.valid_from and o.valid_to
),

customer_dates as (
    select
        as_of_date,
        customer_id,
        max(last_txn_day) as last_txn_day,
        sum(frequency) as frequency,
        sum(monetary_amount) as monetary_amount,
        sum(txn_count_recent) as txn_count_recent,
        sum(txn_count_prior) as txn_count_prior,
        sum(txn_count_dormancy) as txn_count_dormancy
    from account_dates
    group by as_of_date, customer_id
),

final as (
    select
        as_of_date,
        customer_id,
        last_txn_day,
        date_diff('day', last_txn_day, as_of_date) as recency_days,
        frequency::bigint as frequency,
        coalesce(monetary_amount, 0)::decimal(18, 2) as monetary_amount,
        txn_count_recent::bigint as txn_count_recent,
        txn_count_prior::bigint as txn_count_prior,
        txn_count_dormancy::bigint as txn_count_dormancy
    from customer_dates
)

select * from final
