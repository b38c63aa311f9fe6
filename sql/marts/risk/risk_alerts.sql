-- One row per suspicious-pattern alert open on a business date of [$date_from, $date_to]. The
-- alert_id hashes the rule, the customer and the finding's anchor (its first evidence
-- transaction), so re-evaluating a sliding window the next night finds the same id: status is
-- `ongoing` when the previous snapshot (the latest earlier date with alerts) had it, `new`
-- otherwise; first_seen_date carries over.
-- Over a range, the snapshots are the range's dates with findings, seeded with the table's
-- latest snapshot before $date_from: an alert is ongoing when it was in the snapshot just before,
-- and a run of consecutive snapshots keeps the first_seen_date of its first one.
with

findings as (
    select *
    from int_alert_findings
    where as_of_date between $date_from and $date_to
),

seed_date as (
    select max(as_of_date) as as_of_date
    from risk_alerts
    where as_of_date < $date_from
),

seed_alerts as (
    select r.alert_id, r.as_of_date, r.first_seen_date
    from risk_alerts r
    join seed_date s using (as_of_date)
),

identified as (
    select
        substr(sha256(concat_ws('|', rule_id, customer_id, anchor_txn_id)), 1, 20) as alert_id,
        *
    from findings
),

snapshots as (
    select as_of_date, row_number() over (order by as_of_date) as snapshot_no
    from (select as_of_date from seed_date where as_of_date is not null
          union
          select distinct as_of_date from findings)
),

presence as (
    select alert_id, as_of_date, first_seen_date as seeded_first_seen from seed_alerts
    union all
    select distinct alert_id, as_of_date, null::date from identified
),

runs as (
    select
        p.*,
        s.snapshot_no,
        lag(s.snapshot_no) over by_alert = s.snapshot_no - 1 as was_in_previous
    from presence p
    join snapshots s using (as_of_date)
    window by_alert as (partition by p.alert_id order by s.snapshot_no)
),

numbered as (
    select
        *,
        sum(case when was_in_previous then 0 else 1 end) over (partition by alert_id order by snapshot_no
                                                              rows unbounded preceding) as run_no
    from runs
),

carried as (
    select
        alert_id,
        as_of_date,
        coalesce(was_in_previous, false) as was_in_previous,
        first_value(coalesce(seeded_first_seen, as_of_date)) over (
            partition by alert_id, run_no order by snapshot_no) as first_seen_date
    from numbered
),

final as (
    select
        i.as_of_date,
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
        case when c.was_in_previous then 'ongoing' else 'new' end as status,
        c.first_seen_date
    from identified i
    join carried c using (alert_id, as_of_date)
)

select * from final
