"""Benchmark the demo-data generator (not a test): rows per second and peak memory.

    python benchmarks/bench_generator.py [--out bench_out/generator] [--runs small,year,big]

Each run generates into its own folder in its own process (so its peak RSS is its own) and
reports wall time, transactions per second, all rows per second and VmHWM:

  year      10,000 customers x 365 days, CSV
  year_pq   10,000 customers x 365 days, Parquet
  big       60,000 customers x 90 days, CSV (a few million transactions)

Results go to <out>/results.json; the generated folders are deleted afterwards."""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RUNS = {
    "year": dict(customers=10_000, start="2025-01-01", end="2025-12-31", fmt="csv"),
    "year_pq": dict(customers=10_000, start="2025-01-01", end="2025-12-31", fmt="parquet"),
    "big": dict(customers=60_000, start="2025-01-01", end="2025-03-31", fmt="csv"),
}

CHILD = """
import json, resource, sys
from datetime import date
from pathlib import Path
sys.path.insert(0, {root!r})
from pipelines.generator import generate
s = generate(Path({out!r}), customers={customers}, start=date.fromisoformat({start!r}),
             end=date.fromisoformat({end!r}), seed=42, fmt={fmt!r}, progress=False)
s["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
s["rows_per_second"] = round(sum(s["rows"].values()) / s["seconds"])
print(json.dumps(s))
"""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default=str(ROOT / "bench_out" / "generator"))
    parser.add_argument("--runs", default=",".join(RUNS))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for name in args.runs.split(","):
        target = out / name
        shutil.rmtree(target, ignore_errors=True)
        code = CHILD.format(root=str(ROOT), out=str(target), **RUNS[name])
        done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
        summary = json.loads(done.stdout.strip().splitlines()[-1])
        size = sum(p.stat().st_size for p in target.rglob("*") if p.is_file())
        results[name] = {**RUNS[name], "transactions": summary["rows"]["transactions"],
                         "all_rows": sum(summary["rows"].values()), "seconds": summary["seconds"],
                         "transactions_per_second": summary["transactions_per_second"],
                         "rows_per_second": summary["rows_per_second"], "peak_rss_mb": summary["peak_rss_mb"],
                         "bytes_written": size}
        print(name, json.dumps(results[name]), flush=True)
        shutil.rmtree(target, ignore_errors=True)
    (out / "results.json").write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
