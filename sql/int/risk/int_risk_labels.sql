-- One row per customer with an open credit exposure on observation date $as_of_date and not
-- already in default then: defaulted = some credit account of the customer reaches
-- $default_dpd days past due in the following $outcome_days days. Training only: this reads the
-- future of $as_of_date on purpose (the outcome), never the features.
with

performance as (
    select account_id, as_of_date as performance_date, days_past_due
    from stg_loan_performance
    where as_of_date > $as_of_date - $delinquency_window_days and as_of_date <= $as_of_date + $outcome_days
    qualify row_number() over (partition by account_id, as_of_date order by business_date desc, _line desc) = 1
),

owners as (
    select account_id, customer_id
    from stg_accounts
    qualify row_number() over (partition by account_id order by business_date desc, _line desc) = 1
),

per_customer as (
    select
        o.customer_id,
        max(p.days_past_due) filter (where p.performance_date <= $as_of_date
                                        and p.performance_date > $as_of_date - 45) as dpd_at_observation,
        bool_or(p.days_past_due >= $default_dpd) filter (where p.performance_date > $as_of_date) as defaulted
    from performance p
    join owners o using (account_id)
    group by o.customer_id
),

final as (
    select $as_of_date as as_of_date, customer_id, coalesce(defaulted, false) as defaulted
    from per_customer
    where dpd_at_observation is not null and dpd_at_observation < $default_dpd
)

select * from final
