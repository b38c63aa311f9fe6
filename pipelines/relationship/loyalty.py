"""Loyalty programme over a range of business dates: the points ledger of every date
(sql/int/relationship/int_loyalty_points.sql), then each customer's balance, expiry, tier and perks
(sql/marts/relationship/customer_loyalty.sql).

The ledger holds one row per customer and day the customer earned points, built from that day's
AUM and that day's deliveries, so a range reads only its own days of balances and transactions;
the mart sums the ledger over the expiry and qualifying windows, whose month-based bounds are earn
dates computed here for every date."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import duckdb

from pipelines.core.config import whole_number
from pipelines.core.contract_tables import ensure_contract_table
from pipelines.core.contracts import output_contracts
from pipelines.core.engine import DateRange, replace_range

LEDGER = "int_loyalty_points"
MART = "customer_loyalty"


class LoyaltyConfigError(ValueError):
    """rules.yaml `loyalty` describes a programme that cannot be applied."""


def add_months(day: date, months: int) -> date:
    """The same day `months` later (earlier when negative); the month end when that month is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def _count(section: dict, key: str, path: str, minimum: int = 0) -> int:
    return whole_number(section, key, f"loyalty.{path}", minimum, LoyaltyConfigError)


def _tiers(raw) -> list[dict]:
    if not isinstance(raw, list) or not raw:
        raise LoyaltyConfigError("loyalty.tiers must list at least one tier")
    names = [t.get("name") for t in raw]
    bounds = [t.get("min_points") for t in raw]
    if len(set(names)) != len(names) or not all(isinstance(n, str) and n for n in names):
        raise LoyaltyConfigError(f"loyalty.tiers: names must be distinct and non-empty, got {names}")
    if not all(isinstance(b, int) and not isinstance(b, bool) for b in bounds) or bounds[0] != 0:
        raise LoyaltyConfigError(f"loyalty.tiers: min_points must be whole numbers starting at 0, got {bounds}")
    if any(later <= earlier for earlier, later in zip(bounds, bounds[1:])):
        raise LoyaltyConfigError(f"loyalty.tiers: min_points must be strictly ascending, got {bounds} for {names}")
    for t in raw:
        perks = t.get("perks", [])
        if not isinstance(perks, list) or not all(isinstance(p, str) and p for p in perks):
            raise LoyaltyConfigError(f"loyalty.tiers: perks of {t['name']} must be a list of perk codes")
    allowed = set(output_contracts()[MART].column("tier").allowed or ())
    if allowed and not set(names) <= allowed:
        raise LoyaltyConfigError(f"loyalty.tiers: names {sorted(set(names) - allowed)} are not in the "
                                 "customer_loyalty contract; renaming a tier is a contract change")
    return raw


def loyalty_rules(rules: dict) -> dict:
    """Validated rates, windows and tiers (date independent)."""
    cfg = rules.get("loyalty")
    if not isinstance(cfg, dict):
        raise LoyaltyConfigError("rules.yaml has no loyalty section")
    balance, txns, card = cfg["balance_points"], cfg["transaction_points"], cfg["card_spend_points"]
    tiers = _tiers(cfg.get("tiers"))
    return {
        "per_aum_unit": _count(balance, "per_unit", "balance_points."),
        "aum_unit": _count(balance, "aum_unit", "balance_points.", 1),
        "per_transaction": _count(txns, "per_transaction", "transaction_points."),
        "max_txns_per_day": _count(txns, "max_per_day", "transaction_points."),
        "per_spend_unit": _count(card, "per_unit", "card_spend_points."),
        "spend_unit": _count(card, "spend_unit", "card_spend_points.", 1),
        "card_txn_types": list(card["card_txn_types"]),
        "counted_txn_types": list(rules["rfm"]["counted_txn_types"]),
        "expiry_months": _count(cfg, "expiry_months", "", 1),
        "expiring_soon_days": _count(cfg, "expiring_soon_days", "", 1),
        "qualifying_months": _count(cfg, "qualifying_months", "", 1),
        "tier_names": [t["name"] for t in tiers],
        "tier_min_points": [int(t["min_points"]) for t in tiers],
        "tier_perks": [list(t.get("perks", [])) for t in tiers],
    }


def window_bounds(as_of_date: date, expiry_months: int, expiring_soon_days: int, qualifying_months: int) -> dict:
    """Earn-date bounds of the windows of `as_of_date` (inclusive).

    Points earned on e expire on add_months(e, expiry_months), which never decreases with e, so the
    points still held are those earned on or after the first e whose expiry is after the date."""
    def first_unexpired(day: date) -> date:
        e = add_months(day, -expiry_months)  # its expiry is on or before `day`
        while add_months(e, expiry_months) <= day:
            e += timedelta(days=1)
        return e

    balance_from = first_unexpired(as_of_date)
    return {
        "balance_from": balance_from,
        # expiring within the horizon: expiry in (D, D + days], i.e. earned before the first day
        # still held on D + days
        "expiring_until": first_unexpired(as_of_date + timedelta(days=expiring_soon_days)) - timedelta(days=1),
        "qualifying_from": add_months(as_of_date, -qualifying_months) + timedelta(days=1),
    }


def mart_params(params: dict, dates: DateRange) -> dict:
    """The window bounds of every date of the range, and the earliest of them for the ledger scan."""
    bounds = [{"as_of_date": day, **_bounds(params, day)} for day in dates.days]
    return {
        "bounds": bounds,
        "scan_from": min(min(b["balance_from"], b["qualifying_from"]) for b in bounds),
        **{k: params[k] for k in ("tier_names", "tier_min_points", "tier_perks")},
    }


def _bounds(params: dict, day: date) -> dict:
    return window_bounds(day, params["expiry_months"], params["expiring_soon_days"], params["qualifying_months"])


LEDGER_PARAMS = ("per_aum_unit", "aum_unit", "per_transaction", "max_txns_per_day", "per_spend_unit",
                 "spend_unit", "card_txn_types", "counted_txn_types")


def build_loyalty_range(con: duckdb.DuckDBPyConnection, dates: DateRange, params: dict) -> int:
    """The ledger of every date of `dates`, then customer_loyalty of them; returns the mart's rows.

    The mart sums the ledger afresh over each date's windows (no carried-forward sums), so a
    ledger date rebuilt later is always read as it is now."""
    ensure_contract_table(con, output_contracts()[MART])
    replace_range(con, LEDGER, "int/relationship/int_loyalty_points", {k: params[k] for k in LEDGER_PARAMS}, dates)
    return replace_range(con, MART, "marts/relationship/customer_loyalty", mart_params(params, dates), dates)
