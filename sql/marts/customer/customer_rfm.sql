-- One row per business date in [$date_from, $date_to] and customer known on that date: recency,
-- frequency and monetary over the RFM window, r/f/m scores 1..$score_levels (higher is better)
-- over the date's scored base, the named segment, and the segment of the latest earlier
-- snapshot in this table (an earlier date of the range, or for the range's first date the
-- latest date before it in the table: the rows a date-by-date build would have read).
-- Scored base: customers with at least one counted transaction in the window; the rest are
-- $inactive_segment with no scores.
-- Quintile scores never split a tie: all customers with the same value get the score of the
-- midpoint of their tie group, p = (customers with a worse value + half the customers tied)
-- / base size, score = 1 + floor(levels * p). Exact integer arithmetic, so no float edge.
-- All customers equal -> p = 0.5 -> the middle score; one customer -> the middle score; fewer
-- customers than levels -> scores spread over 1..levels (2 customers: 2 and 4); none -> no rows.
with

business_dates as (
    select unnest(generate_series($date_from::date, $date_to::date, interval 1 day))::date as as_of_date
),

-- The base: every customer delivered on or before the date (as in int_customer_day).
first_deliveries as (
    select customer_id, min(business_date) as first_delivered
    from stg_customers
    where business_date <= $date_to
    group by customer_id
),

customers_known as (
    select d.as_of_date, f.customer_id
    from first_deliveries f
    join business_dates d on d.as_of_date >= f.first_delivered
),

activity as (
    select as_of_date, customer_id, recency_days, frequency, monetary_amount
    from int_customer_activity
    where as_of_date between $date_from and $date_to
),

-- Read only when M is AUM (rfm.monetary: aum).
customer_aum as (
    select as_of_date, customer_id, aum
    from int_customer_day
    where as_of_date between $date_from and $date_to and $monetary_basis = 'aum'
),

-- The latest date before the range in this table: the earlier snapshot of the range's first date.
seed as (
    select as_of_date, customer_id, segment
    from customer_rfm
    where as_of_date = (select max(as_of_date) from customer_rfm where as_of_date < $date_from)
),

segment_rules as (
    select
        unnest(generate_series(1, len($segment_grid))) as precedence,
        unnest($segment_grid) as rule
),

measured as (
    select
        k.as_of_date,
        k.customer_id,
        a.recency_days,
        coalesce(a.frequency, 0) as frequency,
        case when $monetary_basis = 'aum' then coalesce(m.aum, 0)
             else coalesce(a.monetary_amount, 0) end::decimal(18, 2) as monetary
    from customers_known k
    left join activity a on a.as_of_date = k.as_of_date and a.customer_id = k.customer_id
    left join customer_aum m on m.as_of_date = k.as_of_date and m.customer_id = k.customer_id
),

scored_base as (
    select * from measured where frequency > 0
),

base_size as (
    select as_of_date, count(*) as n from scored_base group by as_of_date
),

-- Each distinct value is scored once. "worse" counts the customers whose value ranks below the
-- value's tie group: more days since the last transaction, fewer transactions, less money.
recency_groups as (
    select
        as_of_date,
        recency_days as value,
        count(*) as tied,
        coalesce(sum(count(*)) over (partition by as_of_date order by recency_days desc
                                     rows between unbounded preceding and 1 preceding), 0) as worse
    from scored_base
    group by as_of_date, recency_days
),

frequency_groups as (
    select
        as_of_date,
        frequency as value,
        count(*) as tied,
        coalesce(sum(count(*)) over (partition by as_of_date order by frequency
                                     rows between unbounded preceding and 1 preceding), 0) as worse
    from scored_base
    group by as_of_date, frequency
),

monetary_groups as (
    select
        as_of_date,
        monetary as value,
        count(*) as tied,
        coalesce(sum(count(*)) over (partition by as_of_date order by monetary
                                     rows between unbounded preceding and 1 preceding), 0) as worse
    from scored_base
    group by as_of_date, monetary
),

recency_scores as (
    select
        g.as_of_date,
        g.value,
        case when $scoring = 'fixed'
             then 1 + len(list_filter($recency_cuts, lambda c: g.value <= c))
             else 1 + ($score_levels * (2 * g.worse + g.tied)) // (2 * b.n)
        end::bigint as score
    from recency_groups g
    join base_size b using (as_of_date)
),

frequency_scores as (
    select
        g.as_of_date,
        g.value,
        case when $scoring = 'fixed'
             then 1 + len(list_filter($frequency_cuts, lambda c: g.value >= c))
             else 1 + ($score_levels * (2 * g.worse + g.tied)) // (2 * b.n)
        end::bigint as score
    from frequency_groups g
    join base_size b using (as_of_date)
),

monetary_scores as (
    select
        g.as_of_date,
        g.value,
        case when $scoring = 'fixed'
             then 1 + len(list_filter($monetary_cuts, lambda c: g.value >= c))
             else 1 + ($score_levels * (2 * g.worse + g.tied)) // (2 * b.n)
        end::bigint as score
    from monetary_groups g
    join base_size b using (as_of_date)
),

-- Scores rise with the value (fall with recency_days), so the lowest value of each score places
-- every customer: score = 1 + the number of cut points s = 2..levels whose value the customer's
-- reaches, cut point s being the lowest value scoring s or more (the highest recency_days). A
-- customer is scored in place from these few cut points instead of being joined to its value.
recency_cuts as (
    select as_of_date, list(cut order by s) as cuts
    from (
        select g.as_of_date, t.s, max(g.value) filter (where g.score >= t.s) as cut
        from recency_scores g
        cross join range(2, $score_levels + 1) t(s)
        group by g.as_of_date, t.s
    )
    group by as_of_date
),

frequency_cuts as (
    select as_of_date, list(cut order by s) as cuts
    from (
        select g.as_of_date, t.s, min(g.value) filter (where g.score >= t.s) as cut
        from frequency_scores g
        cross join range(2, $score_levels + 1) t(s)
        group by g.as_of_date, t.s
    )
    group by as_of_date
),

monetary_cuts as (
    select as_of_date, list(cut order by s) as cuts
    from (
        select g.as_of_date, t.s, min(g.value) filter (where g.score >= t.s) as cut
        from monetary_scores g
        cross join range(2, $score_levels + 1) t(s)
        group by g.as_of_date, t.s
    )
    group by as_of_date
),

scores as (
    select
        d.as_of_date,
        d.customer_id,
        d.recency_days,
        d.frequency,
        d.monetary,
        d.frequency > 0 as scored,
        case when d.frequency > 0
             then 1 + len(list_filter(rc.cuts, lambda c: d.recency_days <= c)) end::bigint as r_score,
        case when d.frequency > 0
             then 1 + len(list_filter(fc.cuts, lambda c: d.frequency >= c)) end::bigint as f_score,
        case when d.frequency > 0
             then 1 + len(list_filter(mc.cuts, lambda c: d.monetary >= c)) end::bigint as m_score
    from measured d
    left join recency_cuts rc using (as_of_date)
    left join frequency_cuts fc using (as_of_date)
    left join monetary_cuts mc using (as_of_date)
),

-- The grid and the cell label resolved once per score cell (levels^3 cells), then joined by equality.
score_cells as (
    select r.range as r, f.range as f, m.range as m
    from range(1, $score_levels + 1) r, range(1, $score_levels + 1) f, range(1, $score_levels + 1) m
),

cell_segments as (
    select
        c.r, c.f, c.m,
        c.r::varchar || c.f::varchar || c.m::varchar as rfm_cell,
        arg_min(sr.rule.segment, sr.precedence) as segment
    from score_cells c
    join segment_rules sr
      on c.r between sr.rule.r_min and sr.rule.r_max
     and c.f between sr.rule.f_min and sr.rule.f_max
     and c.m between sr.rule.m_min and sr.rule.m_max
    group by c.r, c.f, c.m
),

segmented as materialized (
    select
        sc.as_of_date,
        sc.customer_id,
        case when sc.scored then sc.recency_days end as recency_days,
        sc.frequency,
        sc.monetary,
        sc.r_score,
        sc.f_score,
        sc.m_score,
        cs.rfm_cell,
        case when sc.scored then cs.segment else $inactive_segment end as segment
    from scores sc
    left join cell_segments cs on cs.r = sc.r_score and cs.f = sc.f_score and cs.m = sc.m_score
),

-- Each date's earlier snapshot: the previous date with rows, in the range or the seed's.
snapshot_dates as (
    select distinct as_of_date from segmented
    union
    select distinct as_of_date from seed
),

previous_dates as (
    select as_of_date, lag(as_of_date) over (order by as_of_date) as previous_date
    from snapshot_dates
),

snapshots as (
    select as_of_date, customer_id, segment from segmented
    union all
    select as_of_date, customer_id, segment from seed
),

final as (
    select
        s.as_of_date,
        s.customer_id,
        s.recency_days,
        s.frequency,
        s.monetary,
        s.r_score,
        s.f_score,
        s.m_score,
        s.rfm_cell,
        s.segment,
        e.segment as previous_segment
    from segmented s
    join previous_dates p using (as_of_date)
    left join snapshots e on e.as_of_date = p.previous_date and e.customer_id = s.customer_id
)

select * from final
