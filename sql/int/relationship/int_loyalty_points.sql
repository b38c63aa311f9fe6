-- One row per business date in [$date_from, $date_to] and customer known on it who earned loyalty
-- points on it (rules.yaml loyalty): balance points from the AUM held at the end of the day
-- (int_customer_day.aum, the AUM of customer_lifecycle, built first for the same dates) and
-- activity points from the transactions delivered on the date (posted the night they arrive,
-- whatever their timestamp: a late-delivered transaction earns on its delivery date, and a
-- re-delivered id is quarantined, never paid twice).
-- Point in time: a date reads only rows delivered on or before it, and a date's row never depends
-- on a later delivery, so a backfill of a past range rebuilds exactly what the nights built.
with

customer_day as (
    select as_of_date, customer_id, aum
    from int_customer_day
    where as_of_date between $date_from and $date_to
),

transactions as (
    select business_date as as_of_date, account_id, txn_type, direction, amount_reporting
    from stg_transactions
    where business_date between $date_from and $date_to
      and (list_contains($counted_txn_types, txn_type) or list_contains($card_txn_types, txn_type))
),

-- Card points are whole spend units of each purchase: fractions of a purchase are not carried over.
account_activity as (
    select
        as_of_date,
        account_id,
        count(*) filter (where list_contains($counted_txn_types, txn_type)) as counted_txns,
        coalesce(sum(floor(amount_reporting / $spend_unit))
                     filter (where list_contains($card_txn_types, txn_type) and direction = 'debit'), 0) as spend_units
    from transactions
    group by all
),

-- An account's owner on a date is the one of its latest row delivered on or before it: the last
-- line of each delivery date, then the latest such date (ASOF).
account_rows as (
    select account_id, business_date, customer_id
    from stg_accounts
    where business_date <= $date_to and account_id in (select account_id from account_activity)
    qualify row_number() over (partition by account_id, business_date order by _line desc) = 1
),

customer_activity as (
    select a.as_of_date, o.customer_id, sum(a.counted_txns) as counted_txns, sum(a.spend_units) as spend_units
    from account_activity a
    asof join account_rows o on o.account_id = a.account_id and o.business_date <= a.as_of_date
    group by all
),

points as (
    select
        d.as_of_date,
        d.customer_id,
        -- An overdrawn AUM earns nothing rather than losing points.
        greatest(floor(d.aum / $aum_unit), 0)::bigint * $per_aum_unit as balance_points,
        least(coalesce(a.counted_txns, 0), $max_txns_per_day)::bigint * $per_transaction as transaction_points,
        coalesce(a.spend_units, 0)::bigint * $per_spend_unit as card_points
    from customer_day d
    left join customer_activity a using (as_of_date, customer_id)
),

final as (
    select
        as_of_date,
        customer_id,
        balance_points::bigint as balance_points,
        transaction_points::bigint as transaction_points,
        card_points::bigint as card_points,
        (balance_points + transaction_points + card_points)::bigint as points
    from points
    where balance_points + transaction_points + card_points > 0
)

select * from final
