-- Evidence ids of __table__ rows in [$first, $last] that are not a delivered transaction of the
-- row's customer (the table name is substituted from a fixed list, never from data).
with

evidence as (
    select as_of_date, customer_id, unnest(txn_ids) as txn_id
    from __table__
    where as_of_date between $first and $last
),

final as (
    select count(*) as unresolved
    from evidence e
    anti join int_risk_transactions t
        on t.txn_id = e.txn_id and t.customer_id = e.customer_id and t.as_of_date <= e.as_of_date
)

select * from final
