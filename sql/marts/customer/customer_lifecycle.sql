-- One row per customer known on $as_of_date: tenure, AUM and its tier, lifecycle stage with the
-- stage it came from and since when, and the recommended lifecycle action.
-- Stage precedence (first that holds): churned (customer closed, or every account closed) >
-- new (tenure below $new_tenure_days) > dormant (no counted transaction in the dormancy window)
-- > at_risk (activity or AUM down by $at_risk_drop or more over the trend window) > growing
-- (activity or AUM up by $growing_rise or more) > mature.
-- previous_stage / stage_since come from the latest earlier snapshot in this table, so a
-- backfill of a date equals the nightly run as long as dates are built in order.
with

customer_day as (
    select *
    from int_customer_day
    where as_of_date = $as_of_date
),

earlier_snapshot as (
    select customer_id, stage, previous_stage, stage_since
    from customer_lifecycle
    where as_of_date = (select max(as_of_date) from customer_lifecycle where as_of_date < $as_of_date)
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

staged as (
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

final as (
    select
        $as_of_date as as_of_date,
        s.customer_id,
        s.tenure_days,
        s.aum,
        s.tier,
        s.stage,
        case when e.stage = s.stage then e.previous_stage else e.stage end as previous_stage,
        case
            when e.stage = s.stage then e.stage_since
            -- First seen as new: the stage began when the customer was onboarded.
            when e.stage is null and s.stage = 'new' then s.onboard_date
            else $as_of_date
        end as stage_since,
        a.recommended_action
    from staged s
    left join earlier_snapshot e using (customer_id)
    left join stage_tier_actions a on a.stage = s.stage and a.tier = s.tier
)

select * from final
