"""The atomic publisher: contract validation, no half-published snapshot, manifests."""

import json
from datetime import date

import pytest

from pipelines.core.contracts import output_contracts
from pipelines.core.engine import DateRange
from pipelines.publishing.snapshot import (PublishError, contract_violations, contract_violations_by_date,
                                           publish_range, publish_snapshot)

D = date(2024, 3, 1)


@pytest.fixture
def dq(warehouse):
    warehouse.execute("""
        create table data_quality as select
            date '2024-03-01' as as_of_date, 'transactions' as entity, 'transactions_20240301.csv' as source_file,
            'abc' as file_sha256, 'loaded' as status, 3::bigint as rows_read, 2::bigint as rows_loaded,
            1::bigint as rows_quarantined, 10.00::decimal(18,2) as amount_read, 7.00::decimal(18,2) as amount_loaded,
            3.00::decimal(18,2) as amount_quarantined, true as reconciled, '{}' as reasons, null::varchar as warnings
    """)
    return warehouse


def test_publishes_parquet_and_manifest(dq, tmp_path):
    out = tmp_path / "out"
    manifest = publish_snapshot(dq, out, D, ["data_quality"], "run-1", [{"entity": "transactions"}])
    path = out / "data_quality" / "as_of_date=2024-03-01" / "part-0.parquet"
    assert path.exists()
    on_disk = json.loads((out / "_manifests" / "2024-03-01.json").read_text())
    assert on_disk["tables"]["data_quality"]["rows"] == 1 == manifest["tables"]["data_quality"]["rows"]
    assert on_disk["run_id"] == "run-1" and len(on_disk["tables"]["data_quality"]["files"][0]["sha256"]) == 64
    assert not any((out / "_tmp").iterdir())


def test_republish_replaces_only_that_date(dq, tmp_path):
    out = tmp_path / "out"
    publish_snapshot(dq, out, D, ["data_quality"], "run-1", [])
    dq.execute("insert into data_quality select date '2024-03-02', * exclude (as_of_date) from data_quality")
    publish_snapshot(dq, out, date(2024, 3, 2), ["data_quality"], "run-2", [])
    dq.execute("update data_quality set rows_read = 99 where as_of_date = date '2024-03-01'")
    publish_snapshot(dq, out, D, ["data_quality"], "run-3", [])
    read = dq.execute("select as_of_date::varchar, rows_read from read_parquet($files, hive_partitioning = true) "
                      "order by 1", {"files": f"{out}/data_quality/*/*.parquet"}).fetchall()
    assert read == [("2024-03-01", 99), ("2024-03-02", 3)]


def test_contract_breach_publishes_nothing(dq, tmp_path):
    out = tmp_path / "out"
    publish_snapshot(dq, out, D, ["data_quality"], "run-1", [])
    before = (out / "data_quality" / "as_of_date=2024-03-01" / "part-0.parquet").read_bytes()
    dq.execute("update data_quality set status = 'weird', rows_read = null")
    with pytest.raises(PublishError, match="status not allowed: 1 rows.*rows_read null: 1 rows|rows_read null: 1 rows"):
        publish_snapshot(dq, out, D, ["data_quality"], "run-2", [])
    assert (out / "data_quality" / "as_of_date=2024-03-01" / "part-0.parquet").read_bytes() == before
    assert json.loads((out / "_manifests" / "2024-03-01.json").read_text())["run_id"] == "run-1"


def test_direct_identifiers_are_refused(dq, tmp_path):
    dq.execute("alter table data_quality add column phone varchar")
    with pytest.raises(PublishError, match="direct identifiers present: phone"):
        publish_snapshot(dq, tmp_path / "out", D, ["data_quality"], "run-1", [])


def test_table_without_contract_is_refused(dq, tmp_path):
    with pytest.raises(PublishError, match="no output contract for mystery_table"):
        publish_snapshot(dq, tmp_path / "out", D, ["mystery_table"], "run-1", [])


def test_violations_of_a_range_are_those_of_each_date(dq, tmp_path):
    d2, d3, d4 = date(2024, 3, 2), date(2024, 3, 3), date(2024, 3, 4)
    dq.execute("insert into data_quality select date '2024-03-02', * exclude (as_of_date) from data_quality")
    dq.execute("insert into data_quality select date '2024-03-03', * exclude (as_of_date) from data_quality "
               "where as_of_date = date '2024-03-02'")
    dq.execute("update data_quality set status = 'weird', rows_read = null where as_of_date = date '2024-03-02'")
    dq.execute("insert into data_quality select * from data_quality where as_of_date = date '2024-03-03'")
    contract = output_contracts()["data_quality"]
    by_date = contract_violations_by_date(dq, "data_quality", contract, [D, d2, d3, d4])
    assert by_date == {day: contract_violations(dq, "data_quality", contract, day) for day in (D, d2, d3, d4)}
    assert by_date[D] == [] == by_date[d4]
    assert sorted(by_date[d2]) == ["rows_read null: 1 rows", "status not allowed: 1 rows"]
    assert by_date[d3] == ["duplicate key: 1 rows"]
    out = tmp_path / "out"
    publish_snapshot(dq, out, D, ["data_quality"], "run-1", [])
    with pytest.raises(PublishError, match="duplicate key: 1 rows"):
        publish_snapshot(dq, out, d3, ["data_quality"], "run-1", [])
    assert not (out / "data_quality" / "as_of_date=2024-03-03").exists()


def test_a_range_publishes_every_date_before_the_first_breach_and_none_after(dq, tmp_path):
    for day in ("2024-03-02", "2024-03-04"):
        dq.execute(f"insert into data_quality select date '{day}', * exclude (as_of_date) from data_quality "
                   "where as_of_date = date '2024-03-01'")
    dq.execute("update data_quality set status = 'weird' where as_of_date = date '2024-03-02'")
    out = tmp_path / "out"
    with pytest.raises(PublishError, match="snapshot 2024-03-02 not published: data_quality: status not allowed"):
        publish_range(dq, out, DateRange(D, date(2024, 3, 4)), ["data_quality"], "run-1")
    assert sorted(p.name for p in (out / "_manifests").iterdir()) == ["2024-03-01.json"]
    assert sorted(p.name for p in (out / "data_quality").iterdir()) == ["as_of_date=2024-03-01"]
    assert not any((out / "_tmp").iterdir())


def test_an_empty_date_publishes_an_empty_file_with_the_contract_columns(dq, tmp_path):
    out = tmp_path / "out"
    manifest = publish_range(dq, out, DateRange(date(2024, 2, 29), D), ["data_quality"], "run-1")
    assert [m["tables"]["data_quality"]["rows"] for m in manifest] == [0, 1]
    empty = out / "data_quality" / "as_of_date=2024-02-29" / "part-0.parquet"
    names = [r[0] for r in dq.execute("describe select * from read_parquet($p, hive_partitioning = false)",
                                      {"p": str(empty)}).fetchall()]
    assert names == [c.name for c in output_contracts()["data_quality"].columns]
    assert dq.execute("select count(*) from read_parquet($p)", {"p": str(empty)}).fetchall()[0][0] == 0
