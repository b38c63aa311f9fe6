-- Frequent cash withdrawals: a customer's cash withdrawals (all accounts) when at least
-- $min_count_24h fall within 24 hours, or a calendar day has at least $baseline_min_count and
-- more than $baseline_multiple times the customer's own average daily count over the previous
-- $baseline_days days (judged only where that much history is loaded). Withdrawals of such
-- bursts less than 24 hours apart form one episode, anchored on its first withdrawal.
with

withdrawals as (
    select customer_id, account_id, txn_id, txn_ts, txn_day, amount_reporting
    from int_risk_transactions
    where as_of_date <= $as_of_date
      and is_cash and direction = 'debit'
      and txn_ts >= cast($as_of_date - $episode_horizon_days - $baseline_days as timestamp)
      and txn_ts < cast($as_of_date + 1 as timestamp)
),

rolling as (
    select
        *,
        count(*) over (partition by customer_id order by txn_ts
                       range between interval 24 hours preceding and current row) as count_24h
    from withdrawals
),

daily as (
    select customer_id, txn_day, count(*) as day_count
    from withdrawals
    group by customer_id, txn_day
),

baseline as (
    select
        *,
        coalesce(sum(day_count) over (partition by customer_id order by txn_day
                                      range between to_days(cast($baseline_days as integer)) preceding
                                                and interval 1 day preceding), 0) / $baseline_days as baseline_per_day
    from daily
),

burst_days as (
    select customer_id, txn_day
    from baseline
    where day_count >= $baseline_min_count and day_count > $baseline_multiple * baseline_per_day
      and txn_day - $baseline_days >= (select min(txn_day) from int_risk_transactions)
),

-- A withdrawal is evidence when it starts, or lies within, a 24-hour run of $min_count_24h.
marked_24h as (
    select
        r.*,
        max(case when count_24h >= $min_count_24h then txn_ts end) over (
            partition by customer_id order by txn_ts
            range between current row and interval 24 hours following) as burst_end,
        b.txn_day is not null as on_burst_day
    from rolling r
    left join burst_days b using (customer_id, txn_day)
),

evidence as (
    select * from marked_24h where burst_end is not null or on_burst_day
),

marked as (
    select
        *,
        case when txn_ts - lag(txn_ts) over by_time < interval 24 hours then 0 else 1 end as starts_episode
    from evidence
    window by_time as (partition by customer_id order by txn_ts, txn_id)
),

episodes as (
    select
        *,
        sum(starts_episode) over (partition by customer_id order by txn_ts, txn_id rows unbounded preceding) as episode
    from marked
),

findings as (
    select
        customer_id,
        arg_min(txn_id, (txn_ts, txn_id)) as anchor_txn_id,
        list(distinct account_id order by account_id) as account_ids,
        min(txn_ts) as window_start,
        max(txn_ts) as window_end,
        sum(amount_reporting) as amount,
        count(*) as txn_count,
        list(txn_id order by txn_ts, txn_id) as txn_ids,
        max(count_24h) as max_24h,
        bool_or(on_burst_day) as above_baseline
    from episodes
    group by customer_id, episode
),

final as (
    select
        $as_of_date as as_of_date,
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
        format('{} cash withdrawals (up to {} within 24 hours{}), total CNY {}', txn_count, max_24h,
               case when above_baseline then format(', a day above {}x the {}-day baseline', $baseline_multiple, $baseline_days)
                    else '' end,
               amount::decimal(18, 2)::varchar) as explanation
    from findings
    where window_end >= cast($as_of_date - $open_days + 1 as timestamp)
)

select * from final
