-- One row per customer known on $as_of_date: recency, frequency and monetary over the RFM
-- window, r/f/m scores 1..$score_levels (higher is better) over the scored base, the named
-- segment, and the segment of the latest earlier snapshot in this table.
-- Scored base: customers with at least one counted transaction in the window; the rest are
-- $inactive_segment with no scores.
-- Quintile scores never split a tie: all customers with the same value get the score of the
-- midpoint of their tie group, p = (customers with a worse value + half the customers tied)
-- / base size, score = 1 + floor(levels * p). Exact integer arithmetic, so no float edge.
-- All customers equal -> p = 0.5 -> the middle score; one customer -> the middle score; fewer
-- customers than levels -> scores spread over 1..levels (2 customers: 2 and 4); none -> no rows.
with

-- The base: every customer delivered on or before the date (as in int_customer_day).
customers_known as (
    select distinct customer_id
    from stg_customers
    where business_date <= $as_of_date
),

activity as (
    select customer_id, recency_days, frequency, monetary_amount
    from int_customer_activity
    where as_of_date = $as_of_date
),

-- Read only when M is AUM (rfm.monetary: aum).
customer_aum as (
    select customer_id, aum
    from int_customer_day
    where as_of_date = $as_of_date and $monetary_basis = 'aum'
),

earlier_snapshot as (
    select customer_id, segment
    from customer_rfm
    where as_of_date = (select max(as_of_date) from customer_rfm where as_of_date < $as_of_date)
),

segment_rules as (
    select
        unnest(generate_series(1, len($segment_grid))) as precedence,
        unnest($segment_grid) as rule
),

measured as (
    select
        k.customer_id,
        a.recency_days,
        coalesce(a.frequency, 0) as frequency,
        case when $monetary_basis = 'aum' then coalesce(m.aum, 0)
             else coalesce(a.monetary_amount, 0) end::decimal(18, 2) as monetary
    from customers_known k
    left join activity a using (customer_id)
    left join customer_aum m using (customer_id)
),

scored_base as (
    select * from measured where frequency > 0
),

base_size as (
    select count(*) as n from scored_base
),

-- Each distinct value is scored once. "worse" counts the customers whose value ranks below the
-- value's tie group: more days since the last transaction, fewer transactions, less money.
recency_groups as (
    select
        recency_days as value,
        count(*) as tied,
        coalesce(sum(count(*)) over (order by recency_days desc
                                     rows between unbounded preceding and 1 preceding), 0) as worse
    from scored_base
    group by recency_days
),

frequency_groups as (
    select
        frequency as value,
        count(*) as tied,
        coalesce(sum(count(*)) over (order by frequency
                                     rows between unbounded preceding and 1 preceding), 0) as worse
    from scored_base
    group by frequency
),

monetary_groups as (
    select
        monetary as value,
        count(*) as tied,
        coalesce(sum(count(*)) over (order by monetary
                                     rows between unbounded preceding and 1 preceding), 0) as worse
    from scored_base
    group by monetary
),

recency_scores as (
    select
        g.value,
        case when $scoring = 'fixed'
             then 1 + len(list_filter($recency_cuts, lambda c: g.value <= c))
             else 1 + ($score_levels * (2 * g.worse + g.tied)) // (2 * b.n)
        end::bigint as score
    from recency_groups g
    cross join base_size b
),

frequency_scores as (
    select
        g.value,
        case when $scoring = 'fixed'
             then 1 + len(list_filter($frequency_cuts, lambda c: g.value >= c))
             else 1 + ($score_levels * (2 * g.worse + g.tied)) // (2 * b.n)
        end::bigint as score
    from frequency_groups g
    cross join base_size b
),

monetary_scores as (
    select
        g.value,
        case when $scoring = 'fixed'
             then 1 + len(list_filter($monetary_cuts, lambda c: g.value >= c))
             else 1 + ($score_levels * (2 * g.worse + g.tied)) // (2 * b.n)
        end::bigint as score
    from monetary_groups g
    cross join base_size b
),

-- Scores rise with the value (fall with recency_days), so the lowest value of each score places
-- every customer: score = 1 + the number of cut points s = 2..levels whose value the customer's
-- reaches, cut point s being the lowest value scoring s or more (the highest recency_days). A
-- customer is scored in place from these few cut points instead of being joined to its value.
recency_cuts as (
    select list((select max(value) from recency_scores where score >= s) order by s) as cuts
    from range(2, $score_levels + 1) t(s)
),

frequency_cuts as (
    select list((select min(value) from frequency_scores where score >= s) order by s) as cuts
    from range(2, $score_levels + 1) t(s)
),

monetary_cuts as (
    select list((select min(value) from monetary_scores where score >= s) order by s) as cuts
    from range(2, $score_levels + 1) t(s)
),

scores as (
    select
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
    cross join recency_cuts rc
    cross join frequency_cuts fc
    cross join monetary_cuts mc
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

final as (
    select
        $as_of_date as as_of_date,
        sc.customer_id,
        case when sc.scored then sc.recency_days end as recency_days,
        sc.frequency,
        sc.monetary,
        sc.r_score,
        sc.f_score,
        sc.m_score,
        cs.rfm_cell,
        case when sc.scored then cs.segment else $inactive_segment end as segment,
        e.segment as previous_segment
    from scores sc
    left join cell_segments cs on cs.r = sc.r_score and cs.f = sc.f_score and cs.m = sc.m_score
    left join earlier_snapshot e using (customer_id)
)

select * from final
