-- One row per business date in [$date_from, $date_to] and candidate task: every kind's candidates
-- (customer_id, kind, priority, reason, occasion, product_code, new due date), already restricted
-- to consent and RM (rules.yaml crm_tasks and care), before the per-RM cap. The cap and the
-- carry-over from the previous night's list run over these in sql/marts/relationship/crm_tasks.sql;
-- so do the loyalty tasks that only stay while an earlier night's task is open (needs_open: a tier
-- upgrade after its night, an expiry reminder with no new crossing, whose occasion is then the
-- open task's). Birthdays are published as month-day only (outputs.md).
with

business_dates as (
    select unnest(generate_series($date_from::date, $date_to::date, interval 1 day))::date as as_of_date
),

risk as (
    select as_of_date, customer_id, grade, score
    from customer_risk
    where as_of_date between $date_from and $date_to
),

alerts as (
    select as_of_date, customer_id, alert_id, rule_id, severity
    from risk_alerts
    where as_of_date between $date_from and $date_to
),

lifecycle as (
    select as_of_date, customer_id, tier, stage, stage_since, recommended_action
    from customer_lifecycle
    where as_of_date between $date_from and $date_to
),

offers as (
    select as_of_date, customer_id, product_code, product_family, probability
    from next_best_offer
    where as_of_date between $date_from and $date_to and product_code is not null
),

-- A customer's state on a date is the last line of their latest delivery on or before it: each
-- delivery date's last line, valid until the day before the next delivery.
customer_rows as (
    select customer_id, business_date, rm_id, coalesce(marketing_consent, false) as consent,
           coalesce(status, 'active') as status, customer_type, birth_date, onboard_date
    from stg_customers
    where business_date <= $date_to
    qualify row_number() over (partition by customer_id, business_date order by _line desc) = 1
),

customer_state as (
    select * from (
        select *, business_date as valid_from,
               coalesce(lead(business_date) over (partition by customer_id order by business_date) - 1,
                        $date_to::date) as valid_to
        from customer_rows
    )
    where valid_to >= $date_from
),

contacts as (
    select distinct customer_id, interaction_ts::date as contact_date
    from stg_interactions
    where interaction_ts::date <= $date_to
      and list_contains($contact_kinds, kind)
      and not list_contains($uncounted_outcomes, coalesce(outcome, ''))
),

-- A complaint's row on a date is its latest version among those dated on or before it: a version
-- serves from its feedback date until a later version's.
complaint_versions as (
    select customer_id, feedback_id, category, resolved_ts, status, feedback_ts::date as feedback_date,
           min(feedback_ts::date) over (partition by feedback_id order by business_date desc, _line desc
                                        rows between unbounded preceding and 1 preceding) as superseded_from
    from stg_feedback
    where kind = 'complaint' and feedback_ts::date <= $date_to
),

-- Open on the date: not resolved by then (a resolution time wins over the status).
complaints as (
    select d.as_of_date, c.customer_id, c.feedback_id, c.category,
           c.feedback_date + $complaint_resolution_days::integer as deadline
    from complaint_versions c
    join business_dates d
      on d.as_of_date >= c.feedback_date
     and (c.superseded_from is null or d.as_of_date < c.superseded_from)
    where case when c.resolved_ts is not null then c.resolved_ts::date > d.as_of_date
               else coalesce(c.status, 'open') <> 'resolved' end
),

festivals as (
    select d.as_of_date, f.name, f.festival_date
    from (select unnest($festivals::struct(name varchar, festival_date date)[]) as f)
    join business_dates d on f.festival_date between d.as_of_date and d.as_of_date + $festival_days_ahead::integer
),

loyalty as (
    select as_of_date, customer_id, tier, previous_tier, tier_since, perks, points_balance, points_expiring_soon
    from customer_loyalty
    where as_of_date between $date_from and $date_to
),

-- Each loyalty date with the latest earlier snapshot, as customer_loyalty takes previous_tier from.
loyalty_dates as (
    select as_of_date, lag(as_of_date) over (order by as_of_date) as previous_date
    from (select distinct as_of_date from customer_loyalty
          where as_of_date <= $date_to
            and as_of_date >= coalesce((select max(as_of_date) from customer_loyalty where as_of_date < $date_from),
                                       $date_from))
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
    select as_of_date, customer_id, $grade_priority as priority,
           format('risk grade {} (score {})', grade, score) as reason
    from risk
    where list_contains($review_grades, grade)
    union all
    select as_of_date, customer_id, $alert_priority as priority,
           format('{} alert {} ({})', severity, rule_id, alert_id) as reason
    from alerts
    where list_contains($alert_severities, severity)
),

risk_review as (
    select
        r.as_of_date,
        r.customer_id,
        'risk_review' as kind,
        arg_min(r.priority, p.rank) as priority,
        string_agg(r.reason, '; ' order by p.rank, r.reason) as reason,
        null::varchar as occasion,
        null::varchar as product_code,
        null::date as fixed_due_date
    from risk_review_reasons r
    join priorities p using (priority)
    group by r.as_of_date, r.customer_id
),

-- Contact due: the tier's cadence has elapsed since the last counted RM contact (or onboarding).
contact_due as (
    select
        l.as_of_date,
        s.customer_id,
        'contact_due' as kind,
        k.priority,
        case when lc.contact_date is null
             then format('no RM contact since onboarding {} ({} days; {} cadence {} days)',
                         s.onboard_date, l.as_of_date - s.onboard_date, l.tier, k.days)
             else format('last RM contact {} ({} days ago; {} cadence {} days)',
                         lc.contact_date, l.as_of_date - lc.contact_date, l.tier, k.days)
        end as reason,
        null::varchar as occasion,
        null::varchar as product_code,
        null::date as fixed_due_date
    from lifecycle l
    join customer_state s on s.customer_id = l.customer_id and l.as_of_date between s.valid_from and s.valid_to
    join cadence k on k.tier = l.tier
    asof left join contacts lc on lc.customer_id = l.customer_id and lc.contact_date <= l.as_of_date
    where s.status = 'active'
      and l.as_of_date - coalesce(lc.contact_date, s.onboard_date) >= k.days
),

-- Birthday greeting: the next birthday (29 Feb on 28 Feb in a common year) within the window,
-- on each of the window's dates the customer's state holds.
birthdays as (
    select s.customer_id, s.valid_from, s.valid_to,
           make_date(y, month(s.birth_date),
                     least(day(s.birth_date), day(last_day(make_date(y, month(s.birth_date), 1))))) as birthday
    from customer_state s, (select unnest(generate_series(year($date_from::date), year($date_to::date) + 1)) as y)
    where s.status = 'active' and s.birth_date is not null
),

birthday_next as (
    select as_of_date, customer_id, birthday
    from (
        select unnest(generate_series(birthday - $birthday_days_ahead::integer, birthday, interval 1 day))::date
                   as as_of_date,
               customer_id, valid_from, valid_to, birthday
        from birthdays
        where birthday >= $date_from and birthday - $birthday_days_ahead::integer <= $date_to
    )
    where as_of_date between $date_from and $date_to and as_of_date between valid_from and valid_to
    qualify row_number() over (partition by as_of_date, customer_id order by birthday) = 1
),

birthday_greeting as (
    select
        as_of_date,
        customer_id,
        'birthday_greeting' as kind,
        $birthday_priority as priority,
        format('birthday on {}', strftime(birthday, '%m-%d')) as reason,
        format('birthday {}', year(birthday)) as occasion,
        null::varchar as product_code,
        birthday as fixed_due_date
    from birthday_next
),

festival_greeting as (
    select
        f.as_of_date,
        s.customer_id,
        'festival_greeting' as kind,
        $festival_priority as priority,
        format('{} on {}', f.name, f.festival_date) as reason,
        format('{} {}', f.name, year(f.festival_date)) as occasion,
        null::varchar as product_code,
        f.festival_date as fixed_due_date
    from festivals f
    join customer_state s on f.as_of_date between s.valid_from and s.valid_to
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
        l.as_of_date,
        l.customer_id,
        'lifecycle_action' as kind,
        a.priority,
        format('{}: {} since {}', l.recommended_action, l.stage, l.stage_since) as reason,
        null::varchar as occasion,
        null::varchar as product_code,
        null::date as fixed_due_date
    from lifecycle l
    join lifecycle_actions a on a.action = l.recommended_action
    asof left join contacts c on c.customer_id = l.customer_id and c.contact_date <= l.as_of_date
    where l.stage_since >= l.as_of_date - $lifecycle_window_days::integer
      and (c.contact_date is null or c.contact_date < l.stage_since)
),

offer as (
    select
        as_of_date,
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
        as_of_date,
        customer_id,
        'complaint_follow_up' as kind,
        case when count(*) filter (where deadline < as_of_date) > 0 then $complaint_overdue_priority
             else $complaint_open_priority end as priority,
        format('{} open complaint(s), {} past the {}-day deadline: {}', count(*),
               count(*) filter (where deadline < as_of_date), $complaint_resolution_days::integer,
               string_agg(distinct coalesce(category, 'uncategorised'), ', ' order by coalesce(category, 'uncategorised'))) as reason,
        null::varchar as occasion,
        null::varchar as product_code,
        case when count(*) filter (where deadline < as_of_date) = 0 then min(deadline) end as fixed_due_date
    from complaints
    group by as_of_date, customer_id
),

-- Loyalty tier upgrade: tier_since is the date and the tier ranks above previous_tier in the order
-- of loyalty.tiers; after that night only while the night's task is open. A downgrade, an
-- unchanged tier or a first snapshot (no previous tier) makes none. The occasion names the tier
-- and its first date: a later upgrade is another task.
tier_upgrades as (
    select l.*, format('{} since {}', l.tier, l.tier_since) as occasion,
           list_filter(l.perks, lambda p: not list_contains(
               $tier_perks[list_position($tier_names, l.previous_tier)], p)) as new_perks
    from loyalty l
    join customer_state s on s.customer_id = l.customer_id and l.as_of_date between s.valid_from and s.valid_to
    where s.status = 'active' and l.previous_tier is not null
      and list_position($tier_names, l.tier) > list_position($tier_names, l.previous_tier)
),

loyalty_tier_upgrade as (
    select
        u.as_of_date,
        u.customer_id,
        'loyalty_tier_upgrade' as kind,
        $upgrade_priority as priority,
        format('loyalty tier up from {} to {} on {}; new perks: {}', u.previous_tier, u.tier, u.tier_since,
               case when len(u.new_perks) > 0 then array_to_string(u.new_perks, ', ') else 'none' end) as reason,
        u.occasion,
        null::varchar as product_code,
        null::date as fixed_due_date,
        u.tier_since <> u.as_of_date as needs_open
    from tier_upgrades u
),

-- Points expiry reminder, once per crossing: on the night the points expiring soon reach the
-- minimum while the customer's row of the latest earlier customer_loyalty snapshot was below it
-- or absent (a first snapshot counts as a crossing); the nights after, only while that task is
-- open (its occasion, the night of the crossing, is the open task's).
points_expiry_reminder as (
    select
        l.as_of_date,
        l.customer_id,
        'points_expiry_reminder' as kind,
        $expiry_priority as priority,
        format('{} points expiring within {} days (balance {})', l.points_expiring_soon,
               $expiring_soon_days::integer, l.points_balance) as reason,
        case when crossed then format('expiry reminder {}', l.as_of_date) end as occasion,
        null::varchar as product_code,
        null::date as fixed_due_date,
        not crossed as needs_open
    from (
        select l.*, b.customer_id is null or b.points_expiring_soon < $expiry_min_points as crossed
        from loyalty l
        join loyalty_dates ld using (as_of_date)
        left join customer_loyalty b on b.as_of_date = ld.previous_date and b.customer_id = l.customer_id
        where l.points_expiring_soon >= $expiry_min_points
    ) l
    join customer_state s on s.customer_id = l.customer_id and l.as_of_date between s.valid_from and s.valid_to
    where s.status = 'active'
),

candidates as (
    select *, false as needs_open from risk_review
    union all select *, false from contact_due
    union all select *, false from birthday_greeting
    union all select *, false from festival_greeting
    union all select *, false from lifecycle_action
    union all select *, false from offer
    union all select *, false from complaint_follow_up
    union all select * from loyalty_tier_upgrade
    union all select * from points_expiry_reminder
),

due as (
    select d.priority, d.days
    from (select unnest($due_days) as d)
),

-- An open loyalty task stays only while no RM contact came after the night it was raised: the
-- last contact up to the date is compared with the task's created_date there.
final as (
    select
        c.as_of_date,
        c.kind,
        c.customer_id,
        cs.rm_id,
        c.priority,
        p.rank,
        list_contains($capped_kinds, c.kind) as capped,
        c.reason,
        c.occasion,
        c.product_code,
        coalesce(c.fixed_due_date, c.as_of_date + d.days::integer) as new_due_date,
        c.needs_open,
        lc.contact_date as last_contact_date
    from candidates c
    join due d using (priority)
    join priorities p using (priority)
    left join customer_state cs on cs.customer_id = c.customer_id and c.as_of_date between cs.valid_from and cs.valid_to
    asof left join contacts lc on lc.customer_id = c.customer_id and lc.contact_date <= c.as_of_date
    where (not list_contains($consent_kinds, c.kind) or coalesce(cs.consent, false))
      and (not list_contains($rm_kinds, c.kind) or cs.rm_id is not null)
)

select * from final
