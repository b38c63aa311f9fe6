-- int_customer_activity reads its own previous date, so it exists before its first build.
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

-- One row per built date: how it was built and the fingerprints of the rules and the staging
-- it was built from, which decide whether the next date may carry it forward.
create table if not exists int_customer_activity_builds (
    as_of_date date not null,
    method varchar not null,           -- full | incremental
    rules_fingerprint varchar not null,
    staging_fingerprint varchar not null,
    rows bigint not null,
    built_at timestamp not null default current_timestamp
);

-- The windows of every account with a counted transaction in the longest window, as of one
-- date: the latest date built at the frontier. An account that changes owner moves its windows
-- from this table to the new owner, instead of its transactions being read again.
create table if not exists int_account_activity_state (
    account_id varchar not null using compression zstd,
    last_txn_day date,
    frequency bigint not null,
    monetary_amount decimal(18, 2) not null,
    txn_count_recent bigint not null,
    txn_count_prior bigint not null,
    txn_count_dormancy bigint not null
);

-- At most one row: the date int_account_activity_state holds, and the fingerprints of the rules
-- and the staging it was built from (as in int_customer_activity_builds).
create table if not exists int_account_activity_state_as_of (
    as_of_date date not null,
    rules_fingerprint varchar not null,
    staging_fingerprint varchar not null
);
