-- One row per open task a relationship manager should act on, on $as_of_date. Each kind is one
-- CTE of candidate tasks (customer_id, kind, priority, reason, occasion, product_code, fixed due
-- date) unioned in `candidates`; the rules of each kind are in rules.yaml crm_tasks and care.
-- task_id hashes kind and customer (and the occasion of a greeting, e.g. 'birthday 2025', or of a
-- loyalty event, e.g. 'gold since 2025-03-31'): the same task next night keeps its id (the CRM
-- updates it); created_date and due_date carry over from the previous snapshot, and an
-- escalation to a higher priority can only bring the due date forward. Birthdays are published as month-day only (outputs.md), never the birth date.
with

risk as (
    select customer_id, grade, score
    from customer_risk
    where as_of_date = $as_of_date
),

alerts as (
    select customer_id, alert_id, rule_id, severity
    from risk_alerts
    where as_of_date = $as_of_date
),

lifecycle as (
    select customer_id, tier, stage, stage_since, recommended_action
    from customer_lifecycle
    where as_of_date = $as_of_date
),

offers as (
    select customer_id, product_code, product_family, probability
    from next_best_offer
    where as_of_date = $as_of_date and product_code is not null
),

customer_state as (
    select customer_id, rm_id, coalesce(marketing_consent, false) as consent, coalesce(status, 'active') as status,
           customer_type, birth_date, onboard_date
    from stg_customers
    where business_date <= $as_of_date
    qualify row_number() over (partition by customer_id order by business_date desc, _line desc) = 1
),

contacts as (
    select customer_id, interaction_ts::date as contact_date
    from stg_interactions
    where interaction_ts::date <= $as_of_date
      and list_contains($contact_kinds, kind)
      and not list_contains($uncounted_outcomes, coalesce(outcome, ''))
),

complaints as (
    select customer_id, feedback_id, category, feedback_ts::date + $complaint_resolution_days::integer as deadline
    from stg_feedback
    where kind = 'complaint' and feedback_ts::date <= $as_of_date
    qualify row_number() over (partition by feedback_id order by business_date desc, _line desc) = 1
        -- open on the date: not resolved by then (a resolution time wins over the status).
        and case when resolved_ts is not null then resolved_ts::date > $as_of_date
                 else coalesce(status, 'open') <> 'resolved' end
),

festivals as (
    select f.name, f.festival_date
    from (select unnest($festivals::struct(name varchar, festival_date date)[]) as f)
    where f.festival_date between $as_of_date and $as_of_date + $festival_days_ahead::integer
),

loyalty as (
    select customer_id, tier, previous_tier, tier_since, perks, points_balance, points_expiring_soon
    from customer_loyalty
    where as_of_date = $as_of_date
),

-- The latest earlier snapshot, as customer_loyalty itself takes previous_tier from.
loyalty_before as (
    select customer_id, points_expiring_soon
    from customer_loyalty
    where as_of_date = (select max(as_of_date) from customer_loyalty where as_of_date < $as_of_date)
),

previous_tasks as (
    select task_id, kind, customer_id, occasion, created_date, due_date
    from crm_tasks
    where as_of_date = (select max(as_of_date) from crm_tasks where as_of_date < $as_of_date)
),

priorities as (
    select unnest(['high', 'medium', 'low']) as priority, unnest([1, 2, 3]) as rank
),

cadence as (
    select c.tier, c.days, c.priority
    from (select unnest($cadence) as c)
),

-- Risk review: a grade to review, or an open alert of a reviewed severity.
risk_review_reasons as (
    select customer_id, $grade_priority as priority, format('risk grade {} (score {})', grade, score) as reason
    from risk
    where list_contains($review_grades, grade)
    union all
    select customer_id, $alert_priority as priority, format('{} alert {} ({})', severity, rule_id, alert_id) as reason
    from alerts
    where list_contains($alert_severities, severity)
),

risk_review as (
    select
        r.customer_id,
        'risk_review' as kind,
        arg_min(r.priority, p.rank) as priority,
        string_agg(r.reason, '; ' order by p.rank, r.reason) as reason,
        null::varchar as occasion,
        null::varchar as product_code,
        null::date as fixed_due_date
    from risk_review_reasons r
    join priorities p using (priority)
    group by r.customer_id
),

-- Contact due: the tier's cadence has elapsed since the last counted RM contact (or onboarding).
last_contact as (
    select customer_id, max(contact_date) as last_contact_date
    from contacts
    group by customer_id
),

contact_due as (
    select
        s.customer_id,
        'contact_due' as kind,
        k.priority,
        case when lc.last_contact_date is null
             then format('no RM contact since onboarding {} ({} days; {} cadence {} days)',
                         s.onboard_date, $as_of_date - s.onboard_date, l.tier, k.days)
             else format('last RM contact {} ({} days ago; {} cadence {} days)',
                         lc.last_contact_date, $as_of_date - lc.last_contact_date, l.tier, k.days)
        end as reason,
        null::varchar as occasion,
        null::varchar as product_code,
        null::date as fixed_due_date
    from customer_state s
    join lifecycle l using (customer_id)
    join cadence k on k.tier = l.tier
    left join last_contact lc using (customer_id)
    where s.status = 'active'
      and $as_of_date - coalesce(lc.last_contact_date, s.onboard_date) >= k.days
),

-- Birthday greeting: the next birthday (29 Feb on 28 Feb in a common year) within the window.
birthday_next as (
    select customer_id, min(birthday) as birthday
    from (
        select s.customer_id,
               make_date(y, month(s.birth_date),
                         least(day(s.birth_date), day(last_day(make_date(y, month(s.birth_date), 1))))) as birthday
        from customer_state s, (select unnest([year($as_of_date), year($as_of_date) + 1]) as y)
        where s.status = 'active' and s.birth_date is not null
    )
    where birthday >= $as_of_date
    group by customer_id
),

birthday_greeting as (
    select
        customer_id,
        'birthday_greeting' as kind,
        $birthday_priority as priority,
        format('birthday on {}', strftime(birthday, '%m-%d')) as reason,
        format('birthday {}', year(birthday)) as occasion,
        null::varchar as product_code,
        birthday as fixed_due_date
    from birthday_next
    where birthday <= $as_of_date + $birthday_days_ahead::integer
),

festival_greeting as (
    select
        s.customer_id,
        'festival_greeting' as kind,
        $festival_priority as priority,
        format('{} on {}', f.name, f.festival_date) as reason,
        format('{} {}', f.name, year(f.festival_date)) as occasion,
        null::varchar as product_code,
        f.festival_date as fixed_due_date
    from customer_state s
    cross join festivals f
    where s.status = 'active'
),

-- Lifecycle action: the stage's action, from the day the customer entered the stage until an RM
-- contact on or after that day, for at most the configured window.
lifecycle_actions as (
    select a.action, a.priority
    from (select unnest($lifecycle_actions) as a)
),

lifecycle_action as (
    select
        l.customer_id,
        'lifecycle_action' as kind,
        a.priority,
        format('{}: {} since {}', l.recommended_action, l.stage, l.stage_since) as reason,
        null::varchar as occasion,
        null::varchar as product_code,
        null::date as fixed_due_date
    from lifecycle l
    join lifecycle_actions a on a.action = l.recommended_action
    where l.stage_since >= $as_of_date - $lifecycle_window_days::integer
      and not exists (select 1 from contacts c where c.customer_id = l.customer_id and c.contact_date >= l.stage_since)
),

offer as (
    select
        customer_id,
        'offer' as kind,
        $offer_priority as priority,
        format('offer {} ({}), propensity {}', product_code, product_family, round(probability, 3)) as reason,
        null::varchar as occasion,
        product_code,
        null::date as fixed_due_date
    from offers
    where probability >= $offer_min_probability
),

-- Complaint follow-up: open complaints, escalated past their resolution deadline.
complaint_follow_up as (
    select
        customer_id,
        'complaint_follow_up' as kind,
        case when count(*) filter (where deadline < $as_of_date) > 0 then $complaint_overdue_priority
             else $complaint_open_priority end as priority,
        format('{} open complaint(s), {} past the {}-day deadline: {}', count(*),
               count(*) filter (where deadline < $as_of_date), $complaint_resolution_days::integer,
               string_agg(distinct coalesce(category, 'uncategorised'), ', ' order by coalesce(category, 'uncategorised'))) as reason,
        null::varchar as occasion,
        null::varchar as product_code,
        case when count(*) filter (where deadline < $as_of_date) = 0 then min(deadline) end as fixed_due_date
    from complaints
    group by customer_id
),

-- Loyalty tasks are raised on the night of their event only (a tier rising, expiring points
-- reaching the minimum), which leaves no state upstream to raise them from again; so a loyalty task
-- on the previous night's list stays until its due date, unless an RM contact came after the night
-- it was raised or its event no longer holds (the tier changed again, the points fell below).
open_loyalty_tasks as (
    select pt.kind, pt.customer_id, pt.occasion
    from previous_tasks pt
    where pt.kind in ('loyalty_tier_upgrade', 'points_expiry_reminder')
      and pt.due_date >= $as_of_date
      and not exists (select 1 from contacts c
                      where c.customer_id = pt.customer_id and c.contact_date > pt.created_date)
),

-- Loyalty tier upgrade: tier_since is the date and the tier ranks above previous_tier in the order
-- of loyalty.tiers. A downgrade, an unchanged tier or a first snapshot (no previous tier) makes
-- none. The occasion names the tier and its first date: a later upgrade is another task.
tier_upgrades as (
    select l.*, format('{} since {}', l.tier, l.tier_since) as occasion,
           list_filter(l.perks, lambda p: not list_contains(
               $tier_perks[list_position($tier_names, l.previous_tier)], p)) as new_perks
    from loyalty l
    join customer_state s using (customer_id)
    where s.status = 'active' and l.previous_tier is not null
      and list_position($tier_names, l.tier) > list_position($tier_names, l.previous_tier)
),

loyalty_tier_upgrade as (
    select
        u.customer_id,
        'loyalty_tier_upgrade' as kind,
        $upgrade_priority as priority,
        format('loyalty tier up from {} to {} on {}; new perks: {}', u.previous_tier, u.tier, u.tier_since,
               case when len(u.new_perks) > 0 then array_to_string(u.new_perks, ', ') else 'none' end) as reason,
        u.occasion,
        null::varchar as product_code,
        null::date as fixed_due_date
    from tier_upgrades u
    where u.tier_since = $as_of_date
       or exists (select 1 from open_loyalty_tasks o
                  where o.kind = 'loyalty_tier_upgrade' and o.customer_id = u.customer_id and o.occasion = u.occasion)
),

-- Points expiry reminder, once per crossing: on the night the points expiring soon reach the
-- minimum while the customer's row of the latest earlier customer_loyalty snapshot was below it
-- or absent (a first snapshot counts as a crossing). The nights after, points still at or above
-- the minimum raise no second reminder: the same task stays (open_loyalty_tasks) until its due date.
-- Expiring points only fall when points expire, so a fall below and a new crossing is a new batch
-- of points, reminded as a new task (the occasion is the night of the crossing).
points_expiry as (
    select
        l.customer_id,
        l.points_expiring_soon,
        l.points_balance,
        b.customer_id is null or b.points_expiring_soon < $expiry_min_points as crossed,
        o.occasion as open_occasion
    from loyalty l
    join customer_state s using (customer_id)
    left join loyalty_before b using (customer_id)
    left join open_loyalty_tasks o on o.kind = 'points_expiry_reminder' and o.customer_id = l.customer_id
    where s.status = 'active' and l.points_expiring_soon >= $expiry_min_points
),

points_expiry_reminder as (
    select
        customer_id,
        'points_expiry_reminder' as kind,
        $expiry_priority as priority,
        format('{} points expiring within {} days (balance {})', points_expiring_soon,
               $expiring_soon_days::integer, points_balance) as reason,
        case when crossed then format('expiry reminder {}', $as_of_date) else open_occasion end as occasion,
        null::varchar as product_code,
        null::date as fixed_due_date
    from points_expiry
    where crossed or open_occasion is not null
),

candidates as (
    select * from risk_review
    union all select * from contact_due
    union all select * from birthday_greeting
    union all select * from festival_greeting
    union all select * from lifecycle_action
    union all select * from offer
    union all select * from complaint_follow_up
    union all select * from loyalty_tier_upgrade
    union all select * from points_expiry_reminder
),

due as (
    select d.priority, d.days
    from (select unnest($due_days) as d)
),

tasks as (
    select
        substr(sha256(concat_ws('|', c.kind, c.customer_id, c.occasion)), 1, 20) as task_id,
        c.*,
        cs.rm_id,
        p.rank,
        coalesce(c.fixed_due_date, $as_of_date + d.days::integer) as new_due_date
    from candidates c
    join due d using (priority)
    join priorities p using (priority)
    left join customer_state cs using (customer_id)
    where (not list_contains($consent_kinds, c.kind) or coalesce(cs.consent, false))
      and (not list_contains($rm_kinds, c.kind) or cs.rm_id is not null)
),

-- The cap per RM: best priority, tasks already on the list, earliest due first.
capped as (
    select t.*, pt.task_id is not null as carried, pt.created_date as previous_created, pt.due_date as previous_due
    from tasks t
    left join previous_tasks pt using (task_id)
    qualify not list_contains($capped_kinds, t.kind)
        or row_number() over (
            partition by t.rm_id, list_contains($capped_kinds, t.kind)
            order by t.rank, (pt.task_id is not null) desc, t.new_due_date, t.task_id
        ) <= $max_tasks_per_rm
),

final as (
    select
        $as_of_date as as_of_date,
        task_id,
        kind,
        customer_id,
        rm_id,
        priority,
        coalesce(previous_created, $as_of_date) as created_date,
        least(coalesce(previous_due, new_due_date), new_due_date) as due_date,
        reason,
        occasion,
        product_code,
        case when carried then 'open' else 'new' end as status
    from capped
)

select * from final
