-- Each account's currency as last delivered on or before the business date.
create or replace temp table _account_currency as
with accounts as (
    select * from stg_accounts where business_date <= $business_date
),

final as (
    select account_id, arg_max(currency, business_date) as currency
    from accounts
    group by account_id
)

select * from final
