"""rm_scorecard of one business date: each relationship manager's book and activity
(sql/marts/rm_scorecard.sql)."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.relationship.care import feedback_params
from pipelines.core.contract_tables import ensure_contract_table
from pipelines.core.contracts import output_contracts
from pipelines.core.engine import replace_date
from pipelines.core.engine import DateRange

UPSTREAM = ("customer_lifecycle", "crm_tasks")


def scorecard_params(rules: dict, as_of_date: date) -> dict:
    care = rules["care"]
    window = care["scorecard"]
    return {
        "as_of_date": as_of_date,
        "cadence": [{"tier": t, "days": int(d)} for t, d in care["contact_cadence_days"].items()],
        "contact_kinds": list(care["contact_kinds"]),
        "uncounted_outcomes": list(care["uncounted_outcomes"]),
        **feedback_params(rules),
        "activity_days": int(window["activity_days"]),
        "aum_growth_days": int(window["aum_growth_days"]),
        "conversion_days": int(window["conversion_days"]),
    }


def build_rm_scorecard(con: duckdb.DuckDBPyConnection, as_of_date: date, rules: dict) -> int:
    contracts = output_contracts()
    for table in (*UPSTREAM, "rm_scorecard"):
        ensure_contract_table(con, contracts[table])
    return replace_date(con, "rm_scorecard", "marts/relationship/rm_scorecard", scorecard_params(rules, as_of_date))


def build_rm_scorecard_range(con: duckdb.DuckDBPyConnection, dates: DateRange, rules: dict) -> int:
    return sum(build_rm_scorecard(con, day, rules) for day in dates.days)
