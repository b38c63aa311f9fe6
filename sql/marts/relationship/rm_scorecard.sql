-- One row per relationship manager on $as_of_date (rules.md 绩效激励): the book (active customers
-- whose RM they are), its AUM and growth against the same customers' AUM $aum_growth_days earlier
-- (the latest customer_lifecycle snapshot on or before that day), contacts made in the last
-- $activity_days days against the customers whose cadence contact is due now, offer tasks of the
-- last $conversion_days days converted into an account of the offered family, complaints, and the
-- NPS of the book from each customer's latest answer in the last $nps_days days.
with

customer_state as (
    select customer_id, rm_id, coalesce(status, 'active') as status, onboard_date
    from stg_customers
    where business_date <= $as_of_date
    qualify row_number() over (partition by customer_id order by business_date desc, _line desc) = 1
),

rms as (
    select rm_id, branch_id, team, coalesce(status, 'active') as status
    from stg_relationship_managers
    where business_date <= $as_of_date
    qualify row_number() over (partition by rm_id order by business_date desc, _line desc) = 1
),

lifecycle_now as (
    select customer_id, aum, tier
    from customer_lifecycle
    where as_of_date = $as_of_date
),

lifecycle_then as (
    select customer_id, aum
    from customer_lifecycle
    where as_of_date = (select max(as_of_date) from customer_lifecycle
                        where as_of_date <= $as_of_date - $aum_growth_days::integer)
),

contacts as (
    select customer_id, rm_id, interaction_ts::date as contact_date
    from stg_interactions
    where interaction_ts::date <= $as_of_date
      and list_contains($contact_kinds, kind)
      and not list_contains($uncounted_outcomes, coalesce(outcome, ''))
),

feedback as (
    select customer_id, kind, score, status, feedback_ts, resolved_ts
    from stg_feedback
    where feedback_ts::date <= $as_of_date
    qualify row_number() over (partition by feedback_id order by business_date desc, _line desc) = 1
),

offer_tasks as (
    select rm_id, customer_id, product_code, min(as_of_date) as offered_date
    from crm_tasks
    where kind = 'offer' and rm_id is not null
      and as_of_date between $as_of_date - $conversion_days::integer + 1 and $as_of_date
    group by all
),

products as (
    select product_code, product_family
    from stg_products
    where business_date <= $as_of_date
    qualify row_number() over (partition by product_code order by business_date desc, _line desc) = 1
),

openings as (
    select a.customer_id, p.product_family, a.open_date
    from stg_accounts a
    join products p using (product_code)
    where a.open_date <= $as_of_date
    qualify row_number() over (partition by a.account_id order by a.business_date desc, a._line desc) = 1
),

cadence as (
    select c.tier, c.days
    from (select unnest($cadence) as c)
),

book as (
    select s.customer_id, s.rm_id, s.onboard_date, l.aum, l.tier, t.aum as aum_then
    from customer_state s
    left join lifecycle_now l using (customer_id)
    left join lifecycle_then t using (customer_id)
    where s.status = 'active' and s.rm_id is not null
),

-- Logic: one aggregate per measure, each by rm_id.
book_totals as (
    select
        b.rm_id,
        count(*) as customers,
        sum(b.aum)::decimal(18, 2) as aum,
        sum(b.aum_then)::decimal(18, 2) as aum_previous,
        count(*) filter (where $as_of_date - coalesce(lc.last_contact_date, b.onboard_date) >= k.days) as contacts_due
    from book b
    left join cadence k on k.tier = b.tier
    left join (select customer_id, max(contact_date) as last_contact_date from contacts group by customer_id) lc
        using (customer_id)
    group by b.rm_id
),

activity as (
    select rm_id, count(*) as contacts_made, count(distinct customer_id) as customers_contacted
    from contacts
    where rm_id is not null and contact_date > $as_of_date - $activity_days::integer
    group by rm_id
),

conversions as (
    select
        o.rm_id,
        count(*) as offers,
        count(*) filter (where exists (
            select 1 from openings x
            where x.customer_id = o.customer_id and x.product_family = p.product_family
              and x.open_date >= o.offered_date)) as offer_conversions
    from offer_tasks o
    left join products p using (product_code)
    group by o.rm_id
),

complaints as (
    select
        b.rm_id,
        count(*) filter (where f.feedback_ts::date > $as_of_date - $activity_days::integer) as complaints,
        count(*) filter (where f.is_open) as open_complaints,
        count(*) filter (where f.is_open and f.feedback_ts::date + $complaint_resolution_days::integer < $as_of_date)
            as overdue_complaints
    from book b
    join (select *, case when resolved_ts is not null then resolved_ts::date > $as_of_date
                         else coalesce(status, 'open') <> 'resolved' end as is_open
          from feedback where kind = 'complaint') f using (customer_id)
    group by b.rm_id
),

latest_nps as (
    select b.rm_id, f.customer_id, arg_max(f.score, f.feedback_ts) as score
    from book b
    join feedback f using (customer_id)
    where f.kind = 'nps' and f.score is not null and f.feedback_ts::date > $as_of_date - $nps_days::integer
    group by all
),

nps as (
    select
        rm_id,
        count(*) as nps_responses,
        count(*) filter (where score >= $promoter_min) as promoters,
        count(*) filter (where score <= $detractor_max) as detractors
    from latest_nps
    group by rm_id
),

rm_ids as (
    select rm_id from book_totals
    union
    select rm_id from rms where status = 'active'
),

final as (
    select
        $as_of_date as as_of_date,
        i.rm_id,
        r.branch_id,
        r.team,
        coalesce(t.customers, 0) as customers,
        coalesce(t.aum, 0)::decimal(18, 2) as aum,
        t.aum_previous,
        case when t.aum_previous > 0 then round((t.aum - t.aum_previous) / t.aum_previous, 4)::double end as aum_growth,
        coalesce(a.contacts_made, 0) as contacts_made,
        coalesce(a.customers_contacted, 0) as customers_contacted,
        coalesce(t.contacts_due, 0) as contacts_due,
        coalesce(c.offers, 0) as offers,
        coalesce(c.offer_conversions, 0) as offer_conversions,
        case when c.offers > 0 then round(c.offer_conversions / c.offers, 4)::double end as conversion_rate,
        coalesce(q.complaints, 0) as complaints,
        coalesce(q.open_complaints, 0) as open_complaints,
        coalesce(q.overdue_complaints, 0) as overdue_complaints,
        coalesce(n.nps_responses, 0) as nps_responses,
        coalesce(n.promoters, 0) as promoters,
        coalesce(n.detractors, 0) as detractors,
        case when n.nps_responses > 0 then round(100.0 * (n.promoters - n.detractors) / n.nps_responses, 1)::double end as nps
    from rm_ids i
    left join rms r using (rm_id)
    left join book_totals t using (rm_id)
    left join activity a using (rm_id)
    left join conversions c using (rm_id)
    left join complaints q using (rm_id)
    left join nps n using (rm_id)
)

select * from final
