"""Segmentation rules from config turned into validated SQL parameters (pure functions).

The SQL in sql/int/int_customer_day.sql and sql/marts/{customer_rfm,customer_lifecycle}.sql
takes every business number as a `$parameter`; this module is the one place that reads the
`rfm` and `lifecycle` sections of the rules and refuses a config that would leave a customer
without a segment, a tier or an action."""

from __future__ import annotations

from itertools import product

# The stage codes of the customer_lifecycle contract, in order of precedence (see the SQL).
STAGES = ("churned", "new", "dormant", "at_risk", "growing", "mature")


class SegmentationConfigError(ValueError):
    """The rules file describes a grid, tier ladder or action map that cannot be applied."""


def _bounds(rule: dict, axis: str, levels: int) -> tuple[int, int]:
    lo, hi = rule.get(axis, [1, levels])
    if not (1 <= lo <= hi <= levels):
        raise SegmentationConfigError(
            f"segment {rule.get('segment')!r}: {axis} range {[lo, hi]} not within 1..{levels}")
    return int(lo), int(hi)


def segment_grid(rfm: dict) -> list[dict]:
    """The segment rules in precedence order, with explicit inclusive score bounds.

    Raises when a score cell (r, f, m) matches no rule: every scored customer must be named."""
    levels = int(rfm["score_levels"])
    grid = []
    for rule in rfm["segments"]:
        (r_min, r_max), (f_min, f_max), (m_min, m_max) = (
            _bounds(rule, axis, levels) for axis in ("r", "f", "m"))
        grid.append({"segment": str(rule["segment"]), "r_min": r_min, "r_max": r_max,
                     "f_min": f_min, "f_max": f_max, "m_min": m_min, "m_max": m_max})
    if rfm.get("inactive_segment") in {g["segment"] for g in grid}:
        raise SegmentationConfigError("the inactive segment name is also a scored segment")
    cells = range(1, levels + 1)
    unnamed = [
        (r, f, m) for r, f, m in product(cells, cells, cells)
        if not any(g["r_min"] <= r <= g["r_max"] and g["f_min"] <= f <= g["f_max"]
                   and g["m_min"] <= m <= g["m_max"] for g in grid)
    ]
    if unnamed:
        raise SegmentationConfigError(
            f"segment grid leaves {len(unnamed)} score cells unnamed, e.g. rfm cell "
            f"{''.join(map(str, unnamed[0]))}")
    return grid


def segment_of(grid: list[dict], r: int, f: int, m: int) -> str:
    """The segment of one score cell by precedence (used by tests and docs, not by the pipeline)."""
    for g in grid:
        if g["r_min"] <= r <= g["r_max"] and g["f_min"] <= f <= g["f_max"] and g["m_min"] <= m <= g["m_max"]:
            return g["segment"]
    raise SegmentationConfigError(f"no segment for cell {r}{f}{m}")


def _fixed_cuts(rfm: dict, metric: str) -> list[float]:
    cuts = [float(c) for c in rfm["fixed_cuts"][metric]]
    levels = int(rfm["score_levels"])
    if len(cuts) != levels - 1:
        raise SegmentationConfigError(f"fixed_cuts.{metric} needs {levels - 1} cut points, has {len(cuts)}")
    expected = sorted(cuts, reverse=metric == "recency_days")
    if cuts != expected or len(set(cuts)) != len(cuts):
        order = "descending (fewer days is better)" if metric == "recency_days" else "ascending"
        raise SegmentationConfigError(f"fixed_cuts.{metric} must be strictly {order}: {cuts}")
    return cuts


def tier_ladder(lifecycle: dict) -> tuple[list[str], list[float]]:
    """Tier names and inclusive AUM lower bounds, ascending; the first bound must be 0."""
    names = [str(t["name"]) for t in lifecycle["tiers"]]
    mins = [float(t["min_aum"]) for t in lifecycle["tiers"]]
    if not names or mins[0] != 0:
        raise SegmentationConfigError("tiers must start with a tier whose min_aum is 0")
    if any(b <= a for a, b in zip(mins, mins[1:])) or len(set(names)) != len(names):
        raise SegmentationConfigError(f"tier bounds must be strictly ascending and names unique: {mins}")
    return names, mins


def action_rules(lifecycle: dict) -> list[dict]:
    """Recommended-action rules in precedence order with explicit stage and tier lists."""
    tiers, _ = tier_ladder(lifecycle)
    rules = []
    for rule in lifecycle["recommended_actions"]:
        stages = [str(s) for s in rule.get("stages", STAGES)]
        rule_tiers = [str(t) for t in rule.get("tiers", tiers)]
        unknown = (set(stages) - set(STAGES)) | (set(rule_tiers) - set(tiers))
        if unknown:
            raise SegmentationConfigError(f"action {rule['action']!r} names unknown stages/tiers {sorted(unknown)}")
        rules.append({"stages": stages, "tiers": rule_tiers, "action": str(rule["action"])})
    uncovered = [(s, t) for s, t in product(STAGES, tiers)
                 if not any(s in r["stages"] and t in r["tiers"] for r in rules)]
    if uncovered:
        raise SegmentationConfigError(f"no recommended action for (stage, tier) {uncovered[0]} "
                                      f"and {len(uncovered) - 1} more")
    return rules


def customer_day_params(rules: dict) -> dict:
    rfm, lc = rules["rfm"], rules["lifecycle"]
    edges = [int(e) for e in lc["age_band_edges"]]
    if edges != sorted(set(edges)):
        raise SegmentationConfigError(f"age_band_edges must be strictly ascending: {edges}")
    return {
        "counted_txn_types": list(rfm["counted_txn_types"]),
        "rfm_window_days": int(rfm["window_days"]),
        "aum_families": list(lc["aum_families"]),
        "trend_window_days": int(lc["trend_window_days"]),
        "dormant_days": int(lc["dormant_days"]),
        "age_band_edges": edges,
        "reporting_currency": rules["reporting"]["currency"],
    }


def rfm_params(rules: dict) -> dict:
    rfm = rules["rfm"]
    if rfm["scoring"] not in ("quintile", "fixed"):
        raise SegmentationConfigError(f"rfm.scoring must be quintile or fixed, not {rfm['scoring']!r}")
    if rfm["monetary"] not in ("amount", "aum"):
        raise SegmentationConfigError(f"rfm.monetary must be amount or aum, not {rfm['monetary']!r}")
    return {
        "score_levels": int(rfm["score_levels"]),
        "scoring": rfm["scoring"],
        "monetary_basis": rfm["monetary"],
        "recency_cuts": _fixed_cuts(rfm, "recency_days"),
        "frequency_cuts": _fixed_cuts(rfm, "frequency"),
        "monetary_cuts": _fixed_cuts(rfm, "monetary"),
        "segment_grid": segment_grid(rfm),
        "inactive_segment": str(rfm["inactive_segment"]),
        "no_previous_segment": str(rfm["no_previous_segment"]),
    }


def lifecycle_params(rules: dict) -> dict:
    lc = rules["lifecycle"]
    names, mins = tier_ladder(lc)
    return {
        "tier_names": names,
        "tier_min_aums": mins,
        "new_tenure_days": int(lc["new_tenure_days"]),
        "at_risk_drop": float(lc["at_risk_drop"]),
        "growing_rise": float(lc["growing_rise"]),
        "trend_min_prior_txns": int(lc["trend_min_prior_txns"]),
        "trend_min_prior_aum": float(lc["trend_min_prior_aum"]),
        "action_rules": action_rules(lc),
    }


def segmentation_params(rules: dict) -> dict:
    """Every parameter the segmentation SQL uses; each query takes the subset it names."""
    return {**customer_day_params(rules), **rfm_params(rules), **lifecycle_params(rules)}
