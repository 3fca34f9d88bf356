"""Write small roster/payment files in any encoding or as XLSX for the importer tests."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from stdnum.cn import ric

ROSTER_HEADER = ["身份证号", "姓名", "户号", "与户主关系", "乡镇", "村（社区）", "联系电话", "资助类别", "外出务工"]
PAYMENT_HEADER = ["身份证号", "姓名", "缴费日期", "缴费金额", "缴费渠道"]


def make_id(seq: int, born: str = "19800101", region: str = "340322") -> str:
    body = f"{region}{born}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def bad_check(number: str) -> str:
    """The same number with a wrong last character."""
    wrong = "0" if number[-1] != "0" else "1"
    return number[:-1] + wrong


def write_csv(path: Path, header: list[str], rows: list[list[object]], encoding: str = "utf-8") -> Path:
    with open(path, "w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[object]], title: str | None = None) -> Path:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(header)
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def wuhe_people() -> list[list[object]]:
    """Two households in 城关镇 and one in 头铺镇 (wuhe-2024 task table)."""
    return [
        [make_id(1, "19700305"), "张国强", "WH001", "户主", "城关镇", "东关村", "13800000001", "", "否"],
        [make_id(2, "19720611"), "李秀英", "WH001", "配偶", "城关镇", "东关村", "", "低保", ""],
        [make_id(3, "20100101"), "张小明", "WH001", "子", "城关镇", "东关村", "", "", ""],
        [make_id(4, "19550101"), "王建军", "WH002", "户主", "城关", "西关村", "13800000004", "特困人员、重度残疾人", "是"],
        [make_id(5, "19881212"), "赵丽", "WH003", "户主", "头铺镇", "", "", "", "是"],
    ]


def today() -> dt.date:
    return dt.date(2023, 11, 20)
