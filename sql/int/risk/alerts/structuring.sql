-- Structuring (拆分交易): cash transactions of a customer, one direction, each within
-- [$near_ratio, 1) of the large-value cash threshold (CNY amounts against the RMB threshold,
-- foreign ones in USD against the USD threshold), at least $min_count of them within
-- $window_days days and together over the threshold.
-- Episode: consecutive near-threshold transactions less than $window_days apart; its first
-- transaction anchors the alert id, so the episode keeps its id while it grows.
-- Open while its last transaction is within $open_days of the business date.
-- Every business date of [$date_from, $date_to] is judged as a night would: on the transactions
-- delivered by then, of the last $episode_horizon_days days (episodes start where that window
-- does, so each date has its own partition). Only (customer, date) pairs with a near transaction
-- in the open window can have a finding open: only those are judged.
with

business_dates as (
    select unnest(generate_series($date_from::date, $date_to::date, interval 1 day))::date as as_of_date
),

cash as (
    select
        as_of_date as delivered_on, customer_id, account_id, txn_id, txn_ts, txn_day, direction, amount_reporting,
        case when currency = $reporting_currency then amount / $cash_threshold_cny
             else usd_amount / $cash_threshold_usd end as threshold_share
    from int_risk_transactions
    where as_of_date <= $date_to
      and is_cash
      and txn_ts >= cast($date_from - $episode_horizon_days as timestamp)
      and txn_ts < cast($date_to + 1 as timestamp)
),

near as (
    select * from cash where threshold_share >= $near_ratio and threshold_share < 1
),

judged as (
    select distinct d.as_of_date, n.customer_id
    from near n
    join business_dates d
        on n.delivered_on <= d.as_of_date
       and n.txn_ts >= cast(d.as_of_date - $open_days + 1 as timestamp)
       and n.txn_ts < cast(d.as_of_date + 1 as timestamp)
),

in_window as (
    select j.as_of_date, n.*
    from judged j
    join near n
        on n.customer_id = j.customer_id
       and n.delivered_on <= j.as_of_date
       and n.txn_ts >= cast(j.as_of_date - $episode_horizon_days as timestamp)
       and n.txn_ts < cast(j.as_of_date + 1 as timestamp)
),

marked as (
    select
        *,
        case when txn_ts - lag(txn_ts) over by_time < to_days(cast($window_days as integer)) then 0 else 1 end
            as starts_episode
    from in_window
    window by_time as (partition by as_of_date, customer_id, direction order by txn_ts, txn_id)
),

episodes as (
    select
        *,
        sum(starts_episode) over (partition by as_of_date, customer_id, direction order by txn_ts, txn_id
                                  rows unbounded preceding) as episode
    from marked
),

windowed as (
    select
        *,
        count(*) over in_window as window_count,
        sum(threshold_share) over in_window as window_share
    from episodes
    window in_window as (partition by as_of_date, customer_id, direction, episode order by txn_ts
                         range between to_days(cast($window_days as integer)) preceding and current row)
),

findings as (
    select
        as_of_date,
        customer_id,
        direction,
        arg_min(txn_id, (txn_ts, txn_id)) as anchor_txn_id,
        list(distinct account_id order by account_id) as account_ids,
        min(txn_ts) as window_start,
        max(txn_ts) as window_end,
        sum(amount_reporting) as amount,
        count(*) as txn_count,
        list(txn_id order by txn_ts, txn_id) as txn_ids,
        max(window_count) as max_window_count
    from windowed
    group by as_of_date, customer_id, direction, episode
    having max(window_count) >= $min_count and max(window_share) >= 1
),

final as (
    select
        as_of_date,
        $rule_id as rule_id,
        $rule_name as rule_name,
        $severity as severity,
        customer_id,
        anchor_txn_id,
        account_ids,
        window_start,
        window_end,
        amount::decimal(18, 2) as amount,
        txn_count,
        txn_ids,
        format('{} cash {}s each {}-100% of the large-value threshold, up to {} within {} days; total CNY {}',
               txn_count, case direction when 'credit' then 'deposit' else 'withdrawal' end,
               round($near_ratio * 100)::integer, max_window_count, $window_days, amount::decimal(18, 2)::varchar)
            as explanation
    from findings
    where window_end >= cast(as_of_date - $open_days + 1 as timestamp)
)

select * from final
