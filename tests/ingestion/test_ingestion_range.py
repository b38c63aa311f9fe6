"""A backfill range loaded in one go stages exactly what loading its dates one by one does:
same stg_* rows, quarantine rows and ingestion_log rows (run ids and load times aside), on a
generated landing zone with bad rows planted across the dates of the range."""

from __future__ import annotations

import gzip
import shutil
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest

from pipelines.core.config import load_rules
from pipelines.core.contracts import LOAD_ORDER
from pipelines.generator import generate
from pipelines.ingestion.errors import IngestionError
from pipelines.ingestion.ingest import ingest_date, ingest_range, init_warehouse

START = date(2025, 1, 1)
DAYS = [START + timedelta(days=i) for i in range(10)]
D = {i + 1: day for i, day in enumerate(DAYS)}  # D[1] .. D[10]
TABLES = [f"stg_{e}" for e in LOAD_ORDER] + ["quarantine", "ingestion_log"]
RUN_COLUMNS = {"quarantine": "run_id, loaded_at", "ingestion_log": "run_id, loaded_at"}


def _file(landing, entity, day):
    return landing / entity / f"{entity}_{day:%Y%m%d}.csv"


def _read(landing, entity, day) -> pl.DataFrame:
    return pl.read_csv(_file(landing, entity, day), infer_schema=False)


def _append(landing, entity, day, rows: list[dict]) -> None:
    frame = _read(landing, entity, day)
    extra = pl.DataFrame([{c: row.get(c) for c in frame.columns} for row in rows], schema=frame.schema)
    pl.concat([frame, extra]).write_csv(_file(landing, entity, day))


def _plant(landing) -> None:
    """Bad and tricky rows spread over the range, each one a rule that looks across dates."""
    shutil.rmtree(landing / "products")  # the default catalogue, on the first date only
    first = _read(landing, "transactions", D[2]).row(0, named=True)
    txn = dict(first)

    def t(txn_id, day, **changes):
        return {**txn, "txn_id": txn_id, "txn_ts": f"{day} 10:00:00", **changes}

    _append(landing, "transactions", D[3], [dict(first)])                    # delivered again: already_loaded
    _append(landing, "transactions", D[4], [t("X-LATE", D[4], amount="abc"),   # bad on D4 ...
                                            t("X-NEW-ACCT", D[4], account_id="AC-NEW")])  # account not known yet
    _append(landing, "transactions", D[5], [t("X-LATE", D[5]),                 # ... clean on D5: staged
                                            t("X-FUTURE", D[6]),               # future_date
                                            t("U5", D[5], currency="USD")])
    dup = _read(landing, "transactions", D[6]).row(0, named=True)
    _append(landing, "transactions", D[6], [dup])                              # duplicate_key within a file
    _append(landing, "transactions", D[7], [t("X-LATE", D[7]),                 # already_loaded (from D5)
                                            t("U5-LATE", D[5], currency="USD")])  # late: D6's re-delivered rate
    _append(landing, "transactions", D[8], [t("X-NEW-ACCT-2", D[8], account_id="AC-NEW"),
                                            t("X-ORPHAN", D[8], account_id="AC-NEVER")])
    _append(landing, "transactions", D[2], [t("U2", D[2], currency="USD")])
    _append(landing, "transactions", D[3], [t("U3", D[3], currency="USD")])    # no D3 rate: D2's is used
    _file(landing, "fx_rates", D[3]).unlink()
    _append(landing, "fx_rates", D[6], [{"rate_date": D[5].isoformat(), "currency": "USD",
                                         "rate_to_reporting": "9.990000"}])
    account = _read(landing, "accounts", D[2]).row(0, named=True)
    _append(landing, "accounts", D[6], [{**account, "account_id": "AC-NEW", "open_date": D[6].isoformat()}])
    _file(landing, "balances", D[8]).unlink()                                  # optional entity: not_delivered
    interaction = _read(landing, "interactions", D[1]).row(0, named=True)
    _append(landing, "interactions", D[4], [dict(interaction),                   # already_loaded
                                            {**interaction, "interaction_id": "I-ORPHAN",
                                             "customer_id": "C-NONE", "interaction_ts": f"{D[4]} 09:00:00"}])


@pytest.fixture(scope="module")
def landing(tmp_path_factory):
    root = tmp_path_factory.mktemp("range") / "landing"
    generate(root, customers=150, start=DAYS[0], end=DAYS[-1], seed=5, fmt="csv", progress=False)
    _plant(root)
    return root


def _warehouse(path):
    con = duckdb.connect(str(path))
    init_warehouse(con)
    return con


def _contents(con) -> dict[str, list[tuple]]:
    out = {}
    for table in TABLES:
        dropped = RUN_COLUMNS.get(table, "_run_id")
        out[table] = con.sql(f"select * exclude ({dropped}) from {table} order by all").fetchall()
    return out


@pytest.fixture(scope="module")
def one_by_one(landing, tmp_path_factory):
    con = _warehouse(tmp_path_factory.mktemp("w") / "one_by_one.duckdb")
    for day in DAYS:
        ingest_date(con, landing, day, load_rules(), "daily", "salt")
    yield _contents(con)
    con.close()


def test_the_planted_rows_are_judged_across_dates(one_by_one):
    reasons = {(r[1], r[5]) for r in one_by_one["quarantine"]}
    assert {("transactions", "already_loaded"), ("transactions", "bad_type"), ("transactions", "orphan_key"),
            ("transactions", "future_date"), ("transactions", "duplicate_key"),
            ("interactions", "already_loaded"), ("interactions", "orphan_key")} <= reasons
    judged = {(r[0], r[5]): r[6] for r in one_by_one["quarantine"] if r[6] in ("X-LATE", "abc", "AC-NEW")}
    assert judged == {(D[4], "bad_type"): "abc", (D[7], "already_loaded"): "X-LATE", (D[4], "orphan_key"): "AC-NEW"}
    staged = {r[0] for r in one_by_one["stg_transactions"] if r[1] in ("X-LATE", "X-NEW-ACCT-2")}
    assert staged == {D[5], D[8]}
    statuses = {(r[0], r[1]): r[4] for r in one_by_one["ingestion_log"]}
    assert statuses[(D[8], "balances")] == "not_delivered" and statuses[(D[3], "fx_rates")] == "not_delivered"
    assert statuses[(D[1], "products")] == "loaded" and statuses[(D[2], "products")] == "not_delivered"


def test_a_range_in_one_go_equals_its_dates_one_by_one(landing, one_by_one, tmp_path):
    con = _warehouse(tmp_path / "range.duckdb")
    reports = ingest_range(con, landing, DAYS, load_rules(), "backfill", "salt")
    assert _contents(con) == one_by_one
    staged = sum(r.rows_loaded for r in reports if r.entity == "transactions")
    assert staged == len(one_by_one["stg_transactions"])
    usd = dict(con.sql("select txn_id, amount_reporting / amount from stg_transactions "
                       "where txn_id in ('U2', 'U3', 'U5', 'U5-LATE')").fetchall())
    rate = dict(con.sql("select rate_date, rate_to_reporting from stg_fx_rates where currency = 'USD' "
                        "and business_date = rate_date").fetchall())
    assert usd["U3"] == pytest.approx(float(rate[D[2]]), abs=1e-3)           # D3's rate was not delivered
    assert usd["U5"] == pytest.approx(float(rate[D[5]]), abs=1e-3)
    assert usd["U5-LATE"] == pytest.approx(9.99, abs=1e-3)                    # re-delivered on D6
    con.close()


def test_sub_ranges_after_history_and_a_rerun_equal_one_by_one(landing, one_by_one, tmp_path):
    con = _warehouse(tmp_path / "pieces.duckdb")
    rules = load_rules()
    ingest_range(con, landing, DAYS[:3], rules, "first", "salt")
    ingest_range(con, landing, DAYS[3:], rules, "rest", "salt")
    ingest_range(con, landing, DAYS[4:8], rules, "rerun", "salt")   # replaces those dates only
    ingest_date(con, landing, D[2], rules, "rerun", "salt")
    assert _contents(con) == one_by_one
    con.close()


def test_a_broken_file_fails_the_whole_range_and_keeps_the_warehouse(landing, tmp_path):
    broken = tmp_path / "landing"
    shutil.copytree(landing, broken)
    con = _warehouse(tmp_path / "broken.duckdb")
    rules = load_rules()
    ingest_range(con, broken, DAYS[:3], rules, "first", "salt")
    before = _contents(con)
    path = _file(broken, "transactions", D[5])
    gz = path.with_name(path.name + ".gz")
    with gzip.open(gz, "wb") as fh:
        fh.write(path.read_bytes() * 50)
    path.unlink()
    gz.write_bytes(gz.read_bytes()[: gz.stat().st_size // 2])
    with pytest.raises(IngestionError, match=r"^transactions_20250105.csv.gz: compressed data is corrupt"):
        ingest_range(con, broken, DAYS, rules, "second", "salt")
    assert _contents(con) == before
    con.close()
