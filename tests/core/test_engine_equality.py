"""The range engine publishes exactly what the per-date engine published: every table, every
date, row for row (`except all` both ways), on a generated bank of 274 business dates."""

import json

import duckdb
import pytest

from pipelines.cli import main
from tests.kit.golden import GOLDEN, GOLDEN_RANGE, generate_landing, landing_digest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    root = tmp_path_factory.mktemp("engine")
    landing = generate_landing(root / "landing")
    frozen = json.loads((GOLDEN / "landing.json").read_text())
    if landing_digest(landing) != frozen["landing_sha256"]:
        pytest.fail("the generator now writes another landing zone than the golden was frozen from: "
                    "run benchmarks/freeze_golden.py to freeze it again from the per-date engine")
    first, last = GOLDEN_RANGE
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DAGSTER_HOME", str(root / "dagster_home"))
        code = main(["run", "--landing", str(landing), "--warehouse", str(root / "wh.duckdb"),
                     "--output", str(root / "out"), "--models", str(root / "models"),
                     "--from", first.isoformat(), "--to", last.isoformat()])
    assert code == 0
    return root / "out"


def golden_tables() -> list[str]:
    return sorted(p.stem for p in GOLDEN.glob("*.parquet"))


def test_every_golden_table_is_published():
    assert len(golden_tables()) == 16


@pytest.mark.parametrize("table", golden_tables())
def test_published_table_equals_the_per_date_engine(published, table):
    con = duckdb.connect()
    new = con.sql("select * from read_parquet($p, hive_partitioning = true)",
                  params={"p": str(published / table / "*" / "*.parquet")})
    old = con.sql("select * from read_parquet($p)", params={"p": str(GOLDEN / f"{table}.parquet")})
    assert new.columns == old.columns
    # A model version is its training time plus a digest of the model: the same model trained in
    # another run differs only by the time, so versions are compared by their digest.
    columns = ", ".join("regexp_replace(model_version, '^[0-9]{8}T[0-9]{6}-', '') as model_version"
                        if c == "model_version" else f'"{c}"' for c in new.columns)
    con.register("new_rows", new.select(columns))
    con.register("old_rows", old.select(columns))
    missing = con.sql("select count(*) from (select * from old_rows except all select * from new_rows)").fetchall()[0][0]
    extra = con.sql("select count(*) from (select * from new_rows except all select * from old_rows)").fetchall()[0][0]
    assert (missing, extra) == (0, 0)
    days = con.sql("select count(distinct as_of_date) from new_rows").fetchall()[0][0]
    manifests = sorted((published / "_manifests").glob("*.json"))
    assert len(manifests) == (GOLDEN_RANGE[1] - GOLDEN_RANGE[0]).days + 1
    assert days <= len(manifests)
