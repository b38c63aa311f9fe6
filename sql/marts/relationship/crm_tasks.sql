-- One row per business date in [$date_from, $date_to] and open task a relationship manager should
-- act on: each date's candidates (temp table crm_task_candidates, built first by
-- sql/int/relationship/int_crm_task_candidates.sql) after the carry-over from the previous list
-- and the per-RM cap (rules.yaml crm_tasks).
-- task_id hashes kind and customer (and the occasion of a greeting, e.g. 'birthday 2025', or of a
-- loyalty event, e.g. 'gold since 2025-03-31'): the same task next night keeps its id (the CRM
-- updates it); created_date and due_date carry over from the previous list, and an escalation to a
-- higher priority can only bring the due date forward.
-- Which capped tasks an RM keeps depends on the previous night's list (tasks already on it win
-- ties), and so do the loyalty tasks that outlive their night: no closed form over the inputs, so
-- the lists are a recursive CTE, one date per step, seeded by this table's latest list before
-- $date_from ($previous_date). Measured on the golden warehouse (800 customers, 274 dates, shared
-- 2 cores): the recursion 8.3-10.2 s, a Python loop issuing the same step per date 10.1-11.1 s.
-- A date with no task passes the previous list on unchanged (ghost rows), as the latest earlier
-- list is the previous one.
with recursive

lists as (
    select * from (
        select $date_from::date - 1 as as_of_date, null::varchar as task_id, null::varchar as kind,
               null::varchar as customer_id, null::varchar as rm_id, null::varchar as priority,
               null::date as created_date, null::date as due_date, null::varchar as reason,
               null::varchar as occasion, null::varchar as product_code, null::varchar as status,
               false as ghost
        union all
        select $date_from::date - 1, task_id, kind, customer_id, rm_id, priority, created_date, due_date, reason,
               occasion, product_code, status, true
        from crm_tasks
        where as_of_date = $previous_date
    )
    union all
    select * from (
        with

        next_day as (
            select max(as_of_date) + 1 as as_of_date
            from lists
            having max(as_of_date) < $date_to
        ),

        previous_tasks as (
            select task_id, kind, customer_id, occasion, created_date, due_date
            from lists
            where task_id is not null
        ),

        candidates as (
            select c.*
            from crm_task_candidates c
            join next_day using (as_of_date)
        ),

        -- Loyalty tasks are raised on the night of their event only, which leaves no state upstream
        -- to raise them from again; so a loyalty task on the previous night's list stays until its
        -- due date, unless an RM contact came after the night it was raised or its event no longer
        -- holds (the tier changed again, the points fell below: no candidate).
        open_loyalty_tasks as (
            select kind, customer_id, occasion, created_date
            from previous_tasks
            where kind in ('loyalty_tier_upgrade', 'points_expiry_reminder')
              and due_date >= (select as_of_date from next_day)
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
            select t.*, pt.task_id is not null as carried, pt.created_date as previous_created,
                   pt.due_date as previous_due
            from tasks t
            left join previous_tasks pt using (task_id)
            qualify not t.capped
                or row_number() over (
                    partition by t.rm_id, t.capped
                    order by t.rank, (pt.task_id is not null) desc, t.new_due_date, t.task_id
                ) <= $max_tasks_per_rm
        ),

        day_list as (
            select
                as_of_date, task_id, kind, customer_id, rm_id, priority,
                coalesce(previous_created, as_of_date) as created_date,
                least(coalesce(previous_due, new_due_date), new_due_date) as due_date,
                reason, occasion, product_code,
                case when carried then 'open' else 'new' end as status,
                false as ghost
            from capped
        ),

        -- The date's marker row keeps the recursion going; ghost rows only when the list is empty.
        steps as (
            select * from day_list
            union all
            select d.as_of_date, null, null, null, null, null, null, null, null, null, null, null, false
            from next_day d
            union all
            select d.as_of_date, l.task_id, l.kind, l.customer_id, l.rm_id, l.priority, l.created_date, l.due_date,
                   l.reason, l.occasion, l.product_code, l.status, true
            from lists l, next_day d
            where l.task_id is not null
        )

        select *
        from steps
        qualify not ghost or count(*) filter (where task_id is not null and not ghost) over () = 0
    )
),

final as (
    select as_of_date, task_id, kind, customer_id, rm_id, priority, created_date, due_date, reason, occasion,
           product_code, status
    from lists
    where task_id is not null and not ghost and as_of_date >= $date_from
)

select * from final
