-- One row per sampled customer and training feature date: the features of that date and the
-- product families the customer opened an account of within $horizon_days after it.
-- Labels read accounts as delivered up to $label_as_of (the training date); every feature date
-- satisfies feature_date + horizon <= $label_as_of, so each label window is fully observed.
-- Sampling by a hash of the customer id keeps the cost per date bounded and reproducible.
with

features as (
    select *
    from int_features
    where list_contains($feature_dates, as_of_date)
),

accounts_delivered as (
    select account_id, customer_id, product_code, open_date, business_date, _line
    from stg_accounts
    where business_date <= $label_as_of
),

products_delivered as (
    select product_code, product_family, business_date, _line
    from stg_products
    where business_date <= $label_as_of
),

account_state as (
    select *
    from accounts_delivered
    qualify row_number() over (partition by account_id order by business_date desc, _line desc) = 1
),

product_state as (
    select product_code, product_family
    from products_delivered
    qualify row_number() over (partition by product_code order by business_date desc, _line desc) = 1
),

sampled as (
    select *
    from features
    qualify row_number() over (
        partition by as_of_date order by hash(customer_id || $sample_seed), customer_id) <= $max_rows_per_date
),

openings as (
    select s.as_of_date, s.customer_id, list_sort(list_distinct(list(p.product_family))) as opened_families
    from sampled s
    join account_state a on a.customer_id = s.customer_id
        and a.open_date > s.as_of_date and a.open_date <= s.as_of_date + $horizon_days
    join product_state p using (product_code)
    group by all
),

final as (
    select s.*, coalesce(o.opened_families, []::varchar[]) as opened_families
    from sampled s
    left join openings o using (as_of_date, customer_id)
)

select * from final order by as_of_date, customer_id
