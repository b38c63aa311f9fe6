"""The settings every daily asset shares, written once: business-date partitions, one run per
backfill range, the warehouse pool, the DuckDB kind; and the metadata every table reports.

An asset body is then three lines: open the warehouse, call its capability's range build, report."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import dagster as dg
import duckdb

from pipelines.core.base_coverage import base_coverage_failures
from pipelines.core.engine import DateRange, distribution_markdown
from pipelines.core.partitions import business_dates, daily_partitions

# DuckDB allows one read-write process per file: every step that opens the warehouse is in this
# pool (limit 1, dagster.yaml), so parallel steps and queued runs wait their turn.
WAREHOUSE_POOL = "duckdb_warehouse"
COVERAGE_CHECK = "covers_customer_base"

DAILY = {
    "partitions_def": daily_partitions,
    # A backfill is one run over its whole range: every build is set-based over the range.
    "backfill_policy": dg.BackfillPolicy.single_run(),
    "pool": WAREHOUSE_POOL,
}
# Model training runs as of one date (its own job and cadence), not over a range.
TRAINING = {"partitions_def": daily_partitions, "pool": WAREHOUSE_POOL, "group_name": "training"}


@dataclass(frozen=True)
class Table:
    """One warehouse table an asset writes: what a row is, what it reads, and which columns'
    distributions on the run's last date go into the materialization's metadata."""

    name: str
    description: str
    deps: tuple[str, ...] = ()
    distributions: tuple[str, ...] = ()
    kinds: frozenset[str] = field(default_factory=lambda: frozenset({"duckdb"}))

    def spec(self, group: str) -> dg.AssetSpec:
        return dg.AssetSpec(self.name, deps=list(self.deps), description=self.description,
                            group_name=group, kinds=set(self.kinds))


def coverage_checks(tables: Iterable[str]) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(COVERAGE_CHECK, asset=t, blocking=True,
                              description="Every customer known on the date appears exactly once.")
            for t in tables]


def daily_multi_asset(tables: Iterable[Table], group: str, check_specs: Iterable[dg.AssetCheckSpec] = (),
                      **kwargs):
    """A step that builds several tables of the run's range together (one connection, one pass)."""
    return dg.multi_asset(specs=[t.spec(group) for t in tables], check_specs=list(check_specs),
                          can_subset=False, **DAILY, **kwargs)


def daily_asset(table: Table, group: str, **kwargs):
    """A step that builds one table of the run's range."""
    return dg.asset(name=table.name, deps=list(table.deps), description=table.description,
                    group_name=group, kinds=set(table.kinds), **DAILY, **kwargs)


def run_dates(context) -> DateRange:
    """The run's business dates: one partition, or a backfill's whole range."""
    return DateRange.of(business_dates(context))


def table_metadata(con: duckdb.DuckDBPyConnection, table: Table, dates: DateRange, rows: int) -> dict:
    """Rows written over the range and the last date's distributions."""
    return {"business_dates": len(dates), "rows": rows,
            **{f"{c}_distribution": dg.MetadataValue.md(distribution_markdown(con, table.name, c, dates.last))
               for c in table.distributions}}


def materializations(con: duckdb.DuckDBPyConnection, tables: Iterable[Table], dates: DateRange,
                     rows: dict[str, int], extra: dict[str, dict] | None = None) -> list[dg.MaterializeResult]:
    extra = extra or {}
    return [dg.MaterializeResult(asset_key=t.name, metadata={**table_metadata(con, t, dates, rows.get(t.name, 0)),
                                                            **extra.get(t.name, {})})
            for t in tables]


def coverage_results(con: duckdb.DuckDBPyConnection, tables: Iterable[str], dates: DateRange
                     ) -> Iterator[dg.AssetCheckResult]:
    for table in tables:
        failures = base_coverage_failures(con, table, dates)
        yield dg.AssetCheckResult(asset_key=table, check_name=COVERAGE_CHECK, passed=not failures,
                                  metadata={"failures": [f"{k}: {v}" for k, v in failures.items()][:20]})
