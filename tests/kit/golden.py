"""The equality test's inputs: a generated landing zone and the per-date engine's frozen output
(tests/golden/engine/, written by benchmarks/freeze_golden.py)."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "engine"
# Long enough that the propensity models train on the last date (labelled month ends before it).
GOLDEN_RANGE = (date(2024, 7, 1), date(2025, 3, 31))
GOLDEN_CUSTOMERS = 800
GOLDEN_SEED = 11


def generate_landing(out: Path) -> Path:
    from pipelines.generator import generate

    generate(out, customers=GOLDEN_CUSTOMERS, start=GOLDEN_RANGE[0], end=GOLDEN_RANGE[1], seed=GOLDEN_SEED,
             fmt="csv", progress=False)
    return out


def landing_digest(landing: Path) -> str:
    """One digest of every landed file's path and bytes."""
    digest = hashlib.sha256()
    for path in sorted(p for p in landing.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(landing)).encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
