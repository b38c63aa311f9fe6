-- IBM AMLSim sample -> staging: one individual customer with one current account per node, each
-- transfer as two legs (transfer_out on the sender, transfer_in on the receiver) on day
-- $start_date + time, at a deterministic hour of that day; delivered on that day.
-- Amounts are AMLSim's own units, taken as CNY. Nothing is known of an account before the
-- sample, so every account opens on its first day (a dormancy longer than the sample cannot show).
insert into stg_customers (business_date, customer_id, customer_type, onboard_date, status, marketing_consent, _line)
select $start_date, 'N' || nodeid, 'individual', $start_date, 'active', false, nodeid
from read_csv($nodes);

insert into stg_accounts (business_date, account_id, customer_id, product_code, open_date, status, currency, _line)
select $start_date, 'AN' || nodeid, 'N' || nodeid, 'CA001', $start_date, 'active', 'CNY', nodeid
from read_csv($nodes);

insert into stg_transactions (business_date, txn_id, account_id, txn_ts, amount, amount_reporting, direction,
                              currency, txn_type, channel, is_cash, is_cross_border, _line)
with edges as (
    select row_number() over () as edge, sourceNodeId as source, targetNodeId as target, value, "time"::integer as step
    from read_csv($transactions)
),
legs as (
    select edge, step, value, 'AN' || source as account_id, 'debit' as direction, 'transfer_out' as txn_type from edges
    union all
    select edge, step, value, 'AN' || target, 'credit', 'transfer_in' from edges
)
select $start_date + step, 'E' || edge || substr(direction, 1, 1), account_id,
       cast($start_date + step as timestamp) + to_seconds(cast(hash(edge) % 86400 as bigint)),
       value, value, direction, 'CNY', txn_type, 'online', false, false, edge
from legs;
