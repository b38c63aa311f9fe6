"""crm_tasks of one business date: the tasks relationship managers act on (sql/marts/crm_tasks.sql)."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.contract_tables import ensure_contract_table
from pipelines.contracts import output_contracts
from pipelines.marts import replace_date

UPSTREAM = ("customer_risk", "risk_alerts")


def crm_task_params(rules: dict) -> dict:
    review = rules["crm_tasks"]["risk_review"]
    due = review["due_days"]
    for priority in review["priority"].values():
        if priority not in due:
            raise ValueError(f"crm_tasks.risk_review: no due_days for priority {priority!r}")
    return {
        "review_grades": list(rules["risk"]["review_grades"]),
        "alert_severities": list(review["alert_severities"]),
        "grade_priority": review["priority"]["grade"],
        "alert_priority": review["priority"]["alert"],
        "due_days": [{"priority": k, "days": int(v)} for k, v in due.items()],
    }


def build_crm_tasks(con: duckdb.DuckDBPyConnection, as_of_date: date, rules: dict) -> int:
    contracts = output_contracts()
    for table in (*UPSTREAM, "crm_tasks"):
        ensure_contract_table(con, contracts[table])
    return replace_date(con, "crm_tasks", "marts/crm_tasks", {**crm_task_params(rules), "as_of_date": as_of_date})
