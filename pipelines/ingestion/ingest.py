"""Business dates in, as a whole: every entity's files of one date or of a backfill range, in
one DuckDB transaction. A range loads entity by entity, each as one set of files, and stages
exactly what loading its dates one by one would; one date is a range of one."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from pipelines.core.contracts import LOAD_ORDER, CONTRACTS_DIR, Contract, input_contracts, quote_ident as q
from pipelines.ingestion.errors import IngestionError
from pipelines.ingestion.landing import find_file
from pipelines.ingestion.profiles import SourceProfile, profile_for
from pipelines.ingestion.reader import LandedFile
from pipelines.ingestion.staging import FileReport, load_files, staging_ddl, staging_table
from pipelines.core.sql import load_sql, one, transaction

DEFAULT_PRODUCTS = CONTRACTS_DIR / "reference" / "products.csv"


def init_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(load_sql("staging/warehouse_ddl"))
    for contract in input_contracts().values():
        con.execute(staging_ddl(contract))


def _delete_dates(con, table: str, dates: list[date]) -> None:
    statement = (f"delete from {q(table)} where business_date between $first and $last "
                 "and business_date in (select unnest($dates::date[]))")
    con.execute(statement, {"first": dates[0], "last": dates[-1], "dates": dates})


def _first_loaded(con, entity: str) -> date | None:
    """The oldest business date with a staged row: the entity is known on every date from it on."""
    return one(con, f"select min(business_date) from {q(staging_table(entity))}")[0]


def _log_not_delivered(con, entity: str, dates: list[date], run_id: str) -> None:
    con.execute(
        "insert into ingestion_log (business_date, entity, status, rows_read, rows_loaded, rows_quarantined, "
        "amount_read, amount_loaded, amount_quarantined, reasons, run_id) "
        "select unnest($dates::date[]), $entity, 'not_delivered', 0, 0, 0, 0, 0, 0, '{}', $run_id",
        {"dates": dates, "entity": entity, "run_id": run_id},
    )


def _ingest_entity(con, landing: Path, contract: Contract, dates: list[date], params: dict,
                   dedupe: bool) -> list[FileReport]:
    entity = contract.entity
    profile = profile_for(landing, entity)
    found = {day: find_file(landing, entity, profile, day) for day in dates}
    missing = [day for day, path in found.items() if path is None]

    def missing_error(day: date) -> IngestionError:
        return IngestionError(
            f"{entity}: required extract missing for {day} "
            f"(expected {landing / entity / profile.file_stem(entity, day)}.csv|.csv.gz|.parquet)"
        )

    if contract.required and contract.kind == "event" and missing:
        raise missing_error(missing[0])
    files = [LandedFile(day, path, profile) for day, path in found.items() if path is not None]
    reports = load_files(con, contract, files, params, dedupe) if files else []
    # A date without a file is fine for a reference entity known by then; until the bank has
    # delivered a product catalogue, the default one is loaded on the first such date.
    while missing:
        first = _first_loaded(con, entity)
        unknown = [day for day in missing if first is None or day < first]
        if not unknown:
            break
        if entity != "products":
            if contract.required:
                raise missing_error(unknown[0])
            break
        reports += load_files(con, contract, [LandedFile(unknown[0], DEFAULT_PRODUCTS, SourceProfile())],
                              params, dedupe)
        missing.remove(unknown[0])
    if missing:
        _log_not_delivered(con, entity, missing, params["run_id"])
    if contract.required and contract.kind == "event":
        empty = [r for r in reports if r.rows_read == 0]
        if empty:
            raise IngestionError(f"{empty[0].source_file}: header only; {entity} are expected every business date")
    return reports


def ingest_range(con: duckdb.DuckDBPyConnection, landing: Path, dates: list[date],
                 rules: dict, run_id: str, salt: str) -> list[FileReport]:
    """Replace everything loaded for `dates` with what the landing zone holds now.

    All or nothing: a file that cannot be loaded rolls every date of the range back."""
    dates = sorted(set(dates))
    if not dates:
        return []
    params = {
        "run_id": run_id, "salt": salt,
        "bank_tz": rules["reporting"]["bank_timezone"],
        "reporting_currency": rules["reporting"]["currency"],
        "fx_max_age_days": rules["reporting"]["fx_max_age_days"],
    }
    dedupe = set(rules["ingestion"]["dedupe_across_dates"])
    contracts = input_contracts()
    reports: list[FileReport] = []
    with transaction(con):
        for table in ("quarantine", "ingestion_log", *(staging_table(e) for e in LOAD_ORDER)):
            _delete_dates(con, table, dates)
        for entity in LOAD_ORDER:
            reports += _ingest_entity(con, landing, contracts[entity], dates, params, entity in dedupe)
    order = {entity: i for i, entity in enumerate(LOAD_ORDER)}
    return sorted(reports, key=lambda r: (r.business_date, order[r.entity]))


def ingest_date(con: duckdb.DuckDBPyConnection, landing: Path, business_date: date,
                rules: dict, run_id: str, salt: str) -> list[FileReport]:
    """One business date: a range of one."""
    return ingest_range(con, landing, [business_date], rules, run_id, salt)
