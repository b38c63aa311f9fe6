"""The shape of the demo bank: product families, rates and amounts the generator draws from.

These are demo-data assumptions, not pipeline rules (the pipeline's rules live in
pipelines/core/config/rules.yaml); the regulatory thresholds the planted patterns sit on are the
PBOC large-value standards quoted in shared/spec/rules.md."""

from __future__ import annotations

import numpy as np

FAMILIES = ["current_account", "savings", "time_deposit", "credit_card", "consumer_loan", "mortgage",
            "business_loan", "wealth_management", "fund", "insurance", "private_banking"]
F = {name: i for i, name in enumerate(FAMILIES)}
AUM_FAMILIES = [F[f] for f in ("current_account", "savings", "time_deposit", "wealth_management", "fund",
                                "insurance", "private_banking")]
CREDIT_FAMILIES = [F[f] for f in ("credit_card", "consumer_loan", "mortgage", "business_loan")]
LOAN_FAMILIES = [F[f] for f in ("consumer_loan", "mortgage", "business_loan")]

# Opening hazard per year for a customer who does not hold the family: k * appetite^2.
OPEN_HAZARD = np.array([0.0, 0.8, 0.7, 1.0, 0.7, 0.3, 0.8, 0.8, 1.0, 0.6, 0.5])
# Share of latent wealth held in each AUM family when the customer holds it.
WEALTH_SHARE = np.array([0.18, 0.22, 0.25, 0, 0, 0, 0, 0.3, 0.25, 0.12, 0.9])

BUSINESS_SHARE = 0.10
EXISTING_BOOK_SHARE = 0.85          # customers onboarded before the first date
CHURN_SHARE = 0.09
MOVE_OUT_DAYS = 45                  # churners move money out over this many days, then go quiet
PATTERN_SHARE = 0.03                # customers who carry a planted suspicious pattern

CASH_THRESHOLD = 50_000.00                         # PBOC Order 2016 No. 3 art. 5: cash
TRANSFER_THRESHOLDS = {                            # same article: transfers
    "individual_domestic": 500_000.00,
    "business": 2_000_000.00,
    "individual_cross_border": 200_000.00,
}

TXN_TYPES = ["deposit", "withdrawal", "transfer_in", "transfer_out", "card_purchase", "bill_payment", "salary",
             "loan_disbursement", "loan_repayment", "interest", "fee", "fund_purchase", "fund_redemption", "other"]
T = {name: i for i, name in enumerate(TXN_TYPES)}
CREDIT_TYPES = {"deposit", "transfer_in", "salary", "loan_disbursement", "interest", "fund_redemption"}
IS_CREDIT = np.array([t in CREDIT_TYPES for t in TXN_TYPES])
CHANNELS = ["branch", "atm", "mobile", "online", "pos", "counter", "other"]
C = {name: i for i, name in enumerate(CHANNELS)}

# Card merchant categories (ISO 18245) with a typical ticket multiplier and their weight.
MCC = np.array(["5411", "5812", "5814", "5541", "4111", "5311", "5732", "5912", "7011", "4511", "5999",
                "8220", "5712", "5944", "4900"])
MCC_TICKET = np.array([1.0, 1.2, 0.4, 1.8, 0.3, 2.0, 5.0, 0.8, 6.0, 9.0, 1.0, 8.0, 10.0, 12.0, 1.5])
MCC_WEIGHT = np.array([20, 18, 16, 6, 10, 6, 2, 4, 1.5, 1, 8, 0.8, 0.6, 0.4, 3])
MCC_NAMES = {"5411": ["盒马鲜生", "永辉超市", "沃尔玛", "家乐福"], "5812": ["海底捞", "西贝莜面村", "外婆家"],
             "5814": ["麦当劳", "肯德基", "瑞幸咖啡", "星巴克"], "5541": ["中国石化加油站", "中国石油加油站"],
             "4111": ["地铁出行", "滴滴出行"], "5311": ["万达广场", "银泰百货"], "5732": ["苏宁易购", "京东电器"],
             "5912": ["老百姓大药房", "大参林药房"], "7011": ["锦江酒店", "如家酒店", "万豪酒店"],
             "4511": ["中国国际航空", "东方航空", "南方航空"], "5999": ["淘宝", "拼多多", "京东商城"],
             "8220": ["新东方教育", "学而思"], "5712": ["宜家家居", "红星美凯龙"], "5944": ["周大福", "老凤祥"],
             "4900": ["国家电网", "自来水公司"]}

PRODUCTS = {  # family -> candidate product codes, lowest risk first (suitability picks among them)
    "current_account": ["CA001"], "savings": ["SV001"], "time_deposit": ["TD003", "TD012"],
    "credit_card": ["CC001", "CC002"], "consumer_loan": ["CL001"], "mortgage": ["MG001"],
    "business_loan": ["BL001"], "wealth_management": ["WM001", "WM002"], "fund": ["FD001", "FD002", "FD003"],
    "insurance": ["IN001", "IN002"], "private_banking": ["PB001"],
}
FX_START = {"USD": 7.18, "HKD": 0.921, "EUR": 7.76}
