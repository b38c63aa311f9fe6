-- The reporting-currency rate of each row in `_needs_rate`, valid for its business date: the
-- newest rate dated on or before the event day, as delivered on or before the business date.
create or replace temp table _rates as
with needed as (
    select * from _needs_rate
),

rates as (
    select * from stg_fx_rates
),

-- Only rates young enough to be used can win; an older newest rate fails the load either way.
days as (
    select
        _business_date as day,
        min(_event_day) - $fx_max_age_days::integer as oldest_usable,
        max(_event_day) as newest_needed
    from needed
    group by _business_date
),

-- A re-delivered rate replaces the earlier delivery from its business date on.
versions as (
    select
        currency,
        rate_date,
        rate_to_reporting as rate,
        business_date as valid_from,
        lead(business_date) over (partition by currency, rate_date order by business_date) as valid_until
    from rates
),

rates_by_day as (
    select days.day, versions.currency, versions.rate_date, versions.rate
    from days
    join versions
        on versions.valid_from <= days.day
        and (versions.valid_until is null or versions.valid_until > days.day)
        and versions.rate_date between days.oldest_usable and days.newest_needed
),

final as (
    select needed.*, rates_by_day.rate as _rate, rates_by_day.rate_date as _rate_date
    from needed
    asof left join rates_by_day
        on needed._business_date = rates_by_day.day
        and needed._currency = rates_by_day.currency
        and needed._event_day >= rates_by_day.rate_date
)

select * from final
