-- One row per date of [$date_from, $date_to] and customer with a propensity score on it: the best
-- eligible product, i.e. the product of the most likely family that the customer does not hold,
-- whose risk level is within the customer's assessed tolerance (适当性; unassessed: up to
-- $unassessed_max_risk_level), whose minimum amount the customer's AUM covers, offered only with
-- marketing consent; and every product ranked above it that was excluded, with why. No eligible
-- product: product_code is null. Products are as delivered on or before each date.
with

propensity as (
    select as_of_date, customer_id, product_family, probability, model_version, reasons
    from customer_propensity
    where as_of_date between $date_from and $date_to
),

customer_day as (
    select as_of_date, customer_id, status, risk_tolerance, marketing_consent, aum, held_families
    from int_customer_day
    where as_of_date between $date_from and $date_to
),

products_delivered as (
    select product_code, product_family, risk_level, min_balance, business_date, _line
    from stg_products
    where business_date <= $date_to
),

scored_dates as (
    select distinct as_of_date
    from propensity
),

-- The product catalogue is small: each scored date takes the latest delivered version of each product.
product_state as (
    select d.as_of_date, p.product_code, p.product_family, p.risk_level, coalesce(p.min_balance, 0) as min_balance
    from scored_dates d
    join products_delivered p on p.business_date <= d.as_of_date
    qualify row_number() over (partition by d.as_of_date, p.product_code
                               order by p.business_date desc, p._line desc) = 1
),

candidates as (
    select
        p.as_of_date,
        p.customer_id,
        p.product_family,
        p.probability,
        p.model_version,
        p.reasons,
        pr.product_code,
        pr.risk_level,
        pr.min_balance,
        c.marketing_consent,
        c.risk_tolerance,
        c.aum,
        coalesce(try_cast(substr(pr.risk_level, 2) as integer), 5) as product_risk,
        coalesce(try_cast(substr(c.risk_tolerance, 2) as integer), $unassessed_max_risk_level) as tolerance,
        list_contains(c.held_families, p.product_family) as already_held
    from propensity p
    join customer_day c using (as_of_date, customer_id)
    join product_state pr using (as_of_date, product_family)
),

judged as (
    select
        *,
        case
            when already_held then 'already held'
            when not marketing_consent then 'no marketing consent'
            when product_risk > tolerance then
                'risk ' || risk_level || ' above tolerance ' || coalesce(risk_tolerance, 'not assessed')
            when aum < min_balance then 'below minimum amount ' || min_balance::varchar
        end as exclusion,
        row_number() over (partition by as_of_date, customer_id
                           order by probability desc, product_risk, product_code) as candidate_rank
    from candidates
),

chosen as (
    select as_of_date, customer_id, min(candidate_rank) as chosen_rank, count(*) as eligible_products
    from judged
    where exclusion is null
    group by as_of_date, customer_id
),

customers as (
    select
        as_of_date,
        customer_id,
        bool_and(not marketing_consent) as no_consent,
        max(candidate_rank) as candidates
    from judged
    group by as_of_date, customer_id
),

excluded as (
    select
        j.as_of_date,
        j.customer_id,
        list(j.product_code || ' (' || j.product_family || '): ' || j.exclusion order by j.candidate_rank) as excluded
    from judged j
    left join chosen ch using (as_of_date, customer_id)
    where j.exclusion is not null and j.candidate_rank < coalesce(ch.chosen_rank, j.candidate_rank + 1)
    group by j.as_of_date, j.customer_id
),

final as (
    select
        cu.as_of_date,
        cu.customer_id,
        j.product_code,
        j.product_family,
        j.probability,
        j.model_version,
        coalesce(j.reasons, []::varchar[])::varchar[] as reasons,
        coalesce(ch.eligible_products, 0) as eligible_products,
        (case when cu.no_consent then ['all products: no marketing consent']
              else coalesce(ex.excluded, []) end)::varchar[] as excluded
    from customers cu
    left join chosen ch on ch.as_of_date = cu.as_of_date and ch.customer_id = cu.customer_id
    left join judged j on j.as_of_date = cu.as_of_date and j.customer_id = cu.customer_id
        and j.candidate_rank = ch.chosen_rank
    left join excluded ex on ex.as_of_date = cu.as_of_date and ex.customer_id = cu.customer_id
)

select * from final
