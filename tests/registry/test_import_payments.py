"""Payment import: dates in many formats, amounts checked against the policy engine, people must be
in the roster with the same name, deduplication, all-or-nothing files."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.policy import engine as policy_engine
from bot.policy import get_pack
from bot.policy.engine import Person
from bot.registry.importers import ImportFileError, import_payments, import_roster
from bot.registry.importers.values import parse_date

from .data.builders import PAYMENT_HEADER, ROSTER_HEADER, make_id, write_csv, write_xlsx, wuhe_people

STANDARD = get_pack("wuhe", 2024).financing.personal.value  # 380 in the seed (二（一）)


@pytest.fixture()
def roster(engine: Engine, tmp_path: Path, pinned_today: dt.date) -> Engine:
    import_roster(write_csv(tmp_path / "roster.csv", ROSTER_HEADER, wuhe_people()), "wuhe", engine=engine)
    return engine


def _errors(path: Path) -> dict[int, dict[str, str]]:
    with open(path.with_name(path.name + ".errors.csv"), encoding="utf-8-sig", newline="") as fh:
        return {int(r["行号"]): r for r in csv.DictReader(fh)}


def _payments(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT p.id_number, y.paid_on, y.amount, y.channel FROM payment y JOIN person p ON p.id = y.person_id "
            "ORDER BY p.id_number, y.paid_on"
        ))]


def _dibao_amount(on: dt.date) -> str:
    answer = policy_engine.amount("wuhe", Person(categories=("dibao",), birth_date=dt.date(1972, 6, 11)), on=on)
    assert answer.ok
    return str(answer.personal)


def test_payments_import_with_date_formats_and_policy_amounts(roster: Engine, tmp_path: Path) -> None:
    rows = [
        [make_id(1, "19700305"), "张国强", "2023-11-05", str(STANDARD), "微信"],
        [make_id(2, "19720611"), "李秀英", "2023/11/6", _dibao_amount(dt.date(2023, 11, 6)), "支付宝"],
        [make_id(3, "20100101"), "张小明", "20231107", f"￥{STANDARD}", ""],
        [make_id(5, "19881212"), "赵丽", "2023年11月8日", f"{STANDARD}元", "银行"],
    ]
    path = write_csv(tmp_path / "pay.csv", PAYMENT_HEADER, rows, encoding="gbk")
    report = import_payments(path, 2024, engine=roster)
    assert (report.inserted, report.unchanged, report.bad) == (4, 0, 0)
    got = _payments(roster)
    assert sorted(str(r[1])[:10] for r in got) == ["2023-11-05", "2023-11-06", "2023-11-07", "2023-11-08"]
    again = import_payments(path, 2024, engine=roster)
    assert (again.inserted, again.unchanged, again.bad) == (0, 4, 0)
    assert _payments(roster) == got


def test_xlsx_payments_with_date_cells_and_excel_serials(roster: Engine, tmp_path: Path) -> None:
    rows = [
        [make_id(1, "19700305"), "张国强", dt.datetime(2023, 11, 5, 9, 30), float(STANDARD), "微信"],
        [make_id(3, "20100101"), "张小明", 45236, int(STANDARD), "微信"],  # Excel serial of 2023-11-06
    ]
    report = import_payments(write_xlsx(tmp_path / "pay.xlsx", PAYMENT_HEADER, rows), 2024, engine=roster)
    assert (report.inserted, report.bad) == (2, 0)
    assert sorted(str(r[1])[:10] for r in _payments(roster)) == ["2023-11-05", "2023-11-06"]


def test_every_bad_payment_reason(roster: Engine, tmp_path: Path) -> None:
    rows = [
        [make_id(1, "19700305"), "张国强", "2023-13-45", str(STANDARD), ""],        # 2 bad date
        [make_id(1, "19700305"), "张国强", "2021-11-05", str(STANDARD), ""],        # 3 outside the campaign
        [make_id(1, "19700305"), "张国强", "2023-11-05", "三百八", ""],             # 4 not a number
        [make_id(1, "19700305"), "张国强", "2023-11-05", "123", ""],                # 5 does not fit the policy
        [make_id(2, "19720611"), "李秀英", "2023-11-05", "190", ""],                # 6 dibao pays less than 190
        [make_id(99), "陌生人", "2023-11-05", str(STANDARD), ""],                   # 7 not in the roster
        [make_id(3, "20100101"), "张大明", "2023-11-05", str(STANDARD), ""],        # 8 other name
        [make_id(3, "2010010")[:-1], "短号", "2023-11-05", str(STANDARD), ""],      # 9 bad ID
        [make_id(5, "19881212"), "赵丽", "2023-11-05", "-380", ""],                 # 10 negative
    ]
    path = write_csv(tmp_path / "bad.csv", PAYMENT_HEADER, rows)
    report = import_payments(path, 2024, engine=roster)
    assert (report.inserted, report.bad) == (0, 9)
    e = _errors(path)
    assert e[2]["列"] == "缴费日期" and "无法识别" in e[2]["原因"]
    assert "不在 2024 年度的缴费时间内" in e[3]["原因"]
    assert "不是数字" in e[4]["原因"]
    assert "与政策不符" in e[5]["原因"] and f"全额 {STANDARD}" in e[5]["原因"]
    assert "与政策不符" in e[6]["原因"] and _dibao_amount(dt.date(2023, 11, 5)).rstrip("0").rstrip(".") in e[6]["原因"]
    assert "花名册中没有" in e[7]["原因"] and e[7]["值"].startswith("3403") and "*" in e[7]["值"]
    assert "姓名与花名册不一致" in e[8]["原因"]
    assert e[9]["列"] == "身份证号"
    assert "负数" in e[10]["原因"]


def test_locality_filter(roster: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", PAYMENT_HEADER, [[make_id(1, "19700305"), "张国强", "2023-11-05", str(STANDARD), ""]])
    report = import_payments(path, 2023, locality="tengzhou", engine=roster)
    assert report.bad == 1 and "该地区花名册中没有" in _errors(path)[2]["原因"]


def test_missing_amount_column(roster: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", ["身份证号", "姓名", "缴费日期"], [[make_id(1, "19700305"), "张国强", "2023-11-05"]])
    with pytest.raises(ImportFileError, match="缴费金额"):
        import_payments(path, 2024, engine=roster)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2023-11-05", dt.date(2023, 11, 5)), ("2023/11/5", dt.date(2023, 11, 5)), ("20231105", dt.date(2023, 11, 5)),
        ("2023年11月5日", dt.date(2023, 11, 5)), ("2023.11.05", dt.date(2023, 11, 5)),
        ("2023-11-05 14:03:22", dt.date(2023, 11, 5)), ("45235", dt.date(2023, 11, 5)), (45235, dt.date(2023, 11, 5)),
        ("２０２３－１１－０５", dt.date(2023, 11, 5)), ("2023-02-30", None), ("昨天", None), ("", None), ("12", None),
    ],
)
def test_parse_date(raw: object, expected: dt.date | None) -> None:
    assert parse_date(raw) == expected


def test_amount_paid_before_the_category_was_recognised_is_accepted(engine: Engine, tmp_path: Path,
                                                                    pinned_today: dt.date) -> None:
    """滕州: a 65-year-old paid the age rate (二（三）2), then became 低保 (full aid, 二（二）)."""
    paid_on = dt.date(2022, 11, 1)
    born = "19570601"
    age_rate = policy_engine.amount("tengzhou", Person(birth_date=dt.date(1957, 6, 1)), on=paid_on)
    as_dibao = policy_engine.amount("tengzhou", Person(categories=("dibao",), birth_date=dt.date(1957, 6, 1)),
                                    on=paid_on)
    assert age_rate.ok and as_dibao.ok and age_rate.personal != as_dibao.personal
    people = [
        [make_id(1, born, "370481"), "孙桂兰", "TZ001", "户主", "滨湖镇", "", "", "低保", ""],
        [make_id(2, born, "370481"), "孙桂芝", "TZ002", "户主", "滨湖镇", "", "", "低保", ""],
    ]
    import_roster(write_csv(tmp_path / "r.csv", ROSTER_HEADER, people), "tengzhou", engine=engine)
    rows = [
        [people[0][0], "孙桂兰", paid_on.isoformat(), str(age_rate.personal), "微信"],
        [people[1][0], "孙桂芝", paid_on.isoformat(), "100", "微信"],  # fits no rule: refused
    ]
    path = write_csv(tmp_path / "p.csv", PAYMENT_HEADER, rows)
    report = import_payments(path, 2023, engine=engine)
    assert (report.inserted, report.bad) == (1, 1)
    assert "与政策不符" in next(iter(_errors(path).values()))["原因"]


def test_the_amount_rule_agrees_with_the_engine_on_every_date() -> None:
    """AmountRule keeps the engine's answer per coverage year (engine.amount's contract: the date
    picks the year; the age is given). Held against the engine itself, date by date, for every
    pack and category, a spread of ages, dates across the year and both edges of its window."""
    from bot.policy import all_packs
    from bot.policy.engine.common import window
    from bot.registry.importers.payments import AmountRule, _expected

    for pack in all_packs():
        rule = AmountRule(pack.coverage_year)
        if rule.pack(pack.locality.id) is not pack:
            continue  # an older year of the same locality: its own AmountRule would load it
        first, last = window(pack)
        one = dt.timedelta(days=1)
        days = [first - one, first, last, last + one, *(first + dt.timedelta(days=d) for d in range(13, 800, 41))]
        combos = [(), *[(c.code,) for c in pack.categories]]
        for categories in combos:
            for age in (0, 17, 60, 65, 70, 80):
                for migrant in (False, True):
                    for day in days:
                        got = rule.expected(pack.locality.id, categories, age, migrant, day)
                        assert got == _expected(pack, categories, age, migrant, day), (
                            pack.locality.id, categories, age, migrant, day)
