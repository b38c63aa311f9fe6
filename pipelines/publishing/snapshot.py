"""The atomic publisher every output table goes through.

A snapshot is written to a temporary folder, validated against the output contracts, and only
then moved into `<output>/<table>/as_of_date=YYYY-MM-DD/` (a directory swap per table), with
the manifest written last: a reader sees the previous complete snapshot or the new one, never
a half-written file. A snapshot that fails validation is not published at all."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import uuid
from datetime import date, datetime, timezone
from pathlib import Path

import duckdb

from pipelines.core.contracts import DUCKDB_TYPES, Contract, output_contracts, quote_ident as q, quote_literal as lit
from pipelines.ingestion.landing import sha256_of
from pipelines.core.engine import DateRange
from pipelines.core.sql import one, run

# Direct identifiers that must never reach a CRM import or a BI dashboard (outputs.md).
FORBIDDEN_COLUMNS = {
    "full_name", "name", "customer_name", "rm_name", "phone", "mobile", "email", "id_number",
    "card_number", "account_number", "counterparty_account", "counterparty_name",
    "counterparty_account_key", "birth_date", "address", "text", "description",
}


class PublishError(Exception):
    """The snapshot broke an output contract; nothing of it was published."""


def _exchange(new: Path, current: Path) -> None:
    """Atomically swap two directories (Linux renameat2 RENAME_EXCHANGE); rename-aside elsewhere."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is not None:
        at_fdcwd, rename_exchange = -100, 2
        if renameat2(at_fdcwd, bytes(new), at_fdcwd, bytes(current), rename_exchange) == 0:
            return
    aside = current.with_name(current.name + f".old-{uuid.uuid4().hex[:8]}")
    os.rename(current, aside)
    os.rename(new, current)
    os.rename(aside, new)


def _move_into_place(staged: Path, final: Path) -> None:
    final.parent.mkdir(parents=True, exist_ok=True)
    if final.exists():
        _exchange(staged, final)
        shutil.rmtree(staged)  # now holds the previous snapshot
    else:
        os.rename(staged, final)


def contract_violations(con: duckdb.DuckDBPyConnection, table: str, contract: Contract,
                        as_of_date: date) -> list[str]:
    """Schema and row rules of the contract, checked in DuckDB for one date of a mart."""
    return contract_violations_by_date(con, table, contract, [as_of_date])[as_of_date]


def contract_violations_by_date(con: duckdb.DuckDBPyConnection, table: str, contract: Contract,
                                dates: list[date]) -> dict[date, list[str]]:
    """`contract_violations` of each date, judged in one grouped query: a backfill publishes
    every date, and one query per table and date was most of the publisher's time."""
    described = run(con, f"describe select * from {q(table)}", {}).fetchall()
    actual = {row[0]: row[1].lower() for row in described}
    problems = []
    forbidden = sorted(set(actual) & FORBIDDEN_COLUMNS)
    if forbidden:
        problems.append(f"direct identifiers present: {', '.join(forbidden)}")
    for col in contract.columns:
        if col.name not in actual:
            problems.append(f"column {col.name} missing")
        elif actual[col.name] != DUCKDB_TYPES[col.type]:
            problems.append(f"column {col.name} is {actual[col.name]}, contract says {DUCKDB_TYPES[col.type]}")
    if problems:
        return {day: list(problems) for day in dates}
    rules = []
    for col in contract.columns:
        name = q(col.name)
        if col.required:
            rules.append((f"{col.name} null", f"{name} is null"))
        if col.allowed:
            allowed = ", ".join(lit(v) for v in col.allowed)
            rules.append((f"{col.name} not allowed", f"{name}::varchar not in ({allowed})"))
        if col.min is not None:
            rules.append((f"{col.name} below {col.min}", f"{name} < {col.min}"))
        if col.max is not None:
            rules.append((f"{col.name} above {col.max}", f"{name} > {col.max}"))
    counts = ", ".join(f"count(*) filter (where {cond})" for _, cond in rules) or "0"
    key = ", ".join(q(k) for k in contract.key)
    rows = run(con, f"select as_of_date, {counts}, count(*) - count(distinct ({key})) from {q(table)} "
                    "where list_contains($dates, as_of_date) group by as_of_date", {"dates": list(dates)}).fetchall()
    found = {day: [] for day in dates}
    for day, *row in rows:
        for (label, _), n in zip(rules + [("duplicate key", None)], row):
            if n:
                found[day].append(f"{label}: {n} rows")
    return found


def publish_snapshot(con: duckdb.DuckDBPyConnection, output_root: Path, as_of_date: date,
                     tables: list[str], run_id: str, input_files: list[dict],
                     violations: dict[str, dict[date, list[str]]] | None = None) -> dict:
    """Write, validate and atomically publish one business date's snapshot; return the manifest.

    `violations`: {table: contract_violations_by_date(...)} judged beforehand for a range of
    dates that includes this one (the warehouse unchanged since); by default judged here."""
    contracts = output_contracts()
    missing = [t for t in tables if t not in contracts]
    if missing:
        raise PublishError(f"no output contract for {', '.join(missing)}")
    staging_root = output_root / "_tmp" / f"{as_of_date.isoformat()}-{run_id[:8]}-{uuid.uuid4().hex[:6]}"
    try:
        entries, problems = {}, {}
        for table in tables:
            contract = contracts[table]
            found = (violations[table][as_of_date] if violations is not None
                     else contract_violations(con, table, contract, as_of_date))
            if found:
                problems[table] = found
                continue
            folder = staging_root / table
            folder.mkdir(parents=True)
            path = folder / "part-0.parquet"
            columns = ", ".join(q(c.name) for c in contract.columns)
            order = ", ".join(q(k) for k in contract.key)
            query = f"select {columns} from {q(table)} where as_of_date = $as_of_date order by {order}"
            relation = con.sql(query, params={"as_of_date": as_of_date})
            relation.write_parquet(str(path), compression="zstd")
            rows = one(con, "select count(*) from read_parquet($p)", {"p": str(path)})[0]
            entries[table] = {"rows": rows, "schema_version": contract.schema_version,
                              "files": [{"path": f"{table}/as_of_date={as_of_date.isoformat()}/{path.name}",
                                         "sha256": sha256_of(path)}]}
            # Columns a contract names as labels of the snapshot (e.g. how a score was made).
            for column in contract.extra.get("manifest_columns", []):
                values = run(con, f"select distinct {q(column)}::varchar from {q(table)} where as_of_date = $as_of_date "
                                  f"order by 1", {"as_of_date": as_of_date}).fetchall()
                entries[table].setdefault("labels", {})[column] = [v for (v,) in values]
        if problems:
            detail = "; ".join(f"{t}: {', '.join(p)}" for t, p in problems.items())
            raise PublishError(f"snapshot {as_of_date} not published: {detail}")
        for table in tables:
            _move_into_place(staging_root / table, output_root / table / f"as_of_date={as_of_date.isoformat()}")
        manifest = {
            "as_of_date": as_of_date.isoformat(),
            "run_id": run_id,
            "published_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "tables": entries,
            "input_files": input_files,
        }
        manifests = output_root / "_manifests"
        manifests.mkdir(parents=True, exist_ok=True)
        tmp = manifests / f".{as_of_date.isoformat()}.json.tmp"
        tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
        os.replace(tmp, manifests / f"{as_of_date.isoformat()}.json")
        return manifest
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)


def publish_range(con: duckdb.DuckDBPyConnection, output_root: Path, dates: DateRange, tables: list[str],
                  run_id: str) -> list[dict]:
    """One snapshot per business date of the range, oldest first; the manifests written."""
    contracts = output_contracts()
    days = dates.days
    violations = {table: contract_violations_by_date(con, table, contracts[table], days)
                  for table in tables if table in contracts}
    inputs = con.sql("select business_date, entity, source_file, file_sha256, rows_read from ingestion_log "
                     "where business_date between $date_from and $date_to and source_file is not null "
                     "order by business_date, entity", params=dates.params).pl()
    manifests = []
    for day in days:
        input_files = inputs.filter(inputs["business_date"] == day).drop("business_date").to_dicts()
        manifests.append(publish_snapshot(con, output_root, day, tables, run_id, input_files, violations))
    return manifests
