-- Rapid in-and-out (快进快出): incoming funds of a customer (credits of $in_types) of which at
-- least $out_share leaves again (debits of $out_types) within $window_hours, all accounts together.
-- A credit (of at least $min_credit: smaller ones are everyday flows) is flagged when the debits
-- of the following $window_hours reach $out_share of it;
-- flagged credits less than $window_hours apart form one episode (its first credit anchors
-- the alert id), judged as a whole: credits >= $min_amount and the debits within
-- $window_hours of any of them >= $out_share of the credits, so a debit is never counted twice;
-- and the credits at least $min_vs_usual times the customer's usual inflow over the episode's
-- span plus $window_hours (its credits of the previous $baseline_days days, pro rata), so an
-- account turning over its usual volume is not a pass-through. Where the warehouse holds less
-- than $baseline_days days before the episode, the days it holds are the baseline; fewer than
-- $min_baseline_days and the episode is not judged. A pass-through is an event: an episode
-- longer than $max_span_hours (a busy account's unbroken chain of flows) is not one.
-- Every business date of [$date_from, $date_to] is judged as a night would: on the flows
-- delivered by then of its own window (episodes start where the window does), so each judged
-- (date, customer) is its own partition. A finding open on a date has evidence in its last
-- $open_days days, so a flagged credit at most $window_hours before them: only customers with a
-- credit there that would be flagged counting every debit of the range (a date counts only those
-- delivered by then, never more) are judged.
with

business_dates as (
    select unnest(generate_series($date_from::date, $date_to::date, interval 1 day))::date as as_of_date
),

all_flows as (
    select as_of_date as delivered_on, customer_id, account_id, txn_id, txn_ts, direction, amount_reporting
    from int_risk_transactions
    where as_of_date <= $date_to
      and txn_ts >= cast($date_from - $episode_horizon_days - $baseline_days as timestamp)
      and txn_ts < cast($date_to + 1 as timestamp)
      and ((direction = 'credit' and list_contains($in_types, txn_type))
           or (direction = 'debit' and list_contains($out_types, txn_type)))
),

-- The first day each date's loaded history starts on (what the night saw in the table).
history_start as (
    select d.as_of_date, min(f.first_day) as first_day
    from business_dates d
    join (select as_of_date, min(txn_day) as first_day from int_risk_transactions group by as_of_date) f
        on f.as_of_date <= d.as_of_date
    group by d.as_of_date
),

could_flag as (
    select *
    from (
        select
            *,
            sum(case when direction = 'debit' then greatest(amount_reporting, 0) else 0 end) over (
                partition by customer_id order by txn_ts
                range between current row and to_hours(cast($window_hours as integer)) following) as out_after_any
        from all_flows
    )
    where direction = 'credit' and amount_reporting >= $min_credit and out_after_any >= $out_share * amount_reporting
),

judged as (
    select distinct d.as_of_date, c.customer_id
    from could_flag c
    join business_dates d
        on c.delivered_on <= d.as_of_date
       and c.txn_ts >= cast(d.as_of_date - $open_days + 1 as timestamp) - to_hours(cast($window_hours as integer))
       and c.txn_ts < cast(d.as_of_date + 1 as timestamp)
),

flows as (
    select j.as_of_date, f.*, h.first_day
    from judged j
    join all_flows f
        on f.customer_id = j.customer_id
       and f.delivered_on <= j.as_of_date
       and f.txn_ts >= cast(j.as_of_date - $episode_horizon_days - $baseline_days as timestamp)
       and f.txn_ts < cast(j.as_of_date + 1 as timestamp)
    join history_start h on h.as_of_date = j.as_of_date
),

out_following as (
    select
        *,
        sum(case when direction = 'debit' then amount_reporting else 0 end) over (
            partition by as_of_date, customer_id order by txn_ts
            range between current row and to_hours(cast($window_hours as integer)) following) as out_after,
        coalesce(sum(case when direction = 'credit' then amount_reporting else 0 end) over (
            partition by as_of_date, customer_id order by txn_ts
            range between to_days(cast($baseline_days as integer)) preceding and interval 1 microsecond preceding), 0)
            / (24.0 * least($baseline_days, date_diff('day', first_day, txn_ts::date)))
            as usual_inflow_per_hour
    from flows
),

flagged as (
    select
        *,
        direction = 'credit' and amount_reporting >= $min_credit
            and out_after >= $out_share * amount_reporting as is_flagged_credit
    from out_following
),

-- A debit is evidence when a flagged credit precedes it by at most the window.
evidence_marked as (
    select
        *,
        max(case when is_flagged_credit then txn_ts end) over (
            partition by as_of_date, customer_id order by txn_ts
            range between to_hours(cast($window_hours as integer)) preceding and current row) as flagged_credit_before
    from flagged
),

evidence as (
    select *
    from evidence_marked
    where is_flagged_credit or (direction = 'debit' and flagged_credit_before is not null)
),

marked as (
    select
        *,
        case when txn_ts - lag(txn_ts) over by_time <= to_hours(cast($window_hours as integer)) then 0 else 1 end
            as starts_episode
    from evidence
    window by_time as (partition by as_of_date, customer_id order by txn_ts, txn_id)
),

episodes as (
    select
        *,
        sum(starts_episode) over (partition by as_of_date, customer_id order by txn_ts, txn_id rows unbounded preceding) as episode
    from marked
),

findings as (
    select
        as_of_date,
        customer_id,
        any_value(first_day) as first_day,
        arg_min(txn_id, (txn_ts, txn_id)) filter (where is_flagged_credit) as anchor_txn_id,
        list(distinct account_id order by account_id) as account_ids,
        min(txn_ts) as window_start,
        max(txn_ts) as window_end,
        sum(amount_reporting) filter (where direction = 'credit') as amount_in,
        coalesce(sum(amount_reporting) filter (where direction = 'debit'), 0) as amount_out,
        arg_min(usual_inflow_per_hour, (txn_ts, txn_id)) filter (where is_flagged_credit) as usual_inflow_per_hour,
        count(*) as txn_count,
        list(txn_id order by txn_ts, txn_id) as txn_ids
    from episodes
    group by as_of_date, customer_id, episode
    having sum(amount_reporting) filter (where direction = 'credit') >= $min_amount
       and coalesce(sum(amount_reporting) filter (where direction = 'debit'), 0)
           >= $out_share * sum(amount_reporting) filter (where direction = 'credit')
       -- Debits far beyond the credits are paid from the balance: ordinary payments, not these funds.
       and coalesce(sum(amount_reporting) filter (where direction = 'debit'), 0)
           <= $max_out_share * sum(amount_reporting) filter (where direction = 'credit')
),

unusual as (
    select *
    from findings
    where amount_in >= $min_vs_usual * usual_inflow_per_hour
                       * (epoch(window_end - window_start) / 3600 + $window_hours)
      and window_start::date - $min_baseline_days >= first_day
      and window_end - window_start <= to_hours(cast($max_span_hours as integer))
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
        amount_in::decimal(18, 2) as amount,
        txn_count,
        txn_ids,
        format('CNY {} in, CNY {} ({}%) out again within {} hours',
               amount_in::decimal(18, 2)::varchar, amount_out::decimal(18, 2)::varchar,
               round(100 * amount_out / amount_in)::integer, $window_hours) as explanation
    from unusual
    where window_end >= cast(as_of_date - $open_days + 1 as timestamp)
)

select * from final
