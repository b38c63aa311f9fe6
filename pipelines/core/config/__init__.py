"""Business rules: one YAML file, loaded once per process; CRM_RULES points at a bank's own copy."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import dagster as dg
import yaml

DEFAULT_RULES = Path(__file__).with_name("rules.yaml")


@cache
def load_rules(path: str | None = None) -> dict:
    rules_path = Path(path or os.environ.get("CRM_RULES") or DEFAULT_RULES)
    rules = yaml.safe_load(rules_path.read_text(encoding="utf-8"))
    if not isinstance(rules, dict) or "reporting" not in rules:
        raise ValueError(f"{rules_path}: not a rules file (no 'reporting' section)")
    return rules


def whole_number(section: dict, key: str, path: str, minimum: int = 0, error: type[ValueError] = ValueError) -> int:
    """`section[key]` as a count from the rules; `path` names the key in the message (e.g. "loyalty.")."""
    value = section.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise error(f"{path}{key} must be a whole number >= {minimum}, got {value!r}")
    return value


class RulesResource(dg.ConfigurableResource):
    """The business rules a run reads: one YAML file (CRM_RULES, else the packaged rules.yaml),
    parsed once per process."""

    path: str = ""

    def load(self) -> dict:
        return load_rules(self.path or None)
