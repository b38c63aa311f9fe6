-- What every alert rule (sql/int/risk/alerts/<type>.sql) returns: one row per finding open on the date.
create table if not exists int_alert_findings (
    as_of_date date not null,
    rule_id varchar not null,
    rule_name varchar not null,
    severity varchar not null,
    customer_id varchar not null,
    anchor_txn_id varchar not null,     -- first evidence transaction: with rule and customer, the alert's identity
    account_ids varchar[] not null,
    window_start timestamp not null,
    window_end timestamp not null,
    amount decimal(18,2) not null,      -- reporting currency
    txn_count bigint not null,
    txn_ids varchar[] not null,
    explanation varchar not null
)
