"""Status check and reminder subscription through the real router, on a temp SQLite registry."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session, select

from bot import clock
from bot.conversation import render
from bot.policy import engine
from bot.policy.engine import Person
from bot.registry import ids
from bot.registry.models import AuditLog, ChatLink


def no_full_id(replies: list[str], *numbers: str) -> None:
    for r in replies:
        for n in numbers:
            assert n not in r, "a reply shows a full ID number"


async def test_wrong_id_gets_its_reason_and_is_deleted(talk: Any, residents: dict) -> None:
    good = residents["paid"]["id"]
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    c = talk(601)
    replies = await c.say(f"查询 {bad} 李建国")
    assert ids.validate(bad).reason_zh in replies[-1]
    assert c.deleted()
    no_full_id(replies, bad)
    # Too short: the length reason.
    replies = await c.say(good[:-2])
    assert ids.validate(good[:-2]).reason_zh in replies[-1]


async def test_id_then_name_enrolled(talk: Any, residents: dict) -> None:
    r = residents["paid"]
    c = talk(602)
    replies = await c.say(r["id"])
    assert c.deleted()
    assert ids.mask(r["id"]) in replies[-1] and "姓名" in replies[-1]
    replies = await c.say(r["name"])
    text = "\n".join(replies)
    assert ids.mask(r["id"]) in text and "已参加" in text
    no_full_id(replies, r["id"])
    from bot.registry import lookup

    with Session(talk.engine) as s:  # type: ignore[attr-defined]
        res = lookup.status(s, r["id"], r["name"])
    assert render.day(res.paid_on) in text and f"{render.money(res.amount)} 元" in text


async def test_name_asked_then_typed_with_words(talk: Any, residents: dict) -> None:
    r = residents["paid"]
    c = talk(614)
    replies = await c.say(f"帮我查一下 {r['id']}")
    assert "姓名" in replies[-1]
    replies = await c.say(f"我叫{r['name']}")
    assert "已参加" in "\n".join(replies)


async def test_status_button_flow(talk: Any, residents: dict) -> None:
    r = residents["paid"]
    c = talk(603)
    await c.say("/menu")
    replies = await c.press("查询参保")
    assert "身份证号" in replies[-1]
    replies = await c.say(f"{r['id']} {r['name']}")
    assert "已参加" in "\n".join(replies)


async def test_wrong_name_is_not_found(talk: Any, residents: dict) -> None:
    r = residents["paid"]
    c = talk(604)
    replies = await c.say(f"{r['id']} 王大锤")
    assert "没有查到" in replies[-1] and "已参加" not in "\n".join(replies)
    no_full_id(replies, r["id"])


async def test_unpaid_shows_due_amount_deadline_and_how(talk: Any, residents: dict) -> None:
    r = residents["dibao"]
    c = talk(605)
    replies = await c.say(f"帮我查一下 {r['id']} {r['name']}")
    text = replies[0]
    assert "还没有缴费" in text and ids.mask(r["id"]) in text
    person = Person(categories=r["categories"], birth_date=r["birth_date"])
    due = engine.amount("wuhe", person, clock.today())
    assert due.ok and f"{render.money(due.personal)} 元" in text
    dl = engine.deadline("wuhe", person, clock.today())
    assert render.day(dl.deadline) in text
    assert len(render.body_lines(text)) <= render.MAX_LINES
    # The subscription offer follows.
    assert "提醒" in replies[-1] and "提醒全家缴费" in c.labels()


async def test_rate_limit_after_five_lookups(talk: Any, residents: dict, settings: Any) -> None:
    r = residents["paid"]
    c = talk(606)
    for _ in range(settings.lookup_limit):
        replies = await c.say(f"{r['id']} {r['name']}")
        assert "已参加" in "\n".join(replies)
    replies = await c.say(f"{r['id']} {r['name']}")
    assert "太频繁" in replies[-1] and "已参加" not in "\n".join(replies)
    # Another chat is not limited.
    replies = await talk(607).say(f"{r['id']} {r['name']}")
    assert "已参加" in "\n".join(replies)


async def test_every_lookup_audited_without_full_id(talk: Any, residents: dict) -> None:
    r = residents["unpaid"]
    c = talk(608)
    await c.say(f"{r['id']} {r['name']}")
    await c.say(f"{r['id']} 王大锤")
    with Session(talk.engine) as s:  # type: ignore[attr-defined]
        rows = list(s.exec(select(AuditLog).where(AuditLog.chat_id == 608)))
    assert [row.outcome for row in rows] == ["unpaid", "not_found"]
    for row in rows:
        assert row.subject_masked == ids.mask(r["id"])
        assert r["id"] not in (row.subject_masked or "") + row.outcome + row.action


async def test_delete_failure_is_ignored(talk: Any, residents: dict) -> None:
    r = residents["paid"]
    c = talk(609)
    c.session.fail_delete = True
    replies = await c.say(f"{r['id']} {r['name']}")
    assert "已参加" in "\n".join(replies)


async def test_service_unavailable_message(talk: Any, residents: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.registry import status_service

    def down(*args: Any, **kwargs: Any) -> Any:
        raise status_service.ServiceUnavailable("test")

    monkeypatch.setattr(status_service, "check_status", down)
    r = residents["paid"]
    replies = await talk(610).say(f"{r['id']} {r['name']}")
    assert status_service.ServiceUnavailable.message_zh in replies[-1]


async def test_subscribe_household_then_unsubscribe(talk: Any, residents: dict) -> None:
    r = residents["unpaid"]
    c = talk(611)
    await c.say(f"{r['id']} {r['name']}")
    replies = await c.press("提醒全家缴费")
    assert "已为全家订阅" in replies[-1]
    with Session(talk.engine) as s:  # type: ignore[attr-defined]
        links = list(s.exec(select(ChatLink).where(ChatLink.chat_id == 611)))
    assert len(links) == 1 and links[0].household_id == r["household_id"] and links[0].active
    assert links[0].consent_at.date() == clock.today()
    # Pressing again does not create a second link.
    await c.say(f"{r['id']} {r['name']}")
    replies = await c.press("提醒全家缴费")
    assert "已经订阅过了" in replies[-1]
    replies = await c.say("/unsubscribe")
    assert "已取消" in replies[-1]
    with Session(talk.engine) as s:  # type: ignore[attr-defined]
        link = s.exec(select(ChatLink).where(ChatLink.chat_id == 611)).one()
    assert not link.active and link.ended_at is not None


async def test_subscribe_person_and_stop(talk: Any, residents: dict) -> None:
    r = residents["dibao"]
    c = talk(612)
    await c.say(f"{r['id']} {r['name']}")
    await c.press("提醒此人缴费")
    with Session(talk.engine) as s:  # type: ignore[attr-defined]
        link = s.exec(select(ChatLink).where(ChatLink.chat_id == 612)).one()
        assert link.person_id == r["person_id"] and link.household_id is None
    replies = await c.say("/stop")
    assert "已取消" in replies[-1]
    replies = await c.say("/stop")
    assert "没有订阅" in replies[-1]


async def test_remind_me_without_lookup_starts_a_status_check(talk: Any, residents: dict) -> None:
    c = talk(613)
    await c.say("/menu")
    replies = await c.press("提醒我")
    assert "请先查询参保" in replies[-1]
    r = residents["unpaid"]
    replies = await c.say(f"{r['id']} {r['name']}")
    assert "还没有缴费" in replies[0]
