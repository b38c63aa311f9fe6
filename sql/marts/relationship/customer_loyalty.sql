-- One row per customer known on $as_of_date: the points earned on the date, the balance (points
-- earned and not yet expired: the input contract has no redemptions), the points expiring within
-- the horizon, the qualifying points of the rolling window, the tier they reach with the tier it
-- came from and since when, and the tier's perks (rules.yaml loyalty).
-- The windows are earn-date bounds computed in pipelines/relationship/loyalty.py: held from $balance_from,
-- expiring soon up to $expiring_until, qualifying from $qualifying_from; $scan_from is the
-- earliest, so one scan of the ledger serves all three.
-- Two ways to the same sums (pipelines/relationship/loyalty.py picks one and checks its premise):
--   $incremental = false: from the ledger of every earn date from $scan_from.
--   $incremental = true: yesterday's sums (built from the same ledger dates and rules) plus
--     today's points, minus the points whose earn date left a window today: held from
--     $previous_balance_from to $balance_from, qualifying likewise, and expiring soon plus those
--     entering the horizon after $previous_expiring_until (today's points too when the horizon
--     already reached today). A few edge dates of the ledger are read instead of all of them.
-- previous_tier / tier_since come from the latest earlier snapshot in this table, so a backfill of
-- a date equals the nightly run as long as dates are built in order (as customer_lifecycle).
with

customer_day as (
    select customer_id
    from int_customer_day
    where as_of_date = $as_of_date
),

ledger as (
    select customer_id, as_of_date as earn_date, balance_points, transaction_points, card_points, points
    from int_loyalty_points
    where not $incremental and as_of_date >= $scan_from and as_of_date <= $as_of_date
),

edge_ledger as (
    select customer_id, as_of_date as earn_date, balance_points, transaction_points, card_points, points
    from int_loyalty_points
    -- A backfill of a past date may find later ledger dates: the horizon must not reach them.
    where $incremental and as_of_date <= $as_of_date
      and (as_of_date = $as_of_date
        or (as_of_date >= $previous_balance_from and as_of_date < $balance_from)
        or (as_of_date >= $previous_qualifying_from and as_of_date < $qualifying_from)
        or (as_of_date > $previous_expiring_until and as_of_date <= $expiring_until))
),

previous as (
    select customer_id, points_balance, points_expiring_soon, qualifying_points
    from customer_loyalty
    where $incremental and as_of_date = $previous_date
),

earlier_snapshot as (
    select customer_id, tier, previous_tier, tier_since
    from customer_loyalty
    where as_of_date = (select max(as_of_date) from customer_loyalty where as_of_date < $as_of_date)
),

totals as (
    select
        customer_id,
        sum(balance_points) filter (where earn_date = $as_of_date) as balance_points_today,
        sum(transaction_points) filter (where earn_date = $as_of_date) as transaction_points_today,
        sum(card_points) filter (where earn_date = $as_of_date) as card_points_today,
        sum(points) filter (where earn_date >= $balance_from) as points_balance,
        sum(points) filter (where earn_date >= $balance_from and earn_date <= $expiring_until) as points_expiring_soon,
        sum(points) filter (where earn_date >= $qualifying_from) as qualifying_points
    from ledger
    group by customer_id
),

edges as (
    select
        customer_id,
        sum(balance_points) filter (where earn_date = $as_of_date) as balance_points_today,
        sum(transaction_points) filter (where earn_date = $as_of_date) as transaction_points_today,
        sum(card_points) filter (where earn_date = $as_of_date) as card_points_today,
        coalesce(sum(points) filter (where earn_date = $as_of_date), 0) as today,
        coalesce(sum(points) filter (where earn_date >= $previous_balance_from and earn_date < $balance_from), 0) as expired,
        coalesce(sum(points) filter (where earn_date >= $previous_qualifying_from and earn_date < $qualifying_from), 0)
            as left_qualifying,
        coalesce(sum(points) filter (where earn_date > $previous_expiring_until and earn_date <= $expiring_until), 0)
            as entering_soon
    from edge_ledger
    group by customer_id
),

carried as (
    select
        coalesce(p.customer_id, e.customer_id) as customer_id,
        e.balance_points_today,
        e.transaction_points_today,
        e.card_points_today,
        coalesce(p.points_balance, 0) + coalesce(e.today, 0) - coalesce(e.expired, 0) as points_balance,
        coalesce(p.points_expiring_soon, 0) - coalesce(e.expired, 0) + coalesce(e.entering_soon, 0)
            + case when $as_of_date <= $previous_expiring_until then coalesce(e.today, 0) else 0 end
            as points_expiring_soon,
        coalesce(p.qualifying_points, 0) + coalesce(e.today, 0) - coalesce(e.left_qualifying, 0) as qualifying_points
    from previous p
    full join edges e using (customer_id)
),

sums as (
    select * from totals
    union all by name
    select * from carried
),

points as (
    select
        d.customer_id,
        coalesce(t.balance_points_today, 0)::bigint as balance_points_today,
        coalesce(t.transaction_points_today, 0)::bigint as transaction_points_today,
        coalesce(t.card_points_today, 0)::bigint as card_points_today,
        coalesce(t.points_balance, 0)::bigint as points_balance,
        coalesce(t.points_expiring_soon, 0)::bigint as points_expiring_soon,
        coalesce(t.qualifying_points, 0)::bigint as qualifying_points
    from customer_day d
    left join sums t using (customer_id)
),

-- Tier bounds are inclusive lower bounds, the first 0: every customer reaches tier 1.
tiered as (
    select *, len(list_filter($tier_min_points, lambda t: qualifying_points >= t)) as tier_index
    from points
),

final as (
    select
        $as_of_date as as_of_date,
        s.customer_id,
        (s.balance_points_today + s.transaction_points_today + s.card_points_today)::bigint as points_earned_today,
        s.balance_points_today,
        s.transaction_points_today,
        s.card_points_today,
        s.points_balance,
        s.points_expiring_soon,
        s.qualifying_points,
        $tier_names[s.tier_index] as tier,
        case when e.tier = $tier_names[s.tier_index] then e.previous_tier else e.tier end as previous_tier,
        case when e.tier = $tier_names[s.tier_index] then e.tier_since else $as_of_date end as tier_since,
        $tier_names[s.tier_index + 1] as next_tier,
        ($tier_min_points[s.tier_index + 1] - s.qualifying_points)::bigint as points_to_next_tier,
        $tier_perks[s.tier_index]::varchar[] as perks
    from tiered s
    left join earlier_snapshot e using (customer_id)
)

select * from final
