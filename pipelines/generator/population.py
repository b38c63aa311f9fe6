"""The demo bank's customers, relationship managers and account book, drawn once up front.

Latent traits (wealth, engagement and its trend, default propensity, churn, appetite per product
family) are drawn first; everything observable is derived from them so that the pipeline's
scores can be measured against the truth. Days are integers (days since 1970-01-01)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from pipelines.generator import identity as idn
from pipelines.generator.params import (BUSINESS_SHARE, CHURN_SHARE, EXISTING_BOOK_SHARE, F, FAMILIES,
                                        LOAN_FAMILIES, OPEN_HAZARD, PRODUCTS, WEALTH_SHARE)

NEVER = np.iinfo(np.int64).max // 4
RISK_LEVEL = {"CA001": 1, "SV001": 1, "TD003": 1, "TD012": 1, "CC001": 2, "CC002": 2, "CL001": 3, "MG001": 2,
              "BL001": 3, "WM001": 2, "WM002": 3, "FD001": 1, "FD002": 3, "FD003": 4, "IN001": 1, "IN002": 4,
              "PB001": 4}


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


@dataclass
class Population:
    n: int
    start: int
    end: int
    cid: np.ndarray
    business: np.ndarray
    onboard: np.ndarray
    wealth: np.ndarray
    income: np.ndarray
    engagement: np.ndarray
    trend: np.ndarray
    propensity: np.ndarray
    churns: np.ndarray
    churn_start: np.ndarray        # day or NEVER
    closes: np.ndarray             # day the churner closes everything, or NEVER
    appetite: np.ndarray           # (n, families)
    tolerance: np.ndarray          # 1..5
    profile: dict                  # observable static columns for the customers file
    rm: np.ndarray                 # rm index or -1 (initial)
    branch: np.ndarray
    salary_day: np.ndarray         # day of month (1..28) or 0 for no salary
    card_due_day: np.ndarray
    onset: np.ndarray = field(default=None)   # first missed payment day or NEVER
    cure: np.ndarray = field(default=None)    # day delinquency is cured or NEVER


def draw_customers(rng: np.random.Generator, n: int, start: int, end: int) -> Population:
    business = rng.random(n) < BUSINESS_SHARE
    existing = rng.random(n) < EXISTING_BOOK_SHARE
    tenure = np.minimum(rng.exponential(5 * 365, n), 25 * 365).astype(np.int64) + 1
    onboard = np.where(existing, start - tenure, start + 1 + rng.integers(0, max(end - start, 1), n))
    onboard = np.minimum(onboard, end)
    z_wealth = rng.normal(0, 1, n)
    wealth = np.exp(10.4 + 1.75 * z_wealth) * np.where(business, 6.0, 1.0)
    income = np.where(business, wealth * rng.uniform(2, 6, n),
                      60_000 * (wealth / 40_000) ** 0.35 * rng.lognormal(0, 0.25, n))
    engagement = rng.lognormal(0, 0.45, n)
    trend = rng.normal(0, 0.35, n)
    propensity = np.clip(rng.beta(1.1, 12, n) * (1.5 - _sigmoid(z_wealth)), 0.001, 0.95)

    churn_lo, churn_hi = start + 20, max(end - 20, start + 21)
    churns = (rng.random(n) < CHURN_SHARE) & (onboard < churn_lo - 90)
    churn_start = np.where(churns, rng.integers(churn_lo, churn_hi, n), NEVER)
    closes = np.where(churns & (rng.random(n) < 0.35), churn_start + rng.integers(110, 220, n), NEVER)
    closes = np.where(closes <= end, closes, NEVER)

    # Appetite: a shared "investor" factor (with wealth) for wealth/fund/private banking, a
    # "borrower" factor for credit, and an idiosyncratic part per family.
    investor = rng.normal(0, 1, n) + 0.6 * z_wealth
    borrower = rng.normal(0, 1, n) - 0.3 * z_wealth
    noise = rng.normal(0, 0.8, (n, len(FAMILIES)))
    a = np.zeros((n, len(FAMILIES)))
    a[:, F["current_account"]] = 1.0
    a[:, F["savings"]] = _sigmoid(0.2 + 0.3 * investor + noise[:, 1])
    a[:, F["time_deposit"]] = _sigmoid(-0.5 + 0.3 * z_wealth + noise[:, 2])
    a[:, F["credit_card"]] = _sigmoid(0.0 + 0.6 * borrower + noise[:, 3])
    a[:, F["consumer_loan"]] = _sigmoid(-1.0 + 0.9 * borrower + noise[:, 4]) * ~business
    a[:, F["mortgage"]] = _sigmoid(-1.0 + 0.5 * borrower + noise[:, 5]) * ~business
    a[:, F["business_loan"]] = _sigmoid(0.0 + 0.8 * borrower + noise[:, 6]) * business
    a[:, F["wealth_management"]] = _sigmoid(-0.8 + 0.9 * investor + noise[:, 7])
    a[:, F["fund"]] = _sigmoid(-0.6 + 1.0 * investor + noise[:, 8]) * ~business
    a[:, F["insurance"]] = _sigmoid(-0.8 + 0.4 * investor + noise[:, 9]) * ~business
    a[:, F["private_banking"]] = _sigmoid(-1.0 + noise[:, 10]) * (wealth > 3_000_000) * ~business
    tolerance = np.clip(np.rint(2.6 + 0.9 * investor + rng.normal(0, 0.6, n)), 1, 5).astype(np.int64)

    region_idx = rng.choice(len(idn.REGIONS), n, p=idn.CITY_WEIGHTS / idn.CITY_WEIGHTS.sum())
    region = np.array([r for r, _ in idn.REGIONS])[region_idx]
    city = np.array([c for _, c in idn.REGIONS])[region_idx]
    male = rng.random(n) < 0.51
    age_days = (rng.uniform(20, 72, n) * 365.25).astype(np.int64)
    birth = np.minimum(start - age_days, onboard - 18 * 366)
    birth64 = birth.astype("datetime64[D]")
    ids = np.where(business, idn.social_credit_code(region, rng), idn.resident_id(region, birth64, male, rng))
    names = np.where(business, idn.company_names(rng, n, city), idn.person_names(rng, n))
    occupation = np.where(business, np.array(idn.INDUSTRIES)[rng.integers(0, len(idn.INDUSTRIES), n)],
                          np.array(idn.OCCUPATIONS)[rng.choice(len(idn.OCCUPATIONS), n,
                                                               p=[.34, .08, .07, .04, .1, .1, .09, .08, .07, .03])])
    employed = ~business & ~np.isin(occupation, ["退休", "学生", "个体经营", "自由职业"])
    salary_day = np.where(employed, rng.choice([5, 10, 10, 15, 15, 20, 25, 28], n), 0)
    card_due_day = ((salary_day + 8 + rng.integers(0, 8, n)) % 28) + 1

    profile = {
        "customer_type": np.where(business, "business", "individual"),
        "full_name": names,
        "gender": np.where(business, "", np.where(male, "M", "F")),
        "birth_date": np.where(business, NEVER, birth),
        "id_number": ids,
        "phone": idn.mobile(rng, n),
        "email": np.where(rng.random(n) < 0.8, idn.emails(rng, n), ""),
        "city": city,
        "annual_income": np.round(income, -2),
        "occupation": occupation,
        "risk_tolerance": np.char.add("C", tolerance.astype("<U1")),
        "marketing_consent": rng.random(n) < 0.72,
    }
    cid = np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype("<U8"), 8))
    return Population(n=n, start=start, end=end, cid=cid, business=business, onboard=onboard, wealth=wealth,
                      income=income, engagement=engagement, trend=trend, propensity=propensity, churns=churns,
                      churn_start=churn_start, closes=closes, appetite=a, tolerance=tolerance, profile=profile,
                      rm=np.full(n, -1), branch=np.zeros(n, dtype=np.int64), salary_day=salary_day,
                      card_due_day=card_due_day)


@dataclass
class RMs:
    rm_id: np.ndarray
    name: np.ndarray
    branch: np.ndarray
    team: np.ndarray
    hire: np.ndarray
    leave: np.ndarray             # day the RM leaves (customers reassigned), or NEVER
    branch_ids: np.ndarray
    branch_city: np.ndarray


def assign_rms(rng: np.random.Generator, pop: Population) -> tuple[RMs, np.ndarray, np.ndarray]:
    """Branches per city, RMs per branch; who has an RM; RM reassignments (customer idx, day, new rm)."""
    cities = np.unique(pop.profile["city"])
    per_city = max(1, pop.n // (500 * len(cities)))
    branch_city = np.repeat(cities, per_city)
    branch_ids = np.char.add("BR", np.char.zfill(np.arange(1, len(branch_city) + 1).astype("<U4"), 4))
    n_rm = max(len(branch_city), pop.n // 120)
    rm_branch = np.concatenate([np.arange(len(branch_city)), rng.integers(0, len(branch_city), n_rm - len(branch_city))])
    team = np.where(rng.random(n_rm) < 0.2, "corporate", np.where(rng.random(n_rm) < 0.15, "private", "retail_wealth"))
    hire = pop.start - rng.integers(100, 12 * 365, n_rm)
    # A few RMs join during the range (delivered on their hire date); one leaves.
    joiners = rng.random(n_rm) < 0.05
    hire = np.where(joiners, pop.start + rng.integers(1, max(pop.end - pop.start, 2), n_rm), hire)
    leave = np.full(n_rm, NEVER)
    if pop.end - pop.start > 60 and n_rm > 3:
        leave[rng.integers(0, n_rm)] = pop.start + (pop.end - pop.start) // 2
    rms = RMs(rm_id=np.char.add("RM", np.char.zfill(np.arange(1, n_rm + 1).astype("<U4"), 4)),
              name=idn.person_names(rng, n_rm), branch=rm_branch, team=team, hire=hire, leave=leave,
              branch_ids=branch_ids, branch_city=branch_city)

    city_of_branch = {c: np.flatnonzero(branch_city == c) for c in cities}
    branch = np.zeros(pop.n, dtype=np.int64)
    for c, idx in city_of_branch.items():   # one pass per city, not per customer
        mask = pop.profile["city"] == c
        branch[mask] = idx[rng.integers(0, len(idx), mask.sum())]
    has_rm = pop.business | (pop.wealth > 150_000) | (rng.random(pop.n) < 0.2)
    rm = np.full(pop.n, -1)
    want_team = np.where(pop.business, "corporate", np.where(pop.wealth > 3_000_000, "private", "retail_wealth"))
    for t in ("corporate", "private", "retail_wealth"):
        pool = np.flatnonzero((team == t) & (hire <= pop.start))
        if len(pool) == 0:
            pool = np.flatnonzero(hire <= pop.start)
        mask = has_rm & (want_team == t)
        rm[mask] = pool[rng.integers(0, len(pool), mask.sum())]
    for r in np.flatnonzero(leave < NEVER):      # customers who arrive after an RM left get another one
        late = np.flatnonzero((rm == r) & (pop.onboard >= leave[r]))
        others = np.flatnonzero((hire <= pop.start) & (np.arange(n_rm) != r))
        rm[late] = others[rng.integers(0, len(others), len(late))]
    branch = np.where(rm >= 0, rms.branch[np.maximum(rm, 0)], branch)
    pop.rm, pop.branch = rm, branch

    # Reassignments: customers of the leaving RM on the leave day, plus ~3 % a year to a joiner.
    moves_c, moves_d, moves_r = [], [], []
    for r in np.flatnonzero(leave < NEVER):
        who = np.flatnonzero(rm == r)
        others = np.flatnonzero((hire <= leave[r]) & (np.arange(n_rm) != r))
        moves_c.append(who)
        moves_d.append(np.full(len(who), leave[r]))
        moves_r.append(others[rng.integers(0, len(others), len(who))])
    for r in np.flatnonzero(joiners):
        who = np.flatnonzero((rm >= 0) & (rng.random(pop.n) < 0.01))
        moves_c.append(who)
        moves_d.append(np.full(len(who), hire[r] + rng.integers(0, 30)))
        moves_r.append(np.full(len(who), r))
    moves = np.column_stack([np.concatenate(moves_c or [[]]), np.concatenate(moves_d or [[]]),
                             np.concatenate(moves_r or [[]])]).astype(np.int64)
    moves = moves[(moves[:, 1] > pop.start) & (moves[:, 1] <= pop.end) & (pop.onboard[moves[:, 0]] < moves[:, 1])]
    return rms, moves[np.lexsort((moves[:, 0], moves[:, 1]))], pop.branch


@dataclass
class Book:
    """Every account that exists at some point in [start, end]."""
    cust: np.ndarray
    family: np.ndarray
    product: np.ndarray
    currency: np.ndarray
    open_day: np.ndarray
    close_day: np.ndarray
    credit_limit: np.ndarray       # cents, 0 if none
    principal: np.ndarray          # cents, 0 if none
    term_months: np.ndarray
    opening_balance: np.ndarray    # cents: the balance on the first date (or on opening)
    silent: np.ndarray             # background activity never touches it (planted dormancy)
    account_id: np.ndarray = field(default=None)

    def __len__(self) -> int:
        return len(self.cust)


def _product_for(rng, family: int, tolerance: np.ndarray, wealth: np.ndarray) -> np.ndarray:
    codes = np.array(PRODUCTS[FAMILIES[family]])
    levels = np.array([RISK_LEVEL[c] for c in codes])
    ok = levels[None, :] <= tolerance[:, None]
    ok[:, 0] = True
    pick = (rng.random((len(tolerance), len(codes))) * ok).argmax(axis=1)
    if FAMILIES[family] == "credit_card":
        pick = (wealth > 500_000).astype(int)
    return codes[pick]


def draw_book(rng: np.random.Generator, pop: Population) -> Book:
    """Accounts opened over time: each family opens with a hazard that rises with its appetite."""
    parts = []
    years_to_open = rng.exponential(1.0, (pop.n, len(FAMILIES))) / np.maximum(OPEN_HAZARD * pop.appetite ** 2, 1e-9)
    bundle = rng.random((pop.n, len(FAMILIES))) < 0.35 * pop.appetite
    delay = np.where(bundle, rng.integers(0, 30, (pop.n, len(FAMILIES))), (years_to_open * 365).astype(np.int64).clip(0, 10**7))
    open_day = pop.onboard[:, None] + delay
    open_day[:, F["current_account"]] = pop.onboard
    for f in range(len(FAMILIES)):
        who = np.flatnonzero((open_day[:, f] <= pop.end) & (pop.appetite[:, f] > 0))
        if f in LOAN_FAMILIES:
            term = {F["consumer_loan"]: rng.integers(12, 37, len(who)), F["mortgage"]: rng.integers(240, 361, len(who)),
                    F["business_loan"]: rng.integers(12, 37, len(who))}[f]
            # A loan from long ago would have matured: move its origination inside its term.
            days_term = (term * 30.4).astype(np.int64)
            od = open_day[who, f]
            od = np.where(od + days_term < pop.start, pop.start - rng.integers(30, np.maximum(days_term, 31)), od)
            od = np.maximum(od, pop.onboard[who])
            open_day[who, f] = od
        else:
            term = np.zeros(len(who), dtype=np.int64)
        parts.append((who, np.full(len(who), f), term))
    cust = np.concatenate([p[0] for p in parts])
    family = np.concatenate([p[1] for p in parts])
    term = np.concatenate([p[2] for p in parts])
    # Foreign-currency savings for some wealthy individuals and exporters.
    usd = np.flatnonzero(((pop.wealth > 300_000) & (rng.random(pop.n) < 0.12)) | (pop.business & (rng.random(pop.n) < 0.2)))
    cust = np.concatenate([cust, usd])
    family = np.concatenate([family, np.full(len(usd), F["savings"])])
    term = np.concatenate([term, np.zeros(len(usd), dtype=np.int64)])
    currency = np.concatenate([np.full(len(cust) - len(usd), "CNY"), np.full(len(usd), "USD")])
    od = np.concatenate([open_day[cust[:len(cust) - len(usd)], family[:len(cust) - len(usd)]],
                         pop.onboard[usd] + rng.integers(0, 400, len(usd))])
    keep = (od <= pop.end) & (od < pop.churn_start[cust])  # churners open nothing once they leave
    cust, family, term, currency, od = cust[keep], family[keep], term[keep], currency[keep], od[keep]
    order = np.lexsort((family, od, cust))
    cust, family, term, currency, od = cust[order], family[order], term[order], currency[order], od[order]
    m = len(cust)

    product = np.empty(m, dtype="<U5")
    for f in range(len(FAMILIES)):
        sel = family == f
        product[sel] = _product_for(rng, f, pop.tolerance[cust[sel]], pop.wealth[cust[sel]])

    income = pop.income[cust]
    limit = np.where(family == F["credit_card"], np.round(np.clip(income * rng.uniform(0.15, 0.5, m), 5_000, 500_000), -3), 0)
    principal = np.select(
        [family == F["consumer_loan"], family == F["mortgage"], family == F["business_loan"]],
        [np.round(np.clip(income * rng.uniform(0.3, 1.5, m), 20_000, 500_000), -3),
         np.round(np.clip(income * rng.uniform(6, 15, m), 300_000, 8_000_000), -4),
         np.round(np.clip(income * rng.uniform(0.05, 0.3, m), 200_000, 20_000_000), -4)], 0)

    # Closures: maturing loans, and churners who close everything.
    close = np.full(m, NEVER)
    loan = np.isin(family, LOAN_FAMILIES)
    maturity = od + (term * 30.4).astype(np.int64)
    close = np.where(loan & (maturity > pop.start) & (maturity <= pop.end), maturity, close)
    closer = pop.closes[cust]
    close = np.where(closer < NEVER, np.minimum(close, np.maximum(closer, od + 1)), close)
    close = np.where(close <= pop.end, close, NEVER)

    # Balances: latent wealth split over the AUM families the customer holds, so AUM tracks wealth.
    share = WEALTH_SHARE[family] * (currency == "CNY") + 0.08 * (currency == "USD")
    # Savers keep more idle cash on the current account: a visible hint of deposit appetite.
    saver = np.maximum(pop.appetite[cust, F["time_deposit"]], pop.appetite[cust, F["savings"]])
    share = np.where(family == F["current_account"], share * (0.4 + 1.2 * saver), share)
    held = np.bincount(cust, weights=share, minlength=pop.n)
    frac = share / np.maximum(held[cust], 1e-9)
    balance = pop.wealth[cust] * frac * rng.lognormal(0, 0.15, m) * 0.85
    balance = np.where(currency == "USD", balance / 7.2, balance)
    outstanding_share = np.clip(1 - (pop.start - od) / np.maximum(term * 30.4, 1), 0.05, 1.0)
    balance = np.where(loan, -principal * outstanding_share, balance)
    balance = np.where(family == F["credit_card"], -limit * np.clip(rng.beta(1.5, 6, m) + 0.5 * pop.propensity[cust], 0, 0.95), balance)
    cents = np.rint(balance * 100).astype(np.int64)

    return Book(cust=cust, family=family, product=product, currency=currency, open_day=od, close_day=close,
                credit_limit=np.rint(limit * 100).astype(np.int64), principal=np.rint(principal * 100).astype(np.int64),
                term_months=term, opening_balance=cents, silent=np.zeros(m, dtype=bool))


def draw_delinquency(rng: np.random.Generator, pop: Population, book: Book) -> None:
    """Delinquency onsets driven by default propensity, for customers holding credit."""
    credit = np.isin(book.family, [F["credit_card"], *LOAN_FAMILIES])
    first_credit = np.full(pop.n, NEVER)
    np.minimum.at(first_credit, book.cust[credit], book.open_day[credit])
    yearly = np.clip(1.7 * pop.propensity, 0, 0.95)
    wait = rng.exponential(1.0, pop.n) / -np.log1p(-yearly) * 365
    onset = (np.maximum(first_credit, pop.start - 1) + 45 + wait).astype(np.int64)
    onset = np.where((first_credit < NEVER) & (onset <= pop.end), onset, NEVER)
    cured = rng.random(pop.n) < 0.35
    pop.onset = onset
    pop.cure = np.where((onset < NEVER) & cured, onset + rng.integers(15, 85, pop.n), NEVER)
