-- One row per suspicious-pattern alert open on $as_of_date. The alert_id hashes the rule, the
-- customer and the finding's anchor (its first evidence transaction), so re-evaluating a
-- sliding window the next night finds the same id: status is `ongoing` when the previous
-- snapshot had it, `new` otherwise; first_seen_date carries over.
with

findings as (
    select *
    from int_alert_findings
    where as_of_date = $as_of_date
),

previous_alerts as (
    select alert_id, first_seen_date
    from risk_alerts
    where as_of_date = (select max(as_of_date) from risk_alerts where as_of_date < $as_of_date)
),

identified as (
    select
        substr(sha256(concat_ws('|', rule_id, customer_id, anchor_txn_id)), 1, 20) as alert_id,
        *
    from findings
),

final as (
    select
        $as_of_date as as_of_date,
        i.alert_id,
        i.rule_id,
        i.rule_name,
        i.severity,
        i.customer_id,
        i.account_ids,
        i.window_start,
        i.window_end,
        i.amount,
        i.txn_count,
        i.txn_ids,
        i.explanation,
        case when p.alert_id is null then 'new' else 'ongoing' end as status,
        coalesce(p.first_seen_date, $as_of_date) as first_seen_date
    from identified i
    left join previous_alerts p using (alert_id)
)

select * from final
