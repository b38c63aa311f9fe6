-- One row per observation date of $observation_dates and customer with an open credit exposure
-- on it and not already in default then: defaulted = some credit account of the customer reaches
-- $default_dpd days past due in the following $outcome_days days. Training only: this reads the
-- future of the observation date on purpose (the outcome), never the features.
with

observation_dates as (
    select unnest($observation_dates::date[]) as as_of_date
),

-- Loan performance is a monthly snapshot per credit account; a re-delivered month replaces.
performance as (
    select account_id, as_of_date as performance_date, days_past_due
    from stg_loan_performance
    where as_of_date > (select min(as_of_date) from observation_dates) - 45
      and as_of_date <= (select max(as_of_date) from observation_dates) + $outcome_days
    qualify row_number() over (partition by account_id, as_of_date order by business_date desc, _line desc) = 1
),

owners as (
    select account_id, customer_id
    from stg_accounts
    qualify row_number() over (partition by account_id order by business_date desc, _line desc) = 1
),

-- Only the months that decide: the last 45 days (status at observation) and the outcome window.
per_customer as (
    select
        d.as_of_date,
        o.customer_id,
        max(p.days_past_due) filter (where p.performance_date <= d.as_of_date) as dpd_at_observation,
        bool_or(p.days_past_due >= $default_dpd) filter (where p.performance_date > d.as_of_date) as defaulted
    from observation_dates d
    join performance p
        on p.performance_date > d.as_of_date - 45 and p.performance_date <= d.as_of_date + $outcome_days
    join owners o using (account_id)
    group by d.as_of_date, o.customer_id
),

final as (
    select as_of_date, customer_id, coalesce(defaulted, false) as defaulted
    from per_customer
    where dpd_at_observation is not null and dpd_at_observation < $default_dpd
)

select * from final
