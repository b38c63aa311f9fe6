-- int_account_activity_state moved from the day before to the date: the account changes of
-- the date (activity_accounts_today, incremental) added to each account's windows. An account
-- without a change keeps its windows: its latest day could only leave the RFM window on the
-- window's oldest day, and a transaction leaving on that day is a change. An account whose
-- windows all emptied is removed, as the full computation would not have it.
merge into int_account_activity_state s
using activity_accounts_today c
on s.account_id = c.account_id
when matched and s.frequency + c.frequency = 0 and s.txn_count_recent + c.txn_count_recent = 0
     and s.txn_count_prior + c.txn_count_prior = 0 and s.txn_count_dormancy + c.txn_count_dormancy = 0
    then delete
when matched then update set
    last_txn_day = greatest(case when s.last_txn_day > $as_of_date - $rfm_window_days then s.last_txn_day end,
                            c.last_txn_day),
    frequency = s.frequency + c.frequency,
    monetary_amount = s.monetary_amount + c.monetary_amount,
    txn_count_recent = s.txn_count_recent + c.txn_count_recent,
    txn_count_prior = s.txn_count_prior + c.txn_count_prior,
    txn_count_dormancy = s.txn_count_dormancy + c.txn_count_dormancy
when not matched and (c.frequency <> 0 or c.txn_count_recent <> 0 or c.txn_count_prior <> 0
                      or c.txn_count_dormancy <> 0) then insert
    (account_id, last_txn_day, frequency, monetary_amount, txn_count_recent, txn_count_prior, txn_count_dormancy)
    values (c.account_id, c.last_txn_day, c.frequency, c.monetary_amount, c.txn_count_recent, c.txn_count_prior,
            c.txn_count_dormancy)
