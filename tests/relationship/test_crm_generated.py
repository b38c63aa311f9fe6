"""crm_tasks and rm_scorecard on generated data, two nights before Mid-Autumn 2024 (17 September):
every task's customer exists, marketing and care tasks only with consent and for the customer's
own RM, ids stay stable, the per-RM cap holds, no birth date leaks, and the scorecard adds up."""

from __future__ import annotations

from datetime import date, timedelta

import duckdb
import pytest

from pipelines.core.config import load_rules
from pipelines.core.contracts import output_contracts
from pipelines.core.engine import DateRange
from pipelines.relationship.crm_tasks import build_crm_tasks_range
from pipelines.ingestion.ingest import init_warehouse
from pipelines.publishing.snapshot import contract_violations
from pipelines.relationship.rm_scorecard import build_rm_scorecard_range
from pipelines.customer.segmentation import build_segmentation
from pipelines.core.sql import run
from tests.kit.generated import load_landing
from tests.relationship.test_crm_care import put

generator = pytest.importorskip("pipelines.generator", reason="the demo-data generator is not on this branch yet")

pytestmark = pytest.mark.slow

RULES = load_rules()
START, NIGHTS = date(2024, 3, 1), [date(2024, 9, 12), date(2024, 9, 13)]
CUSTOMERS = 800


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    root = tmp_path_factory.mktemp("crm")
    generator.generate(root / "landing", customers=CUSTOMERS, start=START, end=NIGHTS[-1], seed=5, fmt="parquet",
                       progress=False)
    con = duckdb.connect(str(root / "warehouse.duckdb"))
    init_warehouse(con)
    load_landing(con, root / "landing")
    # Two nights before them, built in order: the first list the nights carry tasks over from.
    build_segmentation(con, DateRange(NIGHTS[0] - timedelta(days=2), NIGHTS[-1]), RULES)
    for day in (NIGHTS[0] - timedelta(days=2), NIGHTS[0] - timedelta(days=1), *NIGHTS):
        # An offer for every customer, consented or not: the tasks must still respect consent.
        ids = [r[0] for r in con.sql("select distinct customer_id from stg_customers").fetchall()]
        put(con, "next_best_offer", [{"as_of_date": day, "customer_id": c, "product_code": "FD001", "product_family": "fund",
                                      "probability": 0.5, "model_version": "v1", "reasons": ["x"], "eligible_products": 1,
                                      "excluded": []} for c in ids])
        build_crm_tasks_range(con, DateRange(day, day), RULES)
        build_rm_scorecard_range(con, DateRange(day, day), RULES)
    con.execute("""create temp table state as select * from stg_customers
                   qualify row_number() over (partition by customer_id order by business_date desc, _line desc) = 1""")
    yield con
    con.close()


def scalar(con, query: str, params: dict | None = None):
    return run(con, query, params).fetchall()[0][0]


def test_every_kind_appears_and_both_tables_meet_their_contracts(con):
    kinds = {r[0] for r in con.sql("select distinct kind from crm_tasks").fetchall()}
    assert {"contact_due", "birthday_greeting", "festival_greeting", "lifecycle_action", "offer",
            "complaint_follow_up"} <= kinds
    for day in NIGHTS:
        for table in ("crm_tasks", "rm_scorecard"):
            assert contract_violations(con, table, output_contracts()[table], day) == []


def test_every_task_has_a_known_customer_consent_where_needed_and_the_customers_own_rm(con):
    params = {"consent": RULES["crm_tasks"]["consent_kinds"], "rm": RULES["crm_tasks"]["rm_kinds"]}
    assert scalar(con, "select count(*) from crm_tasks t anti join state s using (customer_id)") == 0
    assert scalar(con, """select count(*) from crm_tasks t join state s using (customer_id)
                          where list_contains($consent, t.kind) and not coalesce(s.marketing_consent, false)""", params) == 0
    assert scalar(con, """select count(*) from crm_tasks t join state s using (customer_id)
                          where list_contains($rm, t.kind) and (t.rm_id is null or t.rm_id <> s.rm_id)""", params) == 0
    # The planted offers went to every customer: only the consenting ones with an RM got a task.
    offered = scalar(con, "select count(*) from crm_tasks where kind = 'offer' and as_of_date = $d", {"d": NIGHTS[0]})
    assert 0 < offered < scalar(con, "select count(*) from state")


def test_ids_are_unique_and_stable_across_the_two_nights(con):
    assert scalar(con, "select count(*) - count(distinct (as_of_date, task_id)) from crm_tasks") == 0
    first, second = NIGHTS
    kept = run(con, """select count(*), count(*) filter (where b.status = 'open' and b.created_date = a.created_date
                                                          and b.due_date <= a.due_date)
                       from crm_tasks a join crm_tasks b using (task_id)
                       where a.as_of_date = $a and b.as_of_date = $b""", {"a": first, "b": second}).fetchall()[0]
    assert kept[0] > 0 and kept[0] == kept[1]
    # The festival greeting of the same customer is the same task both nights.
    assert scalar(con, """select count(distinct task_id) = count(distinct customer_id) from crm_tasks
                          where kind = 'festival_greeting'""")


def test_the_cap_holds_and_no_birth_date_is_published(con):
    cap = RULES["crm_tasks"]["max_tasks_per_rm"]
    assert scalar(con, """select coalesce(max(n), 0) from (select count(*) as n from crm_tasks
                          where list_contains($kinds, kind) group by as_of_date, rm_id)""",
                  {"kinds": RULES["crm_tasks"]["capped_kinds"]}) <= cap
    assert scalar(con, """select count(*) from crm_tasks t join state s using (customer_id)
                          where s.birth_date is not null
                            and (strpos(t.reason, s.birth_date::varchar) > 0
                                 or strpos(coalesce(t.occasion, ''), year(s.birth_date)::varchar) > 0)""") == 0


def test_the_scorecard_adds_up_to_the_book_and_the_tasks(con):
    day = NIGHTS[-1]
    book = scalar(con, "select count(*) from state where coalesce(status, 'active') = 'active' and rm_id is not null")
    assert scalar(con, "select sum(customers) from rm_scorecard where as_of_date = $d", {"d": day}) == book
    # Contact tasks are the due contacts less what the cap held back: never more.
    assert scalar(con, """select count(*) from rm_scorecard r
                          left join (select rm_id, count(*) as n from crm_tasks where kind = 'contact_due'
                                     and as_of_date = $d group by rm_id) t using (rm_id)
                          where r.as_of_date = $d and coalesce(t.n, 0) > r.contacts_due""", {"d": day}) == 0
    assert scalar(con, """select count(*) from rm_scorecard where as_of_date = $d and
                          (promoters + detractors > nps_responses or offer_conversions > offers)""", {"d": day}) == 0
    assert scalar(con, "select sum(nps_responses) from rm_scorecard where as_of_date = $d", {"d": day}) > 0


def snapshot(con, table: str) -> list[tuple]:
    return con.sql(f"select * from {table} order by all").fetchall()


def test_a_range_in_one_call_or_split_equals_the_nights_built_in_order(con):
    first = NIGHTS[0] - timedelta(days=2)
    nightly = {t: snapshot(con, t) for t in ("crm_tasks", "rm_scorecard")}
    for ranges in ([DateRange(first, NIGHTS[-1])], [DateRange(first, first), DateRange(first + timedelta(days=1), NIGHTS[-1])],
                   [DateRange(NIGHTS[-1], NIGHTS[-1])]):
        for dates in ranges:
            build_crm_tasks_range(con, dates, RULES)
            build_rm_scorecard_range(con, dates, RULES)
        assert {t: snapshot(con, t) for t in nightly} == nightly
