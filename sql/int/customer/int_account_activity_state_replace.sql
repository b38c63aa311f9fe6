-- int_account_activity_state set to the account windows of the date computed in full
-- (activity_accounts_today, full mode), after the table was emptied.
insert into int_account_activity_state
    (account_id, last_txn_day, frequency, monetary_amount, txn_count_recent, txn_count_prior, txn_count_dormancy)
select account_id, last_txn_day, frequency, monetary_amount, txn_count_recent, txn_count_prior, txn_count_dormancy
from activity_accounts_today
