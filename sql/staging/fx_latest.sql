-- The rate per currency and rate date as last delivered on or before the business date.
create or replace temp table _fx as
with rates as (
    select * from stg_fx_rates where business_date <= $business_date
),

final as (
    select rate_date, currency, arg_max(rate_to_reporting, business_date) as rate
    from rates
    group by rate_date, currency
)

select * from final
