-- One row per business date in [$date_from, $date_to] and customer known on it: the points earned
-- on the date, the balance (points earned and not yet expired: the input contract has no
-- redemptions), the points expiring within the horizon, the qualifying points of the rolling
-- window, the tier they reach with the tier it came from and since when, and the tier's perks
-- (rules.yaml loyalty).
-- The windows are month-based earn-date bounds per date, computed in
-- pipelines/relationship/loyalty.py ($bounds: held from balance_from, expiring soon up to
-- expiring_until, qualifying from qualifying_from). Each sum is a difference of the customer's
-- cumulative ledger at two earn dates, looked up by ASOF join, so the ledger is read once from
-- $scan_from (the earliest bound of the range) whatever the number of dates, and sorted only as
-- sums between those dates.
-- previous_tier / tier_since come from the latest earlier snapshot: within the range the date
-- before, on the range's first date the latest earlier date of this table. A run of snapshots
-- with the same tier (an island) keeps the tier_since and previous_tier of its first row.
with

customer_day as (
    select as_of_date, customer_id
    from int_customer_day
    where as_of_date between $date_from and $date_to
),

bounds as (
    select b.as_of_date, b.balance_from, b.expiring_until, b.qualifying_from
    from (select unnest($bounds::struct(as_of_date date, balance_from date, expiring_until date,
                                        qualifying_from date)[]) as b)
),

ledger as (
    select customer_id, as_of_date as earn_date, points
    from int_loyalty_points
    where as_of_date between $scan_from and $date_to
),

-- The range's own ledger dates, read apart: joined to the whole window it would build a hash
-- table of every earn date.
earned as (
    select customer_id, as_of_date, balance_points, transaction_points, card_points
    from int_loyalty_points
    where as_of_date between $date_from and $date_to
),

seed_date as (
    select max(as_of_date) as as_of_date
    from customer_loyalty
    where as_of_date < $date_from
),

seed as (
    select as_of_date, customer_id, tier, previous_tier, tier_since
    from customer_loyalty
    where as_of_date = (select as_of_date from seed_date)
),

-- The earn dates a window is cut at: each sum is the points earned up to one of them minus those up
-- to another.
cuts as (
    select distinct cut
    from (select unnest([balance_from - 1, least(expiring_until, as_of_date), qualifying_from - 1, as_of_date]) as cut
          from bounds)
    where cut >= $scan_from
),

-- Each earn date's points go to the first cut on or after it (a hash join on the date and a hash
-- aggregate over the ledger), so the running sum is over a customer's cuts, not every earn date.
cut_of_day as (
    select e.earn_date, c.cut
    from (select unnest(generate_series($scan_from::date, $date_to::date, interval 1 day))::date as earn_date) e
    asof join cuts c on e.earn_date <= c.cut
),

between_cuts as (
    select l.customer_id, d.cut, sum(l.points) as points
    from ledger l
    join cut_of_day d using (earn_date)
    group by all
),

cumulative as (
    select customer_id, cut as earn_date, sum(points) over (partition by customer_id order by cut) as points_to_date
    from between_cuts
),

lookups as (
    select
        d.as_of_date,
        d.customer_id,
        b.balance_from - 1 as before_balance,
        least(b.expiring_until, d.as_of_date) as expiring_until,
        b.qualifying_from - 1 as before_qualifying
    from customer_day d
    join bounds b using (as_of_date)
),

sums as (
    select
        l.as_of_date,
        l.customer_id,
        coalesce(now.points_to_date, 0) - coalesce(held.points_to_date, 0) as points_balance,
        -- The horizon never reaches back before the first point held.
        greatest(coalesce(soon.points_to_date, 0) - coalesce(held.points_to_date, 0), 0) as points_expiring_soon,
        coalesce(now.points_to_date, 0) - coalesce(qualifying.points_to_date, 0) as qualifying_points
    from lookups l
    asof left join cumulative now
        on now.customer_id = l.customer_id and now.earn_date <= l.as_of_date
    asof left join cumulative held
        on held.customer_id = l.customer_id and held.earn_date <= l.before_balance
    asof left join cumulative soon
        on soon.customer_id = l.customer_id and soon.earn_date <= l.expiring_until
    asof left join cumulative qualifying
        on qualifying.customer_id = l.customer_id and qualifying.earn_date <= l.before_qualifying
),

points as (
    select
        s.as_of_date,
        s.customer_id,
        coalesce(t.balance_points, 0)::bigint as balance_points_today,
        coalesce(t.transaction_points, 0)::bigint as transaction_points_today,
        coalesce(t.card_points, 0)::bigint as card_points_today,
        s.points_balance::bigint as points_balance,
        s.points_expiring_soon::bigint as points_expiring_soon,
        s.qualifying_points::bigint as qualifying_points
    from sums s
    left join earned t using (as_of_date, customer_id)
),

-- Tier bounds are inclusive lower bounds, the first 0: every customer reaches tier 1.
tiered as (
    select *, len(list_filter($tier_min_points, lambda t: qualifying_points >= t)) as tier_index
    from points
),

-- The dates a snapshot exists on, each with the one before it (the seed date before the range).
snapshot_dates as (
    select as_of_date, lag(as_of_date) over (order by as_of_date) as previous_snapshot
    from (select as_of_date from seed_date where as_of_date is not null
          union select distinct as_of_date from customer_day)
),

history as (
    select as_of_date, customer_id, tier, previous_tier, tier_since, true as is_seed
    from seed
    union all
    select as_of_date, customer_id, $tier_names[tier_index], null, null, false
    from tiered
),

-- A row continues its island when the customer had the same tier on the snapshot just before.
linked as (
    select
        h.*,
        lag(h.as_of_date) over w = sd.previous_snapshot as after_previous,
        lag(h.tier) over w as tier_before
    from history h
    join snapshot_dates sd using (as_of_date)
    window w as (partition by h.customer_id order by h.as_of_date)
),

islands as (
    select
        *,
        sum(case when after_previous and tier_before = tier then 0 else 1 end)
            over (partition by customer_id order by as_of_date) as island
    from linked
),

island_starts as (
    select
        *,
        case when is_seed then tier_since else as_of_date end as start_since,
        case when is_seed then previous_tier when after_previous then tier_before end as start_previous
    from islands
),

carried as (
    select
        as_of_date,
        customer_id,
        first_value(start_previous) over island as previous_tier,
        first_value(start_since) over island as tier_since
    from island_starts
    window island as (partition by customer_id, island order by as_of_date)
    qualify not is_seed
),

final as (
    select
        s.as_of_date,
        s.customer_id,
        (s.balance_points_today + s.transaction_points_today + s.card_points_today)::bigint as points_earned_today,
        s.balance_points_today,
        s.transaction_points_today,
        s.card_points_today,
        s.points_balance,
        s.points_expiring_soon,
        s.qualifying_points,
        $tier_names[s.tier_index] as tier,
        c.previous_tier,
        c.tier_since,
        $tier_names[s.tier_index + 1] as next_tier,
        ($tier_min_points[s.tier_index + 1] - s.qualifying_points)::bigint as points_to_next_tier,
        $tier_perks[s.tier_index]::varchar[] as perks
    from tiered s
    join carried c using (as_of_date, customer_id)
)

select * from final
