"""The IBM AMLSim sample (shared/data/amlsim_20k_fanin200) as a bank's warehouse: an adapter,
because an edge list (sender, receiver, value, day step) is two transactions per row, which a
source profile (one input row, one staged row) cannot express.

`evaluate_alerts` runs the alert rules over it and measures them against the labelled
laundering accounts (isFraud): recall of flagged accounts and the alert rate."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import duckdb

from pipelines.ingestion.ingest import init_warehouse
from pipelines.risk.reports import build_risk_alerts, build_risk_transactions
from pipelines.core.engine import DateRange
from pipelines.core.sql import load_sql, one, run

START = date(2024, 1, 1)
# AMLSim amounts are small units (2.5 to 600 per transfer): the CNY floors of rules.yaml
# (RMB 50,000 per pattern, 10,000 per credit) would never be met, so the "scaled" run puts the
# pattern floors at 500 units, near the sample's largest transfer, the per-credit floor at 100
# (the same 1:5 ratio), and keeps every other parameter.
SCALED_FLOORS = {"min_amount": 500, "min_credit": 100}


def scaled_rules(rules: dict) -> dict:
    """rules.yaml with every alert rule's amount floor in AMLSim units."""
    alert_rules = [{**r, "params": {**r["params"], **{k: v for k, v in SCALED_FLOORS.items() if k in r["params"]}}}
                   for r in rules["risk_alerts"]["rules"]]
    return {**rules, "risk_alerts": {**rules["risk_alerts"], "rules": alert_rules}}


def load(con: duckdb.DuckDBPyConnection, folder: Path, start: date = START) -> date:
    """Stage the sample; returns the last business date."""
    init_warehouse(con)
    params = {"start_date": start, "nodes": str(folder / "nodes.csv"),
              "transactions": str(folder / "transactions.csv")}
    for statement in load_sql("staging/adapters/amlsim_load").split(";\n"):
        if statement.strip() and not all(line.startswith("--") for line in statement.strip().splitlines()):
            run(con, statement, params)
    return one(con, "select max(business_date) from stg_transactions")[0]


def evaluate_alerts(con: duckdb.DuckDBPyConnection, folder: Path, rules: dict, start: date = START) -> dict:
    """Alerts over the whole sample and how they meet the labels, overall and per rule."""
    last = load(con, folder, start)
    build_risk_transactions(con, DateRange(start, last), rules)
    # A finding stays in the snapshot for open_days after its last evidence, so snapshots that
    # far apart (and the last date) see every finding.
    step = rules["risk_alerts"]["open_days"]
    day = start
    while True:
        build_risk_alerts(con, DateRange(min(day, last), min(day, last)), rules)
        if day >= last:
            break
        day += timedelta(days=step)
    query = load_sql("staging/adapters/amlsim_quality")
    rel = con.sql(query, params={"nodes": str(folder / "nodes.csv")})
    per_rule = [dict(zip(rel.columns, row)) for row in rel.fetchall()]
    return {"per_rule": per_rule, "last_date": last}
