"""Deterministic roster and payment files with every kind of good and bad cell, for the test that
holds the importers' accepted and refused rows (with reasons) to a frozen record.

Self-contained on purpose (seeded `random`, the packs' names, `builders.make_id`): the frozen
outcomes in `import_outcomes.json` must not move when the demo generator or the importers change.
Only mutations whose outcome the importers are meant to keep are generated here; rows that the
security fixes of issue 12 refuse on purpose (control characters, one ID in two households) are
tested on their own.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from .builders import PAYMENT_HEADER, ROSTER_HEADER, bad_check, make_id

# (locality, coverage year, region code, loose spellings of task-table names that must still match)
LOCALITIES = {
    "wuhe": (2024, "340322"),
    "tengzhou": (2023, "370481"),
    "tanghe": (2023, "411328"),
}
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
CATEGORY_WORDS = ["低保", "低保户", "特困人员", "五保户", "重度残疾人", "重残", "脱贫户", "监测户", "神仙", "军属",
                  "优抚对象", "低保、重残", "低保，脱贫户", "无", *[""] * 36]
FLAGS = ["也许", "yes", "×", "Y", "N", "1", "0", "√", *["", "", "否", "是"] * 8]
REL = ["户主", "配偶", "子", "女", "父亲", "母亲", "孙子", ""]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀英华"


@dataclass
class GeneratedFiles:
    roster_header: list[str]
    roster: list[list[object]]
    payment_header: list[str]
    payments: list[list[object]]


def _date_text(rng: random.Random, day: dt.date) -> str:
    forms = ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日", "%Y.%m.%d", "%Y-%m-%d 10:30:00"]
    return day.strftime(rng.choice(forms))


def generate(locality: str, towns: list[str], rows: int, seed: int) -> GeneratedFiles:
    """`rows` roster rows for `locality` (task-table `towns`), about one in four mutated, and a
    payment list for the same people (amounts from a small menu, some wrong on purpose)."""
    year, region = LOCALITIES[locality]
    rng = random.Random(f"{locality}-{seed}")
    roster: list[list[object]] = []
    people: list[tuple[str, str]] = []
    household = 0
    for i in range(rows):
        if i % 3 == 0:
            household += 1
        born = dt.date(1930, 1, 1) + dt.timedelta(days=rng.randrange(0, 33000))
        number = make_id(i % 1000, born.strftime("%Y%m%d"), region)
        name = rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else "")
        town = rng.choice(towns)
        row: list[object] = [number, name, f"{region}{household:06d}", rng.choice(REL), town,
                             f"{town[:2]}{rng.choice('东西南北')}村", f"139{rng.randrange(10**8):08d}",
                             rng.choice(CATEGORY_WORDS), rng.choice(FLAGS)]
        kind = rng.random()
        if kind < 0.02:
            row[0] = bad_check(number)
        elif kind < 0.03:
            row[0] = number[:-2]
        elif kind < 0.04:
            row[0] = number[:10] + "1340" + number[14:]  # month 13
        elif kind < 0.05:
            row[0] = number.translate(FULLWIDTH)
        elif kind < 0.06:
            row[0] = f"{number[:6]} {number[6:14]} {number[14:]}"
        elif kind < 0.07 and number.endswith("X"):
            row[0] = number[:-1] + "x"
        elif kind < 0.08:
            row[1] = ""
        elif kind < 0.09:
            row[1] = f" {name[0]} {name[1:]} "
        elif kind < 0.10:
            row[2] = ""
        elif kind < 0.11:
            row[4] = town[:-1] if len(town) > 2 else town  # suffix dropped
        elif kind < 0.12:
            row[4] = "火星镇"
        elif kind < 0.13:
            row[4] = town[0] + "湖" + town[2:]  # a typo
        elif kind < 0.14:
            row[4] = ""
        elif kind < 0.15:
            row[6] = str(row[6]).translate(FULLWIDTH)
        elif kind < 0.16:
            row = ["", "", "", "", "", "", "", "", ""]  # blank line
        elif kind < 0.17 and roster:
            row = list(rng.choice(roster))  # an exact repeat of an earlier row
        elif kind < 0.18 and roster:
            earlier = rng.choice(roster)
            row = list(earlier)
            row[1] = "改" + str(earlier[1])  # the same ID with another name
        roster.append(row)
        if row[0] == number and row[1] == name and row[2] and row[4] == town:
            people.append((number, name))
    payments: list[list[object]] = []
    start, end = dt.date(year - 1, 9, 1), dt.date(min(year, 2023), 11, 20)
    for number, name in people:
        if rng.random() < 0.2:
            continue
        day = start + dt.timedelta(days=rng.randrange(0, (end - start).days + 1))
        amount: object = rng.choice(["380", "350", "380.00", "350.00", "￥380", "350元", "1,234.5", "0", "-350",
                                     "三百", "", "190", "100", "60", "320", *["380", "350"] * 6])
        row = [number, name, _date_text(rng, day), amount, rng.choice(["微信", "支付宝", "", "政府代缴"])]
        kind = rng.random()
        if kind < 0.03:
            row[2] = "2023-02-30"
        elif kind < 0.05:
            row[2] = f"{year - 3}-05-01"
        elif kind < 0.07:
            row[1] = "张" + name
        elif kind < 0.09:
            row[0] = make_id(999, "19010101", region)  # valid, but not in the roster
        elif kind < 0.10:
            row[0] = bad_check(number)
        elif kind < 0.11:
            row[2] = str((day - dt.date(1899, 12, 30)).days)  # an Excel serial
        payments.append(row)
        if rng.random() < 0.05:
            payments.append(list(row))  # the same payment twice: deduplicated
    return GeneratedFiles(list(ROSTER_HEADER), roster, list(PAYMENT_HEADER), payments)
