-- One row per active customer and product family not held on $as_of_date that has an approved
-- model: calibrated probability of opening the family within the horizon, rank among the
-- customer's families (1 = most likely), decile within the family (10 = top), model version and
-- the top reasons (empty for rows outside sql/propensity/reason_rows.sql). The scores come from
-- the models (registered as propensity_scores_new).
with

scores as (
    select customer_id, product_family, probability, model_version, reasons
    from propensity_scores_new
),

ranked as (
    select
        *,
        row_number() over (partition by customer_id order by probability desc, product_family) as rank_in_customer,
        ntile(10) over (partition by product_family order by probability, customer_id) as decile
    from scores
),

final as (
    select
        $as_of_date as as_of_date,
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
