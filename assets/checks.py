"""Blocking contract checks (Great Expectations) for any warehouse table keyed by a date."""


from datetime import date

import dagster as dg

from pipelines.core.contracts import Contract, quote_ident as q
from pipelines.core.expectations import combine, validate_frame
from pipelines.core.partitions import business_dates, daily_partitions
from pipelines.core.resources import WarehouseResource


# Great Expectations validates pandas frames: a backfill range is validated in chunks of whole
# dates of about this many rows, so memory stays bounded and each date is checked, keys per date.
CHUNK_ROWS = 1_000_000


def date_chunks(date_rows: list[tuple[date, int]], chunk_rows: int) -> list[tuple[date, date]]:
    """Consecutive (first, last) date ranges of at most `chunk_rows` rows (a bigger date stands alone)."""
    chunks, first, rows = [], None, 0
    for day, n in date_rows:
        if first is not None and rows + n > chunk_rows:
            chunks.append((first, last))
            first, rows = None, 0
        first = day if first is None else first
        last, rows = day, rows + n
    if first is not None:
        chunks.append((first, last))
    return chunks


def checked_columns(contract: Contract, date_column: str) -> set[str]:
    """The columns the contract's suite has an expectation on, its key, and the date."""
    ruled = {c.name for c in contract.columns
             if c.required or c.allowed or c.min is not None or c.min_exclusive is not None or c.max is not None}
    return ruled | set(contract.key) | {date_column}


def validate_dates(warehouse: WarehouseResource, table: str, date_column: str,
                   dates: list[date], contract: Contract) -> dg.AssetCheckResult:
    """Validate the rows of `dates` (one business date, or a backfill range)."""
    where = f"where {q(date_column)} between $first and $last"
    bounds = {"first": dates[0], "last": dates[-1]}
    summaries, rows = [], 0
    with warehouse.connect(read_only=True) as con:
        date_rows = con.sql(f"select {q(date_column)}, count(*) from {q(table)} {where} group by 1 order by 1",
                            params=bounds).fetchall()
        present = {r[0] for r in con.sql(f"describe {q(table)}").fetchall()}
        # Only the columns an expectation reads cross into pandas: wide list columns with no rule
        # (holdings, reasons) were most of a wide table's check time.
        columns = ", ".join(q(c) for c in sorted(checked_columns(contract, date_column) & present))
        for first, last in date_chunks(date_rows, CHUNK_ROWS) or [(dates[0], dates[-1])]:
            frame = con.sql(f"select {columns} from {q(table)} {where}", params={"first": first, "last": last}).df()
            summaries.append(validate_frame(frame, contract, date_column))
            rows += len(frame)
    summary = combine(summaries)
    return dg.AssetCheckResult(passed=summary.success, metadata={"rows": rows, **summary.as_metadata()})


def contract_check(asset_key: str, contract: Contract, date_column: str = "as_of_date"):
    """A blocking check of one mart against its output contract."""

    @dg.asset_check(
        asset=asset_key,
        name="matches_contract",
        blocking=True,
        description=f"{asset_key} rows of the run's business dates meet data_contracts/outputs/{contract.entity}.yaml",
        partitions_def=daily_partitions,
        pool="duckdb_warehouse",
    )
    def _check(context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource) -> dg.AssetCheckResult:
        return validate_dates(warehouse, asset_key, date_column, business_dates(context), contract)

    return _check
