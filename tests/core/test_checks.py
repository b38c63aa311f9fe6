"""Contract checks over a backfill range: every date validated, keys unique per date, in chunks."""

from __future__ import annotations

from datetime import date

import pytest

import assets.checks as checks
from pipelines.core.contracts import output_contracts
from pipelines.core.resources import WarehouseResource

D1, D2, D3 = date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)


def test_date_chunks_keep_whole_dates_within_the_row_budget():
    rows = [(D1, 4), (D2, 5), (D3, 2)]
    assert checks.date_chunks(rows, 10) == [(D1, D2), (D3, D3)]
    assert checks.date_chunks(rows, 3) == [(D1, D1), (D2, D2), (D3, D3)]
    assert checks.date_chunks(rows, 100) == [(D1, D3)]
    assert checks.date_chunks([], 10) == []


@pytest.fixture
def warehouse(tmp_path):
    resource = WarehouseResource(path=str(tmp_path / "w.duckdb"))
    with resource.connect() as con:
        con.execute("create table customer_rfm (as_of_date date, customer_id varchar)")
    return resource


def _load(warehouse, rows):
    with warehouse.connect() as con:
        con.executemany("insert into customer_rfm values (?, ?)", rows)


@pytest.mark.parametrize("chunk_rows", [1, 1_000_000])
def test_a_key_repeated_on_an_earlier_date_of_the_range_fails(warehouse, monkeypatch, chunk_rows):
    monkeypatch.setattr(checks, "CHUNK_ROWS", chunk_rows)
    _load(warehouse, [(D1, "C1"), (D1, "C1"), (D2, "C1"), (D3, "C2")])
    result = checks.validate_dates(warehouse, "customer_rfm", "as_of_date", [D1, D3],
                                   output_contracts()["customer_rfm"])
    assert not result.passed
    assert result.metadata["rows"].value == 4
    assert any("unique" in f for f in result.metadata["failures"].value)


@pytest.mark.parametrize("chunk_rows", [1, 1_000_000])
def test_the_same_key_on_different_dates_passes(warehouse, monkeypatch, chunk_rows):
    monkeypatch.setattr(checks, "CHUNK_ROWS", chunk_rows)
    _load(warehouse, [(D1, "C1"), (D2, "C1"), (D3, "C1")])
    result = checks.validate_dates(warehouse, "customer_rfm", "as_of_date", [D1, D3],
                                   output_contracts()["customer_rfm"])
    assert result.passed, result.metadata


def test_validated_chunks_are_not_kept_alive_by_the_cached_context(warehouse):
    import pipelines.core.expectations as expectations

    _load(warehouse, [(D1, "C1"), (D2, "C2"), (D3, "C3")])
    with_chunks = checks.validate_dates(warehouse, "customer_rfm", "as_of_date", [D1, D2, D3],
                                        output_contracts()["customer_rfm"])
    assert with_chunks.passed
    assert list(expectations._context().data_sources.all()) == []


def test_a_checked_frame_is_not_fingerprinted(warehouse, monkeypatch):
    from great_expectations.execution_engine import pandas_execution_engine

    import pipelines.core.expectations as expectations

    def refuse(df):
        raise AssertionError("the batch was fingerprinted")

    expectations._context()
    monkeypatch.setattr(pandas_execution_engine, "hash_pandas_dataframe", refuse)
    _load(warehouse, [(D1, "C1"), (D1, "C1")])
    result = checks.validate_dates(warehouse, "customer_rfm", "as_of_date", [D1],
                                   output_contracts()["customer_rfm"])
    assert not result.passed
    assert any("unique" in f for f in result.metadata["failures"].value)
