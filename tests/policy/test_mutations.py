"""Mutation checks: break one reading on purpose and the case files must notice.

Each mutation undoes one answer of issue 10 (in the engine, or in a pack's data) and names the cases,
typed in from the seeds, that must then fail. A case that still passed would be a case that cannot
fail, so these tests keep the case files honest. The shipped engine and packs are never changed:
every mutation is a monkeypatch undone after its test.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_cases import CASE_FILES, check_case

from bot.policy import engine, loader
from bot.policy.schema import PolicyPack

# The modules, not the functions of the same name the engine package exports.
dates = importlib.import_module("bot.policy.engine.dates")
eligibility = importlib.import_module("bot.policy.engine.eligibility")

PACKS_DIR = Path(__file__).resolve().parents[2] / "bot" / "policy" / "packs"
PACK_FILES = {"wuhe": "wuhe-2024.yaml", "taoyuan": "taoyuan-2023.yaml", "tengzhou": "tengzhou-2023.yaml",
              "tanghe": "tanghe-2023.yaml"}  # fmt: skip


def _failing(names: set[str]) -> set[str]:
    """Which of the named cases fail now (under the mutation in place)."""
    import bot.policy

    failed = set()
    for loc, doc in CASE_FILES.items():
        for case in doc["cases"]:
            if case["name"] not in names:
                continue
            try:
                check_case(engine, bot.policy, loc, case)
            except AssertionError:
                failed.add(case["name"])
    return failed


def _edit_pack(
    monkeypatch: pytest.MonkeyPatch, locality: str, edit: Callable[[dict[str, Any]], None]
) -> None:
    """Serve an edited copy of one shipped pack (schema-validated, as the loader would)."""
    raw = yaml.safe_load((PACKS_DIR / PACK_FILES[locality]).read_text("utf-8"))
    edit(raw)
    edited = PolicyPack.model_validate(raw)
    packs = tuple(edited if p.locality.id == locality else p for p in loader.all_packs())
    monkeypatch.setattr(loader, "all_packs", lambda: packs)


def _refund_on_day_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    real = engine.refund

    def mutated(loc: Any, person: Any, on: dt.date, reason: str, event_on: dt.date | None = None) -> Any:
        return real(loc, person, on, reason, event_on=on)

    monkeypatch.setattr(engine, "refund", mutated)


def _deadline_ignoring_hukou(monkeypatch: pytest.MonkeyPatch) -> None:
    real = engine.deadline

    def mutated(loc: Any, person: Any, on: dt.date) -> Any:
        return real(loc, replace(person, hukou_local=None), on)

    monkeypatch.setattr(engine, "deadline", mutated)


def _group(raw: dict[str, Any], group_id: str) -> dict[str, Any]:
    return next(g for g in raw["eligibility"]["groups"] if g["id"] == group_id)


MUTATIONS: dict[str, tuple[Callable[[pytest.MonkeyPatch], None], set[str]]] = {
    "refund judged on the day asked, not the event": (
        _refund_on_day_asked,
        {
            "2022-12-20去世_2023-02-10来问_凭火化证明或死亡证明可退",
            "2023-12-20去世_2024-01-10来问_可退",
            "2022-12-28办理终止_2023-01-10申请_可退",
            "2023-11-20来问_没说哪天去世_先问日期并说明两种情况",
        },
    ),
    "refund cut-off one day late": (
        lambda mp: _edit_pack(mp, "taoyuan", lambda r: r["refunds"]["rules"][2].update(before="2023-01-02")),
        {"2023-01-01去世_不退"},
    ),
    "no inference of 动态新增 from the recognition date": (
        lambda mp: mp.setattr(dates, "_inferred_reason", lambda *a: None),
        {
            "2024-01-10新认定低保_2月5日补缴_次日2月6日享受",
            "2023-02-10新认定低保_2023-02-20补办_缴费次日享受",
        },
    ),
    "aid recipients paying late are not asked why": (
        lambda mp: mp.setattr(dates, "_ask_special_reason", lambda *a: None),
        {"低保过年后补缴没说原因_先问_说明次日和第7个月两种", "低保补办没说是不是新认定_先问_说明次日起享受"},
    ),
    "桃园 special-late clause forgets 孤儿/特困": (
        lambda mp: _edit_pack(
            mp, "taoyuan", lambda r: r["dates"]["special_late"][1].update(categories=["dibao"])
        ),
        {"2023-04-01新认定孤儿_4月30日补办_次日5月1日享受"},
    ),
    "unmet residence conditions ignored": (
        lambda mp: mp.setattr(
            eligibility,
            "_fails",
            lambda g, p, h: (
                "household registration" if g.hukou_local is not None and h != g.hukou_local else None
            ),
        ),
        {
            "非本县户籍已在原籍参保_不能在本县参保",
            "非埇桥区户籍且不在埇桥区长期居住_不在筹资对象内",
            "外市户籍无居住证不在征缴范围",
        },
    ),  # fmt: skip
    "滕州 居住证 condition dropped": (
        lambda mp: _edit_pack(
            mp, "tengzhou", lambda r: _group(r, "residence_permit").pop("residence_permit")
        ),
        {"外市户籍无居住证不在征缴范围"},
    ),
    "桃园 居住证 subsidy clause dropped": (
        lambda mp: _edit_pack(
            mp, "taoyuan", lambda r: _group(r, "long_term_resident").pop("permit_same_subsidy")
        ),
        {"非户籍无居住证_补助文件未写_拒答", "非户籍持居住证_财政按相同标准补助_个人350元"},
    ),
    "五河 newborn fee rows dropped": (
        lambda mp: _edit_pack(mp, "wuhe", lambda r: r["dates"].pop("newborn_fees")),
        {"2023年出生新生儿_2023年度350元_2024年度380元"},
    ),
    "唐河 school rule swapped": (
        lambda mp: _edit_pack(
            mp,
            "tanghe",
            lambda r: _group(r, "school_student").update(
                school_where={
                    "urban_zh": _group(r, "school_student")["school_where"]["town_zh"],
                    "town_zh": _group(r, "school_student")["school_where"]["urban_zh"],
                }
            ),
        ),
        {"孩子在湖阳镇中学_随父母所在村缴费", "城区学校学生_到户口所在地乡镇参保"},
    ),
    "唐河 new_aid without a date not treated as late recognition": (
        lambda mp: _edit_pack(mp, "tanghe", lambda r: r["dates"].pop("aid_recognition_cutoff")),
        {"年后新认定的低保_没说哪天_当年不享受资助_个人350元"},
    ),
    "migrant extension not listed on the general deadline": (
        lambda mp: mp.setattr(dates, "_extensions", lambda pack: ()),
        {
            "普通居民截止2023-12-31_另列务工人员延长到2024-02-29",
            "普通居民截止2022-12-31_另列务工人员延长到2023-02-28",
        },
    ),
    "a worker registered elsewhere given the home-coming extension": (
        _deadline_ignoring_hukou,
        {"外地户籍在五河务工_不适用返乡延长期", "外地户籍在本镇务工_不适用返乡延长期"},
    ),
    "amount table loses the age bands": (
        lambda mp: _edit_pack(mp, "tengzhou", lambda r: r.pop("age_rules")),
        {"缴费一览_含60至69岁175元_70岁以上0元"},
    ),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_mutation_is_caught(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    apply, must_fail = MUTATIONS[name]
    assert not _failing(must_fail), "the named cases must pass on the shipped engine and packs"
    apply(monkeypatch)
    survived = must_fail - _failing(must_fail)
    assert not survived, f"mutation {name!r} went unnoticed by: {sorted(survived)}"


def test_every_named_case_exists() -> None:
    names = {c["name"] for doc in CASE_FILES.values() for c in doc["cases"]}
    for mutation, (_, cases) in MUTATIONS.items():
        assert cases <= names, f"{mutation}: no such case {sorted(cases - names)}"
