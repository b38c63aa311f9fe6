"""The demo-data generator: deterministic, valid under the input contracts (real ingestion
quarantines nothing), PII in real formats, reference entities as deltas, planted patterns whose
evidence is in the landing zone and meets the rule it was planted for."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from pipelines.core.config import load_rules
from pipelines.generator import generate
from pipelines.generator.identity import ID_CHECK, ID_WEIGHTS, MOBILE_PREFIXES, USCC_CHARS, USCC_WEIGHTS
from pipelines.ingestion.ingest import ingest_date, init_warehouse

START, END = date(2025, 1, 1), date(2025, 3, 10)   # > 60 days: an RM leaves half-way
CUSTOMERS = 400
PATTERNS = {"structuring", "rapid_in_out", "dormant_reactivation", "frequent_cash", "large_cash_threshold",
            "large_transfer_threshold", "large_transfer_vs_history"}
CREDIT_TYPES = {"deposit", "transfer_in", "salary", "loan_disbursement", "interest", "fund_redemption"}


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("gen")
    out = {}
    for fmt in ("csv", "parquet"):
        out[fmt] = root / fmt
        out[f"{fmt}_summary"] = generate(out[fmt], customers=CUSTOMERS, start=START, end=END, seed=7, fmt=fmt,
                                         progress=False)
    return out


def read_all(folder: Path, entity: str) -> pl.DataFrame:
    """Every file of an entity, with the business date from its name."""
    frames = []
    for path in sorted((folder / entity).glob(f"{entity}_*.parquet")):
        day = datetime.strptime(path.stem.split("_")[-1], "%Y%m%d").date()
        frames.append(pl.read_parquet(path).with_columns(business_date=pl.lit(day)))
    return pl.concat(frames, how="diagonal_relaxed")


def digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path):
    kwargs = dict(customers=120, start=date(2025, 3, 25), end=date(2025, 4, 3), progress=False)
    for fmt in ("csv", "parquet"):
        a = digests(Path(generate(tmp_path / f"a_{fmt}", seed=3, fmt=fmt, **kwargs)["out"]))
        b = digests(Path(generate(tmp_path / f"b_{fmt}", seed=3, fmt=fmt, **kwargs)["out"]))
        c = digests(Path(generate(tmp_path / f"c_{fmt}", seed=4, fmt=fmt, **kwargs)["out"]))
        assert a == b and len(a) > 40
        assert a["transactions/transactions_20250401." + fmt] != c["transactions/transactions_20250401." + fmt]


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_real_ingestion_quarantines_nothing(landing, fmt):
    con = duckdb.connect()
    init_warehouse(con)
    rules = load_rules()
    days = [START + timedelta(days=i) for i in range(9)]
    for day in days:
        ingest_date(con, landing[fmt], day, rules, "test", "salt")
    assert con.execute("select count(*) from quarantine").fetchall() == [(0,)]
    loaded = dict(con.sql("select entity, sum(rows_loaded) from ingestion_log group by entity").fetchall())
    assert loaded["transactions"] > CUSTOMERS * len(days) * 0.5
    assert all(loaded[e] > 0 for e in ("customers", "accounts", "balances", "fx_rates", "products",
                                        "relationship_managers", "interactions"))


def test_transactions_keep_the_contract_rules(landing):
    tx = read_all(landing["parquet"], "transactions")
    assert tx["txn_id"].is_unique().all()
    assert (tx["txn_ts"].dt.date() == tx["business_date"]).all()
    assert (tx["amount"] > 0).all() and tx["amount"].dtype == pl.Decimal(18, 2)
    expected = pl.when(pl.col("txn_type").is_in(list(CREDIT_TYPES))).then(pl.lit("credit")).otherwise(pl.lit("debit"))
    assert tx.select((pl.col("direction") == expected).all()).item()
    # Ordinary cash deposits are small: only planted ones reach 90 % of the 50,000 standard.
    patterns = pl.read_parquet(landing["parquet"] / "_truth" / "patterns.parquet")
    planted = set(patterns["txn_ids"].explode().to_list())
    big_cash = tx.filter(pl.col("is_cash") & (pl.col("amount") >= 45_000))
    assert set(big_cash["txn_id"]) <= planted
    # Every USD transaction has a USD rate on its date.
    fx = read_all(landing["parquet"], "fx_rates")
    usd_days = set(tx.filter(pl.col("currency") == "USD")["business_date"])
    assert usd_days and usd_days <= set(fx.filter(pl.col("currency") == "USD")["rate_date"])


def test_identity_numbers_carry_valid_check_digits(landing):
    customers = pl.read_parquet(landing["parquet"] / "customers" / "customers_20250101.parquet")
    people = customers.filter(pl.col("customer_type") == "individual")
    ids = np.array(people["id_number"].to_list())
    digits = np.array([[int(ch) for ch in s[:17]] for s in ids])
    assert (ID_CHECK[(digits * ID_WEIGHTS).sum(axis=1) % 11] == np.array([s[17] for s in ids])).all()
    assert (people["id_number"].str.slice(6, 8) == people["birth_date"].dt.strftime("%Y%m%d")).all()
    male = people["id_number"].str.slice(16, 1).cast(pl.Int64) % 2 == 1
    assert (male == (people["gender"] == "M")).all()
    firms = customers.filter(pl.col("customer_type") == "business")
    assert firms.height > 0
    value = {ch: i for i, ch in enumerate(USCC_CHARS)}
    for code in firms["id_number"]:
        assert len(code) == 18 and set(code) <= set(USCC_CHARS)
        check = (31 - sum(value[ch] * w for ch, w in zip(code[:17], USCC_WEIGHTS)) % 31) % 31
        assert code[17] == USCC_CHARS[check]
    assert customers["phone"].str.len_chars().eq(11).all()
    assert customers["phone"].str.slice(0, 3).cast(pl.Int64).is_in(MOBILE_PREFIXES.tolist()).all()


def test_reference_entities_arrive_as_deltas(landing):
    folder = landing["parquet"]
    for entity, key in (("customers", "customer_id"), ("accounts", "account_id")):
        rows = read_all(folder, entity)
        first = rows.filter(pl.col("business_date") == START)
        later = rows.filter(pl.col("business_date") > START)
        assert first.height > 0 and later.height > 0
        assert later.height < first.height      # deltas, not snapshots
        # A later row is either a key never delivered before or a change of the previous version.
        columns = [c for c in rows.columns if c != "business_date"]
        versions = rows.sort("business_date").with_columns(
            previous=pl.struct(columns).shift(1).over(key), version=pl.int_range(pl.len()).over(key))
        repeated = versions.filter(pl.col("version") > 0)
        assert repeated.filter(pl.struct(columns) == pl.col("previous")).height == 0
        assert rows[key].n_unique() > first.height       # new keys appear during the range
    accounts = read_all(folder, "accounts")
    assert accounts.filter(pl.col("business_date") > START)["status"].is_in(["closed", "dormant", "active"]).all()
    # Balances: a full snapshot of the open book on the first date and at the month end.
    balances = read_all(folder, "balances")
    open_first = accounts.filter(pl.col("business_date") == START)
    snapshot = balances.filter(pl.col("balance_date") == START)
    assert set(snapshot["account_id"]) == set(open_first.filter(pl.col("status") != "closed")["account_id"])
    assert balances.filter(pl.col("balance_date") == date(2025, 1, 31)).height >= snapshot.height
    # Every RM a customer row names is delivered on or before that date and has not left.
    rms = read_all(folder, "relationship_managers").rename({"business_date": "rm_date", "status": "rm_status"})
    customers = read_all(folder, "customers").filter(pl.col("rm_id").is_not_null())
    known = customers.join(rms, on="rm_id", how="left").filter(pl.col("rm_date") <= pl.col("business_date"))
    latest = known.sort("rm_date").group_by("customer_id", "business_date").agg(pl.col("rm_status").last())
    assert latest.height == customers.select("customer_id", "business_date").unique().height
    assert (latest["rm_status"] == "active").all()
    products = sorted((folder / "products").glob("*.parquet"))
    assert [p.name for p in products] == ["products_20250101.parquet"]


def test_planted_patterns_have_their_evidence_in_the_landing_zone(landing):
    folder = landing["parquet"]
    patterns = pl.read_parquet(folder / "_truth" / "patterns.parquet")
    assert set(patterns["pattern"]) == PATTERNS
    assert patterns["pattern_id"].is_unique().all()
    tx = read_all(folder, "transactions")
    accounts = read_all(folder, "accounts").unique("account_id", keep="last")
    owner = dict(zip(accounts["account_id"], accounts["customer_id"]))
    by_id = {r["txn_id"]: r for r in tx.iter_rows(named=True)}
    for p in patterns.iter_rows(named=True):
        rows = [by_id[t] for t in p["txn_ids"]]          # every id exists in the landing zone
        assert {owner[r["account_id"]] for r in rows} == {p["customer_id"]}
        assert p["window_start"] == min(r["txn_ts"] for r in rows)
        amounts = [float(r["amount"]) for r in rows]
        match p["pattern"]:
            case "structuring":
                assert 3 <= len(rows) <= 5 and all(r["is_cash"] for r in rows)
                assert all(45_000 <= a < 50_000 for a in amounts) and sum(amounts) > 50_000
                assert p["window_end"] - p["window_start"] < timedelta(days=7)
            case "large_cash_threshold":
                assert amounts == [50_000.0 if p["variant"] == "at_threshold" else 49_999.99]
            case "large_transfer_threshold":
                variant = p["variant"]
                base = {"individual_domestic": 500_000, "business": 2_000_000, "individual_cross_border": 200_000}
                standard = next(v for k, v in base.items() if variant.startswith(k))
                assert amounts == [standard if variant.endswith("at_threshold") else standard - 0.01]
                assert rows[0]["is_cross_border"] == variant.startswith("individual_cross_border")
            case "frequent_cash":
                assert len(rows) >= 5 and all(r["txn_type"] == "withdrawal" and r["is_cash"] for r in rows)
                assert p["window_end"] - p["window_start"] < timedelta(hours=24)
            case "rapid_in_out":
                credit = sum(a for a, r in zip(amounts, rows) if r["direction"] == "credit")
                debit = sum(a for a, r in zip(amounts, rows) if r["direction"] == "debit")
                assert debit >= 0.8 * credit and p["window_end"] - p["window_start"] <= timedelta(hours=48)
            case "dormant_reactivation":
                account = p["account_ids"][0]
                before = tx.filter((pl.col("account_id") == account) & (pl.col("txn_ts") < p["window_start"]))
                opened = accounts.filter(pl.col("account_id") == account)["open_date"][0]
                assert before.height == 0 and (p["window_start"].date() - opened).days >= 180
            case "large_transfer_vs_history":
                mine = tx.filter(pl.col("account_id").is_in(p["account_ids"]) & pl.col("txn_type").str.starts_with("transfer")
                                 & (pl.col("txn_ts") < p["window_start"])
                                 & (pl.col("txn_ts") >= p["window_start"] - timedelta(days=90)))
                assert amounts[0] >= 5 * float(mine["amount"].max() or 0)


def test_truth_describes_every_customer(landing):
    truth = pl.read_parquet(landing["parquet"] / "_truth" / "customers.parquet")
    assert truth.height == CUSTOMERS and truth["customer_id"].is_unique().all()
    for column in ("wealth", "engagement_trend", "default_propensity", "churns", "churn_start", "defaults",
                   "default_date", "appetite_fund", "appetite_private_banking"):
        assert column in truth.columns
    assert truth.filter(pl.col("churns"))["churn_start"].null_count() == 0
    assert truth.filter(~pl.col("churns"))["churn_start"].null_count() == truth.filter(~pl.col("churns")).height
    assert 0.05 < truth["churns"].mean() < 0.13
    assert 0.06 < (truth["customer_type"] == "business").mean() < 0.15
    summary = landing["parquet_summary"]
    assert summary["rows"]["transactions"] == read_all(landing["parquet"], "transactions").height
    assert summary["dates"] == (END - START).days + 1 and summary["transactions_per_second"] > 0
