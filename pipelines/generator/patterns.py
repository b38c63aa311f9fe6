"""Planted suspicious patterns: a few % of customers, each with its transactions planned up front.

A planned transaction carries the index of its pattern; the simulation gives it a txn_id and the
truth records the ids. Every amount sits exactly where the rules of shared/spec/rules.md look."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipelines.generator.params import C, CASH_THRESHOLD, F, PATTERN_SHARE, T, TRANSFER_THRESHOLDS
from pipelines.generator.population import NEVER, Book, Population

PATTERNS = ["structuring", "rapid_in_out", "dormant_reactivation", "frequent_cash", "large_cash_threshold",
            "large_transfer_threshold", "large_transfer_vs_history"]


@dataclass
class Plan:
    day: np.ndarray
    acct: np.ndarray
    cents: np.ndarray
    ttype: np.ndarray
    chan: np.ndarray
    cash: np.ndarray
    xb: np.ndarray
    sec: np.ndarray
    pattern: np.ndarray       # row of the pattern table (-1: supporting flow, not evidence)
    # pattern table
    p_name: np.ndarray
    p_cust: np.ndarray
    p_variant: np.ndarray


class _Builder:
    def __init__(self, last: int):
        self.last = last
        self.rows: list[tuple] = []
        self.table: list[tuple] = []

    def pattern(self, name, cust, variant):
        start = len(self.table)
        self.table += list(zip([name] * len(cust), cust, variant))
        return np.arange(start, start + len(cust))

    def txn(self, day, acct, cents, ttype, chan, pattern, sec, cash=False, xb=False):
        day = np.minimum(day, self.last)    # a short range squeezes a pattern's tail into its last day
        n = len(day)
        b = lambda v, dt: np.broadcast_to(np.asarray(v, dtype=dt), n)  # noqa: E731
        self.rows.append((b(day, np.int64), b(acct, np.int64), b(cents, np.int64), b(ttype, np.int64),
                          b(chan, np.int64), b(cash, bool), b(xb, bool), b(sec, np.int64), b(pattern, np.int64)))

    def plan(self) -> Plan:
        cols = [np.concatenate([r[i] for r in self.rows]) if self.rows else np.array([], dtype=np.int64)
                for i in range(9)]
        name, cust, variant = (np.array(x) for x in zip(*self.table)) if self.table else (np.array([]),) * 3
        return Plan(*cols, p_name=name, p_cust=cust.astype(np.int64), p_variant=variant)


def plant(rng: np.random.Generator, pop: Population, book: Book) -> tuple[Book, Plan]:
    """Choose pattern customers (never churners) and plan their transactions; adds the silent
    accounts that dormant_reactivation needs to the book."""
    span = pop.end - pop.start
    k = max(1, int(round(PATTERN_SHARE * pop.n / len(PATTERNS))))
    ca = np.full(pop.n, -1)
    is_ca = book.family == F["current_account"]
    ca[book.cust[is_ca]] = np.flatnonzero(is_ca)
    ca_balance = np.zeros(pop.n)
    ca_balance[book.cust[is_ca]] = book.opening_balance[is_ca] / 100
    steady = (pop.onboard < pop.start) & ~pop.churns & (ca >= 0)
    individuals = rng.permutation(np.flatnonzero(steady & ~pop.business))
    businesses = rng.permutation(np.flatnonzero(steady & pop.business))
    used = np.zeros(pop.n, dtype=bool)

    def take(pool, count, extra=None):
        ok = pool[~used[pool]]
        if extra is not None:
            ok = ok[extra[ok]]
        chosen = ok[:count]
        used[chosen] = True
        return chosen

    def days(count, lo=0, margin=2):
        low = min(lo, max(span - margin, 0))
        return pop.start + rng.integers(low, max(span - margin, low + 1), count)

    b = _Builder(pop.end)
    secs = lambda n, lo=9, hi=17: rng.integers(lo * 3600, hi * 3600, n)  # noqa: E731

    # structuring: 3-5 cash deposits at 90-100 % of 50,000 on distinct days within 7 days.
    cust = take(individuals, k)
    pid = b.pattern("structuring", cust, [""] * len(cust))
    n_dep = rng.integers(3, 6, len(cust))
    d0 = days(len(cust), margin=7)
    offsets = np.sort(np.argsort(rng.random((len(cust), 7)), axis=1)[:, :5], axis=1)
    for j in range(5):
        sel = n_dep > j
        amount = rng.integers(int(CASH_THRESHOLD * 0.9 * 100), int(CASH_THRESHOLD * 100), sel.sum())
        b.txn(np.minimum(d0[sel] + offsets[sel, j], pop.end), ca[cust[sel]], amount, T["deposit"], C["counter"],
              pid[sel], secs(sel.sum()), cash=True)

    # rapid_in_out: a large credit, 85-98 % of it out again within 48 hours.
    cust = take(individuals, k)
    pid = b.pattern("rapid_in_out", cust, [""] * len(cust))
    d0 = days(len(cust))
    x = rng.integers(150_000, 450_000, len(cust)) * 100
    b.txn(d0, ca[cust], x, T["transfer_in"], C["online"], pid, secs(len(cust), 8, 11))
    share = rng.uniform(0.85, 0.98, len(cust))
    first = np.rint(x * share * 0.6).astype(np.int64)
    b.txn(d0, ca[cust], first, T["transfer_out"], C["mobile"], pid, secs(len(cust), 14, 18))
    b.txn(d0 + 1, ca[cust], np.rint(x * share).astype(np.int64) - first, T["transfer_out"], C["mobile"], pid,
          secs(len(cust), 9, 12))

    # dormant_reactivation: a savings account quiet for 200-600 days, then a large flow.
    cust = take(individuals, k, extra=pop.onboard < pop.start - 600)
    pid = b.pattern("dormant_reactivation", cust, [""] * len(cust))
    d0 = days(len(cust), lo=min(190, span // 2))
    opened = d0 - rng.integers(200, 600, len(cust))
    start_len = len(book)
    book = _append_silent(book, cust, opened, rng.integers(500, 5_000, len(cust)) * 100)
    silent = np.arange(start_len, len(book))
    x = rng.integers(100_000, 600_000, len(cust)) * 100
    b.txn(d0, silent, x, T["transfer_in"], C["counter"], pid, secs(len(cust)))
    b.txn(np.minimum(d0 + 1, pop.end), silent, np.rint(x * rng.uniform(0.5, 0.9, len(cust))).astype(np.int64),
          T["transfer_out"], C["online"], pid, secs(len(cust)))

    # frequent_cash: 5-8 ATM withdrawals within one day, from customers who can afford them.
    cust = take(individuals, k, extra=ca_balance > 60_000)
    pid = b.pattern("frequent_cash", cust, [""] * len(cust))
    d0 = days(len(cust))
    n_wd = rng.integers(5, 9, len(cust))
    for j in range(8):
        sel = n_wd > j
        b.txn(d0[sel], ca[cust[sel]], rng.integers(20, 51, sel.sum()) * 10_000, T["withdrawal"], C["atm"], pid[sel],
              secs(sel.sum(), 9, 22), cash=True)

    # large_cash_threshold: one deposit at exactly 50,000.00, another at 49,999.99.
    for variant, cents in (("at_threshold", int(CASH_THRESHOLD * 100)), ("below_threshold", int(CASH_THRESHOLD * 100) - 1)):
        cust = take(individuals, k)
        pid = b.pattern("large_cash_threshold", cust, [variant] * len(cust))
        b.txn(days(len(cust)), ca[cust], cents, T["deposit"], C["counter"], pid, secs(len(cust)), cash=True)

    # large_transfer_threshold: credits at and just below each transfer standard.
    for kind, threshold in TRANSFER_THRESHOLDS.items():
        for variant, delta in (("at_threshold", 0), ("below_threshold", -1)):
            pool = businesses if kind == "business" else individuals
            cust = take(pool, k)
            pid = b.pattern("large_transfer_threshold", cust, [f"{kind}_{variant}"] * len(cust))
            b.txn(days(len(cust)), ca[cust], int(threshold * 100) + delta, T["transfer_in"], C["online"], pid,
                  secs(len(cust)), xb=kind.endswith("cross_border"))

    # large_transfer_vs_history: one transfer out of several months' income, far above any
    # background transfer (those stay below 0.6 months' income), from customers who hold it.
    monthly = pop.income / 12
    amount = np.rint(monthly * 4.0 * 100).astype(np.int64)
    cust = take(individuals, k, extra=(ca_balance * 100 > 2 * amount) & (pop.salary_day > 0))
    pid = b.pattern("large_transfer_vs_history", cust, [""] * len(cust))
    b.txn(days(len(cust), lo=min(95, span // 2)), ca[cust], amount[cust], T["transfer_out"], C["online"], pid,
          secs(len(cust)))
    return book, b.plan()


def _append_silent(book: Book, cust, opened, cents) -> Book:
    n = len(cust)
    fields = dict(cust=cust, family=np.full(n, F["savings"]), product=np.full(n, "SV001"), currency=np.full(n, "CNY"),
                  open_day=opened, close_day=np.full(n, NEVER), credit_limit=np.zeros(n, dtype=np.int64),
                  principal=np.zeros(n, dtype=np.int64), term_months=np.zeros(n, dtype=np.int64),
                  opening_balance=cents, silent=np.ones(n, dtype=bool))
    return Book(**{k: np.concatenate([getattr(book, k), v]).astype(getattr(book, k).dtype) for k, v in fields.items()})
