-- One row per date of [$date_from, $date_to], configured event and invited customer: the
-- customers most likely to take the event's product families (highest propensity among them),
-- marketing consent given, active, at least the event's min_probability, at most per_branch_cap
-- per branch and date (best first).
with

events as (
    select unnest($events, recursive := false) as e
),

event_families as (
    select e.name as event_name, unnest(e.families) as product_family, e.per_branch_cap, e.min_probability
    from events
),

propensity as (
    select as_of_date, customer_id, product_family, probability, model_version, reasons
    from customer_propensity
    where as_of_date between $date_from and $date_to
),

customer_day as (
    select as_of_date, customer_id, status, marketing_consent, branch_id, rm_id
    from int_customer_day
    where as_of_date between $date_from and $date_to
),

best_family as (
    select
        p.as_of_date, ef.event_name, ef.per_branch_cap, ef.min_probability, p.customer_id, p.product_family,
        p.probability, p.model_version, p.reasons
    from event_families ef
    join propensity p using (product_family)
    qualify row_number() over (partition by p.as_of_date, ef.event_name, p.customer_id
                               order by p.probability desc, p.product_family) = 1
),

eligible as (
    select b.*, c.branch_id, c.rm_id
    from best_family b
    join customer_day c using (as_of_date, customer_id)
    where c.marketing_consent and c.status = 'active' and b.probability >= b.min_probability
),

ranked as (
    select
        *,
        row_number() over (partition by as_of_date, event_name, branch_id
                           order by probability desc, customer_id) as rank_in_branch
    from eligible
),

final as (
    select
        as_of_date,
        event_name,
        customer_id,
        branch_id,
        rm_id,
        product_family,
        probability,
        rank_in_branch,
        model_version,
        reasons::varchar[] as reasons
    from ranked
    where rank_in_branch <= per_branch_cap
)

select * from final
