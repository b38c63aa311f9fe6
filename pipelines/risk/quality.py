"""Alert and large-value quality against the demo generator's planted patterns (its _truth,
which the pipeline itself never reads): for tests and benchmarks/quality_risk_alerts.py."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

from pipelines.risk.reports import build_large_value_reports, build_risk_alerts, build_risk_transactions
from pipelines.core.engine import DateRange
from pipelines.core.sql import load_sql

# Planted pattern type -> the rule id meant to find it (LVR: large_value_reports).
PATTERN_RULES = {
    "structuring": "STR01",
    "rapid_in_out": "RIO01",
    "frequent_cash": "FCW01",
    "dormant_reactivation": "DRM01",
    "large_transfer_vs_history": "LTH01",
    "large_cash_threshold": "LVR",
    "large_transfer_threshold": "LVR",
}


def build_history(con: duckdb.DuckDBPyConnection, first: date, last: date, rules: dict) -> None:
    """Reports over the whole range in one build; alert snapshots every open_days (a finding stays
    open that long) and on the last date, as the documented quality numbers sample them."""
    build_risk_transactions(con, DateRange(first, last), rules)
    build_large_value_reports(con, DateRange(first, last), rules)
    step = rules["risk_alerts"]["open_days"]
    day = first + timedelta(days=step - 1)
    while day < last:
        build_risk_alerts(con, DateRange(day, day), rules)
        day += timedelta(days=step)
    build_risk_alerts(con, DateRange(last, last), rules)


def planted_quality(con: duckdb.DuckDBPyConnection, truth: Path) -> list[dict]:
    rel = con.sql(load_sql("quality/planted_patterns"), params={
        "patterns": str(truth / "patterns.parquet"),
        "pattern_rules": [{"pattern": p, "rule_id": r} for p, r in PATTERN_RULES.items()]})
    return [dict(zip(rel.columns, row)) for row in rel.fetchall()]
