"""Quality of the alert rules and large-value reports, for docs/risk.md:
precision and recall per rule against the generator's planted patterns, and recall of flagged
accounts and the alert rate on the IBM AMLSim sample (rules.yaml as is, and with the amount
floors put in AMLSim's units).

    .venv/bin/python benchmarks/quality_risk_alerts.py --customers 5000 --months 12
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pipelines.ingestion.adapters.amlsim import evaluate_alerts, scaled_rules  # noqa: E402
from pipelines.core.config import load_rules  # noqa: E402
from pipelines.generator import generate  # noqa: E402
from pipelines.ingestion.ingest import init_warehouse  # noqa: E402
from pipelines.risk.quality import build_history, planted_quality  # noqa: E402
from tests.kit.generated import load_landing  # noqa: E402

AMLSIM = Path(__file__).resolve().parents[2] / "shared" / "data" / "amlsim_20k_fanin200"


def generated(customers: int, start: date, end: date, seed: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        generate(root / "landing", customers=customers, start=start, end=end, seed=seed, fmt="parquet", progress=False)
        con = duckdb.connect(str(root / "w.duckdb"))
        init_warehouse(con)
        load_landing(con, root / "landing")
        build_history(con, start, end, load_rules())
        return planted_quality(con, root / "landing" / "_truth")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=5000)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2024, 1, 1))
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    end = args.start + timedelta(days=round(args.months * 30.44) - 1)
    began = time.perf_counter()
    out = {"generated": {"customers": args.customers, "range": [str(args.start), str(end)],
                         "per_rule": generated(args.customers, args.start, end, args.seed)}}
    out["generated"]["seconds"] = round(time.perf_counter() - began, 1)
    if (AMLSIM / "nodes.csv").is_file():
        for name, rules in (("amlsim_rules_as_is", load_rules()), ("amlsim_scaled_floors", scaled_rules(load_rules()))):
            out[name] = evaluate_alerts(duckdb.connect(), AMLSIM, rules)["per_rule"]
    print(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
