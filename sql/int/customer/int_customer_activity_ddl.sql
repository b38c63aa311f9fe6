-- customer_id is unique within a date: ZSTD writes it in half the CPU of the default DICT_FSST
-- (as for the marts' keys, pipelines/core/contract_tables.py).
create table if not exists int_customer_activity (
    as_of_date date not null,
    customer_id varchar using compression zstd,
    last_txn_day date,
    recency_days bigint,
    frequency bigint,
    monetary_amount decimal(18, 2),
    txn_count_recent bigint,
    txn_count_prior bigint,
    txn_count_dormancy bigint
);

-- The per-date carry-forward (build records and per-account window state) is gone: the range
-- query computes every date from the transactions in one pass.
drop table if exists int_customer_activity_builds;
drop table if exists int_account_activity_state;
drop table if exists int_account_activity_state_as_of;
