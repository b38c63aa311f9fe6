"""Large-value reports and suspicious-pattern alerts over a range of business dates (set-based SQL
in sql/: every query judges the whole range at once; one date is a range of one).

Dagster assets call build_reports; tests and benchmarks call the steps directly."""

from __future__ import annotations

from datetime import date

import duckdb

from pipelines.core.contract_tables import ensure_contract_table
from pipelines.core.contracts import output_contracts, quote_ident as q
from pipelines.core.engine import DateRange, count_range, replace_range
from pipelines.core.sql import load_sql, one, run, transaction

LARGE_VALUE_STANDARDS = ("cash", "non_natural_transfer", "natural_domestic_transfer", "natural_cross_border_transfer")
ALERT_TYPES = ("structuring", "rapid_in_out", "frequent_cash", "dormant_reactivation", "large_vs_history")
SEVERITIES = ("low", "medium", "high")
EVIDENCE_TABLES = ("large_value_reports", "risk_alerts")
REPORT_TABLES = ("int_risk_transactions", "large_value_reports", "risk_alerts")


class RiskConfigError(ValueError):
    """rules.yaml's large_value or risk_alerts section is incomplete or inconsistent."""


def large_value_params(rules: dict) -> dict:
    lv = rules["large_value"]
    missing = [s for s in LARGE_VALUE_STANDARDS if s not in lv]
    if missing:
        raise RiskConfigError(f"large_value: thresholds missing for {missing}")
    thresholds = [{"standard": s, "basis": basis, "threshold": float(lv[s][basis])}
                  for s in LARGE_VALUE_STANDARDS for basis in ("CNY", "USD")]
    return {
        "large_value_thresholds": thresholds,
        "transfer_txn_types": list(lv["transfer_txn_types"]),
        "reporting_currency": rules["reporting"]["currency"],
    }


def alert_rules(rules: dict) -> list[dict]:
    """The configured alert rules, validated: unique ids, known types and severities."""
    configured = rules["risk_alerts"]["rules"]
    ids = [r["id"] for r in configured]
    if len(ids) != len(set(ids)):
        raise RiskConfigError(f"risk_alerts: duplicate rule ids {sorted(i for i in ids if ids.count(i) > 1)}")
    for r in configured:
        if r["type"] not in ALERT_TYPES:
            raise RiskConfigError(f"risk_alerts rule {r['id']}: unknown type {r['type']!r} (one of {ALERT_TYPES})")
        if r["severity"] not in SEVERITIES:
            raise RiskConfigError(f"risk_alerts rule {r['id']}: severity must be one of {SEVERITIES}")
    return configured


def alert_params(rules: dict, rule: dict) -> dict:
    """SQL parameters of one rule: its own params plus the shared ones."""
    lv = rules["large_value"]
    return {
        **rule["params"],
        "rule_id": rule["id"],
        "rule_name": rule["name"],
        "severity": rule["severity"],
        "open_days": rules["risk_alerts"]["open_days"],
        "episode_horizon_days": rules["risk_alerts"]["episode_horizon_days"],
        "counted_txn_types": list(rules["risk_alerts"]["counted_txn_types"]),
        "cash_threshold_cny": float(lv["cash"]["CNY"]),
        "cash_threshold_usd": float(lv["cash"]["USD"]),
        "reporting_currency": rules["reporting"]["currency"],
    }


def build_risk_transactions(con: duckdb.DuckDBPyConnection, dates: DateRange, rules: dict) -> int:
    return replace_range(con, "int_risk_transactions", "int/risk/int_risk_transactions",
                         {"reporting_currency": rules["reporting"]["currency"]}, dates)


def build_large_value_reports(con: duckdb.DuckDBPyConnection, dates: DateRange, rules: dict) -> int:
    ensure_contract_table(con, output_contracts()["large_value_reports"])
    return replace_range(con, "large_value_reports", "marts/risk/large_value_reports", large_value_params(rules),
                         dates)


def build_alert_findings(con: duckdb.DuckDBPyConnection, dates: DateRange, rules: dict) -> int:
    """Every enabled rule's findings of the range into int_alert_findings (one statement per rule,
    one transaction)."""
    run(con, load_sql("int/risk/int_alert_findings_ddl"))
    with transaction(con):
        run(con, "delete from int_alert_findings where as_of_date between $date_from and $date_to", dates.params)
        for rule in alert_rules(rules):
            if rule.get("enabled", True):
                query = load_sql(f"int/risk/alerts/{rule['type']}")
                run(con, f"insert into int_alert_findings by name {query}", {**alert_params(rules, rule), **dates.params})
    return count_range(con, "int_alert_findings", dates)


def build_risk_alerts(con: duckdb.DuckDBPyConnection, dates: DateRange, rules: dict) -> int:
    build_alert_findings(con, dates, rules)
    ensure_contract_table(con, output_contracts()["risk_alerts"])
    return replace_range(con, "risk_alerts", "marts/risk/risk_alerts", {}, dates)


def evidence_gaps(con: duckdb.DuckDBPyConnection, table: str, first: date, last: date) -> int:
    """Evidence transaction ids of `table` (reports or alerts) in [first, last] that are not a
    delivered transaction of the row's customer."""
    if table not in EVIDENCE_TABLES:
        raise ValueError(f"no evidence columns in {table}")
    query = load_sql("int/risk/evidence_gaps").replace("__table__", q(table))
    return one(con, query, {"first": first, "last": last})[0]


def build_reports(con: duckdb.DuckDBPyConnection, dates: DateRange, rules: dict) -> dict[str, int]:
    """Large-value reports and alerts over the range, in dependency order; rows written per table."""
    return {
        "int_risk_transactions": build_risk_transactions(con, dates, rules),
        "large_value_reports": build_large_value_reports(con, dates, rules),
        "risk_alerts": build_risk_alerts(con, dates, rules),
    }
