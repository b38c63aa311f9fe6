"""Loyalty programme of one business date: the day's points ledger (sql/int/int_loyalty_points.sql),
then each customer's balance, expiry, tier and perks (sql/marts/customer_loyalty.sql).

The ledger holds one row per customer and day the customer earned points, each built once from
that day's AUM and that day's deliveries, so a night reads one day of balances and transactions;
the mart sums the ledger over the expiry and qualifying windows, whose bounds are earn dates
computed here."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

import duckdb

from pipelines.core.config import whole_number
from pipelines.core.contract_tables import ensure_contract_table
from pipelines.core.contracts import output_contracts
from pipelines.core.engine import DateRange, replace_date
from pipelines.core.sql import fingerprint, one, run

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


def mart_params(params: dict, as_of_date: date, incremental: bool = False) -> dict:
    bounds = _bounds(params, as_of_date)
    previous = {f"previous_{k}": v for k, v in _bounds(params, as_of_date - timedelta(days=1)).items()}
    return {
        "as_of_date": as_of_date,
        "previous_date": as_of_date - timedelta(days=1),
        "incremental": incremental,
        **bounds,
        **previous,
        "scan_from": min(bounds["balance_from"], bounds["qualifying_from"]),
        **{k: params[k] for k in ("tier_names", "tier_min_points", "tier_perks")},
    }


def _bounds(params: dict, day: date) -> dict:
    return window_bounds(day, params["expiry_months"], params["expiring_soon_days"], params["qualifying_months"])


LEDGER_PARAMS = ("per_aum_unit", "aum_unit", "per_transaction", "max_txns_per_day", "per_spend_unit",
                 "spend_unit", "card_txn_types", "counted_txn_types")

# Every built ledger date gets a new id; a mart date records the sum of the ids of the ledger dates
# it read, so the next date carries it forward only while none of them was rebuilt since.
DDL = """
create table if not exists int_loyalty_points_builds (as_of_date date not null, build_id uuid not null);
create table if not exists customer_loyalty_builds (
    as_of_date date not null, method varchar not null, rules_fingerprint varchar not null,
    ledger_fingerprint varchar not null, rows bigint not null)
"""
LEDGER_FINGERPRINT = """
select coalesce(sum(hash(as_of_date, build_id)), 0)::varchar
from int_loyalty_points_builds where as_of_date <= $day
"""
CAN_CARRY = """
select exists (
    select 1 from customer_loyalty_builds
    where as_of_date = $previous_date and rules_fingerprint = $rules_fingerprint
      and ledger_fingerprint = $ledger_fingerprint
      and rows = (select count(*) from customer_loyalty where as_of_date = $previous_date))
"""


def rules_fingerprint(params: dict) -> str:
    """The programme's rules and both queries: a change to any makes earlier snapshots non-carryable."""
    return fingerprint(params, ("int/relationship/int_loyalty_points", "marts/relationship/customer_loyalty"))


def build_loyalty(con: duckdb.DuckDBPyConnection, as_of_date: date, params: dict, carry: bool = True) -> int:
    """The ledger of `as_of_date`, then customer_loyalty of it; returns the mart's rows.

    The mart is carried forward from the day before (its sums plus today's points minus the
    points that left a window today) when the day before was built with the same rules from
    ledger dates none of which was rebuilt since; otherwise it sums the ledger in full."""
    ensure_contract_table(con, output_contracts()[MART])
    con.execute(DDL)
    day = {"as_of_date": as_of_date}
    run(con, "delete from customer_loyalty_builds where as_of_date = $as_of_date", day)
    replace_date(con, LEDGER, "int/relationship/int_loyalty_points", {**day, **{k: params[k] for k in LEDGER_PARAMS}})
    run(con, "delete from int_loyalty_points_builds where as_of_date = $as_of_date", day)
    run(con, "insert into int_loyalty_points_builds values ($as_of_date, uuid())", day)
    previous_date = as_of_date - timedelta(days=1)
    fingerprints = {"rules_fingerprint": rules_fingerprint(params),
                    "ledger_fingerprint": one(con, LEDGER_FINGERPRINT, {"day": previous_date})[0]}
    incremental = carry and bool(one(con, CAN_CARRY, {"previous_date": previous_date, **fingerprints})[0])
    rows = replace_date(con, MART, "marts/relationship/customer_loyalty", mart_params(params, as_of_date, incremental))
    # What this date read: the ledger up to and including it.
    fingerprints["ledger_fingerprint"] = one(con, LEDGER_FINGERPRINT, {"day": as_of_date})[0]
    run(con, "insert into customer_loyalty_builds values ($as_of_date, $method, $rules_fingerprint, "
             "$ledger_fingerprint, $rows)",
        {**day, **fingerprints, "rows": rows, "method": "incremental" if incremental else "full"})
    return rows


def build_loyalty_range(con: duckdb.DuckDBPyConnection, dates: DateRange, params: dict) -> int:
    return sum(build_loyalty(con, day, params) for day in dates.days)
