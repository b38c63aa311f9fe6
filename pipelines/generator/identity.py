"""Personal data in the formats Chinese banks hold it: resident ID numbers (GB 11643), unified
social credit codes (GB 32100), mobile numbers, Chinese names, emails. Vectorised over arrays."""

from __future__ import annotations

import numpy as np
import polars as pl

# (6-digit administrative division code, city): real district codes, so that an ID number's
# region matches the customer's city.
REGIONS = [
    ("110101", "北京"), ("110105", "北京"), ("310101", "上海"), ("310115", "上海"),
    ("440104", "广州"), ("440305", "深圳"), ("330106", "杭州"), ("320102", "南京"),
    ("510104", "成都"), ("420102", "武汉"), ("610113", "西安"), ("120101", "天津"),
    ("500103", "重庆"), ("370202", "青岛"), ("350203", "厦门"), ("430102", "长沙"),
]
CITY_WEIGHTS = np.array([8, 5, 9, 6, 7, 8, 6, 5, 6, 5, 4, 4, 4, 3, 3, 3], dtype=float)

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = list("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志刚俊峰宇浩然子轩梓涵欣怡思远雨婷佳琪晨阳博文一鸣天佑嘉怡子豪诗涵")
COMPANY_PREFIX = list("华恒鑫瑞达盛泰兴隆安博宏伟康宁信诚嘉和永昌金鼎中联东方天成")
COMPANY_SUFFIX = ["科技有限公司", "贸易有限公司", "实业有限公司", "餐饮管理有限公司", "建材有限公司",
                  "物流有限公司", "电子商务有限公司", "服装有限公司", "机械制造有限公司", "文化传媒有限公司"]
INDUSTRIES = ["制造业", "批发和零售业", "住宿和餐饮业", "信息技术服务", "建筑业", "交通运输", "文化传媒", "农业"]
OCCUPATIONS = ["企业职员", "公务员", "教师", "医生", "工程师", "个体经营", "销售", "自由职业", "退休", "学生"]

MOBILE_PREFIXES = np.array([130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152, 153, 155,
                            156, 157, 158, 159, 166, 176, 177, 178, 180, 181, 182, 183, 184, 185, 186,
                            187, 188, 189, 191, 198, 199])
EMAIL_DOMAINS = ["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "139.com"]

ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK = np.array(list("10X98765432"))
USCC_CHARS = np.array(list("0123456789ABCDEFGHJKLMNPQRTUWXY"))
USCC_WEIGHTS = np.array([1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28])
ORG_WEIGHTS = np.array([3, 7, 9, 10, 5, 8, 4, 2])


def _digits(text: pl.Series | np.ndarray, width: int) -> np.ndarray:
    """An (n, width) int matrix of the characters of fixed-width digit strings."""
    raw = np.asarray(text, dtype=f"<U{width}")
    return (raw.view("<U1").reshape(-1, width).view(np.int32) - ord("0")).astype(np.int64)


def resident_id(region: np.ndarray, birth: np.ndarray, male: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """18-digit resident ID: region + YYYYMMDD + sequence (odd = male) + GB 11643 check digit."""
    seq = rng.integers(0, 500, len(region)) * 2 + male.astype(np.int64)
    seq = seq % 1000
    body = np.char.add(np.char.add(region.astype("<U6"), np.datetime_as_string(birth, unit="D")),
                       np.char.zfill(seq.astype("<U3"), 3))
    body = np.char.replace(body, "-", "")
    check = ID_CHECK[(_digits(body, 17) * ID_WEIGHTS).sum(axis=1) % 11]
    return np.char.add(body, check)


def resident_id_valid(ids: np.ndarray) -> np.ndarray:
    """GB 11643 check digit test (used by the tests and for self-checks)."""
    ids = np.asarray(ids, dtype="<U18")
    check = ID_CHECK[(_digits(ids.astype("<U17"), 17) * ID_WEIGHTS).sum(axis=1) % 11]
    return check == ids.view("<U1").reshape(-1, 18)[:, 17]


def _org_check(body: np.ndarray) -> np.ndarray:
    """GB 11714 organisation-code check character for 8-digit bodies."""
    c = 11 - (_digits(body, 8) * ORG_WEIGHTS).sum(axis=1) % 11
    return np.where(c == 10, "X", np.where(c == 11, "0", c.astype("<U2")))


def uscc_check(body17: np.ndarray) -> np.ndarray:
    """GB 32100 check character of the first 17 characters of a unified social credit code."""
    lookup = {ch: i for i, ch in enumerate(USCC_CHARS)}
    table = np.zeros(128, dtype=np.int64)
    for ch, i in lookup.items():
        table[ord(ch)] = i
    codes = np.asarray(body17, dtype="<U17").view(np.int32).reshape(-1, 17)
    c = (31 - (table[codes] * USCC_WEIGHTS).sum(axis=1) % 31) % 31
    return USCC_CHARS[c]


def social_credit_code(region: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """18-char unified social credit code: '91' (company, industry & commerce) + region +
    organisation code (8 digits + GB 11714 check) + GB 32100 check."""
    org = np.char.zfill(rng.integers(10_000_000, 99_999_999, len(region)).astype("<U8"), 8)
    body = np.char.add(np.char.add(np.char.add("91", region.astype("<U6")), org), _org_check(org))
    return np.char.add(body, uscc_check(body))


def mobile(rng: np.random.Generator, n: int) -> np.ndarray:
    prefix = MOBILE_PREFIXES[rng.integers(0, len(MOBILE_PREFIXES), n)].astype("<U3")
    return np.char.add(prefix, np.char.zfill(rng.integers(0, 100_000_000, n).astype("<U8"), 8))


def person_names(rng: np.random.Generator, n: int) -> np.ndarray:
    surname = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    g1 = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    g2 = np.where(rng.random(n) < 0.65, np.array(GIVEN)[rng.integers(0, len(GIVEN), n)], "")
    return np.char.add(np.char.add(surname, g1), g2)


def company_names(rng: np.random.Generator, n: int, city: np.ndarray) -> np.ndarray:
    p = np.array(COMPANY_PREFIX)
    name = np.char.add(p[rng.integers(0, len(p), n)], p[rng.integers(0, len(p), n)])
    return np.char.add(np.char.add(city, name), np.array(COMPANY_SUFFIX)[rng.integers(0, len(COMPANY_SUFFIX), n)])


def emails(rng: np.random.Generator, n: int) -> np.ndarray:
    qq = np.char.add(rng.integers(10_000_000, 3_000_000_000, n).astype("<U10"), "@qq.com")
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    handle = letters[rng.integers(0, 26, (n, 6))].view("<U6").ravel()
    other = np.char.add(np.char.add(np.char.add(handle, rng.integers(10, 9999, n).astype("<U4")), "@"),
                        np.array(EMAIL_DOMAINS)[rng.integers(1, len(EMAIL_DOMAINS), n)])
    return np.where(rng.random(n) < 0.45, qq, other)
