"""One business date in, as a whole: every entity's file, in one DuckDB transaction."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb

from pipelines.contracts import LOAD_ORDER, CONTRACTS_DIR, input_contracts, quote_ident as q
from pipelines.ingestion.errors import IngestionError
from pipelines.ingestion.landing import find_file, sha256_of
from pipelines.ingestion.profiles import SourceProfile, profile_for
from pipelines.ingestion.staging import FileReport, load_file, staging_ddl, staging_table
from pipelines.sql import load_sql, one

DEFAULT_PRODUCTS = CONTRACTS_DIR / "reference" / "products.csv"


def init_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(load_sql("staging/warehouse_ddl"))
    for contract in input_contracts().values():
        con.execute(staging_ddl(contract))


def _ever_loaded(con, entity: str, business_date: date) -> bool:
    query = f"select exists (select 1 from {q(staging_table(entity))} where business_date <= $d)"
    return one(con, query, {"d": business_date})[0]


def _delete_date(con, table: str, business_date: date) -> None:
    statement = f"delete from {q(table)} where business_date = $d"
    con.execute(statement, {"d": business_date})


def _log(con, business_date, entity, status, run_id, path=None, report: FileReport | None = None):
    r = report
    con.execute(
        "insert into ingestion_log (business_date, entity, source_file, file_sha256, status, rows_read, "
        "rows_loaded, rows_quarantined, amount_read, amount_loaded, amount_quarantined, reasons, "
        "warnings, run_id) values ($d, $entity, $file, $sha, $status, $read, $loaded, $quarantined, "
        "$amount_read, $amount_loaded, $amount_quarantined, $reasons, $warnings, $run_id)",
        {
            "d": business_date, "entity": entity, "status": status, "run_id": run_id,
            "file": r.source_file if r else None, "sha": sha256_of(path) if path else None,
            "read": r.rows_read if r else 0, "loaded": r.rows_loaded if r else 0,
            "quarantined": r.rows_quarantined if r else 0,
            "amount_read": r.amount_read if r else 0, "amount_loaded": r.amount_loaded if r else 0,
            "amount_quarantined": r.amount_quarantined if r else 0,
            "reasons": json.dumps(r.reasons if r else {}, sort_keys=True),
            "warnings": "; ".join(r.warnings) if r and r.warnings else None,
        },
    )


def ingest_date(con: duckdb.DuckDBPyConnection, landing: Path, business_date: date,
                rules: dict, run_id: str, salt: str) -> list[FileReport]:
    """Replace everything loaded for `business_date` with what the landing zone holds now.

    All or nothing: a file that cannot be loaded rolls the whole date back."""
    params = {
        "business_date": business_date, "run_id": run_id, "salt": salt,
        "bank_tz": rules["reporting"]["bank_timezone"],
        "reporting_currency": rules["reporting"]["currency"],
        "fx_max_age_days": rules["reporting"]["fx_max_age_days"],
    }
    dedupe = set(rules["ingestion"]["dedupe_across_dates"])
    contracts = input_contracts()
    reports: list[FileReport] = []
    con.execute("begin transaction")
    try:
        for table in ("quarantine", "ingestion_log"):
            _delete_date(con, table, business_date)
        for entity in LOAD_ORDER:
            contract = contracts[entity]
            _delete_date(con, staging_table(entity), business_date)
            profile = profile_for(landing, entity)
            path = find_file(landing, entity, profile, business_date)
            if path is None and entity == "products" and not _ever_loaded(con, entity, business_date):
                path, profile = DEFAULT_PRODUCTS, SourceProfile()
            if path is None:
                if contract.required and (contract.kind == "event" or not _ever_loaded(con, entity, business_date)):
                    raise IngestionError(
                        f"{entity}: required extract missing for {business_date} "
                        f"(expected {landing / entity / profile.file_stem(entity, business_date)}.csv|.csv.gz|.parquet)"
                    )
                _log(con, business_date, entity, "not_delivered", run_id)
                continue
            report = load_file(con, contract, profile, path, params, entity in dedupe)
            if contract.required and contract.kind == "event" and report.rows_read == 0:
                raise IngestionError(f"{path.name}: header only; {entity} are expected every business date")
            _log(con, business_date, entity, "loaded", run_id, path, report)
            reports.append(report)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return reports
