-- Dormant account reactivated: an account with no customer-initiated transaction for at least
-- $dormant_days days (or none since it was opened that long ago) whose first transaction after
-- that starts a flow (both directions) of at least $min_amount within $window_days days.
-- Quiet is only known where the warehouse holds the whole dormancy window: in the first
-- $dormant_days days of loaded history no account can be judged dormant.
-- The reactivating transaction anchors the alert id.
-- Every business date of [$date_from, $date_to] is judged as a night would, on the transactions
-- delivered by then of its own window, each judged (date, account) its own partition.
with

business_dates as (
    select unnest(generate_series($date_from::date, $date_to::date, interval 1 day))::date as as_of_date
),

counted as (
    select as_of_date as delivered_on, customer_id, account_id, txn_id, txn_ts, txn_day, direction, amount_reporting
    from int_risk_transactions
    where as_of_date <= $date_to
      and list_contains($counted_txn_types, txn_type)
      and txn_ts >= cast($date_from - $open_days - $window_days - $dormant_days as timestamp)
      and txn_ts < cast($date_to + 1 as timestamp)
),

-- A reactivation at t >= date - $open_days - $window_days has no counted transaction of its
-- account in the $dormant_days before it, so none between (date + 1) - $dormant_days and that
-- start: only accounts with a transaction since the start and none in that span can raise a
-- finding. Judging only those gives the same findings without ordering every active account's
-- half year of transactions on every date. On account-days (first delivery of each): the
-- (account, date) pairs with a transaction since the start, then the latest earlier active day;
-- a pair is dropped when that day lies in the span and was delivered by the date. (A span day
-- delivered later hides an earlier one: such pairs are kept, judging a few more accounts.)
account_days as (
    select account_id, txn_day, min(delivered_on) as first_delivered
    from counted
    group by account_id, txn_day
),

-- The earliest recent day a candidate pair has (delivered by its date) has no day delivered by
-- its own day in the span before it: its previous active day is that far back, or was delivered
-- after it (kept, to be judged below). Only such days start pairs: a busy account never does.
reactivation_days as (
    select *
    from (select *,
                 lag(txn_day) over by_day as previous_day,
                 lag(first_delivered) over by_day as previous_delivered
          from account_days
          window by_day as (partition by account_id order by txn_day))
    where previous_day is null
       or txn_day - previous_day > $dormant_days - $open_days - $window_days - 2
       or previous_delivered > txn_day
),

recent_pairs as (
    select distinct account_id, unnest(generate_series(greatest(txn_day, first_delivered, $date_from::date),
                                                       least(txn_day + $open_days + $window_days, $date_to::date),
                                                       interval 1 day))::date as as_of_date
    from reactivation_days
    where greatest(txn_day, first_delivered, $date_from::date) <= least(txn_day + $open_days + $window_days, $date_to::date)
),

candidate_accounts as (
    select p.as_of_date, p.account_id
    from (select *, as_of_date - $open_days - $window_days as quiet_until from recent_pairs) p
    asof left join account_days y on y.account_id = p.account_id and p.quiet_until > y.txn_day
    where y.txn_day is null
       or y.txn_day < p.as_of_date - $dormant_days + 2
       or y.first_delivered > p.as_of_date
),

recent as (
    select c.as_of_date, t.*
    from candidate_accounts c
    join counted t
        on t.account_id = c.account_id
       and t.delivered_on <= c.as_of_date
       and t.txn_ts >= cast(c.as_of_date - $open_days - $window_days - $dormant_days as timestamp)
       and t.txn_ts < cast(c.as_of_date + 1 as timestamp)
),

account_versions as (
    select account_id, business_date, open_date
    from stg_accounts
    where business_date <= $date_to
    qualify row_number() over (partition by account_id, business_date order by _line desc) = 1
),

history_start as (
    select d.as_of_date, min(f.first_day) as first_day
    from business_dates d
    join (select as_of_date, min(txn_day) as first_day from int_risk_transactions group by as_of_date) f
        on f.as_of_date <= d.as_of_date
    group by d.as_of_date
),

gaps as (
    select
        r.*,
        lag(r.txn_ts) over (partition by r.as_of_date, r.account_id order by r.txn_ts, r.txn_id) as previous_ts,
        a.open_date,
        h.first_day
    from recent r
    asof left join account_versions a on a.account_id = r.account_id and r.as_of_date >= a.business_date
    join history_start h on h.as_of_date = r.as_of_date
),

-- Only transactions late enough that the whole dormancy window before them was read.
reactivations as (
    select
        *,
        txn_ts >= cast(as_of_date - $open_days - $window_days as timestamp)
            and txn_day - $dormant_days >= first_day
            and (previous_ts <= txn_ts - to_days(cast($dormant_days as integer))
                 or (previous_ts is null and open_date <= txn_day - $dormant_days)) as is_reactivation
    from gaps
),

attributed as (
    select
        *,
        max(case when is_reactivation then txn_ts end) over (
            partition by as_of_date, account_id order by txn_ts
            range between to_days(cast($window_days as integer)) preceding and current row) as reactivated_at
    from reactivations
),

findings as (
    select
        as_of_date,
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
    group by as_of_date, account_id, reactivated_at
    having sum(amount_reporting) >= $min_amount
),

final as (
    select
        as_of_date,
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
    where window_end >= cast(as_of_date - $open_days + 1 as timestamp)
)

select * from final
