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
from pipelines.core.sql import run

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
                     tables: list[str], run_id: str, input_files: list[dict]) -> dict:
    """Write, validate and atomically publish one business date's snapshot; return the manifest."""
    dates = DateRange(as_of_date, as_of_date)
    return publish_range(con, output_root, dates, tables, run_id, {as_of_date: input_files})[0]


def publish_range(con: duckdb.DuckDBPyConnection, output_root: Path, dates: DateRange, tables: list[str],
                  run_id: str, input_files: dict[date, list[dict]] | None = None) -> list[dict]:
    """Publish one snapshot per business date of the range, oldest first; the manifests written.

    Contracts are judged and every table's files written for the whole range at once, into a
    temporary folder; then date by date each table's folder is swapped into place and the
    manifest written last. A date that breaks a contract stops the run there: the dates before it
    are published, it and the later ones are not. `input_files` defaults to the ingestion log."""
    contracts = output_contracts()
    missing = [t for t in tables if t not in contracts]
    if missing:
        raise PublishError(f"no output contract for {', '.join(missing)}")
    days = dates.days
    violations = {t: contract_violations_by_date(con, t, contracts[t], days) for t in tables}
    if input_files is None:
        input_files = _logged_inputs(con, dates)
    staging_root = output_root / "_tmp" / f"{dates.first.isoformat()}-{run_id[:8]}-{uuid.uuid4().hex[:6]}"
    try:
        rows, labels = {}, {}
        for table in tables:
            if all(violations[table][d] for d in days):
                continue
            _write_range(con, staging_root, table, contracts[table], dates)
            rows[table] = dict(run(con, f"select as_of_date, count(*) from {q(table)} "
                                        "where as_of_date between $date_from and $date_to group by all",
                                   dates.params).fetchall())
            labels[table] = _labels(con, table, contracts[table], dates)
        manifests = []
        for day in days:
            problems = {t: violations[t][day] for t in tables if violations[t][day]}
            if problems:
                detail = "; ".join(f"{t}: {', '.join(p)}" for t, p in problems.items())
                raise PublishError(f"snapshot {day} not published: {detail}")
            manifests.append(_publish_date(con, output_root, staging_root, day, tables, rows, labels, run_id,
                                           input_files.get(day, [])))
        return manifests
    finally:
        shutil.rmtree(staging_root, ignore_errors=True)


def _publish_date(con, output_root: Path, staging_root: Path, day: date, tables: list[str], rows: dict,
                  labels: dict, run_id: str, input_files: list[dict]) -> dict:
    """Swap one date's staged table folders into place, then write its manifest."""
    contracts = output_contracts()
    partition = f"as_of_date={day.isoformat()}"
    entries = {}
    for table in tables:
        staged = staging_root / table / partition
        if not staged.exists():
            _empty_file(con, staged, table, contracts[table])
        path = staged / "part-0.parquet"
        entries[table] = {"rows": rows[table].get(day, 0), "schema_version": contracts[table].schema_version,
                          "files": [{"path": f"{table}/{partition}/{path.name}", "sha256": sha256_of(path)}]}
        if day in labels[table]:
            entries[table]["labels"] = labels[table][day]
    for table in tables:
        _move_into_place(staging_root / table / partition, output_root / table / partition)
    manifest = {"as_of_date": day.isoformat(), "run_id": run_id,
                "published_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "tables": entries, "input_files": input_files}
    manifests = output_root / "_manifests"
    manifests.mkdir(parents=True, exist_ok=True)
    tmp = manifests / f".{day.isoformat()}.json.tmp"
    tmp.write_text(json.dumps(manifest, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    os.replace(tmp, manifests / f"{day.isoformat()}.json")
    return manifest


def _write_range(con: duckdb.DuckDBPyConnection, staging_root: Path, table: str, contract: Contract,
                 dates: DateRange) -> None:
    """Every date's file of the range in one partitioned write, each sorted by the contract key:
    <staging_root>/<table>/as_of_date=YYYY-MM-DD/part-0.parquet."""
    columns = ", ".join(q(c.name) for c in contract.columns)
    order = ", ".join(q(k) for k in contract.key)
    # COPY takes no parameter for its target: the path is a quoted literal of a folder we named.
    staging_root.mkdir(parents=True, exist_ok=True)
    target = lit(str(staging_root / table))
    run(con, f"copy (select as_of_date, {columns} from {q(table)} where as_of_date between $date_from and $date_to "
             f"order by as_of_date, {order}) to {target} "
             "(format parquet, compression zstd, partition_by (as_of_date), filename_pattern 'part-{i}')",
        dates.params)


def _empty_file(con: duckdb.DuckDBPyConnection, folder: Path, table: str, contract: Contract) -> None:
    """A date without rows still publishes the table: a file with the contract's columns."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = ", ".join(q(c.name) for c in contract.columns)
    con.sql(f"select {columns} from {q(table)} limit 0").write_parquet(str(folder / "part-0.parquet"),
                                                                       compression="zstd")


def _labels(con: duckdb.DuckDBPyConnection, table: str, contract: Contract, dates: DateRange) -> dict:
    """{date: {column: [values]}} of the columns a contract names as labels of the snapshot."""
    labels: dict = {}
    for column in contract.extra.get("manifest_columns", []):
        rows = run(con, f"select as_of_date, list(v order by v nulls last) from (select distinct as_of_date, "
                        f"{q(column)}::varchar as v from {q(table)} where as_of_date between $date_from and $date_to) "
                        "group by all", dates.params).fetchall()
        for day, values in rows:
            labels.setdefault(day, {})[column] = values
    return labels


def _logged_inputs(con: duckdb.DuckDBPyConnection, dates: DateRange) -> dict[date, list[dict]]:
    rows = run(con, "select business_date, entity, source_file, file_sha256, rows_read from ingestion_log "
                    "where business_date between $date_from and $date_to and source_file is not null "
                    "order by business_date, entity", dates.params).fetchall()
    found: dict[date, list[dict]] = {}
    for day, entity, source_file, sha, rows_read in rows:
        found.setdefault(day, []).append({"entity": entity, "source_file": source_file, "file_sha256": sha,
                                          "rows_read": rows_read})
    return found
