-- Rapid in-and-out (快进快出): incoming funds of a customer (credits of $in_types) of which at
-- least $out_share leaves again (debits of $out_types) within $window_hours, all accounts together.
-- A credit is flagged when the debits of the following $window_hours reach $out_share of it;
-- flagged credits less than $window_hours apart form one episode (its first credit anchors
-- the alert id), judged as a whole: credits >= $min_amount and the debits within
-- $window_hours of any of them >= $out_share of the credits, so a debit is never counted twice.
with

flows as (
    select customer_id, account_id, txn_id, txn_ts, direction, amount_reporting
    from int_risk_transactions
    where as_of_date <= $as_of_date
      and txn_ts >= cast($as_of_date - $episode_horizon_days as timestamp)
      and txn_ts < cast($as_of_date + 1 as timestamp)
      and ((direction = 'credit' and list_contains($in_types, txn_type))
           or (direction = 'debit' and list_contains($out_types, txn_type)))
),

out_following as (
    select
        *,
        sum(case when direction = 'debit' then amount_reporting else 0 end) over (
            partition by customer_id order by txn_ts
            range between current row and to_hours(cast($window_hours as integer)) following) as out_after
    from flows
),

flagged as (
    select
        *,
        direction = 'credit' and out_after >= $out_share * amount_reporting as is_flagged_credit
    from out_following
),

-- A debit is evidence when a flagged credit precedes it by at most the window.
evidence_marked as (
    select
        *,
        max(case when is_flagged_credit then txn_ts end) over (
            partition by customer_id order by txn_ts
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
        arg_min(txn_id, (txn_ts, txn_id)) filter (where is_flagged_credit) as anchor_txn_id,
        list(distinct account_id order by account_id) as account_ids,
        min(txn_ts) as window_start,
        max(txn_ts) as window_end,
        sum(amount_reporting) filter (where direction = 'credit') as amount_in,
        coalesce(sum(amount_reporting) filter (where direction = 'debit'), 0) as amount_out,
        count(*) as txn_count,
        list(txn_id order by txn_ts, txn_id) as txn_ids
    from episodes
    group by customer_id, episode
    having sum(amount_reporting) filter (where direction = 'credit') >= $min_amount
       and coalesce(sum(amount_reporting) filter (where direction = 'debit'), 0)
           >= $out_share * sum(amount_reporting) filter (where direction = 'credit')
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
        amount_in::decimal(18, 2) as amount,
        txn_count,
        txn_ids,
        format('CNY {} in, CNY {} ({}%) out again within {} hours',
               amount_in::decimal(18, 2)::varchar, amount_out::decimal(18, 2)::varchar,
               round(100 * amount_out / amount_in)::integer, $window_hours) as explanation
    from findings
    where window_end >= cast($as_of_date - $open_days + 1 as timestamp)
)

select * from final
