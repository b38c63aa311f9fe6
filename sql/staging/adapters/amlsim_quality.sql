-- Per alert rule (and 'any'): accounts flagged over all alert snapshots against AMLSim's
-- labelled laundering accounts (isFraud = 1).
with

labels as (
    select 'N' || nodeid as customer_id, isFraud = 1 as is_laundering
    from read_csv($nodes)
),

flagged as (
    select distinct rule_id, customer_id from risk_alerts
    union
    select distinct 'any', customer_id from risk_alerts
),

rules as (
    select distinct rule_id from flagged
),

final as (
    select
        r.rule_id,
        count(f.customer_id) as flagged_accounts,
        count(f.customer_id) filter (where l.is_laundering) as flagged_laundering,
        (select count(*) from labels where is_laundering) as laundering_accounts,
        (select count(*) from labels) as accounts,
        count(f.customer_id) filter (where l.is_laundering) / (select count(*) from labels where is_laundering)
            as recall,
        count(f.customer_id) filter (where l.is_laundering) / nullif(count(f.customer_id), 0) as precision,
        count(f.customer_id) / (select count(*) from labels) as alert_rate
    from rules r
    left join flagged f using (rule_id)
    left join labels l using (customer_id)
    group by r.rule_id
)

select * from final order by rule_id
