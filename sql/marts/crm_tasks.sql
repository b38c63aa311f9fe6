-- One row per open task a relationship manager should act on, on $as_of_date. Each kind is one
-- CTE of candidate tasks (customer_id, kind, priority, reason) unioned in `candidates`; a new
-- kind (contact due, birthday, offer, complaint follow-up) adds its CTE there.
-- task_id hashes kind and customer: the same task next night keeps its id (the CRM updates
-- it); created_date and due_date carry over from the previous snapshot, and an escalation to a
-- higher priority can only bring the due date forward.
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

customer_state as (
    select customer_id, rm_id
    from stg_customers
    where business_date <= $as_of_date
    qualify row_number() over (partition by customer_id order by business_date desc, _line desc) = 1
),

previous_tasks as (
    select task_id, created_date, due_date
    from crm_tasks
    where as_of_date = (select max(as_of_date) from crm_tasks where as_of_date < $as_of_date)
),

priorities as (
    select unnest(['high', 'medium', 'low']) as priority, unnest([1, 2, 3]) as rank
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
        string_agg(r.reason, '; ' order by p.rank, r.reason) as reason
    from risk_review_reasons r
    join priorities p using (priority)
    group by r.customer_id
),

candidates as (
    select * from risk_review
),

due as (
    select d.priority, d.days
    from (select unnest($due_days) as d)
),

final as (
    select
        $as_of_date as as_of_date,
        substr(sha256(concat_ws('|', c.kind, c.customer_id)), 1, 20) as task_id,
        c.kind,
        c.customer_id,
        cs.rm_id,
        c.priority,
        coalesce(pt.created_date, $as_of_date) as created_date,
        least(coalesce(pt.due_date, $as_of_date + d.days::integer), $as_of_date + d.days::integer) as due_date,
        c.reason,
        case when pt.task_id is null then 'new' else 'open' end as status
    from candidates c
    join due d using (priority)
    left join customer_state cs using (customer_id)
    left join previous_tasks pt on pt.task_id = substr(sha256(concat_ws('|', c.kind, c.customer_id)), 1, 20)
)

select * from final
