-- Per planted pattern type of the generator's truth ($patterns, patterns.parquet), against the
-- rule meant to find it: recall = planted patterns sharing an evidence transaction with one of
-- the rule's alerts (any snapshot) or, for the large-value patterns, a large_value_report;
-- precision = the rule's distinct alerts whose evidence contains a planted transaction of the
-- same pattern type (any_pattern_precision: of any planted pattern). The large-value patterns'
-- below_threshold variants (one fen under) are negatives: reported_below counts those reported.
with

planted_all as (
    select pattern_id, pattern, customer_id, coalesce(variant, '') like '%below_threshold' as is_below,
           unnest(txn_ids) as txn_id
    from read_parquet($patterns)
),

planted as (
    select * from planted_all where not is_below
),

rule_of as (
    select unnest($pattern_rules) as m
),

mapping as (
    select m.pattern, m.rule_id from rule_of
),

alert_evidence as (
    select distinct rule_id, alert_id, customer_id, unnest(txn_ids) as txn_id
    from risk_alerts
),

report_evidence as (
    select distinct 'LVR' as rule_id, report_id as alert_id, customer_id, unnest(txn_ids) as txn_id
    from large_value_reports
),

evidence as (
    select * from alert_evidence
    union all
    select * from report_evidence
),

found as (
    select p.pattern, count(distinct p.pattern_id) as found
    from planted p
    join mapping m using (pattern)
    join evidence e on e.rule_id = m.rule_id and e.txn_id = p.txn_id
    group by p.pattern
),

true_alerts as (
    select m.rule_id, m.pattern, count(distinct e.alert_id) as true_alerts
    from evidence e
    join mapping m using (rule_id)
    join planted p on p.txn_id = e.txn_id and p.pattern = m.pattern
    group by m.rule_id, m.pattern
),

any_true_alerts as (
    select e.rule_id, count(distinct e.alert_id) as any_true
    from evidence e
    semi join planted_all p on p.txn_id = e.txn_id and not p.is_below
    group by e.rule_id
),

reported_below as (
    select m.pattern, count(distinct p.pattern_id) as reported_below
    from planted_all p
    join mapping m using (pattern)
    join evidence e on e.rule_id = m.rule_id and e.txn_id = p.txn_id
    where p.is_below
    group by m.pattern
),

all_alerts as (
    select rule_id, count(distinct alert_id) as alerts from evidence group by rule_id
),

final as (
    select
        m.pattern,
        m.rule_id,
        (select count(distinct pattern_id) from planted p where p.pattern = m.pattern) as planted,
        coalesce(f.found, 0) as found,
        coalesce(a.alerts, 0) as alerts,
        coalesce(t.true_alerts, 0) as true_alerts,
        coalesce(f.found, 0) / nullif((select count(distinct pattern_id) from planted p where p.pattern = m.pattern), 0)
            as recall,
        coalesce(t.true_alerts, 0) / nullif(a.alerts, 0) as precision,
        coalesce(ant.any_true, 0) / nullif(a.alerts, 0) as any_pattern_precision,
        (select count(distinct pattern_id) from planted_all p where p.pattern = m.pattern and p.is_below) as planted_below,
        coalesce(rb.reported_below, 0) as reported_below
    from mapping m
    left join found f using (pattern)
    left join all_alerts a using (rule_id)
    left join true_alerts t using (rule_id, pattern)
    left join any_true_alerts ant using (rule_id)
    left join reported_below rb using (pattern)
)

select * from final order by pattern
