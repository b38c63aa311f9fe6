-- One row per input entity and business date of the range [$date_from, $date_to]: what was
-- read, loaded and quarantined, and whether the counts and amounts reconcile.
with ingestion_log as (
    select * from ingestion_log where business_date between $date_from and $date_to
),

final as (
    select
        business_date as as_of_date,
        entity,
        source_file,
        file_sha256,
        status,
        rows_read,
        rows_loaded,
        rows_quarantined,
        amount_read::decimal(18,2) as amount_read,
        amount_loaded::decimal(18,2) as amount_loaded,
        amount_quarantined::decimal(18,2) as amount_quarantined,
        rows_read = rows_loaded + rows_quarantined
            and amount_read = amount_loaded + amount_quarantined as reconciled,
        reasons,
        warnings
    from ingestion_log
)

select * from final
