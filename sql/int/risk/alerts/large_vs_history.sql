-- A transfer far above the customer's own history: at least $multiple times the largest
-- transfer of the same direction (of $directions) in the previous $history_days days (all accounts), at least
-- $min_amount, and only for customers with $min_history_txns such transfers to compare with.
-- Each such transfer is its own finding and anchors its alert id.
with

transfers as (
    select customer_id, account_id, txn_id, txn_ts, direction, amount_reporting
    from int_risk_transactions
    where as_of_date <= $as_of_date
      and list_contains($txn_types, txn_type)
      and list_contains($directions, direction)
      and txn_ts >= cast($as_of_date - $open_days - $history_days as timestamp)
      and txn_ts < cast($as_of_date + 1 as timestamp)
),

compared as (
    select
        *,
        max(amount_reporting) over history as history_max,
        count(*) over history as history_count
    from transfers
    window history as (partition by customer_id, direction order by txn_ts
                       range between to_days(cast($history_days as integer)) preceding and current row
                       exclude current row)
),

findings as (
    select *
    from compared
    where txn_ts >= cast($as_of_date - $open_days + 1 as timestamp)
      and amount_reporting >= $min_amount
      and history_count >= $min_history_txns
      and amount_reporting >= $multiple * history_max
),

final as (
    select
        $as_of_date as as_of_date,
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
