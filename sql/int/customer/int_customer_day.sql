-- One row per business date in [$date_from, $date_to] and customer known on that date: profile
-- (no direct identifiers), tenure, age band, open accounts by product family, AUM in the
-- reporting currency on the date and one trend window before, and counted-transaction activity
-- over the RFM, trend and dormancy windows (from int_customer_activity, built first for the
-- same dates).
-- Point in time: a date reads only rows delivered on or before it, so a backfill of a past date
-- gives what the nightly run gave.
--
-- Set-based over the range: a customer, account or product row holds from its delivery to the
-- day before the next delivery of the same key (the delivery's last line), joined to the dates
-- it covers. The latest balance (or rate) on or before D among the rows delivered by D is a
-- running arg_max over the day each row becomes visible, greatest(its date, its delivery),
-- looked up per date with an ASOF join; the trend base the same with its date shifted by the
-- trend window.
with

business_dates as (
    select unnest(generate_series($date_from::date, $date_to::date, interval 1 day))::date as as_of_date
),

customer_versions as (
    select customer_id, customer_type, status, gender, city, branch_id, rm_id, risk_tolerance,
           marketing_consent, onboard_date, birth_date, business_date as valid_from,
           coalesce(lead(business_date) over (partition by customer_id order by business_date) - 1,
                    $date_to::date) as valid_to
    from stg_customers
    where business_date <= $date_to
    qualify row_number() over (partition by customer_id, business_date order by _line desc) = 1
),

account_versions as (
    select account_id, customer_id, product_code, open_date, close_date, status, currency,
           business_date as valid_from,
           coalesce(lead(business_date) over (partition by account_id order by business_date) - 1,
                    $date_to::date) as valid_to
    from stg_accounts
    where business_date <= $date_to
    qualify row_number() over (partition by account_id, business_date order by _line desc) = 1
),

product_versions as (
    select product_code, product_family, business_date as valid_from,
           coalesce(lead(business_date) over (partition by product_code order by business_date) - 1,
                    $date_to::date) as valid_to
    from stg_products
    where business_date <= $date_to
    qualify row_number() over (partition by product_code, business_date order by _line desc) = 1
),

-- delivery_order ranks rows by balance date, then delivery (business date, line): one hugeint.
balances_delivered as (
    select
        account_id, balance_date, business_date, balance, amount_reporting,
        (date_diff('day', date '1900-01-01', balance_date)::hugeint << 64)
            + (date_diff('day', date '1900-01-01', business_date)::hugeint << 32) + _line as delivery_order
    from stg_balances
    where business_date <= $date_to and balance_date <= $date_to
),

balance_now_changes as (
    select
        account_id, visible_from,
        arg_max(balance, delivery_order) over running as balance,
        arg_max(amount_reporting, delivery_order) over running as amount_reporting
    from (select account_id, greatest(balance_date, business_date) as visible_from, balance, amount_reporting,
                 delivery_order
          from balances_delivered)
    window running as (partition by account_id order by visible_from, delivery_order
                       rows between unbounded preceding and current row)
    qualify row_number() over (partition by account_id, visible_from order by delivery_order desc) = 1
),

balance_base_changes as (
    select
        account_id, visible_from,
        arg_max(balance, delivery_order) over running as balance,
        arg_max(amount_reporting, delivery_order) over running as amount_reporting
    from (select account_id, greatest(balance_date + $trend_window_days, business_date) as visible_from, balance,
                 amount_reporting, delivery_order
          from balances_delivered)
    window running as (partition by account_id order by visible_from, delivery_order
                       rows between unbounded preceding and current row)
    qualify row_number() over (partition by account_id, visible_from order by delivery_order desc) = 1
),

fx_delivered as (
    select currency, rate_to_reporting, {'d': rate_date, 'b': business_date} as rate_order,
           greatest(rate_date, business_date) as now_from,
           greatest(rate_date + $trend_window_days, business_date) as base_from
    from stg_fx_rates
    where business_date <= $date_to and rate_date <= $date_to
),

fx_now_changes as (
    select currency, now_from as visible_from,
           arg_max(rate_to_reporting, rate_order) over (partition by currency order by now_from, rate_order
                                                        rows between unbounded preceding and current row) as rate
    from fx_delivered
    qualify row_number() over (partition by currency, now_from order by rate_order desc) = 1
),

fx_base_changes as (
    select currency, base_from as visible_from,
           arg_max(rate_to_reporting, rate_order) over (partition by currency order by base_from, rate_order
                                                        rows between unbounded preceding and current row) as rate
    from fx_delivered
    qualify row_number() over (partition by currency, base_from order by rate_order desc) = 1
),

activity as (
    select as_of_date, customer_id, last_txn_day, recency_days, frequency, monetary_amount, txn_count_recent,
           txn_count_prior, txn_count_dormancy
    from int_customer_activity
    where as_of_date between $date_from and $date_to
),

customer_state as (
    select d.as_of_date, c.*
    from customer_versions c
    join business_dates d on d.as_of_date between c.valid_from and c.valid_to
),

account_state as (
    select d.as_of_date, a.*
    from account_versions a
    join business_dates d on d.as_of_date between a.valid_from and a.valid_to
),

accounts as (
    select
        a.as_of_date,
        a.account_id,
        a.customer_id,
        coalesce(a.currency, $reporting_currency) as currency,
        p.product_family,
        a.open_date <= a.as_of_date
            and coalesce(a.status, 'active') <> 'closed'
            and (a.close_date is null or a.close_date > a.as_of_date) as is_open,
        -- A closed status without a close date cannot be placed in time: it counts as open then.
        a.open_date <= a.as_of_date - $trend_window_days
            and (a.close_date is null or a.close_date > a.as_of_date - $trend_window_days) as was_open_at_trend_base,
        coalesce(list_contains($aum_families, p.product_family), false) as counts_for_aum
    from account_state a
    left join product_versions p
      on p.product_code = a.product_code and a.as_of_date between p.valid_from and p.valid_to
),

-- A carried-forward foreign balance is revalued at the newest rate on or before each date; the
-- rate of its own balance date (ingestion guaranteed one) is the fallback, never 1.0.
account_balances as (
    select
        a.*,
        -- decimal(18,2) again after conversion: sums stay on 64-bit decimals.
        case when a.currency = $reporting_currency then bn.balance
             else coalesce(round(bn.balance * fn.rate, 2), bn.amount_reporting) end::decimal(18, 2) as balance_now_cny,
        case when a.currency = $reporting_currency then bb.balance
             else coalesce(round(bb.balance * fb.rate, 2), bb.amount_reporting) end::decimal(18, 2) as balance_base_cny
    from accounts a
    asof left join balance_now_changes bn on bn.account_id = a.account_id and a.as_of_date >= bn.visible_from
    asof left join balance_base_changes bb on bb.account_id = a.account_id and a.as_of_date >= bb.visible_from
    asof left join fx_now_changes fn on fn.currency = a.currency and a.as_of_date >= fn.visible_from
    asof left join fx_base_changes fb on fb.currency = a.currency and a.as_of_date >= fb.visible_from
),

holdings as (
    select
        as_of_date,
        customer_id,
        count(*) as accounts_known,
        count(*) filter (where is_open) as accounts_open,
        count(*) filter (where is_open and product_family = 'current_account') as current_account_accounts,
        count(*) filter (where is_open and product_family = 'savings') as savings_accounts,
        count(*) filter (where is_open and product_family = 'time_deposit') as time_deposit_accounts,
        count(*) filter (where is_open and product_family = 'credit_card') as credit_card_accounts,
        count(*) filter (where is_open and product_family = 'consumer_loan') as consumer_loan_accounts,
        count(*) filter (where is_open and product_family = 'mortgage') as mortgage_accounts,
        count(*) filter (where is_open and product_family = 'business_loan') as business_loan_accounts,
        count(*) filter (where is_open and product_family = 'wealth_management') as wealth_management_accounts,
        count(*) filter (where is_open and product_family = 'fund') as fund_accounts,
        count(*) filter (where is_open and product_family = 'insurance') as insurance_accounts,
        count(*) filter (where is_open and product_family = 'private_banking') as private_banking_accounts,
        coalesce(sum(balance_now_cny) filter (where is_open and counts_for_aum), 0) as aum,
        coalesce(sum(balance_base_cny) filter (where was_open_at_trend_base and counts_for_aum), 0) as aum_trend_base
    from account_balances
    group by as_of_date, customer_id
),

customer_ages as (
    select
        *,
        year(as_of_date) - year(birth_date)
            - case when strftime(as_of_date, '%m%d') < strftime(birth_date, '%m%d') then 1 else 0 end as age
    from customer_state
),

customer_bands as (
    select
        *,
        case when age is not null then len(list_filter($age_band_edges, lambda e: age >= e)) end as band_index
    from customer_ages
),

final as (
    select
        c.as_of_date,
        c.customer_id,
        c.customer_type,
        coalesce(c.status, 'active') as status,
        c.gender,
        c.city,
        c.branch_id,
        c.rm_id,
        c.risk_tolerance,
        coalesce(c.marketing_consent, false) as marketing_consent,
        c.onboard_date,
        date_diff('day', c.onboard_date, c.as_of_date) as tenure_days,
        case
            when c.band_index is null then null
            when c.band_index = 0 then '<' || $age_band_edges[1]
            when c.band_index = len($age_band_edges) then $age_band_edges[c.band_index] || '+'
            else $age_band_edges[c.band_index] || '-' || ($age_band_edges[c.band_index + 1] - 1)
        end as age_band,
        coalesce(h.accounts_known, 0) as accounts_known,
        coalesce(h.accounts_open, 0) as accounts_open,
        coalesce(h.accounts_known, 0) > 0 and coalesce(h.accounts_open, 0) = 0 as all_accounts_closed,
        coalesce(h.current_account_accounts, 0) as current_account_accounts,
        coalesce(h.savings_accounts, 0) as savings_accounts,
        coalesce(h.time_deposit_accounts, 0) as time_deposit_accounts,
        coalesce(h.credit_card_accounts, 0) as credit_card_accounts,
        coalesce(h.consumer_loan_accounts, 0) as consumer_loan_accounts,
        coalesce(h.mortgage_accounts, 0) as mortgage_accounts,
        coalesce(h.business_loan_accounts, 0) as business_loan_accounts,
        coalesce(h.wealth_management_accounts, 0) as wealth_management_accounts,
        coalesce(h.fund_accounts, 0) as fund_accounts,
        coalesce(h.insurance_accounts, 0) as insurance_accounts,
        coalesce(h.private_banking_accounts, 0) as private_banking_accounts,
        -- Derived from the counts: a list aggregate per customer is several times slower.
        list_sort(list_filter([
            case when h.current_account_accounts > 0 then 'current_account' end,
            case when h.savings_accounts > 0 then 'savings' end,
            case when h.time_deposit_accounts > 0 then 'time_deposit' end,
            case when h.credit_card_accounts > 0 then 'credit_card' end,
            case when h.consumer_loan_accounts > 0 then 'consumer_loan' end,
            case when h.mortgage_accounts > 0 then 'mortgage' end,
            case when h.business_loan_accounts > 0 then 'business_loan' end,
            case when h.wealth_management_accounts > 0 then 'wealth_management' end,
            case when h.fund_accounts > 0 then 'fund' end,
            case when h.insurance_accounts > 0 then 'insurance' end,
            case when h.private_banking_accounts > 0 then 'private_banking' end
        ], lambda f: f is not null))::varchar[] as held_families,
        coalesce(h.aum, 0)::decimal(18, 2) as aum,
        coalesce(h.aum_trend_base, 0)::decimal(18, 2) as aum_trend_base,
        act.last_txn_day,
        act.recency_days,
        coalesce(act.frequency, 0) as frequency,
        coalesce(act.monetary_amount, 0)::decimal(18, 2) as monetary_amount,
        coalesce(act.txn_count_recent, 0) as txn_count_recent,
        coalesce(act.txn_count_prior, 0) as txn_count_prior,
        coalesce(act.txn_count_dormancy, 0) as txn_count_dormancy
    from customer_bands c
    left join holdings h on h.as_of_date = c.as_of_date and h.customer_id = c.customer_id
    left join activity act on act.as_of_date = c.as_of_date and act.customer_id = c.customer_id
)

select * from final
