-- One row per (from_segment, to_segment) pair seen on $as_of_date: how many customers moved
-- from their segment in the previous snapshot to today's. A customer absent from the previous
-- snapshot (new, or the first snapshot ever) comes from $no_previous_segment.
with

customer_segments as (
    select customer_id, segment, previous_segment
    from customer_rfm
    where as_of_date = $as_of_date
),

moves as (
    select
        coalesce(previous_segment, $no_previous_segment) as from_segment,
        segment as to_segment,
        count(*) as customers
    from customer_segments
    group by all
),

final as (
    select
        $as_of_date as as_of_date,
        from_segment,
        to_segment,
        customers,
        customers / sum(customers) over (partition by from_segment) as share_of_from,
        from_segment = to_segment as stayed
    from moves
)

select * from final
