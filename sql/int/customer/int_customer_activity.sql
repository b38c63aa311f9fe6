-- One row per customer with a counted (customer-initiated) transaction in the longest activity
-- window up to $as_of_date: the last such day in the RFM window, frequency and amount over the
-- RFM window, counts over the two trend windows and the dormancy window. Transactions count for
-- the owner of their account on $as_of_date; those of accounts not delivered yet (staging
-- written past ingestion, which quarantines them as orphan_key) make one row with a null
-- customer_id, so that the next date can carry them forward too.
-- Point in time: only rows delivered on or before $as_of_date are read.
--
-- Reads activity_accounts_today, the rows of sql/int/int_account_activity.sql for the date in
-- the same mode (pipelines/customer/activity.py builds it first). Two ways to the same rows:
--   $incremental = false: the account windows grouped by owner.
--   $incremental = true: the rows of $previous_date (the day before, built from the same
--     staging and rules) plus the account changes grouped by owner. The two owners of an
--     account that changed owner today are recomputed from the windows of their accounts
--     instead: from int_account_activity_state when it holds the date ($account_state), else
--     from their transactions. A new account has no earlier transactions unless a null
--     customer_id row exists: pipelines/customer/activity.py then computes in full.
with

accounts_delivered as not materialized (
    select account_id, customer_id, business_date, _line
    from stg_accounts
    where business_date <= $as_of_date
),

account_rows as (
    select account_id, last_txn_day, frequency, monetary_amount, txn_count_recent, txn_count_prior,
           txn_count_dormancy
    from activity_accounts_today
),

previous as (
    select customer_id, last_txn_day, frequency, monetary_amount, txn_count_recent, txn_count_prior,
           txn_count_dormancy
    from int_customer_activity
    where $incremental and as_of_date = $previous_date
),

accounts_delivered_today as (
    select account_id, customer_id, _line
    from accounts_delivered
    where $incremental and business_date = $as_of_date
),

owner_today as (
    select account_id, customer_id
    from accounts_delivered_today
    qualify row_number() over (partition by account_id order by _line desc) = 1
),

owner_yesterday as (
    select d.account_id, d.customer_id
    from accounts_delivered d
    join owner_today t using (account_id)
    where d.business_date < $as_of_date
    qualify row_number() over (partition by d.account_id order by d.business_date desc, d._line desc) = 1
),

moved_accounts as (
    select t.account_id, y.customer_id as owner_yesterday, t.customer_id as owner_today
    from owner_today t
    join owner_yesterday y using (account_id)
    where y.customer_id <> t.customer_id
),

recomputed_customers as (
    select owner_today as customer_id from moved_accounts
    union
    select owner_yesterday from moved_accounts
),

-- Incremental: owners are needed only for the accounts that changed and the accounts of the
-- recomputed customers.
owned_accounts_needed as (
    select account_id from account_rows where $incremental
    union
    select account_id from accounts_delivered where customer_id in (select customer_id from recomputed_customers)
),

-- An account's owner on the date is the one of its latest delivered row.
account_owner as (
    select account_id, customer_id
    from accounts_delivered
    where not $incremental or account_id in (select account_id from owned_accounts_needed)
    qualify row_number() over (partition by account_id order by business_date desc, _line desc) = 1
),

recomputed_account_ids as (
    select account_id from account_owner
    where customer_id in (select customer_id from recomputed_customers)
),

-- A date rebuilt behind the account state: the recomputed customers' transactions.
recomputed_transactions as (
    select account_id, txn_ts::date as txn_day, amount_reporting
    from stg_transactions
    where business_date <= $as_of_date
      and txn_ts >= cast($as_of_date - greatest($rfm_window_days, 2 * $trend_window_days, $dormant_days) + 1 as timestamp)
      and txn_ts < cast($as_of_date + 1 as timestamp)
      and list_contains($counted_txn_types, txn_type)
      -- The condition sits in the subquery: an empty build side stops DuckDB from scanning at all.
      and account_id in (select account_id from recomputed_account_ids where $incremental and not $account_state)
),

-- The windows of every account (full), or of the recomputed customers' accounts (incremental).
recomputed_accounts as (
    select * from account_rows
    where not $incremental
    union all
    select account_id, last_txn_day, frequency, monetary_amount, txn_count_recent, txn_count_prior,
           txn_count_dormancy
    from int_account_activity_state
    where $incremental and $account_state and account_id in (select account_id from recomputed_account_ids)
    union all
    select
        account_id,
        max(txn_day) filter (where txn_day > $as_of_date - $rfm_window_days) as last_txn_day,
        count(*) filter (where txn_day > $as_of_date - $rfm_window_days) as frequency,
        sum(amount_reporting) filter (where txn_day > $as_of_date - $rfm_window_days) as monetary_amount,
        count(*) filter (where txn_day > $as_of_date - $trend_window_days) as txn_count_recent,
        count(*) filter (where txn_day > $as_of_date - 2 * $trend_window_days
                           and txn_day <= $as_of_date - $trend_window_days) as txn_count_prior,
        count(*) filter (where txn_day > $as_of_date - $dormant_days) as txn_count_dormancy
    from recomputed_transactions
    group by account_id
),

-- Aggregated per account first, then per owner: only one row per account goes through the
-- join to its owner.
recomputed as (
    select
        o.customer_id,
        max(a.last_txn_day) as last_txn_day,
        sum(a.frequency) as frequency,
        sum(a.monetary_amount) as monetary_amount,
        sum(a.txn_count_recent) as txn_count_recent,
        sum(a.txn_count_prior) as txn_count_prior,
        sum(a.txn_count_dormancy) as txn_count_dormancy
    from recomputed_accounts a
    left join account_owner o using (account_id)
    group by o.customer_id
),

customer_changes as (
    select
        o.customer_id,
        max(c.last_txn_day) as entered_last_day,
        sum(c.frequency) as frequency,
        sum(c.monetary_amount) as monetary_amount,
        sum(c.txn_count_recent) as txn_count_recent,
        sum(c.txn_count_prior) as txn_count_prior,
        sum(c.txn_count_dormancy) as txn_count_dormancy
    from account_rows c
    left join account_owner o using (account_id)
    where $incremental
    group by o.customer_id
),

-- The latest day leaves the RFM window only together with every earlier one, so yesterday's
-- last day stands unless it left; a day that entered today is later than any that stayed.
carried as (
    select
        coalesce(p.customer_id, c.customer_id) as customer_id,
        greatest(case when p.last_txn_day > $as_of_date - $rfm_window_days then p.last_txn_day end,
                 c.entered_last_day) as last_txn_day,
        coalesce(p.frequency, 0) + coalesce(c.frequency, 0) as frequency,
        coalesce(p.monetary_amount, 0) + coalesce(c.monetary_amount, 0) as monetary_amount,
        coalesce(p.txn_count_recent, 0) + coalesce(c.txn_count_recent, 0) as txn_count_recent,
        coalesce(p.txn_count_prior, 0) + coalesce(c.txn_count_prior, 0) as txn_count_prior,
        coalesce(p.txn_count_dormancy, 0) + coalesce(c.txn_count_dormancy, 0) as txn_count_dormancy
    from previous p
    full join customer_changes c on c.customer_id is not distinct from p.customer_id
),

activity as (
    select * from carried
    where customer_id is null or customer_id not in (select customer_id from recomputed_customers)
    union all
    select * from recomputed
),

final as (
    select
        $as_of_date as as_of_date,
        customer_id,
        last_txn_day,
        date_diff('day', last_txn_day, $as_of_date) as recency_days,
        frequency::bigint as frequency,
        coalesce(monetary_amount, 0)::decimal(18, 2) as monetary_amount,
        txn_count_recent::bigint as txn_count_recent,
        txn_count_prior::bigint as txn_count_prior,
        txn_count_dormancy::bigint as txn_count_dormancy
    from activity
    -- The windows together span the longest one.
    where frequency > 0 or txn_count_recent > 0 or txn_count_prior > 0 or txn_count_dormancy > 0
)

select * from final
