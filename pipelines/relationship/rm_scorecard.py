"""rm_scorecard over a range of business dates: each relationship manager's book and activity
(sql/marts/relationship/rm_scorecard.sql, one statement for the whole range)."""

from __future__ import annotations

import duckdb

from pipelines.relationship.care import feedback_params
from pipelines.core.contract_tables import ensure_contract_table
from pipelines.core.contracts import output_contracts
from pipelines.core.engine import DateRange, replace_range

UPSTREAM = ("customer_lifecycle", "crm_tasks")


def scorecard_params(rules: dict) -> dict:
    care = rules["care"]
    window = care["scorecard"]
    return {
        "cadence": [{"tier": t, "days": int(d)} for t, d in care["contact_cadence_days"].items()],
        "contact_kinds": list(care["contact_kinds"]),
        "uncounted_outcomes": list(care["uncounted_outcomes"]),
        **feedback_params(rules),
        "activity_days": int(window["activity_days"]),
        "aum_growth_days": int(window["aum_growth_days"]),
        "conversion_days": int(window["conversion_days"]),
    }


def build_rm_scorecard_range(con: duckdb.DuckDBPyConnection, dates: DateRange, rules: dict) -> int:
    contracts = output_contracts()
    for table in (*UPSTREAM, "rm_scorecard"):
        ensure_contract_table(con, contracts[table])
    return replace_range(con, "rm_scorecard", "marts/relationship/rm_scorecard", scorecard_params(rules), dates)
