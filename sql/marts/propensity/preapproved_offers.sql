-- One row per date of [$date_from, $date_to], customer and loan family pre-approved: a high loan
-- propensity (decile >= $preapproved_min_decile), marketing consent, an active customer with
-- salary credited in at least $min_salary_months of the salary window, no days past due in the
-- delinquency look-back, and spare repayment capacity: salary income x $income_share minus
-- existing loan repayments. The indicative limit is that monthly capacity x $term_months, rounded
-- down to $limit_step and capped at $max_limit; below $min_limit there is no offer.
with

propensity as (
    select as_of_date, customer_id, product_family, probability, decile, model_version, reasons
    from customer_propensity
    where as_of_date between $date_from and $date_to and list_contains($preapproved_families, product_family)
),

features as (
    select as_of_date, customer_id, salary_months, salary_monthly, loan_repayment_monthly, max_dpd
    from int_features
    where as_of_date between $date_from and $date_to
),

customer_day as (
    select as_of_date, customer_id, status, marketing_consent
    from int_customer_day
    where as_of_date between $date_from and $date_to
),

capacity as (
    select
        p.*,
        f.salary_months,
        f.salary_monthly,
        f.loan_repayment_monthly,
        f.max_dpd,
        c.status,
        c.marketing_consent,
        f.salary_monthly * $income_share - f.loan_repayment_monthly as spare_monthly
    from propensity p
    join features f using (as_of_date, customer_id)
    join customer_day c using (as_of_date, customer_id)
),

limits as (
    select
        *,
        least($max_limit, floor(spare_monthly * $term_months / $limit_step) * $limit_step) as indicative_limit
    from capacity
    where decile >= $preapproved_min_decile
      and marketing_consent
      and status = 'active'
      and salary_months >= $min_salary_months
      and max_dpd = 0
      and spare_monthly > 0
),

final as (
    select
        as_of_date,
        customer_id,
        product_family,
        probability,
        decile,
        round(salary_monthly, 2)::decimal(18, 2) as monthly_income,
        round(loan_repayment_monthly, 2)::decimal(18, 2) as monthly_repayments,
        round(spare_monthly, 2)::decimal(18, 2) as spare_monthly_capacity,
        indicative_limit::decimal(18, 2) as indicative_limit,
        model_version,
        reasons::varchar[] as reasons
    from limits
    where indicative_limit >= $min_limit
)

select * from final
