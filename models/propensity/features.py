"""The propensity feature dictionary (the columns of int_features) and the reason groups.

One place names every feature, its kind (numeric or categorical), its reason group and its
meaning; docs/propensity.md is generated from it, the models are fitted on exactly these
columns, and a test pins it to the SQL. Windows: `short` = propensity.feature_windows_days.short
(90 days), `long` = .long (365 days), amounts in the reporting currency."""

from __future__ import annotations

from dataclasses import dataclass

FAMILIES = ("current_account", "savings", "time_deposit", "credit_card", "consumer_loan", "mortgage",
            "business_loan", "wealth_management", "fund", "insurance", "private_banking")


@dataclass(frozen=True)
class Feature:
    name: str
    kind: str  # numeric | categorical
    group: str  # reason group (REASONS)
    description: str


def _f(name, kind, group, description):
    return Feature(name, kind, group, description)


FEATURES: tuple[Feature, ...] = (
    _f("customer_type", "categorical", "profile", "individual or business"),
    _f("age_band", "categorical", "age", "age band on the date (lifecycle.age_band_edges); unknown for businesses"),
    _f("income_band", "categorical", "income", "declared annual income band (propensity.income_band_edges)"),
    _f("occupation", "categorical", "profile", "declared occupation or industry"),
    _f("risk_tolerance_level", "numeric", "risk_appetite", "assessed risk tolerance C1..C5 as 1..5; 0 = not assessed"),
    _f("tenure_days", "numeric", "tenure", "days since onboarding"),
    _f("r_score", "numeric", "engagement", "RFM recency score 1-5 (0 = inactive)"),
    _f("f_score", "numeric", "engagement", "RFM frequency score 1-5 (0 = inactive)"),
    _f("m_score", "numeric", "engagement", "RFM monetary score 1-5 (0 = inactive)"),
    _f("segment", "categorical", "engagement", "RFM segment"),
    _f("stage", "categorical", "lifecycle", "lifecycle stage"),
    _f("tier", "categorical", "wealth", "wealth tier by AUM"),
    _f("accounts_open", "numeric", "holdings", "open accounts"),
    *(_f(f"holds_{fam}", "numeric", "holdings", f"holds an open {fam.replace('_', ' ')} account")
      for fam in FAMILIES),
    _f("aum", "numeric", "wealth", "assets under management (deposits and investments)"),
    _f("aum_change_ratio", "numeric", "wealth_trend", "AUM change over the trend window (null when the base is 0)"),
    _f("txn_count_short", "numeric", "engagement", "transactions, short window"),
    _f("txn_count_long", "numeric", "engagement", "transactions, long window"),
    _f("credit_short", "numeric", "inflows", "money in, short window"),
    _f("debit_short", "numeric", "spending", "money out, short window"),
    _f("credit_long", "numeric", "inflows", "money in, long window"),
    _f("debit_long", "numeric", "spending", "money out, long window"),
    _f("salary_months", "numeric", "salary", "months with a salary credit in the salary window (6 months)"),
    _f("salary_monthly", "numeric", "salary", "average salary credit per month with salary"),
    _f("card_purchase_short", "numeric", "card_spending", "card purchases, short window"),
    _f("bill_payment_short", "numeric", "transfer_spending", "bill payments, short window"),
    _f("transfer_out_short", "numeric", "transfer_spending", "transfers out, short window"),
    _f("transfer_in_short", "numeric", "inflows", "transfers in, short window"),
    _f("deposit_short", "numeric", "inflows", "deposits, short window"),
    _f("withdrawal_short", "numeric", "cash", "withdrawals, short window"),
    _f("fund_activity_long", "numeric", "investing", "fund purchases and redemptions, long window"),
    _f("loan_repayment_monthly", "numeric", "credit_use", "loan repayments per 30 days over the short window"),
    _f("loan_disbursement_long", "numeric", "credit_use", "loan disbursements, long window"),
    _f("cash_count_short", "numeric", "cash", "cash transactions, short window"),
    _f("cross_border_count_long", "numeric", "travel", "cross-border transactions, long window"),
    _f("digital_share_short", "numeric", "digital", "share of mobile/online transactions, short window"),
    _f("branch_share_short", "numeric", "branch", "share of branch/counter transactions, short window"),
    _f("spend_travel_short", "numeric", "travel", "card spending at travel MCCs, short window"),
    _f("spend_dining_short", "numeric", "card_spending", "card spending at dining MCCs, short window"),
    _f("spend_groceries_short", "numeric", "card_spending", "card spending at grocery MCCs, short window"),
    _f("spend_fuel_short", "numeric", "card_spending", "card spending at fuel MCCs, short window"),
    _f("max_dpd", "numeric", "credit_use", "worst days past due on own loans in the delinquency look-back"),
    _f("contacts_short", "numeric", "relationship", "RM contacts and interactions, short window"),
    _f("contacts_long", "numeric", "relationship", "RM contacts and interactions, long window"),
    _f("last_contact_outcome", "categorical", "offer_history", "outcome of the latest interaction with an outcome (none: no such interaction)"),
    _f("events_long", "numeric", "relationship", "bank events attended, long window"),
    _f("days_since_contact", "numeric", "relationship", "days since the last RM contact (null: none in the long window)"),
    _f("complaints_long", "numeric", "service", "complaints, long window"),
    _f("last_nps", "numeric", "service", "latest NPS answer 0-10 in the long window (null: none)"),
)

FEATURE_NAMES = [f.name for f in FEATURES]
NUMERIC = [f.name for f in FEATURES if f.kind == "numeric"]
CATEGORICAL = [f.name for f in FEATURES if f.kind == "categorical"]

# Reason group -> (phrase when the customer's values push the score up while above the reference,
# phrase when they push it up while below). Words a relationship manager uses, never feature names.
REASONS: dict[str, tuple[str, str]] = {
    "profile": ("customer profile typical of buyers", "customer profile typical of buyers"),
    "age": ("age group that often takes this product", "age group that often takes this product"),
    "income": ("declared income level fits the product", "declared income level fits the product"),
    "risk_appetite": ("higher assessed risk tolerance", "conservative risk profile"),
    "tenure": ("long-standing customer", "recently onboarded customer"),
    "engagement": ("active, frequent banking", "low recent activity"),
    "lifecycle": ("lifecycle stage suits the product", "lifecycle stage suits the product"),
    "wealth": ("high balances and investments with us", "modest balances"),
    "wealth_trend": ("balances growing", "balances falling"),
    "holdings": ("current product mix points to this product", "few products with us yet"),
    "inflows": ("large regular inflows", "small inflows"),
    "spending": ("high monthly spending", "low spending"),
    "salary": ("salary credited monthly", "no regular salary credit"),
    "card_spending": ("high card spending", "little card spending"),
    "transfer_spending": ("high card-like spending via transfers and bill payments",
                          "little spending via transfers"),
    "cash": ("uses cash a lot", "rarely uses cash"),
    "investing": ("already invests in funds", "no fund activity yet"),
    "credit_use": ("uses and repays credit", "no credit use"),
    "travel": ("travels and spends abroad", "little travel spending"),
    "digital": ("banks mostly on mobile/online", "banks mostly in branch"),
    "branch": ("visits the branch often", "rarely visits the branch"),
    "relationship": ("in regular contact with the RM", "little RM contact"),
    "offer_history": ("outcome of an earlier offer points to interest", "outcome of an earlier offer points to interest"),
    "service": ("satisfied with the service", "no recent complaints"),
}
assert {f.group for f in FEATURES} <= REASONS.keys()


def reason_groups() -> dict[str, list[str]]:
    """Reason group -> its features, in dictionary order."""
    groups: dict[str, list[str]] = {}
    for f in FEATURES:
        groups.setdefault(f.group, []).append(f.name)
    return groups


def dictionary_markdown() -> str:
    rows = ["| feature | kind | reason group | meaning |", "|---|---|---|---|"]
    rows += [f"| `{f.name}` | {f.kind} | {f.group} | {f.description} |" for f in FEATURES]
    return "\n".join(rows)
