"""Ingestion: typing, quarantine, reconciliation and every bad input of the contract."""

import gzip
import shutil
from pathlib import Path

import pytest

from tests.kit.landing import ACCOUNTS, CUSTOMERS, D1, D2, TXN_COLUMNS, basic_landing, entity_file, txn, write_csv
from pipelines.core.contracts import CONTRACTS_DIR
from pipelines.ingestion.errors import IngestionError


def quarantine(con):
    return sorted(con.execute("select line, column_name, reason, offending_value from quarantine").fetchall())


def staged_ids(con):
    return [r[0] for r in con.execute("select txn_id from stg_transactions order by txn_id").fetchall()]


def test_clean_file_loads_and_reconciles(tmp_path, warehouse, ingest):
    reports = {r.entity: r for r in ingest(basic_landing(tmp_path), D1)}
    t = reports["transactions"]
    assert (t.rows_read, t.rows_loaded, t.rows_quarantined) == (2, 2, 0)
    assert t.amount_read == pytest.approx(150.50)
    assert staged_ids(warehouse) == ["T1", "T2"]
    assert reports["products"].rows_loaded == 17  # default catalogue when none delivered


def test_bad_amounts_are_quarantined_with_reason_and_line(tmp_path, warehouse, ingest):
    rows = [txn("T1"), txn("T2", amount="0"), txn("T3", amount="-5"), txn("T4", amount="NaN"),
            txn("T5", amount="1,234.50")]
    ingest(basic_landing(tmp_path, rows), D1)
    assert quarantine(warehouse) == [
        (3, "amount", "non_positive", "0"),
        (4, "amount", "non_positive", "-5"),
        (5, "amount", "bad_type", "NaN"),
        (6, "amount", "bad_type", "1,234.50"),
    ]
    log = warehouse.execute("select rows_read, rows_loaded, rows_quarantined, amount_read, amount_loaded, "
                            "amount_quarantined from ingestion_log where entity = 'transactions'").fetchall()
    assert [tuple(float(v) for v in log[0])] == [(5, 1, 4, 95.0, 100.0, -5.0)]


def test_dates_codes_and_orphans(tmp_path, warehouse, ingest):
    rows = [txn("T1", ts="2024-13-45 10:00:00"), txn("T2", ts="2024-03-05 10:00:00"),
            txn("T3", account_id="NOPE"), txn("T4", txn_type="lottery"), txn("T5")]
    ingest(basic_landing(tmp_path, rows), D1)
    assert quarantine(warehouse) == [
        (2, "txn_ts", "bad_type", "2024-13-45 10:00:00"),
        (3, "txn_ts", "future_date", "2024-03-05 10:00:00"),
        (4, "account_id", "orphan_key", "NOPE"),
        (5, "txn_type", "unknown_code", "lottery"),
    ]
    assert staged_ids(warehouse) == ["T5"]


def test_midnight_boundary_lands_on_the_right_business_day(tmp_path, warehouse, ingest):
    basic_landing(tmp_path, [txn("LATE", ts="2024-03-01 23:59:59"), txn("NEXT", ts="2024-03-02 00:00:00")])
    ingest(tmp_path, D1)
    assert staged_ids(warehouse) == ["LATE"]
    assert quarantine(warehouse) == [(3, "txn_ts", "future_date", "2024-03-02 00:00:00")]
    write_csv(entity_file(tmp_path, "fx_rates", D2), [{"rate_date": "2024-03-02", "currency": "USD", "rate_to_reporting": "7.1"}])
    write_csv(entity_file(tmp_path, "transactions", D2), [txn("NEXT", ts="2024-03-02 00:00:00")], TXN_COLUMNS)
    ingest(tmp_path, D2)
    days = warehouse.execute("select txn_id, business_date, txn_ts::date from stg_transactions order by 1").fetchall()
    assert days == [("LATE", D1, D1), ("NEXT", D2, D2)]


def test_duplicates_within_file_and_across_redelivery(tmp_path, warehouse, ingest):
    basic_landing(tmp_path, [txn("T1"), txn("T1", amount="5.00"), txn("T2")])
    ingest(tmp_path, D1)
    assert quarantine(warehouse) == [(3, "txn_id", "duplicate_key", "T1")]
    # a corrected re-delivery of the same date replaces it, never duplicates
    write_csv(entity_file(tmp_path, "transactions", D1), [txn("T1"), txn("T2"), txn("T3")], TXN_COLUMNS)
    ingest(tmp_path, D1)
    assert staged_ids(warehouse) == ["T1", "T2", "T3"]
    assert quarantine(warehouse) == []
    # the same id delivered again on a later date is the same transaction
    write_csv(entity_file(tmp_path, "transactions", D2), [txn("T3", ts="2024-03-02 09:00:00"), txn("T4", ts="2024-03-02 09:00:00")], TXN_COLUMNS)
    write_csv(entity_file(tmp_path, "fx_rates", D2), [{"rate_date": "2024-03-02", "currency": "USD", "rate_to_reporting": "7.1"}])
    ingest(tmp_path, D2)
    assert staged_ids(warehouse) == ["T1", "T2", "T3", "T4"]
    assert quarantine(warehouse) == [(2, "txn_id", "already_loaded", "T3")]


def test_money_is_decimal_and_converted_with_fx(tmp_path, warehouse, ingest):
    basic_landing(tmp_path, [txn("T1", amount="0.10"), txn("T2", amount="0.20"), txn("U1", currency="USD", amount="10.00")])
    ingest(tmp_path, D1)
    total, usd = warehouse.execute(
        "select sum(amount_reporting) filter (where currency = 'CNY'), "
        "sum(amount_reporting) filter (where currency = 'USD') from stg_transactions").fetchall()[0]
    assert str(total) == "0.30" and str(usd) == "71.00"


def test_missing_fx_rate_fails_the_date(tmp_path, warehouse, ingest):
    basic_landing(tmp_path, [txn("T1"), txn("H1", currency="HKD")])
    with pytest.raises(IngestionError, match=r"transactions_20240301.csv: no fx rate .* HKD"):
        ingest(tmp_path, D1)
    assert staged_ids(warehouse) == []


def test_extra_column_is_reported(tmp_path, warehouse, ingest):
    rows = [txn("T1", loyalty_code="X")]
    write_csv(entity_file(tmp_path, "transactions", D1), rows, TXN_COLUMNS + ["loyalty_code"])
    basic_landing(tmp_path, None)
    write_csv(entity_file(tmp_path, "transactions", D1), rows, TXN_COLUMNS + ["loyalty_code"])
    reports = {r.entity: r for r in ingest(tmp_path, D1)}
    assert reports["transactions"].warnings == ["columns not in the contract ignored: loyalty_code"]
    assert staged_ids(warehouse) == ["T1"]


@pytest.mark.parametrize("breakage, message", [
    ("missing_column", r"transactions_20240301.csv: missing required column\(s\) amount"),
    ("wrong_delimiter", r"transactions_20240301.csv: missing required column.*is the delimiter ','"),
    ("header_only", r"transactions_20240301.csv: header only"),
    ("gbk_as_utf8", r"transactions_20240301.csv: bytes do not decode as utf-8"),
    ("truncated_gzip", r"transactions_20240301.csv.gz: compressed data is corrupt or truncated"),
    ("no_file", r"transactions: required extract missing for 2024-03-01"),
])
def test_unreadable_file_fails_the_date_and_keeps_earlier_data(tmp_path, warehouse, ingest, breakage, message):
    landing = basic_landing(tmp_path)
    ingest(landing, D1)
    before = staged_ids(warehouse)
    path = entity_file(landing, "transactions", D1)
    rows = [txn("X1"), txn("X2")]
    if breakage == "missing_column":
        write_csv(path, rows, [c for c in TXN_COLUMNS if c != "amount"])
    elif breakage == "wrong_delimiter":
        write_csv(path, rows, TXN_COLUMNS, delimiter=";")
    elif breakage == "header_only":
        write_csv(path, [], TXN_COLUMNS)
    elif breakage == "gbk_as_utf8":
        write_csv(path, [txn("X1", counterparty_name="中国工商银行客户")], TXN_COLUMNS, encoding="gbk")
    elif breakage == "truncated_gzip":
        path.unlink()
        gz = write_csv(entity_file(landing, "transactions", D1, ".csv.gz"), rows * 2000, TXN_COLUMNS, gz=True)
        gz.write_bytes(gz.read_bytes()[: gz.stat().st_size // 2])
    elif breakage == "no_file":
        path.unlink()
    with pytest.raises(IngestionError, match=message):
        ingest(landing, D1)
    assert staged_ids(warehouse) == before  # the failed re-run left the earlier load intact


def test_missing_optional_entity_is_reported_not_fatal(tmp_path, warehouse, ingest):
    ingest(basic_landing(tmp_path), D1)
    statuses = dict(warehouse.execute("select entity, status from ingestion_log").fetchall())
    assert statuses["balances"] == "not_delivered" and statuses["transactions"] == "loaded"


def test_pii_is_dropped_and_counterparty_pseudonymised(tmp_path, warehouse, ingest):
    ingest(basic_landing(tmp_path), D1)
    customer_cols = {r[0] for r in warehouse.execute("describe stg_customers").fetchall()}
    assert not customer_cols & {"full_name", "id_number", "phone", "email"}
    keys = warehouse.execute("select distinct counterparty_account_key from stg_transactions").fetchall()
    assert len(keys) == 1 and len(keys[0][0]) == 64 and "6222" not in keys[0][0]


def test_gbk_pipe_delimited_extract_with_chinese_headers(tmp_path, warehouse, ingest):
    landing = basic_landing(tmp_path, [])
    entity_file(landing, "transactions", D1).unlink()
    shutil.copy(CONTRACTS_DIR / "profiles" / "gbk_core_transactions.yaml", landing / "transactions" / "_profile.yaml")
    header = ["交易流水号", "账号", "交易时间", "金额", "借贷标志", "币种", "交易类型", "渠道", "现金标志", "对方户名"]
    rows = [
        dict(zip(header, ["G1", "A1", "20240301093015", "5000.00", "贷", "人民币", "存款", "柜面", "是", "王五"])),
        dict(zip(header, ["G2", "A1", "20240301235959", "12.50", "借", "人民币", "消费", "POS", "否", "超市"])),
        dict(zip(header, ["G3", "A1", "20240302000000", "1.00", "借", "人民币", "消费", "POS", "否", "超市"])),
    ]
    write_csv(landing / "transactions" / "TXN_20240301.dat", rows, header, delimiter="|", encoding="gbk")
    ingest(landing, D1)
    staged = warehouse.execute("select txn_id, txn_ts, amount, direction, txn_type, channel, is_cash "
                               "from stg_transactions order by txn_id").fetchall()
    assert [(r[0], str(r[1]), str(r[2]), r[3], r[4], r[5], r[6]) for r in staged] == [
        ("G1", "2024-03-01 09:30:15", "5000.00", "credit", "deposit", "counter", True),
        ("G2", "2024-03-01 23:59:59", "12.50", "debit", "card_purchase", "pos", False),
    ]
    assert quarantine(warehouse) == [(4, "txn_ts", "future_date", "20240302000000")]


def test_parquet_extract_and_timestamp_offsets(tmp_path, warehouse, ingest):
    import polars as pl

    landing = basic_landing(tmp_path, [])
    entity_file(landing, "transactions", D1).unlink()
    pl.DataFrame([txn("P1", ts="2024-03-01T01:00:00+00:00"), txn("P2")]).write_parquet(
        entity_file(landing, "transactions", D1, ".parquet"))
    ingest(landing, D1)
    rows = warehouse.execute("select txn_id, txn_ts from stg_transactions order by 1").fetchall()
    assert [(i, str(ts)) for i, ts in rows] == [("P1", "2024-03-01 09:00:00"), ("P2", "2024-03-01 10:00:00")]


def test_customer_extras_kept_as_attributes(tmp_path, warehouse, ingest):
    landing = basic_landing(tmp_path)
    write_csv(entity_file(landing, "customers", D1), [dict(CUSTOMERS[0], vip_flag="Y")])
    ingest(landing, D1)
    attributes = warehouse.execute("select attributes::varchar from stg_customers").fetchall()
    assert attributes == [('{"vip_flag":"Y"}',)]
