"""Relationship: the loyalty programme, what each relationship manager should act on, and how
each RM's book is doing."""

import dagster as dg

from assets.factory import Table, daily_asset, materializations, run_dates
from pipelines.core.config import RulesResource
from pipelines.core.contracts import quote_ident as q
from pipelines.core.resources import WarehouseResource
from pipelines.relationship.crm_tasks import UPSTREAM as TASK_INPUTS, build_crm_tasks_range
from pipelines.relationship.loyalty import build_loyalty_range, loyalty_rules
from pipelines.relationship.rm_scorecard import build_rm_scorecard_range

LOYALTY = Table(
    "customer_loyalty",
    "One row per customer: points earned today, points balance, points expiring soon, tier, previous tier, perks.",
    ("int_customer_day", "stg_accounts", "stg_transactions"), ("tier",))
CRM_TASKS = Table(
    "crm_tasks",
    "One row per open task for a relationship manager: kind, customer, rm, priority, due date, reason.",
    (*TASK_INPUTS, "stg_customers", "stg_interactions", "stg_feedback"), ("kind", "priority"))
RM_SCORECARD = Table(
    "rm_scorecard",
    "One row per relationship manager: book size, AUM and growth, contacts made vs due, conversions, complaints, NPS.",
    ("crm_tasks", "customer_lifecycle", "stg_customers", "stg_relationship_managers", "stg_interactions",
     "stg_feedback", "stg_accounts", "stg_products"))


def _sums(con, table: str, columns: tuple[str, ...], as_of_date) -> dict:
    sums = ", ".join(f"coalesce(sum({q(c)}), 0)" for c in columns)
    values = con.sql(f"select {sums} from {q(table)} where as_of_date = $d", params={"d": as_of_date}).fetchall()[0]
    return dict(zip(columns, values))


@daily_asset(LOYALTY, "relationship")
def customer_loyalty(context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource):
    dates = run_dates(context)
    with warehouse.connect() as con:
        rows = build_loyalty_range(con, dates, loyalty_rules(rules.load()))
        totals = _sums(con, LOYALTY.name, ("points_earned_today", "points_balance", "points_expiring_soon"), dates.last)
        yield from materializations(con, [LOYALTY], dates, {LOYALTY.name: rows}, {LOYALTY.name: totals})


@daily_asset(CRM_TASKS, "relationship")
def crm_tasks(context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource):
    dates = run_dates(context)
    with warehouse.connect() as con:
        rows = build_crm_tasks_range(con, dates, rules.load())
        yield from materializations(con, [CRM_TASKS], dates, {CRM_TASKS.name: rows})


@daily_asset(RM_SCORECARD, "relationship")
def rm_scorecard(context: dg.AssetExecutionContext, warehouse: WarehouseResource, rules: RulesResource):
    dates = run_dates(context)
    with warehouse.connect() as con:
        rows = build_rm_scorecard_range(con, dates, rules.load())
        totals = _sums(con, RM_SCORECARD.name, ("customers", "contacts_made", "contacts_due"), dates.last)
        yield from materializations(con, [RM_SCORECARD], dates, {RM_SCORECARD.name: rows},
                                    {RM_SCORECARD.name: totals})
