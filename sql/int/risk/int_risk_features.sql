-- One row per customer known on a business date of [$date_from, $date_to] (delivered on or before
-- it), every $step_days days (1 nightly; the training's observation step for the PD model): the
-- point-in-time features of the risk score. Only rows delivered on or before the date
-- and describing days on or before it are read, so the features of a past observation date are
-- what a nightly run on that date saw (the PD model trains on exactly these). A customer without
-- a credit product has null credit features (a bin of their own in the scorecard).
-- Over the range: states are ASOF-joined (the latest row delivered by the date); windowed sums
-- and counts are running totals of +/- events on the day a row enters a date's window (its day,
-- or its delivery when later) and the day it leaves, ASOF-joined on a customer x date grid, so no
-- transaction or balance is repeated per date; the monthly loan performance (a dozen rows per
-- account and date at most) is expanded over the dates it is the current delivery for.
with

business_dates as (
    select unnest(generate_series($date_from::date, $date_to::date, to_days(cast($step_days as integer))))::date
        as as_of_date
),

-- The last line of each delivery wins, as in a per-date read.
customer_versions as (
    select customer_id, business_date, customer_type, onboard_date, annual_income
    from stg_customers
    where business_date <= $date_to
    qualify row_number() over (partition by customer_id, business_date order by _line desc) = 1
),

account_versions as (
    select account_id, business_date, customer_id, product_code, open_date, close_date, status, credit_limit
    from stg_accounts
    where business_date <= $date_to
    qualify row_number() over (partition by account_id, business_date order by _line desc) = 1
),

-- Products are a handful of rows: an interval join (each version until the next) plans better
-- than an ASOF join here.
product_versions as (
    select product_code, business_date as valid_from, product_family,
           coalesce(lead(business_date) over (partition by product_code order by business_date), 'infinity'::date)
               as valid_to
    from (select * from stg_products
          where business_date <= $date_to
          qualify row_number() over (partition by product_code, business_date order by _line desc) = 1)
),

-- Each grid row takes the latest version delivered by its date: versions and grid rows in one
-- order, a version before the grid rows of its day, carried forward (a forward fill plans as one
-- sort; an ASOF join from a derived grid is sometimes planned as a nested loop).
customer_state as (
    select as_of_date, customer_id, v.customer_type, v.onboard_date, v.annual_income
    from (
        select customer_id, as_of_date,
               last_value(version ignore nulls) over (partition by customer_id order by day, as_of_date nulls first
                                                      rows unbounded preceding) as v
        from (select customer_id, business_date as day, null::date as as_of_date,
                     struct_pack(customer_type, onboard_date, annual_income) as version
              from customer_versions
              union all
              select k.customer_id, d.as_of_date, d.as_of_date, null
              from (select customer_id, min(business_date) as known_from from customer_versions group by customer_id) k
              join business_dates d on d.as_of_date >= k.known_from)
    )
    where as_of_date is not null
),

account_dates as (
    select d.as_of_date, k.account_id
    from (select account_id, min(business_date) as known_from from account_versions group by account_id) k
    join business_dates d on d.as_of_date >= k.known_from
),

account_owned as (
    select as_of_date, account_id, v.customer_id, v.product_code, v.credit_limit,
           v.open_date <= as_of_date and coalesce(v.status, 'active') <> 'closed'
               and (v.close_date is null or v.close_date > as_of_date) as is_open
    from (
        select account_id, as_of_date,
               last_value(version ignore nulls) over (partition by account_id order by day, as_of_date nulls first
                                                      rows unbounded preceding) as v
        from (select account_id, business_date as day, null::date as as_of_date,
                     struct_pack(customer_id, product_code, open_date, close_date, status, credit_limit) as version
              from account_versions
              union all
              select account_id, as_of_date, as_of_date, null from account_dates)
    )
    where as_of_date is not null
),

account_state as (
    select a.*, p.product_family
    from account_owned a
    left join product_versions p
        on p.product_code = a.product_code and a.as_of_date >= p.valid_from and a.as_of_date < p.valid_to
),

credit_accounts as (
    select * from account_state where is_open and list_contains($credit_families, product_family)
),

-- Loan performance is a monthly snapshot per credit account; a re-delivered month replaces: each
-- delivery is the month's value from its business date until the next one, while the month is
-- in the delinquency window.
performance_versions as (
    select
        account_id, as_of_date as performance_date, business_date, days_past_due, outstanding,
        lead(business_date) over (partition by account_id, as_of_date order by business_date) as replaced_on
    from stg_loan_performance
    where business_date <= $date_to
      and as_of_date <= $date_to and as_of_date > $date_from - $delinquency_window_days
    qualify row_number() over (partition by account_id, as_of_date, business_date order by _line desc) = 1
),

performance_current as (
    select d.as_of_date, p.account_id, p.performance_date, p.days_past_due, p.outstanding
    from performance_versions p
    join business_dates d
        on d.as_of_date >= greatest(p.business_date, p.performance_date)
       and d.as_of_date <= least(coalesce(p.replaced_on - 1, $date_to::date),
                                 p.performance_date + $delinquency_window_days - 1)
),

delinquency as (
    select
        p.as_of_date,
        a.customer_id,
        max(p.days_past_due) as max_dpd_12m,
        count(distinct p.performance_date) filter (where p.days_past_due > 0) as months_delinquent_12m
    from performance_current p
    join account_state a using (as_of_date, account_id)
    group by p.as_of_date, a.customer_id
),

latest_performance as (
    select p.as_of_date, a.customer_id, max(p.days_past_due) as current_dpd, sum(p.outstanding) as outstanding
    from (select * from performance_current
          qualify row_number() over (partition by account_id, as_of_date order by performance_date desc) = 1) p
    join credit_accounts a using (as_of_date, account_id)
    group by p.as_of_date, a.customer_id
),

-- A balance row is in a date's window from the later of its day and its delivery, for
-- $behaviour_window_days days.
balance_rows as (
    select account_id, balance_date, balance, greatest(balance_date, business_date) as visible_from,
           balance::decimal(38, 2) * balance::decimal(38, 2) as square
    from stg_balances
    where business_date <= $date_to
      and balance_date <= $date_to and balance_date > $date_from - $behaviour_window_days
      and greatest(balance_date, business_date) < balance_date + $behaviour_window_days
),

-- The newest balance visible by each date (ties on its day: any, as arg_max), carried forward
-- onto the (account, date) grid; kept while it is in the window.
latest_balance as (
    select as_of_date, account_id, newest.balance
    from (
        select account_id, as_of_date,
               last_value(newest ignore nulls) over (partition by account_id order by day, as_of_date nulls first
                                                     rows unbounded preceding) as newest
        from (select account_id, visible_from as day, null::date as as_of_date,
                     struct_pack(balance_date := max(balance_date) over visible,
                                 balance := arg_max(balance, balance_date) over visible) as newest
              from balance_rows
              window visible as (partition by account_id order by visible_from)
              union all
              select account_id, as_of_date, as_of_date, null from account_dates)
    )
    where as_of_date is not null and newest.balance_date > as_of_date - $behaviour_window_days
),

balance_events as (
    select account_id, day, sum(n) as n, sum(x) as x, sum(xx) as xx
    from (select account_id, visible_from as day, 1 as n, balance as x, square as xx from balance_rows
          union all
          select account_id, balance_date + $behaviour_window_days, -1, -balance, -square from balance_rows)
    group by account_id, day
),

-- Running sums over the events, read on each (current account, date): grid rows carry no
-- amount and sort after the day's events, so their running sum is the date's window.
balance_moments as (
    select as_of_date, account_id, n, x, xx
    from (
        select
            account_id, as_of_date,
            sum(n) over by_day as n, sum(x) over by_day as x, sum(xx) over by_day as xx
        from (select account_id, day, null::date as as_of_date, n, x, xx from balance_events
              union all
              select account_id, as_of_date, as_of_date, 0, 0, 0
              from account_state
              where product_family = 'current_account')
        window by_day as (partition by account_id order by day, as_of_date nulls first rows unbounded preceding)
    )
    where as_of_date is not null
),

card_balances as (
    select a.as_of_date, a.customer_id, sum(greatest(-b.balance, 0)) as card_owed, sum(a.credit_limit) as card_limit
    from latest_balance b
    join credit_accounts a using (as_of_date, account_id)
    where a.product_family = 'credit_card' and a.credit_limit > 0
    group by a.as_of_date, a.customer_id
),

deposits as (
    select a.as_of_date, a.customer_id, sum(b.balance) as deposit_balance
    from latest_balance b
    join account_state a using (as_of_date, account_id)
    where a.is_open and list_contains($deposit_families, a.product_family)
    group by a.as_of_date, a.customer_id
),

-- Sample standard deviation over the current accounts' balance rows of the window, from the
-- row count, sum and sum of squares (exact in decimals; only the last step is floating).
deposit_volatility as (
    select
        as_of_date, customer_id,
        case when n > 1 then sqrt(greatest((n * xx - x * x)::double, 0) / (n * (n - 1))) end
            / nullif(abs(x::double / n), 0) as balance_volatility
    from (
        select a.as_of_date, a.customer_id, sum(m.n) as n, sum(m.x) as x, sum(m.xx) as xx
        from balance_moments m
        join account_state a using (as_of_date, account_id)
        group by a.as_of_date, a.customer_id
    )
    where n > 0
),

transactions_recent as (
    select customer_id, txn_day, greatest(txn_day, as_of_date) as visible_from, txn_type, direction, is_cash,
           amount_reporting
    from int_risk_transactions
    where as_of_date <= $date_to
      and txn_ts >= cast($date_from - $salary_window_days + 1 as timestamp)
      and txn_ts < cast($date_to + 1 as timestamp)
),

-- Salary months: a month counts while one of its salary credits is in the income window;
-- overlapping spans of one month merge so that it counts once.
salary_spans as (
    select customer_id, date_trunc('month', txn_day) as month, visible_from as span_from,
           txn_day + $income_window_days as span_to
    from transactions_recent
    where txn_type = 'salary' and visible_from < txn_day + $income_window_days
),

salary_islands as (
    select customer_id, month, span_from, span_to,
           coalesce(span_from > max(span_to) over earlier, true) as starts_island
    from salary_spans
    window earlier as (partition by customer_id, month order by span_from, span_to
                       rows between unbounded preceding and 1 preceding)
),

salary_month_spans as (
    select customer_id, min(span_from) as span_from, max(span_to) as span_to
    from (select *, sum(starts_island::int) over (partition by customer_id, month order by span_from, span_to
                                                  rows unbounded preceding) as island
          from salary_islands)
    group by customer_id, month, island
),

transaction_events as (
    select customer_id, day, sum(debit) as debit, sum(cash_debit) as cash_debit, sum(salary_credits) as salary_credits,
           sum(salary_months) as salary_months
    from (
        select customer_id, visible_from as day, amount_reporting as debit,
               case when is_cash then amount_reporting else 0 end as cash_debit, 0 as salary_credits, 0 as salary_months
        from transactions_recent
        where direction = 'debit' and visible_from < txn_day + $behaviour_window_days
        union all
        select customer_id, txn_day + $behaviour_window_days, -amount_reporting,
               case when is_cash then -amount_reporting else 0 end, 0, 0
        from transactions_recent
        where direction = 'debit' and visible_from < txn_day + $behaviour_window_days
        union all
        select customer_id, visible_from, 0, 0, 1, 0
        from transactions_recent
        where txn_type = 'salary' and visible_from < txn_day + $salary_window_days
        union all
        select customer_id, txn_day + $salary_window_days, 0, 0, -1, 0
        from transactions_recent
        where txn_type = 'salary' and visible_from < txn_day + $salary_window_days
        union all
        select customer_id, span_from, 0, 0, 0, 1 from salary_month_spans
        union all
        select customer_id, span_to, 0, 0, 0, -1 from salary_month_spans
    )
    group by customer_id, day
),

-- Running sums over the events, read on each (customer, date) as for the balances.
behaviour as (
    select
        as_of_date,
        customer_id,
        cash_debit / nullif(debit, 0) as cash_intensity,
        salary_months::bigint as salary_months,
        salary_credits_year::bigint as salary_credits_year
    from (
        select
            customer_id, as_of_date,
            sum(debit) over by_day as debit,
            sum(cash_debit) over by_day as cash_debit,
            sum(salary_credits) over by_day as salary_credits_year,
            sum(salary_months) over by_day as salary_months
        from (select customer_id, day, null::date as as_of_date, debit, cash_debit, salary_credits, salary_months
              from transaction_events
              union all
              select customer_id, as_of_date, as_of_date, 0, 0, 0, 0 from customer_state)
        window by_day as (partition by customer_id order by day, as_of_date nulls first rows unbounded preceding)
    )
    where as_of_date is not null
),

final as (
    select
        c.as_of_date,
        c.customer_id,
        c.customer_type,
        cr.customer_id is not null as has_credit,
        case when cr.customer_id is not null then coalesce(d.max_dpd_12m, 0) end::double as max_dpd_12m,
        case when cr.customer_id is not null then coalesce(d.months_delinquent_12m, 0) end::double
            as months_delinquent_12m,
        case when cr.customer_id is not null then coalesce(lp.current_dpd, 0) end::double as current_dpd,
        (cb.card_owed / cb.card_limit)::double as utilisation,
        -- Share of the months of the income window with a salary credit; null when no salary all year.
        case when b.salary_credits_year > 0
             then least(b.salary_months / ($income_window_days / 30.4), 1) end::double as income_stability,
        coalesce(b.cash_intensity, 0)::double as cash_intensity,
        dv.balance_volatility::double as balance_volatility,
        (lp.outstanding / nullif(c.annual_income, 0))::double as debt_to_income,
        coalesce(dep.deposit_balance, 0)::double as deposit_balance,
        (date_diff('day', c.onboard_date, c.as_of_date) / 365.25)::double as tenure_years
    from customer_state c
    left join (select distinct as_of_date, customer_id from credit_accounts) cr using (as_of_date, customer_id)
    left join delinquency d using (as_of_date, customer_id)
    left join latest_performance lp using (as_of_date, customer_id)
    left join card_balances cb using (as_of_date, customer_id)
    left join deposits dep using (as_of_date, customer_id)
    left join deposit_volatility dv using (as_of_date, customer_id)
    left join behaviour b using (as_of_date, customer_id)
)

select * from final
