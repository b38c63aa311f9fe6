"""int_features: the point-in-time propensity features of a range's kept feature dates, in one statement."""

from __future__ import annotations

from datetime import timedelta

import duckdb

from pipelines.core.engine import DateRange, replace_range
from pipelines.core.sql import run

FEATURE_TABLE = "int_features"
# Up to this many kept feature dates, transactions are range-joined to the dates instead of windowed
# (measured crossover, see the few_dates CTE of int_features.sql).
RANGE_JOIN_MAX_DATES = 7


def feature_params(rules: dict) -> dict:
    p = rules["propensity"]
    ranges = []
    for group, codes in p["mcc_groups"].items():
        for code in codes:
            lo, _, hi = str(code).partition("-")
            ranges.append({"grp": group, "lo": lo, "hi": hi or lo})
    return {
        "short_days": int(p["feature_windows_days"]["short"]),
        "long_days": int(p["feature_windows_days"]["long"]),
        "salary_days": int(p["salary_window_days"]),
        "delinquency_days": int(p["preapproved"]["delinquency_lookback_days"]),
        "retention_days": int(p["feature_retention_days"]),
        "range_join_max_dates": RANGE_JOIN_MAX_DATES,
        "income_band_edges": [int(e) for e in p["income_band_edges"]],
        "mcc_ranges": ranges,
    }


def build_feature_range(con: duckdb.DuckDBPyConnection, dates: DateRange, rules: dict) -> int:
    """int_features over `dates`: month ends plus the last `feature_retention_days` days of the
    range (the SQL computes only those); older non-month-end snapshots are dropped, as a
    date-by-date build would have left them. Rows kept in the range."""
    rows = replace_range(con, FEATURE_TABLE, "int/propensity/int_features", feature_params(rules), dates)
    cutoff = dates.last - timedelta(days=int(rules["propensity"]["feature_retention_days"]))
    run(con, f"delete from {FEATURE_TABLE} where as_of_date < $cutoff and as_of_date <> last_day(as_of_date)",
        {"cutoff": cutoff})
    return rows
