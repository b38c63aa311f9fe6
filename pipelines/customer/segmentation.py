"""The segmentation tables over a range of business dates, in dependency order: each table is
built for the whole range by one set-based query (a date is a range of one).

Dagster assets call `build_segmentation` and `build_customer_360`; tests and benchmarks may call
`build_date` for the whole chain of one date."""

from __future__ import annotations

from datetime import date

import duckdb

from models.customer.segmentation import SegmentationConfigError, segmentation_params
from pipelines.customer.activity import build_activity
from pipelines.relationship.care import feedback_params
from pipelines.core.contract_tables import ensure_contract_table
from pipelines.core.contracts import output_contracts
from pipelines.core.engine import DateRange, replace_range

# (warehouse table, sql file) in the order a range is built; int_customer_activity is built by
# pipelines/customer/activity.py (which types its table first).
STEPS = (
    ("int_customer_activity", "int/customer/int_customer_activity"),
    ("int_customer_day", "int/customer/int_customer_day"),
    ("customer_rfm", "marts/customer/customer_rfm"),
    ("segment_migration", "marts/customer/segment_migration"),
    ("customer_lifecycle", "marts/customer/customer_lifecycle"),
    ("customer_360", "marts/customer/customer_360"),
)
# Marts customer_360 joins in; it is built after them in the Dagster graph (assets/customer_360.py).
# Typed from their contracts when absent, so customer_360 builds (with empty columns) before they exist.
CUSTOMER_360_INPUTS = ("customer_propensity", "next_best_offer", "customer_risk", "risk_alerts", "customer_loyalty")


def params_for(rules: dict) -> dict:
    """Validated SQL parameters; config names must be values the output contracts allow."""
    params = segmentation_params(rules)
    contracts = output_contracts()
    allowed = {
        "segment": (set(contracts["customer_rfm"].column("segment").allowed or ()),
                    {g["segment"] for g in params["segment_grid"]} | {params["inactive_segment"]}),
        "tier": (set(contracts["customer_lifecycle"].column("tier").allowed or ()), set(params["tier_names"])),
    }
    for what, (contract_values, config_values) in allowed.items():
        if contract_values and not config_values <= contract_values:
            raise SegmentationConfigError(
                f"{what} names {sorted(config_values - contract_values)} are not in the output contract; "
                "renaming them is a contract change (bump its schema_version)")
    params["top_families"] = int(rules["propensity"]["scoring"]["top_families"])
    return {**params, **feedback_params(rules)}


def build_step(con: duckdb.DuckDBPyConnection, table: str, dates: DateRange | date, params: dict) -> int:
    """Replace the range's rows of one table (a date: a range of one); a table with an output
    contract is created typed by it."""
    if isinstance(dates, date):
        dates = DateRange(dates, dates)
    if table == "int_customer_activity":
        return build_activity(con, dates, params)
    if table == "customer_360":
        for upstream in CUSTOMER_360_INPUTS:
            ensure_contract_table(con, output_contracts()[upstream])
    contract = output_contracts().get(table)
    if contract is not None:
        ensure_contract_table(con, contract)
    return replace_range(con, table, dict(STEPS)[table], params, dates)


SEGMENTATION_TABLES = tuple(t for t, _ in STEPS if t != "customer_360")


def build_segmentation(con: duckdb.DuckDBPyConnection, dates: DateRange, rules: dict) -> dict[str, int]:
    """Every segmentation table but customer_360 over the range; rows written per table."""
    params = params_for(rules)
    return {table: build_step(con, table, dates, params) for table in SEGMENTATION_TABLES}


def build_customer_360(con: duckdb.DuckDBPyConnection, dates: DateRange, rules: dict) -> int:
    return build_step(con, "customer_360", dates, params_for(rules))


def build_date(con: duckdb.DuckDBPyConnection, as_of_date: date, rules: dict) -> dict[str, int]:
    """Every segmentation table for one date (a range of one); rows written per table."""
    dates = DateRange(as_of_date, as_of_date)
    return {**build_segmentation(con, dates, rules), "customer_360": build_customer_360(con, dates, rules)}
