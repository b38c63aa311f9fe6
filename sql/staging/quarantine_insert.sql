-- Each row that broke the contract, with its first broken rule; all rules kept as json.
insert into quarantine (business_date, entity, source_file, line, column_name, reason,
                        offending_value, all_violations, amount, run_id)
select
    _business_date,
    $entity,
    _source_file,
    _line,
    _violations[1].column,
    _violations[1].reason,
    _violations[1].value,
    to_json(_violations)::varchar,
    _amount,
    $run_id
from _checked
where len(_violations) > 0
