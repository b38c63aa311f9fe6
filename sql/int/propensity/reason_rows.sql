-- One row per date of [$date_from, $date_to], customer and product family whose reasons a person
-- reads: the customer's $reason_ranks most likely families, the next best offer, pre-approved
-- offers and event invitations. Reasons are computed for these rows only; the other
-- customer_propensity rows carry an empty list.
with

top_families as (
    select as_of_date, customer_id, product_family
    from customer_propensity
    where as_of_date between $date_from and $date_to and rank_in_customer <= $reason_ranks
),

offers as (
    select as_of_date, customer_id, product_family
    from next_best_offer
    where as_of_date between $date_from and $date_to and product_code is not null
),

preapproved as (
    select as_of_date, customer_id, product_family
    from preapproved_offers
    where as_of_date between $date_from and $date_to
),

invited as (
    select as_of_date, customer_id, product_family
    from event_invitations
    where as_of_date between $date_from and $date_to
),

final as (
    select * from top_families
    union
    select * from offers
    union
    select * from preapproved
    union
    select * from invited
)

select * from final
