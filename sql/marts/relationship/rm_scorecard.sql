-- One row per business date in [$date_from, $date_to] and relationship manager (rules.md 绩效激励):
-- the book (active customers whose RM they are), its AUM and growth against the same customers' AUM
-- $aum_growth_days earlier (the latest customer_lifecycle snapshot on or before that day), contacts
-- made in the last $activity_days days against the customers whose cadence contact is due now,
-- offer tasks of the last $conversion_days days converted into an account of the offered family,
-- complaints, and the NPS of the book from each customer's latest answer in the last $nps_days days.
-- Point in time as the nightly query was: a customer, RM or product is its latest delivery on or
-- before the date (each delivery's last line, valid until the next delivery); a feedback or an
-- account is its latest version among those dated on or before the date (valid from its date
-- until a later version's); a measure over a look-back is each row expanded over the dates whose
-- window holds it.
with

business_dates as (
    select unnest(generate_series($date_from::date, $date_to::date, interval 1 day))::date as as_of_date
),

customer_rows as (
    select customer_id, business_date, rm_id, coalesce(status, 'active') as status, onboard_date
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

rm_rows as (
    select rm_id, business_date, branch_id, team, coalesce(status, 'active') as status
    from stg_relationship_managers
    where business_date <= $date_to
    qualify row_number() over (partition by rm_id, business_date order by _line desc) = 1
),

rms as (
    select d.as_of_date, r.rm_id, r.branch_id, r.team, r.status
    from (
        select *, coalesce(lead(business_date) over (partition by rm_id order by business_date) - 1,
                           $date_to::date) as valid_to
        from rm_rows
    ) r
    join business_dates d on d.as_of_date between r.business_date and r.valid_to
),

lifecycle_now as (
    select as_of_date, customer_id, aum, tier
    from customer_lifecycle
    where as_of_date between $date_from and $date_to
),

-- Each date's comparison snapshot: the latest lifecycle date on or before the date minus the window.
lifecycle_dates as (
    select distinct as_of_date
    from customer_lifecycle
    where as_of_date <= $date_to - $aum_growth_days::integer
      and as_of_date >= coalesce((select max(as_of_date) from customer_lifecycle
                                  where as_of_date <= $date_from - $aum_growth_days::integer), as_of_date)
),

then_dates as (
    select d.as_of_date, l.as_of_date as then_date
    from business_dates d
    asof join lifecycle_dates l on l.as_of_date <= d.as_of_date - $aum_growth_days::integer
),

lifecycle_then as (
    select t.as_of_date, l.customer_id, l.aum
    from then_dates t
    join customer_lifecycle l on l.as_of_date = t.then_date
),

contacts as (
    select customer_id, rm_id, interaction_ts::date as contact_date
    from stg_interactions
    where interaction_ts::date <= $date_to
      and list_contains($contact_kinds, kind)
      and not list_contains($uncounted_outcomes, coalesce(outcome, ''))
),

contact_dates as (
    select distinct customer_id, contact_date
    from contacts
),

feedback as (
    select customer_id, kind, score, status, feedback_ts, resolved_ts, feedback_ts::date as feedback_date,
           min(feedback_ts::date) over (partition by feedback_id order by business_date desc, _line desc
                                        rows between unbounded preceding and 1 preceding) as superseded_from
    from stg_feedback
    where feedback_ts::date <= $date_to
),

offer_days as (
    select distinct rm_id, customer_id, product_code, as_of_date
    from crm_tasks
    where kind = 'offer' and rm_id is not null
      and as_of_date between $date_from - $conversion_days::integer + 1 and $date_to
),

-- Consecutive offer days of a customer's product with an RM, so a date's first offer day in its
-- window is the later of the window's start and the first run reaching into it.
offer_runs as (
    select rm_id, customer_id, product_code, min(as_of_date) as run_from, max(as_of_date) as run_to
    from (select *, as_of_date - row_number() over (partition by rm_id, customer_id, product_code
                                                    order by as_of_date)::integer as run
          from offer_days)
    group by rm_id, customer_id, product_code, run
),

offer_tasks as (
    select as_of_date, rm_id, customer_id, product_code,
           min(greatest(run_from, as_of_date - $conversion_days::integer + 1)) as offered_date
    from (
        select unnest(generate_series(greatest(run_from, $date_from::date),
                                      least(run_to + $conversion_days::integer - 1, $date_to::date),
                                      interval 1 day))::date as as_of_date, *
        from offer_runs
    )
    group by as_of_date, rm_id, customer_id, product_code
),

product_rows as (
    select product_code, business_date, product_family
    from stg_products
    where business_date <= $date_to
    qualify row_number() over (partition by product_code, business_date order by _line desc) = 1
),

product_versions as (
    select product_code, product_family, business_date as valid_from,
           coalesce(lead(business_date) over (partition by product_code order by business_date) - 1,
                    $date_to::date) as valid_to,
           min(business_date) over (partition by product_code) as first_date
    from product_rows
),

-- An account row is a candidate opening from the day both it is open and its product is known.
account_rows as (
    select a.account_id, a.customer_id, a.product_code, a.open_date, a.business_date, a._line,
           greatest(a.open_date, p.first_date) as eligible_from
    from stg_accounts a
    join (select distinct product_code, first_date from product_versions) p using (product_code)
    where a.open_date <= $date_to
),

account_versions as (
    select *, min(eligible_from) over (partition by account_id order by business_date desc, _line desc
                                       rows between unbounded preceding and 1 preceding) as superseded_from
    from account_rows
),

openings as (
    select customer_id, product_family, open_date, valid_from, valid_to
    from (
        select a.customer_id, p.product_family, a.open_date,
               greatest(a.eligible_from, p.valid_from) as valid_from,
               least(coalesce(a.superseded_from - 1, $date_to::date), p.valid_to) as valid_to
        from account_versions a
        join product_versions p using (product_code)
    )
    where valid_from <= valid_to and valid_to >= $date_from
),

cadence as (
    select c.tier, c.days
    from (select unnest($cadence) as c)
),

book as (
    select d.as_of_date, s.customer_id, s.rm_id, s.onboard_date, l.aum, l.tier, t.aum as aum_then
    from business_dates d
    join customer_state s on d.as_of_date between s.valid_from and s.valid_to
    left join lifecycle_now l on l.as_of_date = d.as_of_date and l.customer_id = s.customer_id
    left join lifecycle_then t on t.as_of_date = d.as_of_date and t.customer_id = s.customer_id
    where s.status = 'active' and s.rm_id is not null
),

-- Logic: one aggregate per measure, each by date and rm_id.
book_totals as (
    select
        b.as_of_date,
        b.rm_id,
        count(*) as customers,
        sum(b.aum)::decimal(18, 2) as aum,
        sum(b.aum_then)::decimal(18, 2) as aum_previous,
        count(*) filter (where b.as_of_date - coalesce(lc.contact_date, b.onboard_date) >= k.days) as contacts_due
    from book b
    left join cadence k on k.tier = b.tier
    asof left join contact_dates lc on lc.customer_id = b.customer_id and lc.contact_date <= b.as_of_date
    group by b.as_of_date, b.rm_id
),

activity as (
    select as_of_date, rm_id, count(*) as contacts_made, count(distinct customer_id) as customers_contacted
    from (
        select unnest(generate_series(greatest(contact_date, $date_from::date),
                                      least(contact_date + $activity_days::integer - 1, $date_to::date),
                                      interval 1 day))::date as as_of_date, rm_id, customer_id
        from contacts
        where rm_id is not null and contact_date > $date_from - $activity_days::integer
    )
    group by as_of_date, rm_id
),

conversions as (
    select
        o.as_of_date,
        o.rm_id,
        count(*) as offers,
        count(*) filter (where exists (
            select 1 from openings x
            where x.customer_id = o.customer_id and x.product_family = p.product_family
              and x.open_date >= o.offered_date and o.as_of_date between x.valid_from and x.valid_to)) as offer_conversions
    from offer_tasks o
    left join product_versions p on p.product_code = o.product_code and o.as_of_date between p.valid_from and p.valid_to
    group by o.as_of_date, o.rm_id
),

-- A complaint counts on the dates it is recent or open (open: not resolved by then; a resolution
-- time wins over the status).
complaint_days as (
    select *,
           case when resolved_ts is not null then resolved_ts::date > as_of_date
                else coalesce(status, 'open') <> 'resolved' end as is_open
    from (
        select unnest(generate_series(
                   greatest(feedback_date, $date_from::date),
                   least(coalesce(superseded_from - 1, $date_to::date), $date_to::date,
                         case when resolved_ts is not null
                              then greatest(feedback_date + $activity_days::integer - 1, resolved_ts::date - 1)
                              when coalesce(status, 'open') = 'resolved'
                              then feedback_date + $activity_days::integer - 1
                              else $date_to::date end),
                   interval 1 day))::date as as_of_date, *
        from feedback
        where kind = 'complaint'
    )
),

complaints as (
    select
        b.as_of_date,
        b.rm_id,
        count(*) filter (where f.feedback_date > f.as_of_date - $activity_days::integer) as complaints,
        count(*) filter (where f.is_open) as open_complaints,
        count(*) filter (where f.is_open and f.feedback_date + $complaint_resolution_days::integer < f.as_of_date)
            as overdue_complaints
    from book b
    join complaint_days f using (as_of_date, customer_id)
    group by b.as_of_date, b.rm_id
),

nps_days as (
    select unnest(generate_series(greatest(feedback_date, $date_from::date),
                                  least(feedback_date + $nps_days::integer - 1, coalesce(superseded_from - 1, $date_to::date),
                                        $date_to::date),
                                  interval 1 day))::date as as_of_date,
           customer_id, score, feedback_ts
    from feedback
    where kind = 'nps' and score is not null
),

latest_nps as (
    select b.as_of_date, b.rm_id, f.customer_id, arg_max(f.score, f.feedback_ts) as score
    from book b
    join nps_days f using (as_of_date, customer_id)
    group by all
),

nps as (
    select
        as_of_date,
        rm_id,
        count(*) as nps_responses,
        count(*) filter (where score >= $promoter_min) as promoters,
        count(*) filter (where score <= $detractor_max) as detractors
    from latest_nps
    group by as_of_date, rm_id
),

rm_ids as (
    select as_of_date, rm_id from book_totals
    union
    select as_of_date, rm_id from rms where status = 'active'
),

final as (
    select
        i.as_of_date,
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
    left join rms r using (as_of_date, rm_id)
    left join book_totals t using (as_of_date, rm_id)
    left join activity a using (as_of_date, rm_id)
    left join conversions c using (as_of_date, rm_id)
    left join complaints q using (as_of_date, rm_id)
    left join nps n using (as_of_date, rm_id)
)

select * from final
