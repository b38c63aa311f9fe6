"""Counterparty pools (people, companies, merchants, securities firms, foreign payers) and the
descriptions transactions carry: drawn once per run, picked by index per transaction."""

from __future__ import annotations

import numpy as np
import polars as pl

from pipelines.generator import identity as idn
from pipelines.generator.params import MCC, MCC_NAMES

BINS = np.array(["622202", "621700", "622848", "621661", "622588", "622609", "621483"])
SECURITIES = ["华泰证券客户资金专户", "中信证券客户资金专户", "国泰君安证券客户资金专户", "招商证券客户资金专户"]
UTILITIES = ["国家电网", "自来水公司", "燃气公司", "中国移动", "中国联通", "中国电信", "物业管理处"]
INSURERS = ["中国人寿保险", "平安人寿保险", "太平洋人寿保险"]
LANDLORDS = ["链家房屋租赁", "自如房屋租赁", "我爱我家租赁"]
CREDIT_PLATFORMS = ["蚂蚁花呗", "京东白条", "微粒贷", "美团月付"]
FOREIGN = ["HSBC HONG KONG", "CITIBANK N.A. NEW YORK", "DBS BANK SINGAPORE", "MUFG BANK TOKYO"]

# Kinds of counterparty; index offsets into one combined pool.
KINDS = ["none", "person", "company", "merchant", "securities", "utility", "insurer", "landlord", "foreign",
         "payroll", "tax", "self", "credit_platform"]
K = {k: i for i, k in enumerate(KINDS)}


class Pools:
    def __init__(self, rng: np.random.Generator, size: int = 3000):
        people = idn.person_names(rng, size)
        companies = idn.company_names(rng, size, np.array([c for _, c in idn.REGIONS])[rng.integers(0, len(idn.REGIONS), size)])
        card = lambda n: np.char.add(BINS[rng.integers(0, len(BINS), n)],  # noqa: E731
                                     np.char.zfill(rng.integers(0, 10**13, n).astype("<U13"), 13))
        merchants, self.merchant_of_mcc = [], []
        for code in MCC:
            self.merchant_of_mcc.append(len(merchants))
            merchants += MCC_NAMES[code]
        self.merchant_count = np.array([len(MCC_NAMES[c]) for c in MCC])
        self.merchant_of_mcc = np.array(self.merchant_of_mcc)
        pools = {
            "none": ([None], [None]),
            "person": (people, card(size)),
            "company": (companies, np.char.add("3100", np.char.zfill(rng.integers(0, 10**14, size).astype("<U14"), 14))),
            "merchant": (merchants, [None] * len(merchants)),
            "securities": (SECURITIES, np.char.add("1001", np.char.zfill(rng.integers(0, 10**12, len(SECURITIES)).astype("<U12"), 12))),
            "utility": (UTILITIES, np.char.add("4400", np.char.zfill(rng.integers(0, 10**12, len(UTILITIES)).astype("<U12"), 12))),
            "insurer": (INSURERS, np.char.add("1100", np.char.zfill(rng.integers(0, 10**12, len(INSURERS)).astype("<U12"), 12))),
            "landlord": (LANDLORDS, np.char.add("1100", np.char.zfill(rng.integers(0, 10**12, len(LANDLORDS)).astype("<U12"), 12))),
            "foreign": (FOREIGN, np.char.add("HK", np.char.zfill(rng.integers(0, 10**12, len(FOREIGN)).astype("<U12"), 12))),
            "payroll": (["代发工资专户"], ["9558800000000001"]),
            "tax": (["国家税务总局电子缴税"], ["0000000000000001"]),
            "self": (["本人他行账户"], [None]),
            "credit_platform": (CREDIT_PLATFORMS, np.char.add("2088", np.char.zfill(rng.integers(0, 10**12, len(CREDIT_PLATFORMS)).astype("<U12"), 12))),
        }
        self.size = {k: len(pools[k][0]) for k in KINDS}
        self.offset = dict(zip(KINDS, np.cumsum([0] + [self.size[k] for k in KINDS[:-1]])))
        self.names = pl.Series("counterparty_name", [x for k in KINDS for x in list(pools[k][0])], dtype=pl.String)
        self.accounts = pl.Series("counterparty_account", [None if x is None else str(x) for k in KINDS for x in list(pools[k][1])],
                                  dtype=pl.String)

    def pick(self, rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
        return self.offset[kind] + rng.integers(0, self.size[kind], n)

    def merchant(self, rng: np.random.Generator, mcc: np.ndarray) -> np.ndarray:
        return self.offset["merchant"] + self.merchant_of_mcc[mcc] + (rng.random(len(mcc)) * self.merchant_count[mcc]).astype(np.int64)


DESCRIPTIONS = {
    "deposit": "现金存款", "withdrawal": "取款", "transfer_in": "转账收入", "transfer_out": "转账支出",
    "card_purchase": "消费", "bill_payment": "缴费", "salary": "代发工资", "loan_disbursement": "贷款发放",
    "loan_repayment": "还款", "interest": "结息", "fee": "手续费", "fund_purchase": "理财申购",
    "fund_redemption": "理财赎回", "other": "其他",
}
