"""customer_rfm and segment_migration on hand-made warehouse rows: exact scores, ties,
degenerate bases, the window, fixed cuts, the segment grid and migration across dates."""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pytest

from models.customer.segmentation import SegmentationConfigError, segment_grid, segment_of
from pipelines.core.config import load_rules
from pipelines.core.base_coverage import base_coverage_failures
from pipelines.core.engine import DateRange
from pipelines.core.contracts import output_contracts
from pipelines.publishing.snapshot import contract_violations
from pipelines.customer.segmentation import build_date, params_for
from pipelines.core.sql import one, run
from tests.kit.real_data import SHARED_DATA
from tests.kit.warehouse import EPOCH, account, customer, insert, rows, txn, warehouse

D = date(2024, 3, 1)


def rules_with(**rfm) -> dict:
    rules = copy.deepcopy(load_rules())
    rules["rfm"].update(rfm)
    return rules


def add_customers(con, activity: dict[str, list[tuple[int, float]]], delivered: date = EPOCH) -> None:
    """One customer and one current account per key; activity = [(days before D, amount)]."""
    insert(con, "stg_customers", [customer(c) for c in activity], delivered)
    insert(con, "stg_accounts", [account(f"A_{c}", c) for c in activity], delivered)
    insert(con, "stg_transactions",
           [txn(f"T_{c}_{i}", f"A_{c}", D - timedelta(days=ago), amount)
            for c, txns in activity.items() for i, (ago, amount) in enumerate(txns)], D)


def rfm_by_customer(con, day: date = D) -> dict[str, dict]:
    return {r["customer_id"]: r for r in rows(con, "select * from customer_rfm where as_of_date = $d", {"d": day})}


def scores(con, metric: str, day: date = D) -> dict[str, int]:
    return {c: r[metric] for c, r in rfm_by_customer(con, day).items()}


def test_ten_distinct_customers_fall_into_exact_quintiles(tmp_path):
    con = warehouse(tmp_path)
    # Customer Ck: k transactions of 100*k each, the latest 10*(10-k) days ago.
    add_customers(con, {f"C{k:02d}": [(10 * (10 - k) + i, 100.0 * k) for i in range(k)] for k in range(1, 11)})
    build_date(con, D, load_rules())
    expected = {f"C{k:02d}": s for k, s in zip(range(1, 11), [1, 1, 2, 2, 3, 3, 4, 4, 5, 5])}
    assert scores(con, "r_score") == expected
    assert scores(con, "f_score") == expected
    assert scores(con, "m_score") == expected
    got = rfm_by_customer(con)
    assert got["C10"]["recency_days"] == 0 and got["C10"]["frequency"] == 10
    assert float(got["C10"]["monetary"]) == 10 * 1000.0
    assert got["C10"]["rfm_cell"] == "555" and got["C10"]["segment"] == "Champions"
    assert got["C01"]["rfm_cell"] == "111" and got["C01"]["segment"] == "Lost"
    assert got["C05"]["rfm_cell"] == "333" and got["C05"]["segment"] == "Need Attention"
    assert got["C03"]["rfm_cell"] == "222" and got["C03"]["segment"] == "Hibernating"


def test_ties_are_never_split_and_take_the_score_of_their_midpoint(tmp_path):
    con = warehouse(tmp_path)
    # Frequencies 1,1,1,1,1,1,2,2,3,9: six customers tie at 1 (midpoint 30 % -> score 2),
    # two at 2 (midpoint 70 % -> 4), then 3 (85 % -> 5) and 9 (95 % -> 5).
    freqs = [1, 1, 1, 1, 1, 1, 2, 2, 3, 9]
    add_customers(con, {f"C{k}": [(5 + i, 50.0) for i in range(n)] for k, n in enumerate(freqs)})
    build_date(con, D, load_rules())
    got = rfm_by_customer(con)
    by_frequency = {}
    for r in got.values():
        by_frequency.setdefault(r["frequency"], set()).add(r["f_score"])
    assert by_frequency == {1: {2}, 2: {4}, 3: {5}, 9: {5}}
    # Everyone's last transaction is 5 days ago: one tie group over the whole base -> middle score.
    assert {r["r_score"] for r in got.values()} == {3}
    assert {r["recency_days"] for r in got.values()} == {5}


@pytest.mark.parametrize(
    ("n", "expected"),
    [(1, [3]), (2, [2, 4]), (3, [1, 3, 5]), (4, [1, 2, 4, 5]), (5, [1, 2, 3, 4, 5])],
)
def test_fewer_customers_than_levels_spread_over_the_scale(tmp_path, n, expected):
    con = warehouse(tmp_path)
    # Customer k (0-based) has k+1 transactions of 10 each; the more, the more recent.
    add_customers(con, {f"C{k}": [(20 - k + i, 10.0) for i in range(k + 1)] for k in range(n)})
    build_date(con, D, load_rules())
    f = scores(con, "f_score")
    assert [f[f"C{k}"] for k in range(n)] == expected
    assert [scores(con, "r_score")[f"C{k}"] for k in range(n)] == expected


def test_all_customers_equal_get_the_middle_score_everywhere(tmp_path):
    con = warehouse(tmp_path)
    add_customers(con, {f"C{k}": [(30, 500.0), (60, 500.0)] for k in range(7)})
    build_date(con, D, load_rules())
    got = rfm_by_customer(con)
    assert len(got) == 7
    assert {(r["rfm_cell"], r["segment"]) for r in got.values()} == {("333", "Need Attention")}


def test_zero_customers_and_an_all_inactive_base_build_without_scores(tmp_path):
    con = warehouse(tmp_path)
    written = build_date(con, D, load_rules())
    assert written == {"int_customer_activity": 0, "int_customer_day": 0, "customer_rfm": 0, "segment_migration": 0,
                       "customer_lifecycle": 0, "customer_360": 0}
    insert(con, "stg_customers", [customer("C1"), customer("C2")], EPOCH)
    build_date(con, D, load_rules())
    got = rfm_by_customer(con)
    assert {c: (r["segment"], r["r_score"], r["rfm_cell"], r["recency_days"], r["frequency"])
            for c, r in got.items()} == {"C1": ("Inactive", None, None, None, 0),
                                         "C2": ("Inactive", None, None, None, 0)}


def test_window_counted_types_and_point_in_time(tmp_path):
    con = warehouse(tmp_path)
    insert(con, "stg_customers", [customer(c) for c in ("IN", "EDGE", "OUT", "FEES", "LATE", "MULTI")], EPOCH)
    insert(con, "stg_accounts", [account(f"A_{c}", c) for c in ("IN", "EDGE", "OUT", "FEES", "LATE", "MULTI")]
           + [account("A_MULTI2", "MULTI", "SV001")], EPOCH)
    insert(con, "stg_transactions", [
        txn("t1", "A_IN", D, 10.0),
        txn("t2", "A_EDGE", D - timedelta(days=364), 20.0),      # first day of the 365-day window
        txn("t3", "A_OUT", D - timedelta(days=365), 30.0),       # one day too old
        txn("t4", "A_FEES", D - timedelta(days=3), 40.0, "interest"),
        txn("t5", "A_FEES", D - timedelta(days=3), 50.0, "fee"),
        txn("t6", "A_FEES", D - timedelta(days=3), 60.0, "salary"),
        txn("t7", "A_MULTI", D - timedelta(days=2), 70.0, "transfer_out"),
        txn("t8", "A_MULTI2", D - timedelta(days=1), 80.0, "deposit"),
    ], D)
    # Delivered the day after D (a late extract): invisible to D, counted from D+1.
    insert(con, "stg_transactions", [txn("t9", "A_LATE", D, 90.0)], D + timedelta(days=1))
    build_date(con, D, load_rules())
    got = rfm_by_customer(con)
    assert {c: (r["frequency"], float(r["monetary"]), r["recency_days"]) for c, r in got.items()} == {
        "IN": (1, 10.0, 0), "EDGE": (1, 20.0, 364), "OUT": (0, 0.0, None), "FEES": (0, 0.0, None),
        "LATE": (0, 0.0, None), "MULTI": (2, 150.0, 1)}
    build_date(con, D + timedelta(days=1), load_rules())
    late = rfm_by_customer(con, D + timedelta(days=1))
    assert (late["LATE"]["frequency"], late["LATE"]["recency_days"]) == (1, 1)
    assert late["EDGE"]["segment"] == "Inactive"   # its transaction left the window


def test_fixed_cut_points_score_on_their_boundaries(tmp_path):
    con = warehouse(tmp_path)
    # (recency days, frequency, monetary) on and beside each cut point; the first transaction
    # carries the amount beyond 1.00 per further transaction, so sums are exact.
    spec = {"A": (7, 30, 1000.0), "B": (8, 29, 999.99), "C": (30, 12, 10000.0),
            "D": (31, 5, 50000.0), "E": (180, 2, 200000.0), "F": (181, 1, 10.0)}
    add_customers(con, {c: [(r + i, m - (f - 1) if i == 0 else 1.0) for i in range(f)]
                        for c, (r, f, m) in spec.items()})
    build_date(con, D, rules_with(scoring="fixed"))
    got = rfm_by_customer(con)
    assert {c: (r["r_score"], r["f_score"]) for c, r in got.items()} == {
        "A": (5, 5), "B": (4, 4), "C": (4, 4), "D": (3, 3), "E": (2, 2), "F": (1, 1)}
    assert {c: (float(r["monetary"]), r["m_score"]) for c, r in got.items()} == {
        "A": (1000.0, 2), "B": (999.99, 1), "C": (10000.0, 3), "D": (50000.0, 4), "E": (200000.0, 5),
        "F": (10.0, 1)}


def test_monetary_can_be_aum(tmp_path):
    con = warehouse(tmp_path)
    add_customers(con, {"RICH": [(1, 10.0)], "POOR": [(1, 10_000.0)]})
    insert(con, "stg_balances", [{"account_id": "A_RICH", "balance_date": D, "balance": 900_000.0,
                                  "amount_reporting": 900_000.0}], D)
    build_date(con, D, rules_with(monetary="aum"))
    got = rfm_by_customer(con)
    assert (float(got["RICH"]["monetary"]), got["RICH"]["m_score"]) == (900_000.0, 4)
    assert (float(got["POOR"]["monetary"]), got["POOR"]["m_score"]) == (0.0, 2)


def test_segment_grid_precedence_is_list_order(tmp_path):
    con = warehouse(tmp_path)
    # Fixed recency cuts: 0 days -> r 5; 50, 100, 150, 200 days -> r 3, 2, 2, 1.
    add_customers(con, {f"C{k}": [(50 * k, 10.0)] for k in range(5)})
    first_wins = [{"segment": "Champions", "r": [5, 5]}, {"segment": "Lost"}]
    build_date(con, D, rules_with(scoring="fixed", segments=first_wins))
    assert {c: r["segment"] for c, r in rfm_by_customer(con).items()} == {
        "C0": "Champions", "C1": "Lost", "C2": "Lost", "C3": "Lost", "C4": "Lost"}
    build_date(con, D, rules_with(scoring="fixed", segments=list(reversed(first_wins))))
    assert {r["segment"] for r in rfm_by_customer(con).values()} == {"Lost"}


def test_default_grid_names_every_cell_and_follows_the_classic_map():
    grid = segment_grid(load_rules()["rfm"])
    assert len({g["segment"] for g in grid}) == 11
    expected = {  # r, f -> segment, for every m
        (5, 5): "Champions", (5, 4): "Champions", (4, 5): "Loyal Customers", (3, 4): "Loyal Customers",
        (1, 5): "Can't Lose Them", (2, 3): "At Risk", (1, 4): "At Risk", (5, 2): "Potential Loyalists",
        (4, 3): "Potential Loyalists", (5, 1): "New Customers", (4, 1): "Promising",
        (3, 3): "Need Attention", (3, 1): "About To Sleep", (3, 2): "About To Sleep",
        (1, 1): "Lost", (2, 1): "Hibernating", (1, 2): "Hibernating", (2, 2): "Hibernating",
    }
    for (r, f), segment in expected.items():
        assert {segment_of(grid, r, f, m) for m in range(1, 6)} == {segment}


def test_config_errors_are_refused_with_a_clear_message():
    rfm = copy.deepcopy(load_rules()["rfm"])
    rfm["segments"] = [s for s in rfm["segments"] if s["segment"] != "Hibernating"]
    with pytest.raises(SegmentationConfigError, match="unnamed, e.g. rfm cell 121"):
        segment_grid(rfm)
    with pytest.raises(SegmentationConfigError, match="fixed_cuts.frequency must be strictly ascending"):
        params_for(rules_with(fixed_cuts={**load_rules()["rfm"]["fixed_cuts"], "frequency": [2, 12, 5, 30]}))
    with pytest.raises(SegmentationConfigError, match="not in the output contract"):
        params_for(rules_with(segments=[{"segment": "Whales"}]))
    with pytest.raises(SegmentationConfigError, match="rfm.scoring"):
        params_for(rules_with(scoring="deciles"))


def test_previous_segment_and_migration_across_dates_and_backfills(tmp_path):
    con = warehouse(tmp_path)
    d2, d3 = D + timedelta(days=1), D + timedelta(days=2)
    insert(con, "stg_customers", [customer(c) for c in ("X", "Y", "W")], EPOCH)
    insert(con, "stg_accounts", [account(f"A_{c}", c) for c in ("X", "Y", "W")], EPOCH)
    insert(con, "stg_transactions", [txn("x1", "A_X", D), txn("w1", "A_W", D - timedelta(days=364))], D)
    insert(con, "stg_customers", [customer("Z", onboard_date=d2)], d2)
    insert(con, "stg_transactions", [txn("y1", "A_Y", d2)], d2)
    fixed = rules_with(scoring="fixed")
    build_date(con, D, fixed)
    first = rfm_by_customer(con, D)
    build_date(con, d2, fixed)

    assert {c: (r["segment"], r["previous_segment"]) for c, r in rfm_by_customer(con, d2).items()} == {
        "X": ("New Customers", "New Customers"), "Y": ("New Customers", "Inactive"),
        "W": ("Inactive", "Lost"), "Z": ("Inactive", None)}
    migration = rows(con, "select from_segment, to_segment, customers, share_of_from, stayed "
                          "from segment_migration where as_of_date = $d order by all", {"d": d2})
    assert [tuple(m.values()) for m in migration] == [
        ("(none)", "Inactive", 1, 1.0, False), ("Inactive", "New Customers", 1, 1.0, False),
        ("Lost", "Inactive", 1, 1.0, False), ("New Customers", "New Customers", 1, 1.0, True)]

    # Backfilling D after D+1 exists: D sees neither D+1's data nor D+1's snapshot.
    before_d2 = rfm_by_customer(con, d2)
    build_date(con, D, fixed)
    assert rfm_by_customer(con, D) == first
    build_date(con, d2, fixed)
    assert rfm_by_customer(con, d2) == before_d2
    assert rows(con, "select as_of_date, count(*) as n from customer_rfm group by all order by all") == [
        {"as_of_date": D, "n": 3}, {"as_of_date": d2, "n": 4}]

    # A gap: D+2 built while D+1 is missing takes its previous segments from D.
    con.execute("delete from customer_rfm where as_of_date = $d", {"d": d2})
    build_date(con, d3, fixed)
    assert {c: r["previous_segment"] for c, r in rfm_by_customer(con, d3).items()} == {
        "X": "New Customers", "Y": "Inactive", "W": "Lost", "Z": None}


def test_checks_pass_on_a_built_date_and_catch_a_broken_one(tmp_path):
    con = warehouse(tmp_path)
    add_customers(con, {f"C{k}": [(k, 10.0 * k)] for k in range(1, 9)})
    build_date(con, D, load_rules())
    for table in ("customer_rfm", "segment_migration"):
        assert contract_violations(con, table, output_contracts()[table], D) == []
    assert not base_coverage_failures(con, "customer_rfm", DateRange(D, D))
    con.execute("update customer_rfm set r_score = 6 where customer_id = 'C1'")
    con.execute("insert into customer_rfm select * from customer_rfm where customer_id = 'C2'")
    con.execute("delete from customer_rfm where customer_id = 'C3'")
    assert contract_violations(con, "customer_rfm", output_contracts()["customer_rfm"], D) == [
        "r_score above 5: 1 rows", "duplicate key: 1 rows"]
    assert base_coverage_failures(con, "customer_rfm", DateRange(D, D)) == {
        f"{D} base customers missing": 1, f"{D} duplicate customer rows": 1}


# --- Real data: UCI Online Retail (../shared/data), one customer per CustomerID, one transaction
# per invoice. A source profile maps a file row to a contract row; invoices are sums of lines,
# so this adapter does that aggregation in SQL and writes the staging rows directly.
ONLINE_RETAIL = SHARED_DATA / "online_retail" / "online_retail.parquet"

ADAPT_ONLINE_RETAIL = """
create temp table _invoices as
select
    InvoiceNo as txn_id,
    'C' || cast(CustomerID as bigint) as customer_id,
    min(InvoiceDate)::timestamp as txn_ts,
    round(sum(Quantity * UnitPrice), 2)::decimal(18, 2) as signed_amount,
    InvoiceNo like 'C%' as cancellation
from read_parquet($path)
where CustomerID is not null
group by InvoiceNo, CustomerID;

insert into stg_customers (business_date, customer_id, customer_type, onboard_date, status, _line)
select min(txn_ts)::date, customer_id, 'individual', min(txn_ts)::date, 'active', 1
from _invoices group by customer_id;

insert into stg_accounts (business_date, account_id, customer_id, product_code, open_date, status, currency, _line)
select onboard_date, 'A' || customer_id, customer_id, 'CA001', onboard_date, 'active', 'CNY', 1 from stg_customers;

-- A cancellation is a refund to the customer: kept as a credit of type 'other', which RFM does
-- not count. An invoice that sums to zero or less (price adjustments) breaks the contract
-- (amount > 0) and would be quarantined: left out here.
insert into stg_transactions (business_date, txn_id, account_id, txn_ts, amount, amount_reporting, direction,
                              currency, txn_type, _line)
select txn_ts::date, txn_id, 'A' || customer_id, txn_ts, abs(signed_amount), abs(signed_amount),
       case when cancellation then 'credit' else 'debit' end, 'CNY',
       case when cancellation then 'other' else 'card_purchase' end, 1
from _invoices
where (cancellation and signed_amount < 0) or (not cancellation and signed_amount > 0);
"""

# Written from the rules, straight off the raw file: no staging table, no pipeline SQL.
INDEPENDENT_RFM = """
with purchases as (
    -- money in exact decimals: float sums would split customers who spent the same
    select InvoiceNo, CustomerID, min(InvoiceDate)::date as day,
           round(sum(Quantity * UnitPrice), 2)::decimal(18, 2) as amount
    from read_parquet($path)
    where CustomerID is not null and InvoiceNo not like 'C%'
    group by InvoiceNo, CustomerID
    having round(sum(Quantity * UnitPrice), 2) > 0
),
per_customer as (
    select 'C' || cast(CustomerID as bigint) as customer_id,
           date_diff('day', max(day), $d::date) as recency_days, count(*) as frequency, sum(amount) as monetary
    from purchases
    where day > $d::date - 365 and day <= $d::date
    group by CustomerID
),
ranked as (
    select *,
        count(*) over () as n,
        rank() over (order by recency_days desc) - 1 as r_worse, count(*) over (partition by recency_days) as r_tied,
        rank() over (order by frequency) - 1 as f_worse, count(*) over (partition by frequency) as f_tied,
        rank() over (order by monetary) - 1 as m_worse, count(*) over (partition by monetary) as m_tied
    from per_customer
),
scored as (
    select customer_id, recency_days, frequency, monetary,
        1 + (5 * (2 * r_worse + r_tied)) // (2 * n) as r,
        1 + (5 * (2 * f_worse + f_tied)) // (2 * n) as f,
        1 + (5 * (2 * m_worse + m_tied)) // (2 * n) as m
    from ranked
)
select *,
    case
        when r = 5 and f >= 4 then 'Champions'
        when r in (3, 4) and f >= 4 then 'Loyal Customers'
        when r <= 2 and f = 5 then 'Can''t Lose Them'
        when r <= 2 and f in (3, 4) then 'At Risk'
        when r >= 4 and f in (2, 3) then 'Potential Loyalists'
        when r = 5 and f = 1 then 'New Customers'
        when r = 4 and f = 1 then 'Promising'
        when r = 3 and f = 3 then 'Need Attention'
        when r = 3 and f <= 2 then 'About To Sleep'
        when r = 1 and f = 1 then 'Lost'
        else 'Hibernating'
    end as segment
from scored
"""


@pytest.mark.realdata
@pytest.mark.skipif(not ONLINE_RETAIL.exists(), reason=f"real data absent: {ONLINE_RETAIL}; set CRM_SHARED_DATA")
def test_online_retail_rfm_matches_an_independent_plain_sql_computation(tmp_path):
    con = warehouse(tmp_path)
    for statement in ADAPT_ONLINE_RETAIL.split(";"):
        if statement.strip():
            run(con, statement, {"path": str(ONLINE_RETAIL)})
    mid, last = date(2011, 6, 30), date(2011, 12, 9)
    for day in (mid, last):
        build_date(con, day, load_rules())
    for day in (mid, last):
        ours = {r["customer_id"]: r for r in rows(
            con, "select * from customer_rfm where as_of_date = $d and segment <> 'Inactive'", {"d": day})}
        theirs = {r["customer_id"]: r for r in rows(con, INDEPENDENT_RFM, {"path": str(ONLINE_RETAIL), "d": day})}
        assert len(theirs) > 2000 and set(ours) == set(theirs)
        for c, t in theirs.items():
            o = ours[c]
            assert (o["recency_days"], o["frequency"], o["r_score"], o["f_score"], o["m_score"], o["segment"]) == (
                t["recency_days"], t["frequency"], t["r"], t["f"], t["m"], t["segment"]), c
            assert float(o["monetary"]) == pytest.approx(float(t["monetary"]), abs=0.005), c
        # Known on the date but without a purchase in the window: Inactive, including customers
        # whose only invoices in the window are cancellations.
        inactive = one(con, "select count(*) from customer_rfm where as_of_date = $d and segment = 'Inactive'",
                       {"d": day})[0]
        known = one(con, "select count(distinct customer_id) from stg_customers where business_date <= $d",
                    {"d": day})[0]
        assert inactive == known - len(theirs)
    # Real frequencies tie massively (a third of the customers bought once): no value is split.
    split = one(con, "select count(*) from (select frequency from customer_rfm where as_of_date = $d "
                     "and f_score is not null group by frequency having count(distinct f_score) > 1)", {"d": last})[0]
    assert split == 0
    assert not base_coverage_failures(con, "customer_rfm", DateRange(last, last))
    moved = one(con, "select sum(customers) from segment_migration where as_of_date = $d and not stayed "
                     "and from_segment <> '(none)'", {"d": last})[0]
    assert moved > 0


def test_customer_keys_are_stored_with_zstd(tmp_path):
    # Writing a unique key with DuckDB's default DICT_FSST cost twice the CPU (docs/segmentation.md).
    con = warehouse(tmp_path)
    add_customers(con, {f"C{k}": [(k, 10.0 * k)] for k in range(1, 9)})
    build_date(con, D, load_rules())
    con.execute("checkpoint")
    for table in ("int_customer_activity", "customer_rfm", "customer_lifecycle"):
        stored = run(con, "select distinct compression from pragma_storage_info($t) "
                          "where column_name = 'customer_id' and segment_type = 'VARCHAR'", {"t": table}).fetchall()
        assert stored == [("ZSTD",)], table
    segments = run(con, "select distinct compression from pragma_storage_info('customer_rfm') "
                        "where column_name = 'segment' and segment_type = 'VARCHAR'").fetchall()
    assert segments != [("ZSTD",)]
