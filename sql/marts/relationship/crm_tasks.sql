-- One row per open task a relationship manager should act on, on $as_of_date: the date's candidates
-- (temp table crm_task_candidates, sql/int/relationship/int_crm_task_candidates.sql) after the
-- carry-over from the previous list ($previous_date of temp table crm_task_lists) and the per-RM cap.
-- This is the one step of crm_tasks that runs date by date (pipelines/relationship/crm_tasks.py,
-- with the measurement against a recursive CTE): which tasks a capped RM keeps depends on the
-- previous night's list, not on any input.
-- task_id hashes kind and customer (and the occasion of a greeting, e.g. 'birthday 2025', or of a
-- loyalty event, e.g. 'gold since 2025-03-31'): the same task next night keeps its id (the CRM
-- updates it); created_date and due_date carry over from the previous list, and an escalation to a
-- higher priority can only bring the due date forward.
with

previous_tasks as (
    select task_id, kind, customer_id, occasion, created_date, due_date
    from crm_task_lists
    where as_of_date = $previous_date
),

candidates as (
    select *
    from crm_task_candidates
    where as_of_date = $as_of_date
),

-- Loyalty tasks are raised on the night of their event only, which leaves no state upstream to
-- raise them from again; so a loyalty task on the previous night's list stays until its due date,
-- unless an RM contact came after the night it was raised or its event no longer holds (the tier
-- changed again, the points fell below: no candidate).
open_loyalty_tasks as (
    select kind, customer_id, occasion, created_date
    from previous_tasks
    where kind in ('loyalty_tier_upgrade', 'points_expiry_reminder') and due_date >= $as_of_date
),

held as (
    select * exclude (needs_open, last_contact_date)
    from candidates
    where not needs_open
    union all by name
    select c.* exclude (needs_open, last_contact_date, occasion), o.occasion
    from candidates c
    join open_loyalty_tasks o
      on o.kind = c.kind and o.customer_id = c.customer_id and (c.occasion is null or o.occasion = c.occasion)
    where c.needs_open and (c.last_contact_date is null or c.last_contact_date <= o.created_date)
),

tasks as (
    select substr(sha256(concat_ws('|', kind, customer_id, occasion)), 1, 20) as task_id, *
    from held
),

-- The cap per RM: best priority, tasks already on the list, earliest due first.
capped as (
    select t.*, pt.task_id is not null as carried, pt.created_date as previous_created, pt.due_date as previous_due
    from tasks t
    left join previous_tasks pt using (task_id)
    qualify not t.capped
        or row_number() over (
            partition by t.rm_id, t.capped
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
