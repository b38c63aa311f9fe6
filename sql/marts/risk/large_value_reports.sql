-- One row per customer, calendar day, large-value standard, direction and currency basis met
-- (PBOC Order [2016] No. 3, Art. 5): the day's transactions of that standard, summed across all
-- the customer's accounts, single or cumulative, compared inclusively (>=) with the threshold.
-- Days judged on each business date of [$date_from, $date_to]: every (customer, day) with a
-- transaction delivered on that date, over all its transactions delivered on or before it; a late
-- delivery re-issues the day's report under the same report_id. Credits and debits never net; CNY amounts cumulate against the RMB
-- threshold and foreign-currency amounts (USD equivalent) against the USD threshold.
with

thresholds as (
    select t.standard, t.basis, t.threshold
    from (select unnest($large_value_thresholds) as t)
),

delivered_days as (
    select distinct as_of_date as judged_on, customer_id, txn_day
    from int_risk_transactions
    where as_of_date between $date_from and $date_to
),

day_transactions as (
    select d.judged_on, t.*
    from delivered_days d
    join int_risk_transactions t
        on t.customer_id = d.customer_id and t.txn_day = d.txn_day and t.as_of_date <= d.judged_on
    where t.as_of_date <= $date_to
      and t.txn_day >= (select min(txn_day) from delivered_days)
),

classified as (
    select
        *,
        case
            when is_cash then 'cash'
            when not list_contains($transfer_txn_types, txn_type) then null
            when customer_type = 'business' then 'non_natural_transfer'
            when is_cross_border then 'natural_cross_border_transfer'
            else 'natural_domestic_transfer'
        end as standard,
        case when currency = $reporting_currency then 'CNY' else 'USD' end as basis,
        case when currency = $reporting_currency then amount else usd_amount end as basis_amount
    from day_transactions
),

sums as (
    select
        judged_on,
        customer_id,
        any_value(customer_type) as customer_type,
        txn_day,
        standard,
        direction,
        basis,
        sum(basis_amount) as total_amount,
        max(basis_amount) as largest_amount,
        sum(amount_reporting) as amount_reporting,
        count(*) as txn_count,
        list(distinct account_id order by account_id) as account_ids,
        list(txn_id order by txn_ts, txn_id) as txn_ids
    from classified
    where standard is not null and basis_amount is not null
    group by judged_on, customer_id, txn_day, standard, direction, basis
),

final as (
    select
        s.judged_on as as_of_date,
        substr(sha256(concat_ws('|', 'LVR', s.customer_id, s.txn_day, s.standard, s.direction, s.basis)), 1, 20)
            as report_id,
        s.customer_id,
        s.customer_type,
        s.txn_day as txn_date,
        s.standard,
        s.direction,
        s.basis as currency_basis,
        th.threshold::decimal(18, 2) as threshold,
        s.total_amount::decimal(18, 2) as total_amount,
        s.amount_reporting::decimal(18, 2) as amount_reporting,
        s.txn_count,
        case when s.largest_amount >= th.threshold then 'single' else 'cumulative' end as single_or_cumulative,
        s.txn_day < s.judged_on as late_delivery,
        s.account_ids,
        s.txn_ids
    from sums s
    join thresholds th on th.standard = s.standard and th.basis = s.basis
    where s.total_amount >= th.threshold
)

select * from final
