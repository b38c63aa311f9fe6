-- A transfer far above the customer's own history: at least $multiple times the largest
-- transfer of the same direction (of $directions) in the previous $history_days days (all accounts), at least
-- $min_amount, and only for customers with $min_history_txns such transfers to compare with.
-- Each such transfer is its own finding and anchors its alert id.
-- Judged on every business date of [$date_from, $date_to] while the transfer is open (its last
-- $open_days days): the history is the transfers delivered by that date, so a late delivery
-- counts from the night it arrives.
with

business_dates as (
    select unnest(generate_series($date_from::date, $date_to::date, interval 1 day))::date as as_of_date
),

transfers as (
    select as_of_date as delivered_on, customer_id, account_id, txn_id, txn_ts, direction, amount_reporting
    from int_risk_transactions
    where as_of_date <= $date_to
      and list_contains($txn_types, txn_type)
      and list_contains($directions, direction)
      and txn_ts >= cast($date_from - $open_days - $history_days as timestamp)
      and txn_ts < cast($date_to + 1 as timestamp)
),

-- Each large transfer on each date it is open and delivered.
candidates as (
    select d.as_of_date, t.*
    from transfers t
    join business_dates d
        on t.delivered_on <= d.as_of_date
       and t.txn_ts >= cast(d.as_of_date - $open_days + 1 as timestamp)
       and t.txn_ts < cast(d.as_of_date + 1 as timestamp)
    where t.amount_reporting >= $min_amount
),

-- The window `range between $history_days days preceding and current row exclude current row`
-- of one night, as a range join: every other transfer row delivered by then.
compared as (
    select
        c.as_of_date, c.delivered_on, c.customer_id, c.account_id, c.txn_id, c.txn_ts, c.direction, c.amount_reporting,
        max(h.amount_reporting) as history_max,
        count(h.txn_id) as history_count
    from candidates c
    left join transfers h
        on h.customer_id = c.customer_id
       and h.direction = c.direction
       and h.delivered_on <= c.as_of_date
       and h.txn_ts >= c.txn_ts - to_days(cast($history_days as integer))
       and h.txn_ts <= c.txn_ts
       and not (h.txn_id = c.txn_id and h.delivered_on = c.delivered_on)
    group by all
),

findings as (
    select *
    from compared
    where history_count >= $min_history_txns
      and amount_reporting >= $multiple * history_max
),

final as (
    select
        as_of_date,
        $rule_id as rule_id,
        $rule_name as rule_name,
        $severity as severity,
        customer_id,
        txn_id as anchor_txn_id,
        [account_id] as account_ids,
        txn_ts as window_start,
        txn_ts as window_end,
        amount_reporting::decimal(18, 2) as amount,
        1::bigint as txn_count,
        [txn_id] as txn_ids,
        format('{} of CNY {} is {}x the largest of the previous {} days (CNY {})',
               case direction when 'credit' then 'incoming transfer' else 'outgoing transfer' end,
               amount_reporting::decimal(18, 2)::varchar, round(amount_reporting / history_max, 1),
               $history_days, history_max::decimal(18, 2)::varchar) as explanation
    from findings
)

select * from final
