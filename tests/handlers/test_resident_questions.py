"""Resident policy questions through the real router: place, amount, deadline, clarifying question,
unknown place, fallback. Expected figures come from bot.policy.engine, never typed in."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot import clock
from bot.conversation import render
from bot.policy import all_packs, engine
from bot.policy.engine import Person

HANDLERS = Path(__file__).resolve().parents[2] / "handlers" / "resident"


def newest_packs() -> list[Any]:
    packs: dict[str, Any] = {}
    for p in all_packs():
        if p.locality.id not in packs or p.coverage_year > packs[p.locality.id].coverage_year:
            packs[p.locality.id] = p
    return sorted(packs.values(), key=lambda p: p.locality.id)


PACKS = newest_packs()
LOCALITIES = [p.locality.id for p in PACKS]


def pack_of(loc: str) -> Any:
    return next(p for p in PACKS if p.locality.id == loc)


def figure(value: Any) -> str:
    return f"{render.money(value)} 元"


def check_shape(text: str) -> None:
    """At most six body lines, and at most one source line, which is the last line."""
    assert len(render.body_lines(text)) <= render.MAX_LINES, text
    sources = [ln for ln in text.splitlines() if ln.startswith(render.SOURCE_PREFIX)]
    assert len(sources) <= 1, text
    if sources:
        assert text.splitlines()[-1] == sources[0], text


def answered_category(pack: Any) -> Any:
    """A category of the pack the engine answers with a figure (some are "not stated")."""
    for cat in pack.categories:
        if engine.amount(pack, Person(categories=(cat.code,)), clock.today()).ok:
            return cat
    pytest.skip(f"{pack.locality.id}: no category with a stated amount")


async def choose_place_by_buttons(c: Any, pack: Any) -> None:
    replies = await c.say("/start")
    assert replies and "您好" in replies[0]
    assert any(pack.locality.name_zh in label for label in c.labels())
    replies = await c.press(pack.locality.name_zh)
    assert any(f"记住了：您在{pack.locality.name_zh}" in r for r in replies), replies


@pytest.mark.parametrize("loc", LOCALITIES)
async def test_place_amount_deadline_by_buttons(talk: Any, loc: str) -> None:
    pack = pack_of(loc)
    c = talk()
    await choose_place_by_buttons(c, pack)

    # "交多少钱" without a category: the ordinary resident's amount first, then the categories to narrow.
    replies = await c.press("交多少钱")
    ordinary = engine.amount(pack, Person(), clock.today())
    assert len(replies) == 1 and f"普通居民每人交 {figure(ordinary.personal)}" in replies[0]
    check_shape(replies[0])
    labels = c.labels()
    for cat in pack.categories:
        assert any(label in cat.name_zh for label in labels), (cat.name_zh, labels)
    cat = answered_category(pack)
    replies = await c.press(render.short_category(cat.name_zh))
    expected = engine.amount(pack, Person(categories=(cat.code,)), clock.today())
    text = replies[-1]
    check_shape(text)
    if expected.pay_first:
        assert f"先缴 {figure(expected.personal)}" in text
    else:
        assert f"个人缴纳 {figure(expected.personal)}" in text
    for citation in expected.citations:
        assert citation.locator in text.splitlines()[-1]

    replies = await c.press("什么时候交")
    dl = engine.deadline(pack, Person(categories=(cat.code,)), clock.today())
    text = replies[-1]
    check_shape(text)
    assert dl.ok and render.day(dl.deadline) in text
    if not dl.missed:
        assert f"还剩 {dl.days_left} 天" in text
    for citation in dl.citations:
        assert citation.locator in text.splitlines()[-1]


async def test_typed_question_names_the_place(talk: Any) -> None:
    c = talk()
    replies = await c.say("五河县低保户交多少钱")
    expected = engine.amount("wuhe", Person(categories=("dibao",)), clock.today())
    assert expected.ok
    text = replies[-1]
    check_shape(text)
    assert f"个人缴纳 {figure(expected.personal)}" in text
    source = text.splitlines()[-1]
    assert source.startswith(render.SOURCE_PREFIX + "五政办秘〔2023〕50号 ")
    # Every clause the engine cited is named, the deciding category clause first.
    for c in expected.citations:
        assert c.locator in source
    assert source.split(" ")[1].startswith(pack_of("wuhe").category("dibao").help.basis.locator)


async def test_follow_up_question_keeps_the_place_named(talk: Any) -> None:
    c = talk(911)
    await c.say("滕州")
    replies = await c.say("唐河脱贫户交多少")
    expected = engine.amount("tanghe", Person(categories=("tuopin",)), clock.today())
    assert expected.ok and expected.pay_first
    assert f"先缴 {figure(expected.personal)}" in replies[-1] and "唐河县" in replies[-1]
    replies = await c.say("先缴后补是什么意思")
    explained = engine.explain_pay_first("tanghe", on=clock.today())
    assert explained.ok
    assert replies[-1].splitlines()[-1] == render.source_line(explained)


async def test_typed_place_is_confirmed_and_remembered(talk: Any, db_engine: Any) -> None:
    from sqlmodel import Session

    from bot.registry.models import ChatProfile

    c = talk(901)
    replies = await c.say("滕州")
    assert any("记住了" in r and "滕州市" in r for r in replies), replies
    with Session(db_engine) as s:
        assert s.get(ChatProfile, ("telegram", "901")).locality_id == "tengzhou"
    # Later questions answer for the remembered place.
    replies = await c.say("什么时候截止交费")
    dl = engine.deadline("tengzhou", Person(), clock.today())
    assert render.day(dl.deadline) in replies[-1]


async def test_town_name_sets_locality_and_area(talk: Any, db_engine: Any) -> None:
    from sqlmodel import Session

    from bot.registry.models import Area, ChatProfile

    town = pack_of("wuhe").task_table.entries[0].name
    c = talk(902)
    replies = await c.say(town)
    assert any("记住了" in r and "五河县" in r for r in replies), replies
    with Session(db_engine) as s:
        profile = s.get(ChatProfile, ("telegram", "902"))
        assert profile.locality_id == "wuhe"
        assert profile.area_id is not None and s.get(Area, profile.area_id).name == town


async def test_clarifying_question_answered_by_typing(talk: Any) -> None:
    c = talk(903)
    await c.say("五河县")
    replies = await c.say("交多少钱")
    assert "哪一类" in replies[-1]
    replies = await c.say("低保户")
    expected = engine.amount("wuhe", Person(categories=("dibao",)), clock.today())
    assert f"个人缴纳 {figure(expected.personal)}" in replies[-1]


async def test_new_place_during_a_clarifying_question_wins(talk: Any) -> None:
    c = talk(913)
    await c.say("唐河")
    replies = await c.say("医保今年多少钱")
    assert "哪一类" in replies[-1]
    replies = await c.say("我是桃园镇桃东村的 我妈是五保户她还要交钱吗")
    expected = engine.amount("taoyuan", Person(categories=("tekun",)), clock.today())
    assert "桃园镇" in replies[-1] and f"个人缴纳 {figure(expected.personal)}" in replies[-1]


@pytest.mark.parametrize("loc", [p.locality.id for p in PACKS if p.age_rules])
async def test_age_band_buttons(talk: Any, loc: str) -> None:
    pack = pack_of(loc)
    c = talk(904)
    await c.say(pack.locality.name_zh)
    await c.say("交多少钱")
    rule = max(pack.age_rules.rules, key=lambda r: r.min_age)
    band = next(label for label in c.labels() if label.startswith(f"{rule.min_age}岁"))
    replies = await c.press(band)
    expected = engine.amount(pack, Person(age=rule.min_age), clock.today())
    assert expected.ok
    assert figure(expected.personal) in replies[-1]


async def test_question_without_place_asks_place_then_answers(talk: Any) -> None:
    c = talk(905)
    replies = await c.say("低保户交多少钱")
    assert "哪个县" in replies[-1]
    replies = await c.press("五河县")
    expected = engine.amount("wuhe", Person(categories=("dibao",)), clock.today())
    assert any(f"个人缴纳 {figure(expected.personal)}" in r for r in replies), replies


async def test_unknown_place_lists_covered_places(talk: Any) -> None:
    c = talk(906)
    replies = await c.say("合肥市交多少钱")
    text = "\n".join(replies)
    assert "合肥市" in text and "没有收录" in text
    for pack in PACKS:
        assert pack.locality.name_zh in text


async def test_other_place_as_context_is_not_an_unknown_place(talk: Any) -> None:
    c = talk(912)
    await c.say("五河县")
    replies = await c.say("我在上海打工过年回来还能交吗")
    dl = engine.deadline("wuhe", Person(migrant=True), clock.today())
    assert "没有收录" not in replies[-1]
    assert render.day(dl.deadline) in replies[-1]


async def test_year_over_is_said(talk: Any) -> None:
    from bot import clock

    pack = pack_of("wuhe")
    c = talk(907)
    await c.say("五河县")
    replies = await c.say("低保户交多少钱")
    assert "年度已结束" not in replies[-1]
    clock.set_today(pack.dates.benefit.end.replace(year=pack.coverage_year + 1, month=3, day=1))
    replies = await c.say("低保户交多少钱")
    assert f"{pack.coverage_year}年度的政策" in replies[-1]
    check_shape(replies[-1])


async def test_year_over_benefit_start_asks_the_payment_month(talk: Any) -> None:
    import datetime as dt

    pack = pack_of("wuhe")
    clock.set_today(pack.dates.benefit.end + dt.timedelta(days=40))
    c = talk(914)
    await c.say("五河县")
    replies = await c.press("补交后何时报销")
    assert "什么时候缴" in replies[-1]
    month = next(label for label in c.labels() if label.endswith("3月补缴"))
    replies = await c.press(month)
    paid_on = dt.date(pack.coverage_year, 3, 1)
    expected = engine.benefit_start(pack, Person(), paid_on)
    assert expected.ok
    assert render.day(expected.benefit_start) in replies[-1]
    assert f"{pack.coverage_year}年度的政策" in replies[-1]


async def test_refusal_is_honest_with_what_to_do(talk: Any) -> None:
    refusing = [p for p in PACKS if p.refunds is None]
    if not refusing:
        pytest.skip("every pack states refunds")
    pack = refusing[0]
    c = talk(908)
    await c.say(pack.locality.name_zh)
    await c.press("退费")
    replies = await c.press("重复缴费")
    ans = engine.refund(pack, Person(), clock.today(), "duplicate")
    assert not ans.ok
    assert ans.refusal in replies[-1] and render.contact_line(pack) in replies[-1]


async def test_fallback_gives_menu_and_examples(talk: Any) -> None:
    c = talk(909)
    replies = await c.say("今天天气怎么样啊")
    assert replies and "可以这样问我" in replies[-1]
    assert "交多少钱" in c.labels() and "查询参保" in c.labels()
    replies = await c.say("谢谢")
    assert replies and "不客气" in replies[-1]


@pytest.mark.parametrize("loc", LOCALITIES)
async def test_every_reply_is_short(talk: Any, loc: str) -> None:
    pack = pack_of(loc)
    c = talk(910)
    await c.say(pack.locality.name_zh)
    questions = [
        "我家是低保户交多少钱", "七十岁老人还用交吗", "两女户交多少", "什么时候截止",
        "在外打工过年回来还能交吗", "外地户口在这住能参保吗", "大学生在哪交", "三月份补交什么时候能报销",
        "新生儿怎么参保", "交了能退吗", "怎么交", "联系电话是多少", "先缴后补是什么意思",
    ]
    for q in questions:
        replies = await c.say(q)
        assert replies, q  # never silence
        for r in replies:
            check_shape(r)
    for label in ("谁能参保", "补交后何时报销", "新生儿", "怎么交", "联系电话"):
        await c.say("/menu")
        replies = await c.press(label)
        assert replies, label
        for r in replies:
            check_shape(r)


def _pack_amounts() -> set[str]:
    """Every money figure in the packs (financing, splits, category and age help)."""
    found: set[str] = set()

    def walk(obj: Any) -> None:
        from decimal import Decimal

        from pydantic import BaseModel

        if isinstance(obj, BaseModel):
            for name in type(obj).model_fields:
                value = getattr(obj, name)
                if name in ("value", "subsidy", "personal") and isinstance(value, Decimal):
                    found.add(render.money(value))
                walk(value)
        elif isinstance(obj, list | tuple):
            for item in obj:
                walk(item)
        elif isinstance(obj, dict):
            for item in obj.values():
                walk(item)

    for pack in PACKS:
        walk(pack.financing)
        walk(pack.categories)
        walk(pack.age_rules)
    return {a for a in found if a not in ("0",)}


def test_handler_sources_hold_no_policy_amounts() -> None:
    amounts = _pack_amounts()
    assert amounts, "no amounts read from the packs"
    for path in sorted(HANDLERS.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        for amount in amounts:
            hit = re.search(rf"(?<![0-9]){re.escape(amount)}(?![0-9])", source)
            assert hit is None, f"{path.name} contains the policy figure {amount}"
