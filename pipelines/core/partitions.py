"""Business-date partitions: one per calendar day in the bank's time zone."""

from __future__ import annotations

from datetime import date

import dagster as dg

from pipelines.core.config import load_rules

_rules = load_rules()

daily_partitions = dg.DailyPartitionsDefinition(
    start_date=_rules["schedule"]["partitions_start"],
    timezone=_rules["reporting"]["bank_timezone"],
)


def business_dates(context) -> list[date]:
    """The business dates of this run, oldest first (one, or a backfill range in a single run)."""
    return sorted(date.fromisoformat(k) for k in context.partition_keys)
