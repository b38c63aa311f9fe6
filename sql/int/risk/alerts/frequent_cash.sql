-- Frequent cash withdrawals: a customer's cash withdrawals (all accounts) when at least
-- $min_count_24h fall within 24 hours, or a calendar day has at least $baseline_min_count and
-- more than $baseline_multiple times the customer's own average daily count over the previous
-- $baseline_days days (judged only where that much history is loaded). Withdrawals of such
-- bursts less than 24 hours apart form one episode, anchored on its first withdrawal.
-- Every business date of [$date_from, $date_to] is judged as a night would: on the withdrawals
-- delivered by then of its own window (episodes start where the window does), so each judged
-- (date, customer) is its own partition. A finding open on a date has a withdrawal of its last
-- $open_days days in a 24-hour run of $min_count_24h or on a day of $baseline_min_count: only
-- customers with that many withdrawals in the open days and the day before are judged.
with

business_dates as (
    select unnest(generate_series($date_from::date, $date_to::date, interval 1 day))::date as as_of_date
),

withdrawals as (
    select as_of_date as delivered_on, customer_id, account_id, txn_id, txn_ts, txn_day, amount_reporting
    from int_risk_transactions
    where as_of_date <= $date_to
      and is_cash and direction = 'debit'
      and txn_ts >= cast($date_from - $episode_horizon_days - $baseline_days as timestamp)
      and txn_ts < cast($date_to + 1 as timestamp)
),

-- The first day each date's loaded history starts on (what the night saw in the table).
history_start as (
    select d.as_of_date, min(f.first_day) as first_day
    from business_dates d
    join (select as_of_date, min(txn_day) as first_day from int_risk_transactions group by as_of_date) f
        on f.as_of_date <= d.as_of_date
    group by d.as_of_date
),

judged as (
    select d.as_of_date, w.customer_id
    from withdrawals w
    join business_dates d
        on w.delivered_on <= d.as_of_date
       and w.txn_ts >= cast(d.as_of_date - $open_days as timestamp)
       and w.txn_ts < cast(d.as_of_date + 1 as timestamp)
    group by d.as_of_date, w.customer_id
    having count(*) >= greatest(1, least($min_count_24h, $baseline_min_count))
),

in_window as (
    select j.as_of_date, w.*
    from judged j
    join withdrawals w
        on w.customer_id = j.customer_id
       and w.delivered_on <= j.as_of_date
       and w.txn_ts >= cast(j.as_of_date - $episode_horizon_days - $baseline_days as timestamp)
       and w.txn_ts < cast(j.as_of_date + 1 as timestamp)
),

rolling as (
    select
        *,
        count(*) over (partition by as_of_date, customer_id order by txn_ts
                       range between interval 24 hours preceding and current row) as count_24h
    from in_window
),

daily as (
    select as_of_date, customer_id, txn_day, count(*) as day_count
    from in_window
    group by as_of_date, customer_id, txn_day
),

baseline as (
    select
        *,
        coalesce(sum(day_count) over (partition by as_of_date, customer_id order by txn_day
                                      range between to_days(cast($baseline_days as integer)) preceding
                                                and interval 1 day preceding), 0) / $baseline_days as baseline_per_day
    from daily
),

burst_days as (
    select b.as_of_date, b.customer_id, b.txn_day
    from baseline b
    join history_start h using (as_of_date)
    where b.day_count >= $baseline_min_count and b.day_count > $baseline_multiple * b.baseline_per_day
      and b.txn_day - $baseline_days >= h.first_day
),

-- A withdrawal is evidence when it starts, or lies within, a 24-hour run of $min_count_24h.
marked_24h as (
    select
        r.*,
        max(case when count_24h >= $min_count_24h then txn_ts end) over (
            partition by as_of_date, customer_id order by txn_ts
            range between current row and interval 24 hours following) as burst_end,
        b.txn_day is not null as on_burst_day
    from rolling r
    left join burst_days b using (as_of_date, customer_id, txn_day)
),

evidence as (
    select * from marked_24h where burst_end is not null or on_burst_day
),

marked as (
    select
        *,
        case when txn_ts - lag(txn_ts) over by_time < interval 24 hours then 0 else 1 end as starts_episode
    from evidence
    window by_time as (partition by as_of_date, customer_id order by txn_ts, txn_id)
),

episodes as (
    select
        *,
        sum(starts_episode) over (partition by as_of_date, customer_id order by txn_ts, txn_id
                                  rows unbounded preceding) as episode
    from marked
),

findings as (
    select
        as_of_date,
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
    group by as_of_date, customer_id, episode
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
        format('{} cash withdrawals (up to {} within 24 hours{}), total CNY {}', txn_count, max_24h,
               case when above_baseline then format(', a day above {}x the {}-day baseline', $baseline_multiple, $baseline_days)
                    else '' end,
               amount::decimal(18, 2)::varchar) as explanation
    from findings
    where window_end >= cast(as_of_date - $open_days + 1 as timestamp)
)

select * from final
