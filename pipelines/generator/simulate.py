"""One business day of the demo bank at a time: transactions, balances, loan performance,
interactions, feedback and the reference-entity deltas of that day.

Everything is vectorised over customers / accounts / transactions (numpy); the only Python loops
are over days and over a handful of transaction kinds. Money is int64 fen (cents) throughout."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from pipelines.generator.counterparties import Pools
from pipelines.generator.params import (AUM_FAMILIES, C, CREDIT_FAMILIES, F, IS_CREDIT, LOAN_FAMILIES, MCC_TICKET,
                                        MCC_WEIGHT, MOVE_OUT_DAYS, T)
from pipelines.generator.patterns import Plan
from pipelines.generator.population import NEVER, RMs, Book, Population

LOAN_RATE = np.zeros(len(F))    # yearly, by family
LOAN_RATE[[F["consumer_loan"], F["mortgage"], F["business_loan"]]] = [0.06, 0.04, 0.05]
DEPOSIT_RATE = {F["current_account"]: 0.001, F["savings"]: 0.0035}
ACTIVE, DORMANT, CLOSED = 0, 1, 2
DTYPES = dict(acct=np.int64, cents=np.int64, ttype=np.int8, chan=np.int8, cash=bool, xb=bool, mcc=np.int16,
              cp=np.int64, sec=np.int64, capped=bool, mirror=np.int64, mfactor=np.float64, plan=np.int64)
FIELDS = ("acct", "cents", "ttype", "chan", "cash", "xb", "mcc", "cp", "sec", "capped", "mirror", "mfactor", "plan")


def epoch_day(d: date) -> int:
    return (d - date(1970, 1, 1)).days


def to_date(day: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(day))


class Txns:
    """Columns of one day's transactions, appended kind by kind."""

    def __init__(self):
        self.parts = {f: [] for f in FIELDS}

    def add(self, acct, cents, ttype, chan, sec, *, cash=False, xb=False, mcc=-1, cp=0, capped=True,
            mirror=-1, mfactor=0.0, plan=-1):
        acct = np.asarray(acct, dtype=np.int64)
        n = len(acct)
        if n == 0:
            return
        values = dict(acct=acct, cents=cents, ttype=ttype, chan=chan, cash=cash, xb=xb, mcc=mcc, cp=cp, sec=sec,
                      capped=capped, mirror=mirror, mfactor=mfactor, plan=plan)
        for f in FIELDS:
            self.parts[f].append(np.broadcast_to(np.asarray(values[f], dtype=DTYPES[f]), n))

    def columns(self) -> dict[str, np.ndarray]:
        return {f: (np.concatenate(v) if v else np.array([], dtype=DTYPES[f])) for f, v in self.parts.items()}


@dataclass
class Day:
    day: int
    txns: dict                  # columns incl. balance_after (cents) and seq order
    balance_rows: np.ndarray    # account indices whose balance is written
    balances: np.ndarray        # cents, all accounts (end of day)
    loan_rows: np.ndarray       # account indices with a loan_performance row
    dpd: np.ndarray             # per account (valid for loan_rows)
    new_customers: np.ndarray   # customer indices to deliver
    new_accounts: np.ndarray    # account indices to deliver
    new_rms: np.ndarray
    interactions: dict
    feedback: dict
    first: bool


class Simulator:
    def __init__(self, seed: int, pop: Population, rms: RMs, moves: np.ndarray, book: Book, plan: Plan, pools: Pools):
        self.seed, self.pop, self.rms, self.moves, self.book, self.plan, self.pools = seed, pop, rms, moves, book, plan, pools
        n, m = pop.n, len(book)
        rng = np.random.default_rng([seed, 1])
        fam, cust = book.family, book.cust
        self.ca = self._first_of(F["current_account"], currency="CNY")
        self.card = self._first_of(F["credit_card"])
        fund = self._first_of(F["fund"])
        for f in (F["wealth_management"], F["private_banking"]):
            fund = np.where(fund >= 0, fund, self._first_of(f))
        self.fund = fund
        usd = np.flatnonzero(book.currency == "USD")
        self.usd = np.full(n, -1)
        self.usd[cust[usd]] = usd
        self.target_ca = np.where(self.ca >= 0, book.opening_balance[np.maximum(self.ca, 0)], 0).astype(np.float64)
        self.bal = np.zeros(m, dtype=np.int64)
        self.acct_status = np.zeros(m, dtype=np.int8)
        self.cust_closed = np.zeros(n, dtype=bool)
        self.rm = pop.rm.copy()
        self.branch = pop.branch.copy()
        self.loan = np.flatnonzero(np.isin(fam, LOAN_FAMILIES))
        opened = book.open_day[self.loan].astype("datetime64[D]")
        self.loan_dom = np.minimum((opened - opened.astype("datetime64[M]")).astype(np.int64) + 1, 28)
        self.sms = rng.random(n) < 0.4
        months = (pop.end - pop.start) // 28 + 3
        irregular = np.clip(pop.propensity * 3, 0, 0.9)
        self.salary_delay = np.where(rng.random((n, months)) < irregular[:, None], rng.integers(1, 10, (n, months)), 0)
        self.salary_skip = rng.random((n, months)) < (0.01 + 0.4 * pop.propensity)[:, None]
        self.salary_scale = np.round(pop.income / 12 * rng.normal(1, 0.02, n), 0)
        self.d0 = to_date(pop.start)
        # Status changes: planted dormant accounts wake up on their reactivation day; churners'
        # untouched accounts turn dormant 200 days into their exit.
        self.dormant_day = np.full(m, NEVER)
        self.wake_day = np.full(m, NEVER)
        silent = np.flatnonzero(book.silent)
        self.dormant_day[silent] = book.open_day[silent] + 180
        first_plan = np.full(m, NEVER)
        np.minimum.at(first_plan, plan.acct, plan.day)
        self.wake_day[silent] = first_plan[silent]
        churner_acct = (pop.churn_start[cust] < NEVER) & (book.close_day == NEVER)
        self.dormant_day = np.where(churner_acct, pop.churn_start[cust] + 200, self.dormant_day)
        # Opening hints: an RM contact with outcome "interested" some days before many openings.
        opened_in_range = np.flatnonzero((book.open_day > pop.start) & (fam != F["current_account"]) & ~book.silent)
        hint = opened_in_range[rng.random(len(opened_in_range)) < 0.45]
        self.hint_day = book.open_day[hint] - rng.integers(3, 46, len(hint))
        self.hint_cust = cust[hint]
        ok = self.hint_day >= pop.onboard[self.hint_cust]
        self.hint_day, self.hint_cust = self.hint_day[ok], self.hint_cust[ok]
        self.ids = {"interaction": 0, "feedback": 0}

    def _first_of(self, family: int, currency: str | None = None) -> np.ndarray:
        b = self.book
        sel = np.flatnonzero((b.family == family) & ~b.silent & ((b.currency == currency) if currency else True))
        out = np.full(self.pop.n, -1)
        out[b.cust[sel[::-1]]] = sel[::-1]
        return out

    # ------------------------------------------------------------------ one day
    def step(self, day: int) -> Day:
        pop, book = self.pop, self.book
        rng = np.random.default_rng([self.seed, 2, day])
        first = day == pop.start
        d = to_date(day)
        m_index = (d.year - self.d0.year) * 12 + d.month - self.d0.month
        month_end = (d + timedelta(days=1)).month != d.month
        dim = ((d.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)).day

        # Reference deltas (before activity: a new account can transact on its first day).
        acct_open = (book.open_day <= day) & (book.close_day > day - 1)
        if first:
            new_accounts = np.flatnonzero(acct_open)
            self.bal[new_accounts] = book.opening_balance[new_accounts]
            self.acct_status[new_accounts] = np.where(self.dormant_day[new_accounts] <= day, DORMANT, ACTIVE)
            new_customers = np.flatnonzero(pop.onboard <= day)
            new_rms = np.flatnonzero(self.rms.hire <= day)
        else:
            opening = np.flatnonzero(book.open_day == day)
            new_accounts = opening
            new_customers = np.flatnonzero(pop.onboard == day)
            new_rms = np.flatnonzero((self.rms.hire == day) | (self.rms.leave == day))
        moved = self.moves[self.moves[:, 1] == day]
        if len(moved):
            self.rm[moved[:, 0]] = moved[:, 2]
            self.branch[moved[:, 0]] = self.rms.branch[moved[:, 2]]
            new_customers = np.union1d(new_customers, moved[:, 0])
        wake = np.flatnonzero(self.wake_day == day)
        sleep = np.flatnonzero((self.dormant_day == day) & (self.wake_day > day) & acct_open)
        self.acct_status[wake] = ACTIVE
        self.acct_status[sleep] = DORMANT
        closing = np.flatnonzero(book.close_day == day)

        tx = Txns()
        if not first:
            self._openings(rng, tx, new_accounts)
        alive = (pop.onboard <= day) & ~self.cust_closed & (self.ca >= 0)
        alive &= acct_open[np.maximum(self.ca, 0)]
        planned = self.plan.day == day
        quiet = np.zeros(pop.n, dtype=bool)
        quiet[book.cust[self.plan.acct[planned]]] = True
        self._background(rng, tx, day, d, m_index, dim, alive & ~quiet, acct_open)
        cols = self._cap(tx.columns())
        p = np.flatnonzero(planned)
        tx = Txns()
        tx.add(self.plan.acct[p], self.plan.cents[p], self.plan.ttype[p], self.plan.chan[p], self.plan.sec[p],
               cash=self.plan.cash[p], xb=self.plan.xb[p],
               cp=np.where(self.plan.xb[p], self.pools.pick(rng, "foreign", len(p)), self.pools.pick(rng, "person", len(p))),
               capped=False, plan=self.plan.pattern[p])
        cols = {f: np.concatenate([cols[f], v]) for f, v in tx.columns().items()} if len(p) else cols

        start_bal = self.bal.copy()
        self._apply(cols)
        if month_end:
            fund_accts = np.flatnonzero(np.isin(book.family, [F["fund"], F["wealth_management"]]) & acct_open & (self.bal > 0))
            self.bal[fund_accts] = np.rint(self.bal[fund_accts] * (1 + rng.normal(0.002, 0.01, len(fund_accts)))).astype(np.int64)
        # Closures: whatever is left leaves on the closing day; debts are settled.
        if len(closing):
            tx = Txns()
            pos = closing[(self.bal[closing] > 0)]
            tx.add(pos, self.bal[pos], T["transfer_out"], C["counter"], rng.integers(23 * 3600, 23 * 3600 + 3000, len(pos)),
                   cp=self.pools.offset["self"], capped=False)
            extra = tx.columns()
            self._apply(extra)
            cols = {f: np.concatenate([cols[f], extra[f]]) for f in FIELDS}
            self.bal[closing] = 0
            self.acct_status[closing] = CLOSED
        closers = np.flatnonzero(pop.closes == day)
        if len(closers):
            self.cust_closed[closers] = True
            new_customers = np.union1d(new_customers, closers)

        cols = self._balance_after(cols, start_bal)
        changed = np.flatnonzero(self.bal != start_bal)
        if first or month_end:
            balance_rows = np.flatnonzero(acct_open | (book.close_day == day))
        else:
            balance_rows = np.union1d(np.union1d(changed, new_accounts), closing)
        new_accounts = np.union1d(np.union1d(np.union1d(new_accounts, closing), wake), sleep)

        loan_rows, dpd = np.array([], dtype=np.int64), np.zeros(len(book), dtype=np.int64)
        if month_end:
            credit = np.isin(book.family, CREDIT_FAMILIES)
            loan_rows = np.flatnonzero(credit & acct_open & (book.close_day > day))
            c = book.cust[loan_rows]
            late = (pop.onset[c] <= day) & (day < pop.cure[c]) & (book.open_day[loan_rows] < pop.onset[c])
            dpd[loan_rows] = np.where(late, day - pop.onset[c], 0)

        interactions, feedback = self._crm(rng, day, d, alive)
        return Day(day=day, txns=cols, balance_rows=balance_rows, balances=self.bal, loan_rows=loan_rows, dpd=dpd,
                   new_customers=new_customers, new_accounts=new_accounts, new_rms=new_rms,
                   interactions=interactions, feedback=feedback, first=first)

    # ------------------------------------------------------------------ pieces
    def _openings(self, rng, tx: Txns, new: np.ndarray) -> None:
        """A new account's first money: funding for deposits and investments, the loan itself for credit."""
        book, pop = self.book, self.pop
        fam = book.family[new]
        credit = np.isin(fam, CREDIT_FAMILIES)
        self.bal[new[fam == F["credit_card"]]] = 0
        loans = new[np.isin(fam, LOAN_FAMILIES)]
        self.bal[loans] = -book.principal[loans]
        funded = new[~credit & (book.opening_balance[new] > 0) & ~book.silent[new]]
        usd = book.currency[funded] == "USD"
        tx.add(funded, book.opening_balance[funded], T["transfer_in"], np.where(usd, C["online"], C["counter"]),
               rng.integers(9 * 3600, 16 * 3600, len(funded)), xb=usd,
               cp=np.where(usd, self.pools.pick(rng, "foreign", len(funded)), self.pools.offset["self"]), capped=False)
        paid_out = loans[book.family[loans] != F["mortgage"]]      # a mortgage is paid to the seller
        ca = self.ca[book.cust[paid_out]]
        ok = ca >= 0
        tx.add(ca[ok], book.principal[paid_out[ok]], T["loan_disbursement"], C["online"],
               rng.integers(9 * 3600, 17 * 3600, ok.sum()), capped=False)

    def _background(self, rng, tx: Txns, day: int, d: date, m_index: int, dim: int, alive: np.ndarray,
                    acct_open: np.ndarray) -> None:
        pop, book, pools = self.pop, self.book, self.pools
        n = pop.n
        years = (day - pop.start) / 365
        since_churn = day - pop.churn_start
        moving = (since_churn >= 0) & (since_churn < MOVE_OUT_DAYS)
        gone = since_churn >= MOVE_OUT_DAYS
        act = pop.engagement * np.exp(pop.trend * years) * np.where(gone, 0.03, 1.0) * alive
        late = (pop.onset <= day) & (day < pop.cure)
        stress = np.where((pop.onset < NEVER) & (day < pop.cure), np.clip(1 - (pop.onset - day) / 180, 0, 1), 0.0)
        monthly = pop.income / 12
        ca = np.maximum(self.ca, 0)
        ca_bal = np.maximum(self.bal[ca], 0).astype(np.float64)
        target = self.target_ca * (1 - 0.8 * stress) * np.where(since_churn >= 0, 0.1, 1.0)
        spend = np.clip((ca_bal / np.maximum(target, 100_00)) ** 0.7, 0.3, 3.0)
        ind = ~pop.business
        a = pop.appetite
        secs = lambda k, lo, hi: rng.integers(lo * 3600, hi * 3600, k)  # noqa: E731

        def events(rate):
            return np.repeat(np.arange(n), rng.poisson(np.maximum(rate, 0)))

        def cents(x):
            return np.maximum(np.rint(x * 100), 1).astype(np.int64)

        # Card spending: debit card on the current account and the credit card, by MCC.
        mcc_p = MCC_WEIGHT / MCC_WEIGHT.sum()
        c = events(0.4 * act * ind * (0.3 + 1.4 * a[:, F["credit_card"]]))
        mcc = rng.choice(len(MCC_TICKET), len(c), p=mcc_p)
        tx.add(ca[c], cents(monthly[c] * 0.025 * MCC_TICKET[mcc] * rng.lognormal(-0.2, 0.6, len(c)) * spend[c]),
               T["card_purchase"], C["pos"], secs(len(c), 8, 22), mcc=mcc, cp=pools.merchant(rng, mcc))
        card = self.card
        has_card = (card >= 0) & acct_open[np.maximum(card, 0)] & ~late
        c = events(0.4 * act * has_card * (0.6 + 0.8 * a[:, F["credit_card"]]) * (1 + stress))
        mcc = rng.choice(len(MCC_TICKET), len(c), p=mcc_p)
        tx.add(card[c], cents(monthly[c] * 0.025 * MCC_TICKET[mcc] * rng.lognormal(-0.2, 0.6, len(c))
                              * (1 + 2 * pop.propensity[c] + stress[c])),
               T["card_purchase"], np.where(rng.random(len(c)) < 0.3, C["online"], C["pos"]), secs(len(c), 8, 23),
               mcc=mcc, cp=pools.merchant(rng, mcc))

        # Bills, cash, transfers.
        c = events(0.08 * act * ind)
        tx.add(ca[c], cents(monthly[c] * 0.04 * rng.lognormal(0, 0.5, len(c))), T["bill_payment"],
               np.where(rng.random(len(c)) < 0.7, C["mobile"], C["online"]), secs(len(c), 7, 23),
               cp=pools.pick(rng, "utility", len(c)))
        c = events(0.045 * act * (1 + 5 * pop.propensity + 4 * stress) * ind)
        tx.add(ca[c], rng.integers(1, 31, len(c)) * 10_000, T["withdrawal"], C["atm"], secs(len(c), 7, 23), cash=True)
        c = events(0.008 * act * ind + 0.03 * act * pop.business)
        tx.add(ca[c], rng.integers(5, 201, len(c)) * 10_000, T["deposit"], C["counter"], secs(len(c), 9, 17), cash=True)
        c = events(0.13 * act * ind)
        tx.add(ca[c], cents(monthly[c] * 0.08 * np.clip(rng.lognormal(0, 0.4, len(c)), 0.5, 2.2) * spend[c]),
               T["transfer_out"], np.where(rng.random(len(c)) < 0.8, C["mobile"], C["online"]), secs(len(c), 7, 23),
               cp=pools.pick(rng, "person", len(c)))
        c = events(0.07 * act * ind)
        tx.add(ca[c], cents(monthly[c] * 0.07 * np.clip(rng.lognormal(0, 0.4, len(c)), 0.5, 2.2)), T["transfer_in"],
               C["mobile"], secs(len(c), 7, 23), cp=pools.pick(rng, "person", len(c)))
        # Investors move money to their brokers; future fund and wealth buyers look like this.
        invest = np.maximum(a[:, F["fund"]], a[:, F["wealth_management"]])
        c = events(0.08 * act * ind * invest ** 2)
        tx.add(ca[c], cents(monthly[c] * 0.15 * np.clip(rng.lognormal(0, 0.4, len(c)), 0.5, 2.0)), T["transfer_out"],
               C["mobile"], secs(len(c), 9, 15), cp=pools.pick(rng, "securities", len(c)))

        # Monthly items: salary, premiums / rent (hints of insurance and mortgage appetite), fees.
        salary_dom = np.minimum(pop.salary_day + self.salary_delay[:, m_index], dim)
        c = np.flatnonzero((pop.salary_day > 0) & (salary_dom == d.day) & alive & ~self.salary_skip[:, m_index]
                           & (since_churn < 20) & (rng.random(n) >= 0.5 * stress))
        tx.add(ca[c], cents(self.salary_scale[c]), T["salary"], C["other"], secs(len(c), 9, 12),
               cp=pools.pick(rng, "company", len(c)))
        if d.day == 8:
            c = np.flatnonzero(alive & ind & (a[:, F["insurance"]] > 0.55))
            tx.add(ca[c], cents(monthly[c] * 0.05), T["bill_payment"], C["mobile"], secs(len(c), 8, 20),
                   cp=pools.pick(rng, "insurer", len(c)))
        if d.day == 3:
            c = np.flatnonzero(alive & ind & (a[:, F["mortgage"]] > 0.5))
            tx.add(ca[c], cents(monthly[c] * 0.25), T["bill_payment"], C["mobile"], secs(len(c), 8, 20),
                   cp=pools.pick(rng, "landlord", len(c)))
        if d.day == 20:    # savers move part of their pay to deposits elsewhere: future time-deposit buyers
            c = np.flatnonzero(alive & ind & (a[:, F["time_deposit"]] > 0.5))
            tx.add(ca[c], cents(monthly[c] * 0.2 * rng.lognormal(0, 0.3, len(c))), T["transfer_out"], C["mobile"],
                   secs(len(c), 8, 22), cp=pools.offset["self"])
        if d.day == 12:    # repayments to consumer-credit platforms: borrowers who may come to the bank next
            c = np.flatnonzero(alive & ind & (a[:, F["consumer_loan"]] > 0.45))
            tx.add(ca[c], cents(monthly[c] * 0.1 * rng.lognormal(0, 0.4, len(c))), T["bill_payment"], C["mobile"],
                   secs(len(c), 8, 22), cp=pools.pick(rng, "credit_platform", len(c)))
        if d.day == 1:
            c = np.flatnonzero(alive & (self.sms | pop.business) & (self.bal[ca] >= 20_000))
            tx.add(ca[c], np.where(pop.business[c], 10_000, 200), T["fee"], C["other"], secs(len(c), 1, 3))

        # Business accounts: receipts, supplier payments, payroll, taxes.
        biz = pop.business
        c = events(0.5 * act * biz)
        tx.add(ca[c], cents(np.minimum(monthly[c] / 10 * rng.lognormal(-0.25, 0.7, len(c)), 1_200_000)), T["transfer_in"],
               C["online"], secs(len(c), 8, 20), cp=pools.pick(rng, "company", len(c)))
        c = events(0.35 * act * biz)
        tx.add(ca[c], cents(np.minimum(monthly[c] / 8 * rng.lognormal(-0.25, 0.7, len(c)) * spend[c], 1_200_000)),
               T["transfer_out"], C["online"], secs(len(c), 8, 20), cp=pools.pick(rng, "company", len(c)))
        if d.day == 10:
            c = np.flatnonzero(alive & biz)
            tx.add(ca[c], cents(monthly[c] * 0.12), T["transfer_out"], C["online"], secs(len(c), 9, 11),
                   cp=pools.offset["payroll"])
        if d.day == 15:
            c = np.flatnonzero(alive & biz)
            tx.add(ca[c], cents(monthly[c] * 0.04), T["bill_payment"], C["online"], secs(len(c), 9, 16),
                   cp=pools.offset["tax"])

        # Card repayment from the current account (the card's balance moves without a row).
        c = np.flatnonzero((pop.card_due_day == d.day) & has_card & alive & (self.bal[np.maximum(card, 0)] < 0))
        owed = -self.bal[card[c]]
        full = rng.random(len(c)) < (0.85 - 2.5 * pop.propensity[c] - 0.6 * stress[c]).clip(0.05)
        pay = np.where(full, owed, np.maximum(owed * rng.uniform(0.1, 0.6, len(c)), 1)).astype(np.int64)
        tx.add(ca[c], pay, T["loan_repayment"], C["mobile"], secs(len(c), 8, 22), mirror=card[c], mfactor=1.0)
        # Loan instalments on the loan's day of month, unless the borrower is late.
        ln = self.loan[(self.loan_dom == d.day) & acct_open[self.loan] & (self.bal[self.loan] < 0)
                       & (book.open_day[self.loan] < day - 20)]
        owner = book.cust[ln]
        ln, owner = ln[alive[owner] & ~late[owner]], owner[alive[owner] & ~late[owner]]
        rate = LOAN_RATE[book.family[ln]] / 12
        term = np.maximum(book.term_months[ln], 1)
        instalment = book.principal[ln] * rate / (1 - (1 + rate) ** -term)
        outstanding = -self.bal[ln]
        principal_part = np.clip((instalment - outstanding * rate) / np.maximum(instalment, 1), 0, 1)
        tx.add(ca[owner], np.maximum(np.rint(np.minimum(instalment, outstanding / np.maximum(principal_part, 1e-6))), 1),
               T["loan_repayment"], C["other"], secs(len(owner), 6, 9), mirror=ln, mfactor=principal_part)

        # Funds: purchases from and redemptions to the current account.
        fund = self.fund
        holds = (fund >= 0) & acct_open[np.maximum(fund, 0)] & alive
        c = events(0.012 * act * holds * (0.5 + a[:, F["fund"]]))
        buy = rng.random(len(c)) < 0.5
        cb, cs = c[buy], c[~buy]
        tx.add(ca[cb], np.maximum(self.bal[ca[cb]] // 10, 100), T["fund_purchase"], C["mobile"], secs(len(cb), 9, 15),
               mirror=fund[cb], mfactor=1.0)
        tx.add(ca[cs], np.maximum(self.bal[fund[cs]] // 12, 100), T["fund_redemption"], C["mobile"], secs(len(cs), 9, 15),
               mirror=fund[cs], mfactor=-1.0, capped=False)

        # Foreign-currency savings: occasional cross-border receipts and payments.
        usd = self.usd
        has_usd = (usd >= 0) & acct_open[np.maximum(usd, 0)] & alive
        c = events(0.012 * has_usd * act)
        tx.add(usd[c], rng.integers(1_000, 15_000, len(c)) * 100, T["transfer_in"], C["online"], secs(len(c), 9, 17),
               xb=True, cp=pools.pick(rng, "foreign", len(c)))
        c = events(0.006 * has_usd * act)
        tx.add(usd[c], rng.integers(500, 8_000, len(c)) * 100, T["transfer_out"], C["online"], secs(len(c), 9, 17),
               xb=True, cp=pools.pick(rng, "foreign", len(c)))

        # Quarterly interest on demand deposits (the 21st of the last month of a quarter).
        if d.day == 21 and d.month % 3 == 0:
            acc = np.flatnonzero(np.isin(book.family, list(DEPOSIT_RATE)) & acct_open & ~book.silent & (self.bal > 0)
                                 & alive[book.cust])
            r = np.where(book.family[acc] == F["savings"], DEPOSIT_RATE[F["savings"]], DEPOSIT_RATE[F["current_account"]])
            amount = np.rint(self.bal[acc] * r / 4).astype(np.int64)
            acc, amount = acc[amount >= 1], amount[amount >= 1]
            tx.add(acc, amount, T["interest"], C["other"], secs(len(acc), 0, 1), capped=False)

        # Churners move their money out: deposits leave, investments are redeemed first.
        c = np.flatnonzero(moving & alive & (rng.random(n) < 0.12))
        if len(c):
            mine = np.flatnonzero(np.isin(book.cust, c) & acct_open & ~book.silent & (self.bal > 0)
                                  & np.isin(book.family, AUM_FAMILIES))
            invest = np.isin(book.family[mine], [F["wealth_management"], F["fund"], F["private_banking"], F["insurance"]])
            dep, inv = mine[~invest], mine[invest]
            tx.add(dep, np.maximum(self.bal[dep] * rng.uniform(0.35, 0.55, len(dep)), 1).astype(np.int64), T["transfer_out"],
                   C["mobile"], secs(len(dep), 8, 20), cp=pools.offset["self"])
            tx.add(self.ca[book.cust[inv]], np.maximum(self.bal[inv] * rng.uniform(0.4, 0.6, len(inv)), 1).astype(np.int64),
                   T["fund_redemption"], C["mobile"], secs(len(inv), 9, 15), mirror=inv, mfactor=-1.0, capped=False)

    def _cap(self, cols: dict) -> dict:
        """Debits never overdraw: each account's capped debits are scaled to what it holds
        (a card to its unused limit); rows that shrink below 1 yuan are dropped."""
        acct, cents = cols["acct"], cols["cents"]
        debit = ~IS_CREDIT[cols["ttype"]] & cols["capped"]
        m = len(self.book)
        want = np.bincount(acct[debit], weights=cents[debit], minlength=m)
        card = self.book.family == F["credit_card"]
        room = np.where(card, self.book.credit_limit + self.bal, self.bal).clip(0).astype(np.float64)
        factor = np.where(want > room, room / np.maximum(want, 1), 1.0)
        scaled = np.where(debit, np.floor(cents * factor[acct]), cents).astype(np.int64)
        keep = (scaled >= 100) | ~debit
        cols = {f: v[keep] for f, v in cols.items()}
        cols["cents"] = scaled[keep]
        return cols

    def _apply(self, cols: dict) -> None:
        m = len(self.book)
        signed = np.where(IS_CREDIT[cols["ttype"]], cols["cents"], -cols["cents"])
        self.bal += np.bincount(cols["acct"], weights=signed, minlength=m).astype(np.int64)
        mir = cols["mirror"] >= 0
        if mir.any():
            self.bal += np.rint(np.bincount(cols["mirror"][mir], weights=cols["cents"][mir] * cols["mfactor"][mir],
                                            minlength=m)).astype(np.int64)

    def _balance_after(self, cols: dict, start_bal: np.ndarray) -> dict:
        """Sort the day by account and time; balance_after from the start-of-day balance. The
        hidden leg of a transfer between own accounts is not in this running sum."""
        order = np.lexsort((cols["sec"], cols["acct"]))
        cols = {f: v[order] for f, v in cols.items()}
        signed = np.where(IS_CREDIT[cols["ttype"]], cols["cents"], -cols["cents"])
        run = np.cumsum(signed)
        acct = cols["acct"]
        first = np.r_[True, acct[1:] != acct[:-1]] if len(acct) else np.array([], dtype=bool)
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(acct)), 0))
        cols["balance_after"] = start_bal[acct] + run - (run - signed)[group_start]
        # Then by time across accounts, as a core system would extract the day.
        order = np.lexsort((cols["acct"], cols["sec"]))
        return {f: v[order] for f, v in cols.items()}

    # ------------------------------------------------------------------ CRM
    def _crm(self, rng, day: int, d: date, alive: np.ndarray) -> tuple[dict, dict]:
        pop = self.pop
        n = pop.n
        wealth = pop.wealth
        has_rm = (self.rm >= 0) & alive
        cadence = np.select([wealth >= 6e6, wealth >= 5e5, wealth >= 5e4], [25.0, 45.0, 80.0], 160.0)
        since_churn = day - pop.churn_start
        leaving = (since_churn >= -60) & (since_churn < 60)
        c_contact = np.repeat(np.arange(n), rng.poisson(has_rm / cadence * (0.6 + 0.4 * pop.engagement)))
        c_hint = self.hint_cust[(self.hint_day == day) & alive[self.hint_cust]]
        c_service = np.repeat(np.arange(n), rng.poisson(0.003 * pop.engagement * alive))
        seminar = d.weekday() == 5 and 8 <= d.day <= 14
        invest = np.maximum(pop.appetite[:, F["fund"]], pop.appetite[:, F["wealth_management"]])
        c_event = np.flatnonzero(has_rm & (wealth > 1e5) & (rng.random(n) < 0.03 + 0.25 * invest ** 2)) if seminar \
            else np.array([], dtype=np.int64)
        outcomes = np.array(["reached", "no_answer", "callback_requested", "declined"])
        contact_outcome = outcomes[rng.choice(4, len(c_contact), p=[0.55, 0.25, 0.1, 0.1])]
        contact_outcome = np.where(leaving[c_contact] & (rng.random(len(c_contact)) < 0.5), "declined", contact_outcome)
        channels = np.array(["phone", "wechat", "visit"])
        ch = channels[rng.choice(3, len(c_contact), p=[0.45, 0.35, 0.2])]
        who = np.concatenate([c_contact, c_hint, c_service, c_event])
        k = len(who)
        inter = {
            "cust": who,
            "rm": np.concatenate([self.rm[c_contact], self.rm[c_hint], self.rm[c_service], self.rm[c_event]]),
            "sec": np.concatenate([rng.integers(9 * 3600, 19 * 3600, len(c_contact) + len(c_hint) + len(c_service)),
                                   np.full(len(c_event), 14 * 3600 + 1800)]),
            "channel": np.concatenate([ch, np.where(rng.random(len(c_hint)) < 0.5, "phone", "visit"),
                                       np.full(len(c_service), "branch"), np.full(len(c_event), "event")]),
            "kind": np.concatenate([np.full(len(c_contact) + len(c_hint), "contact"), np.full(len(c_service), "service"),
                                    np.full(len(c_event), "event")]),
            "event_name": np.concatenate([np.full(len(c_contact) + len(c_hint) + len(c_service), ""),
                                          np.full(len(c_event), f"财富管理讲座 {d:%Y-%m}")]),
            "outcome": np.concatenate([contact_outcome, np.full(len(c_hint), "interested"),
                                       np.full(len(c_service), "completed"), np.full(len(c_event), "attended")]),
        }
        inter["rm"] = np.where(inter["rm"] >= 0, inter["rm"], -1)
        inter["id"] = self.ids["interaction"] + np.arange(k)
        self.ids["interaction"] += k

        # Feedback: NPS surveys, CSAT after a service visit, complaints (more before a churn).
        prop = pop.propensity
        c_nps = np.flatnonzero(alive & (rng.random(n) < 0.0025))
        nps = np.clip(np.rint(8.3 + rng.normal(0, 1.6, len(c_nps)) - 3.0 * leaving[c_nps] - 6 * prop[c_nps]), 0, 10)
        c_csat = c_service[rng.random(len(c_service)) < 0.4]
        csat = np.clip(np.rint(4.2 + rng.normal(0, 0.8, len(c_csat)) - 1.5 * leaving[c_csat]), 1, 5)
        c_comp = np.flatnonzero(alive & (rng.random(n) < 0.0003 + 0.006 * leaving))
        categories = np.array(["service_attitude", "fees", "waiting_time", "mobile_app", "card_dispute", "product_mis-selling"])
        texts = np.array(["柜台排队时间太长", "手续费收取不合理", "手机银行经常闪退", "信用卡账单有误", "理财产品收益与介绍不符", "客户经理态度不好"])
        cat = rng.integers(0, len(categories), len(c_comp))
        resolved = rng.random(len(c_comp)) < 0.65
        sec_all = rng.integers(9 * 3600, 20 * 3600, len(c_nps) + len(c_csat) + len(c_comp))
        comp_sec = sec_all[len(c_nps) + len(c_csat):]
        fb = {
            "cust": np.concatenate([c_nps, c_csat, c_comp]),
            "sec": sec_all,
            "kind": np.concatenate([np.full(len(c_nps), "nps"), np.full(len(c_csat), "csat"), np.full(len(c_comp), "complaint")]),
            "score": np.concatenate([nps, csat, np.full(len(c_comp), np.nan)]),
            "category": np.concatenate([np.full(len(c_nps), "relationship"), np.full(len(c_csat), "branch_service"),
                                        categories[cat]]),
            "status": np.concatenate([np.full(len(c_nps) + len(c_csat), ""), np.where(resolved, "resolved", "open")]),
            # A complaint resolved on the day of its delivery; open ones stay open (events are immutable).
            "resolved_sec": np.concatenate([np.full(len(c_nps) + len(c_csat), -1),
                                            np.where(resolved, np.minimum(comp_sec + rng.integers(600, 3 * 3600, len(c_comp)),
                                                                          86_399), -1)]),
            "text": np.concatenate([np.full(len(c_nps) + len(c_csat), ""), texts[cat]]),
        }
        fb["id"] = self.ids["feedback"] + np.arange(len(fb["cust"]))
        self.ids["feedback"] += len(fb["cust"])
        return inter, fb
