-- One row per customer known on $as_of_date who earned loyalty points on it (rules.yaml loyalty):
-- balance points from the AUM held at the end of the day (int_customer_day.aum, the AUM of
-- customer_lifecycle, built first for the same date) and activity points from the transactions
-- delivered on the date (posted the night they arrive, whatever their timestamp: a late-delivered
-- transaction earns on its delivery date, and a re-delivered id is quarantined, never paid twice).
-- Point in time: only rows delivered on or before $as_of_date are read, and a date's row never
-- depends on a later delivery, so a backfill of a past date rebuilds exactly what the night built.
with

customer_day as (
    select customer_id, aum
    from int_customer_day
    where as_of_date = $as_of_date
),

transactions_today as (
    select account_id, txn_type, direction, amount_reporting
    from stg_transactions
    where business_date = $as_of_date
      and (list_contains($counted_txn_types, txn_type) or list_contains($card_txn_types, txn_type))
),

-- An account's owner on the date is the one of its latest delivered row.
account_owner as (
    select account_id, customer_id
    from stg_accounts
    where business_date <= $as_of_date and account_id in (select account_id from transactions_today)
    qualify row_number() over (partition by account_id order by business_date desc, _line desc) = 1
),

-- Card points are whole spend units of each purchase: fractions of a purchase are not carried over.
account_activity as (
    select
        account_id,
        count(*) filter (where list_contains($counted_txn_types, txn_type)) as counted_txns,
        coalesce(sum(floor(amount_reporting / $spend_unit))
                     filter (where list_contains($card_txn_types, txn_type) and direction = 'debit'), 0) as spend_units
    from transactions_today
    group by account_id
),

customer_activity as (
    select o.customer_id, sum(a.counted_txns) as counted_txns, sum(a.spend_units) as spend_units
    from account_activity a
    join account_owner o using (account_id)
    group by o.customer_id
),

points as (
    select
        d.customer_id,
        -- An overdrawn AUM earns nothing rather than losing points.
        greatest(floor(d.aum / $aum_unit), 0)::bigint * $per_aum_unit as balance_points,
        least(coalesce(a.counted_txns, 0), $max_txns_per_day)::bigint * $per_transaction as transaction_points,
        coalesce(a.spend_units, 0)::bigint * $per_spend_unit as card_points
    from customer_day d
    left join customer_activity a using (customer_id)
),

final as (
    select
        $as_of_date as as_of_date,
        customer_id,
        balance_points::bigint as balance_points,
        transaction_points::bigint as transaction_points,
        card_points::bigint as card_points,
        (balance_points + transaction_points + card_points)::bigint as points
    from points
    where balance_points + transaction_points + card_points > 0
)

select * from final
