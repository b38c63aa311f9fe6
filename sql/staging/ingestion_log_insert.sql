-- One log row per file of the load (`_file_stats`), with its digest and warnings (`_load_files`).
insert into ingestion_log (business_date, entity, source_file, file_sha256, status, rows_read,
                           rows_loaded, rows_quarantined, amount_read, amount_loaded,
                           amount_quarantined, reasons, warnings, run_id)
select
    files.business_date,
    $entity,
    files.source_file,
    files.file_sha256,
    'loaded',
    stats.rows_read,
    stats.rows_loaded,
    stats.rows_quarantined,
    stats.amount_read,
    stats.amount_loaded,
    stats.amount_quarantined,
    stats.reasons,
    files.warnings,
    $run_id
from _load_files as files
join _file_stats as stats using (business_date, source_file)
