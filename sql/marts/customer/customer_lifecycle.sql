-- One row per business date in [$date_from, $date_to] and customer known on that date: tenure, AUM and its tier, lifecycle stage with the
-- stage it came from and since when, and the recommended lifecycle action.
-- Stage precedence (first that holds): churned (customer closed, or every account closed) >
-- new (tenure below $new_tenure_days) > dormant (no counted transaction in the dormancy window)
-- > at_risk (activity or AUM down by $at_risk_drop or more over the trend window) > growing
-- (activity or AUM up by $growing_rise or more) > mature.
-- previous_stage / stage_since come from the latest earlier snapshot in this table, so a
-- backfill of a date equals the nightly run as long as dates are built in order: within the
-- range the earlier snapshot is the previous date with rows, for its first date the latest
-- date before it in the table (the seed). A customer's run of one stage over consecutive
-- snapshots is one island: its first row decides previous_stage and stage_since for all of it
-- (the seed row's own values when the island starts at the seed).
with

customer_day as (
    select *
    from int_customer_day
    where as_of_date between $date_from and $date_to
),

seed as (
    select as_of_date, customer_id, stage, previous_stage, stage_since
    from customer_lifecycle
    where as_of_date = (select max(as_of_date) from customer_lifecycle where as_of_date < $date_from)
),

action_rules as (
    select
        unnest(generate_series(1, len($action_rules))) as precedence,
        unnest($action_rules) as rule
),

tiered as (
    select
        *,
        -- Tier bounds are inclusive lower bounds; a negative AUM (overdraft) is the lowest tier.
        $tier_names[greatest(1, len(list_filter($tier_min_aums, lambda t: aum >= t)))] as tier
    from customer_day
),

trends as (
    select
        *,
        txn_count_prior >= $trend_min_prior_txns as activity_judged,
        aum_trend_base >= $trend_min_prior_aum as aum_judged
    from tiered
),

staged as materialized (
    select
        *,
        case
            when status = 'closed' or all_accounts_closed then 'churned'
            when tenure_days < $new_tenure_days then 'new'
            when txn_count_dormancy = 0 then 'dormant'
            when (activity_judged and txn_count_recent <= (1 - $at_risk_drop) * txn_count_prior)
              or (aum_judged and aum <= (1 - $at_risk_drop) * aum_trend_base) then 'at_risk'
            when (activity_judged and txn_count_recent >= (1 + $growing_rise) * txn_count_prior)
              or (aum_judged and aum >= (1 + $growing_rise) * aum_trend_base) then 'growing'
            else 'mature'
        end as stage
    from trends
),

-- The action map resolved once per (stage, tier) pair present, then joined by equality.
stage_tier_actions as (
    select p.stage, p.tier, arg_min(ar.rule.action, ar.precedence) as recommended_action
    from (select distinct stage, tier from staged) p
    join action_rules ar
      on list_contains(ar.rule.stages, p.stage) and list_contains(ar.rule.tiers, p.tier)
    group by p.stage, p.tier
),

snapshot_dates as (
    select distinct as_of_date from staged
    union
    select distinct as_of_date from seed
),

previous_dates as (
    select as_of_date, lag(as_of_date) over (order by as_of_date) as previous_date
    from snapshot_dates
),

snapshots as (
    select as_of_date, customer_id, stage, onboard_date, false as is_seed, null::varchar as seed_previous_stage,
           null::date as seed_stage_since
    from staged
    union all
    select as_of_date, customer_id, stage, null, true, previous_stage, stage_since
    from seed
),

-- Present in the earlier snapshot: the customer's own previous row is that snapshot's.
ordered as (
    select
        s.*,
        lag(s.as_of_date) over by_customer is not distinct from p.previous_date
            and p.previous_date is not null as continues,
        lag(s.stage) over by_customer as earlier_stage
    from snapshots s
    join previous_dates p using (as_of_date)
    window by_customer as (partition by s.customer_id order by s.as_of_date)
),

islands as (
    select
        *,
        sum(case when continues and earlier_stage = stage then 0 else 1 end)
            over (partition by customer_id order by as_of_date rows between unbounded preceding and current row) as island
    from ordered
),

-- What the first row of an island sets: the seed keeps its own; a changed stage records the
-- stage it came from; a customer absent from the earlier snapshot has none, and a first-seen
-- new customer's stage began when onboarded.
island_starts as (
    select
        *,
        case when is_seed then seed_previous_stage
             when continues then earlier_stage end as start_previous_stage,
        case when is_seed then seed_stage_since
             when not continues and stage = 'new' then onboard_date
             else as_of_date end as start_stage_since
    from islands
),

history as (
    select
        as_of_date, customer_id, is_seed,
        first_value(start_previous_stage) over island_rows as previous_stage,
        first_value(start_stage_since) over island_rows as stage_since
    from island_starts
    window island_rows as (partition by customer_id, island order by as_of_date
                           rows between unbounded preceding and current row)
),

final as (
    select
        s.as_of_date,
        s.customer_id,
        s.tenure_days,
        s.aum,
        s.tier,
        s.stage,
        h.previous_stage,
        h.stage_since,
        a.recommended_action
    from staged s
    join history h on h.as_of_date = s.as_of_date and h.customer_id = s.customer_id and not h.is_seed
    left join stage_tier_actions a on a.stage = s.stage and a.tier = s.tier
)

select * from final
