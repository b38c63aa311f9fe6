"""Blocking contract checks (Great Expectations) for any warehouse table keyed by a date."""


from datetime import date

import dagster as dg

from pipelines.contracts import Contract, quote_ident as q
from pipelines.expectations import validate_frame
from pipelines.partitions import business_dates, daily_partitions
from pipelines.resources import WarehouseResource


def validate_dates(warehouse: WarehouseResource, table: str, date_column: str,
                   dates: list[date], contract: Contract) -> dg.AssetCheckResult:
    """Validate the rows of `dates` (one business date, or a backfill range)."""
    query = (f"select * from {q(table)} where {q(date_column)} between $first and $last")
    with warehouse.connect(read_only=True) as con:
        frame = con.sql(query, params={"first": dates[0], "last": dates[-1]}).df()
    if len(dates) > 1 and contract.key:
        # keys are unique per date, not across a range
        frame = frame[frame[date_column] == frame[date_column].max()]
    summary = validate_frame(frame.drop(columns=[date_column]), contract)
    return dg.AssetCheckResult(passed=summary.success, metadata={"rows": len(frame), **summary.as_metadata()})


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
