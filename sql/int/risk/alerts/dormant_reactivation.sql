-- Dormant account reactivated: an account with no customer-initiated transaction for at least
-- $dormant_days days (or none since it was opened that long ago) whose first transaction after
-- that starts a flow (both directions) of at least $min_amount within $window_days days.
-- Quiet is only known where the warehouse holds the whole dormancy window: in the first
-- $dormant_days days of loaded history no account can be judged dormant.
-- The reactivating transaction anchors the alert id.
with

recent as (
    select customer_id, account_id, txn_id, txn_ts, txn_day, direction, amount_reporting
    from int_risk_transactions
    where as_of_date <= $as_of_date
      and list_contains($counted_txn_types, txn_type)
      and txn_ts >= cast($as_of_date - $open_days - $window_days - $dormant_days as timestamp)
      and txn_ts < cast($as_of_date + 1 as timestamp)
),

-- A reactivation at t >= $as_of_date - $open_days - $window_days has no counted transaction of its
-- account in the $dormant_days before it, so none between ($as_of_date + 1) - $dormant_days and
-- that start: only accounts with a transaction since the start and none in that span can raise
-- a finding. Judging only those gives the same findings without ordering every active account's
-- half year of transactions on every date.
candidate_accounts as (
    select account_id
    from recent
    group by account_id
    having count(*) filter (where txn_ts >= cast($as_of_date - $open_days - $window_days as timestamp)) > 0
       and count(*) filter (where txn_ts >= cast($as_of_date - $dormant_days + 2 as timestamp)
                              and txn_ts < cast($as_of_date - $open_days - $window_days as timestamp)) = 0
),

account_opened as (
    select account_id, open_date
    from stg_accounts
    where business_date <= $as_of_date
    qualify row_number() over (partition by account_id order by business_date desc, _line desc) = 1
),

history_start as (
    select min(txn_day) as first_day from int_risk_transactions
),

gaps as (
    select
        r.*,
        lag(txn_ts) over (partition by account_id order by txn_ts, txn_id) as previous_ts,
        a.open_date
    from recent r
    semi join candidate_accounts using (account_id)
    left join account_opened a using (account_id)
),

-- Only transactions late enough that the whole dormancy window before them was read.
reactivations as (
    select
        *,
        txn_ts >= cast($as_of_date - $open_days - $window_days as timestamp)
            and txn_day - $dormant_days >= (select first_day from history_start)
            and (previous_ts <= txn_ts - to_days(cast($dormant_days as integer))
                 or (previous_ts is null and open_date <= txn_day - $dormant_days)) as is_reactivation
    from gaps
),

attributed as (
    select
        *,
        max(case when is_reactivation then txn_ts end) over (
            partition by account_id order by txn_ts
            range between to_days(cast($window_days as integer)) preceding and current row) as reactivated_at
    from reactivations
),

findings as (
    select
        any_value(customer_id) as customer_id,
        account_id,
        arg_min(txn_id, (txn_ts, txn_id)) as anchor_txn_id,
        min(txn_ts) as window_start,
        max(txn_ts) as window_end,
        sum(amount_reporting) as amount,
        count(*) as txn_count,
        list(txn_id order by txn_ts, txn_id) as txn_ids,
        max(date_diff('day', previous_ts, txn_ts)) filter (where is_reactivation) as dormant_for_days
    from attributed
    where reactivated_at is not null
    group by account_id, reactivated_at
    having sum(amount_reporting) >= $min_amount
),

final as (
    select
        $as_of_date as as_of_date,
        $rule_id as rule_id,
        $rule_name as rule_name,
        $severity as severity,
        customer_id,
        anchor_txn_id,
        [account_id] as account_ids,
        window_start,
        window_end,
        amount::decimal(18, 2) as amount,
        txn_count,
        txn_ids,
        format('account quiet for {} days, then {} transactions of CNY {} within {} days',
               coalesce(dormant_for_days::varchar, format('{}+', $dormant_days)), txn_count,
               amount::decimal(18, 2)::varchar, $window_days) as explanation
    from findings
    where window_end >= cast($as_of_date - $open_days + 1 as timestamp)
)

select * from final
