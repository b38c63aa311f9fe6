"""Freeze the per-date engine's published output as the golden the range engine must equal.

The per-date engine lives on only in git history (commit PER_DATE_COMMIT). This script
generates the equality test's landing zone with the current generator, runs that commit's
`crm run` over it in a temporary worktree, and writes each published table, all dates in one
file sorted by every column, to tests/golden/engine/<table>.parquet with the landing's digest.

    python benchmarks/freeze_golden.py [--workdir /tmp/golden]     # about 10 minutes on 2 cores

Run it again only when the generator changes what it writes (the test says so)."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.kit.golden import GOLDEN, GOLDEN_RANGE, generate_landing, landing_digest  # noqa: E402

PER_DATE_COMMIT = "985c08b"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", default="/tmp/golden")
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    landing = generate_landing(work / "landing")
    source = work / "per_date_source"
    if not source.exists():
        subprocess.run(["git", "worktree", "add", "--detach", str(source), PER_DATE_COMMIT], cwd=ROOT, check=True)
    first, last = GOLDEN_RANGE
    env = {**os.environ, "PYTHONPATH": str(source), "DAGSTER_HOME": str(work / "dagster_home")}
    subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--landing", str(landing),
                    "--warehouse", str(work / "wh.duckdb"), "--output", str(work / "out"),
                    "--models", str(work / "models"), "--from", first.isoformat(), "--to", last.isoformat()],
                   env=env, cwd=work, check=True)
    freeze(work / "out", GOLDEN)
    (GOLDEN / "landing.json").write_text(json.dumps({"landing_sha256": landing_digest(landing),
                                                     "per_date_commit": PER_DATE_COMMIT}, indent=2) + "\n")
    return 0


def freeze(output: Path, golden: Path) -> None:
    golden.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    for table in sorted(p.name for p in output.iterdir() if not p.name.startswith("_")):
        source = str(output / table / "*" / "*.parquet")
        target = str(golden / f"{table}.parquet")
        con.execute("create or replace temp table frozen as select * from read_parquet($s, hive_partitioning = true)",
                    {"s": source})
        con.sql("select * from frozen order by all").write_parquet(target, compression="zstd")


if __name__ == "__main__":
    sys.exit(main())
