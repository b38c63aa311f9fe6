"""crm_tasks over a range of business dates: the tasks relationship managers act on.

Every date's candidates come from one set-based query (sql/int/relationship/int_crm_task_candidates.sql,
a temp table ordered by date); the carry-over and the per-RM cap (sql/marts/relationship/crm_tasks.sql)
then run date by date, because which capped tasks an RM keeps depends on the previous night's list
(tasks already on it win ties), and so do the loyalty tasks that outlive their night: no closed
form over the inputs exists.

A loop, not a recursive CTE, measured on the same candidates (shared 2 cores, load ~10):
- golden warehouse (800 customers, 274 dates, 76 k candidates): loop 10.1-11.1 s, recursive CTE
  8.3-10.2 s with a night without tasks passing the list on (ghost rows), about even;
- the candidates replicated 50x (40 k customers, 60 dates, 691 k candidates): loop 4.5 s, recursive
  CTE 26.5 s, and still 7.3 s without the empty-night case. Each recursive step joins the whole
  candidate table and carries the union; the loop's constant date filter skips row groups by
  their zone maps, so it is the one that scales."""

from __future__ import annotations

import duckdb

from pipelines.relationship.care import feedback_params, festival_dates
from pipelines.core.config import whole_number
from pipelines.core.contract_tables import ensure_contract_table
from pipelines.core.contracts import output_contracts
from pipelines.core.engine import DateRange, count_range
from pipelines.core.sql import load_sql, one, run, transaction
from pipelines.relationship.loyalty import loyalty_rules

# The marts crm_tasks reads; assets/crm.py declares them as the asset's deps.
UPSTREAM = ("customer_risk", "risk_alerts", "customer_lifecycle", "next_best_offer", "customer_loyalty")


def crm_task_params(rules: dict, dates: DateRange) -> dict:
    tasks, care = rules["crm_tasks"], rules["care"]
    review, complaint = tasks["risk_review"], tasks["complaint_follow_up"]["priority"]
    cadence = care["contact_cadence_days"]
    contact_priority = tasks["contact_due"]["priority"]
    if set(cadence) != set(contact_priority):
        raise ValueError("crm_tasks.contact_due.priority must name exactly the tiers of care.contact_cadence_days")
    actions = tasks["lifecycle_action"]["actions"]
    upgrade, expiry = tasks["loyalty_tier_upgrade"], tasks["points_expiry_reminder"]
    min_points = whole_number(expiry, "min_points", "crm_tasks.points_expiry_reminder.", 1)
    priorities = [*review["priority"].values(), *contact_priority.values(), *actions.values(), *complaint.values(),
                  tasks["birthday_greeting"]["priority"], tasks["festival_greeting"]["priority"],
                  tasks["offer"]["priority"], upgrade["priority"], expiry["priority"]]
    missing = sorted(set(priorities) - set(tasks["due_days"]))
    if missing:
        raise ValueError(f"crm_tasks.due_days: no days for priority {', '.join(missing)}")
    loyalty = loyalty_rules(rules)
    return {
        "due_days": [{"priority": k, "days": int(v)} for k, v in tasks["due_days"].items()],
        "review_grades": list(rules["risk"]["review_grades"]),
        "alert_severities": list(review["alert_severities"]),
        "grade_priority": review["priority"]["grade"],
        "alert_priority": review["priority"]["alert"],
        "cadence": [{"tier": t, "days": int(d), "priority": contact_priority[t]} for t, d in cadence.items()],
        "contact_kinds": list(care["contact_kinds"]),
        "uncounted_outcomes": list(care["uncounted_outcomes"]),
        "birthday_priority": tasks["birthday_greeting"]["priority"],
        "birthday_days_ahead": int(care["birthday_days_ahead"]),
        "festival_priority": tasks["festival_greeting"]["priority"],
        "festival_days_ahead": int(care["festival_days_ahead"]),
        "festivals": festival_dates(care["festivals"], range(dates.first.year, dates.last.year + 2)),
        "lifecycle_actions": [{"action": a, "priority": p} for a, p in actions.items()],
        "lifecycle_window_days": int(tasks["lifecycle_action"]["stage_window_days"]),
        "offer_priority": tasks["offer"]["priority"],
        "offer_min_probability": float(tasks["offer"]["min_probability"]),
        **feedback_params(rules),
        "complaint_open_priority": complaint["open"],
        "complaint_overdue_priority": complaint["overdue"],
        "tier_names": loyalty["tier_names"],
        "tier_perks": loyalty["tier_perks"],
        "upgrade_priority": upgrade["priority"],
        "expiry_priority": expiry["priority"],
        "expiry_min_points": min_points,
        "expiring_soon_days": loyalty["expiring_soon_days"],
        "consent_kinds": list(tasks["consent_kinds"]),
        "rm_kinds": list(tasks["rm_kinds"]),
        "capped_kinds": list(tasks["capped_kinds"]),
        "max_tasks_per_rm": int(tasks["max_tasks_per_rm"]),
    }


CANDIDATES = "int/relationship/int_crm_task_candidates"
STEP = "marts/relationship/crm_tasks"


def build_crm_tasks_range(con: duckdb.DuckDBPyConnection, dates: DateRange, rules: dict) -> int:
    """crm_tasks of every date of `dates`, seeded by the table's latest list before them; rows written."""
    contracts = output_contracts()
    for table in (*UPSTREAM, "crm_tasks"):
        ensure_contract_table(con, contracts[table])
    params = {**crm_task_params(rules, dates), **dates.params}
    previous = one(con, "select max(as_of_date) from crm_tasks where as_of_date < $date_from", params)[0]
    step = load_sql(STEP)
    with transaction(con):
        run(con, f"create or replace temp table crm_task_candidates as "
                 f"select * from ({load_sql(CANDIDATES)}) order by as_of_date", params)
        run(con, "create or replace temp table crm_task_lists as from crm_tasks where as_of_date = $previous",
            {"previous": previous})
        for day in dates.days:
            written = run(con, f"insert into crm_task_lists by name {step}",
                          {**params, "as_of_date": day, "previous_date": previous}).fetchall()[0][0]
            # A night with no task leaves the latest earlier list as the previous one.
            previous = day if written else previous
        run(con, "delete from crm_tasks where as_of_date between $date_from and $date_to", params)
        run(con, "insert into crm_tasks by name from crm_task_lists where as_of_date between $date_from and $date_to",
            params)
        con.execute("drop table crm_task_candidates; drop table crm_task_lists")
    return count_range(con, "crm_tasks", dates)
