"""Rules are validated when the definitions load: a bad copy fails `dagster definitions validate`, naming the key."""

import copy
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipelines.core.config import DEFAULT_RULES, load_rules
from pipelines.orchestration.rules import RulesError, validate_rules

ROOT = Path(__file__).resolve().parents[2]


def rules_with(change) -> dict:
    rules = copy.deepcopy(load_rules(str(DEFAULT_RULES)))
    change(rules)
    return rules


def test_packaged_rules_are_valid():
    validate_rules(load_rules(str(DEFAULT_RULES)))


@pytest.mark.parametrize("change, named", [
    (lambda r: r["rfm"].update(window_days="a year"), "rfm.window_days: must be a whole number"),
    (lambda r: r["lifecycle"].update(at_risk_drop="half"), "lifecycle.at_risk_drop: must be a number"),
    (lambda r: r["risk_alerts"]["rules"][0].update(severity="huge"), "severity must be one of"),
    (lambda r: r["crm_tasks"]["due_days"].pop("high"), "crm_tasks.due_days: no days for priority high"),
    (lambda r: r["care"]["festivals"].append("Founders Day"), "care.festivals: not in holidays"),
    (lambda r: r["loyalty"].update(expiry_months=0), "expiry_months must be a whole number >= 1"),
    (lambda r: r["rfm"].update(scoring="deciles"), "rfm.scoring must be quintile or fixed"),
    (lambda r: r["large_value"].pop("cash"), "large_value: thresholds missing"),
])
def test_a_bad_value_is_reported_by_key(change, named):
    with pytest.raises(RulesError, match="problem") as raised:
        validate_rules(rules_with(change))
    assert named in str(raised.value)


def test_every_problem_is_reported_at_once():
    def two(r):
        r["risk_alerts"]["rules"][0]["severity"] = "huge"
        r["care"]["festivals"].append("Founders Day")
    message = str(pytest.raises(RulesError, validate_rules, rules_with(two)).value)
    assert "2 problem(s)" in message and "severity" in message and "Founders Day" in message


def test_dagster_definitions_validate_fails_on_a_bad_rules_copy(tmp_path):
    bad = rules_with(lambda r: r["crm_tasks"]["offer"].update(min_probability="high"))
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(bad), encoding="utf-8")
    result = subprocess.run([str(Path(sys.executable).parent / "dagster"), "definitions", "validate",
                             "-m", "pipelines.definitions"], capture_output=True, text=True, cwd=ROOT, timeout=300,
                            env={**os.environ, "CRM_RULES": str(tmp_path / "rules.yaml"),
                                 # `make test` exports a DAGSTER_HOME a fresh clone has not created yet.
                                 "DAGSTER_HOME": str(tmp_path)})
    assert result.returncode != 0
    assert "crm_tasks.offer.min_probability: must be a number" in result.stdout + result.stderr
