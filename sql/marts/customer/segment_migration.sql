-- One row per business date in [$date_from, $date_to] and (from_segment, to_segment) pair seen on
-- that date: how many customers moved from their segment in the previous snapshot to the date's.
-- A customer absent from the previous snapshot (new, or the first snapshot ever) comes from
-- $no_previous_segment.
with

customer_segments as (
    select as_of_date, customer_id, segment, previous_segment
    from customer_rfm
    where as_of_date between $date_from and $date_to
),

moves as (
    select
        as_of_date,
        coalesce(previous_segment, $no_previous_segment) as from_segment,
        segment as to_segment,
        count(*) as customers
    from customer_segments
    group by all
),

final as (
    select
        as_of_date,
        from_segment,
        to_segment,
        customers,
        customers / sum(customers) over (partition by as_of_date, from_segment) as share_of_from,
        from_segment = to_segment as stayed
    from moves
)

select * from final
