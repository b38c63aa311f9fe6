-- One row per date, active customer and product family not held that has an approved model on
-- that date: calibrated probability of opening the family within the horizon, rank among the
-- customer's families of the date (1 = most likely), decile within the family and date (10 = top),
-- model version and the top reasons (empty for rows outside sql/int/propensity/reason_rows.sql).
-- The scores of [$date_from, $date_to] come from the models (registered as propensity_scores_new).
with

scores as (
    select as_of_date, customer_id, product_family, probability, model_version, reasons
    from propensity_scores_new
    where as_of_date between $date_from and $date_to
),

ranked as (
    select
        *,
        row_number() over (partition by as_of_date, customer_id
                           order by probability desc, product_family) as rank_in_customer,
        ntile(10) over (partition by as_of_date, product_family order by probability, customer_id) as decile
    from scores
),

final as (
    select
        as_of_date,
        customer_id,
        product_family,
        probability,
        rank_in_customer,
        decile,
        model_version,
        coalesce(reasons, []::varchar[])::varchar[] as reasons
    from ranked
)

select * from final
