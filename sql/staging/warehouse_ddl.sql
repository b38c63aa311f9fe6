-- Tables every business date writes into, keyed by business_date so a re-run replaces one date.
create table if not exists quarantine (
    business_date date not null,
    entity varchar not null,
    source_file varchar not null,
    line bigint not null,
    column_name varchar,
    reason varchar not null,
    offending_value varchar,        -- masked when the column holds personal data
    all_violations varchar,         -- json list of every broken rule of the row
    amount decimal(18,2),           -- the row's amount where it parsed, for reconciliation
    run_id varchar,
    loaded_at timestamp default current_timestamp
);

create table if not exists ingestion_log (
    business_date date not null,
    entity varchar not null,
    source_file varchar,            -- file name only; null when nothing was delivered
    file_sha256 varchar,
    status varchar not null,        -- loaded | not_delivered
    rows_read bigint,
    rows_loaded bigint,
    rows_quarantined bigint,
    amount_read decimal(38,2),
    amount_loaded decimal(38,2),
    amount_quarantined decimal(38,2),
    reasons varchar,                -- json {reason: count}
    warnings varchar,
    run_id varchar,
    loaded_at timestamp default current_timestamp
);
