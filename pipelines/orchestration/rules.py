"""Validate a rules file when the definitions load, so a bad copy fails `dagster definitions validate`
(and the webserver's code location) instead of the night's run, hours later, in one step.

Two passes, every failure collected into one message that names the key:
1. shape: every key the packaged rules.yaml also has must hold the same kind of value (a whole
   number where it has one, a list where it has one...); keys only a bank's copy has are left to 2.
2. meaning: every capability's own parameter function, which checks ranges, names and
   cross-references (segment names in the contract, task priorities with due days, festivals the
   calendar knows...). They live with the SQL that reads them; this module only calls them, which
   is also why it sits here and not in pipelines.core.config (they import core)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

from pipelines.core.config import DEFAULT_RULES, load_rules


class RulesError(ValueError):
    """The rules file is not usable; the message lists every problem found, key by key."""


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int):
        return "whole number"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "list"
    if isinstance(value, dict):
        return "mapping"
    return type(value).__name__


def shape_errors(rules: Any, reference: Any, path: str = "") -> Iterator[str]:
    """Keys whose value is not the kind the packaged rules have there (a whole number also fits a number)."""
    if isinstance(reference, dict) and isinstance(rules, dict):
        for key, expected in reference.items():
            if key in rules:
                yield from shape_errors(rules[key], expected, f"{path}{key}.")
        return
    if reference is None:
        return
    got, want = _kind(rules), _kind(reference)
    if got != want and not (want == "number" and got == "whole number"):
        yield f"{path.rstrip('.')}: must be a {want} (like {reference!r}), got {rules!r}"


def _checks() -> list[tuple[str, Callable[[dict], object]]]:
    from models.customer.segmentation import segmentation_params
    from pipelines.customer.segmentation import params_for
    from pipelines.propensity.build import feature_params as propensity_features
    from pipelines.propensity.build import offer_params
    from pipelines.core.engine import DateRange
    from pipelines.relationship.care import feedback_params, festival_dates
    from pipelines.relationship.crm_tasks import crm_task_params
    from pipelines.relationship.loyalty import loyalty_rules
    from pipelines.relationship.rm_scorecard import scorecard_params
    from pipelines.risk.reports import alert_params, alert_rules, large_value_params
    from pipelines.risk.scoring import feature_params as risk_features
    from pipelines.risk.scoring import scale_of

    today = date.today()
    return [
        ("segmentation (rfm, lifecycle)", segmentation_params),
        ("segmentation outputs (contract names)", params_for),
        ("propensity features", propensity_features),
        ("offers (propensity.preapproved, events)", offer_params),
        ("risk features", risk_features),
        ("risk scorecard scale", scale_of),
        ("large_value", large_value_params),
        ("risk_alerts", lambda r: [alert_params(r, rule) for rule in alert_rules(r)]),
        ("care feedback", feedback_params),
        ("care festivals", lambda r: festival_dates(r["care"]["festivals"], [today.year])),
        ("loyalty", loyalty_rules),
        ("crm_tasks", lambda r: crm_task_params(r, DateRange(today, today))),
        ("rm_scorecard (care)", scorecard_params),
    ]


def _describe(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"missing key {error.args[0]!r}"
    return f"{type(error).__name__}: {error}" if not isinstance(error, ValueError) else str(error)


def rules_source() -> str:
    import os

    return os.environ.get("CRM_RULES") or str(DEFAULT_RULES)


def validate_rules(rules: dict, source: str = "rules") -> dict:
    """Every problem of `rules` in one RulesError (each line names the key or the rule); else `rules`."""
    problems = list(shape_errors(rules, load_rules(str(DEFAULT_RULES))))
    if not problems:  # meaning checks assume the shape (a str where a number belongs fails unreadably)
        seen = set()
        for name, check in _checks():
            try:
                check(rules)
            except Exception as error:  # noqa: BLE001 - every capability's failure is reported, not the first
                # Capabilities share sections (care, loyalty): one bad key is reported once.
                if (text := _describe(error)) not in seen:
                    seen.add(text)
                    problems.append(f"{name}: {text}")
    if problems:
        raise RulesError(f"{source}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))
    return rules
