"""The dialogue core's own rules, in-process: state, privacy, choices, writes before confirmations."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from typing import Any

from sqlalchemy import func, select

from bot import clock
from bot.conversation import DialogueState, Incoming, handle
from bot.conversation.state import LOOKUP_TTL, OpenQuestion, Place


def _full_state() -> DialogueState:
    return DialogueState(
        place=Place("wuhe", "朱顶镇", None, 3), person={"categories": ["dibao"], "age": 70},
        topics=["amount", "deadline"], open=OpenQuestion("paid", "benefit_start", ["contact"]),
        lookup_id="340322196203082019", lookup_since="2023-11-20T10:00:00+08:00",
        last_lookup={"person_id": 1, "household_id": 2, "masked": "3403**********2019", "name": "王秀兰"},
        profile_loaded=True,
    )


def test_state_round_trips_through_json_with_every_field() -> None:
    state = _full_state()
    data = state.to_dict()
    assert set(data) == {f.name for f in dataclasses.fields(DialogueState)}  # a new field must be stored too
    again = DialogueState.from_dict(json.loads(json.dumps(data)))
    assert again == state
    assert DialogueState.from_dict({**data, "from_an_older_version": 1}) == state
    assert DialogueState.from_dict(None) == DialogueState() == DialogueState.from_dict({})


def test_a_waiting_id_number_is_forgotten_after_ten_minutes() -> None:
    state = _full_state()
    since = dt.datetime.fromisoformat(state.lookup_since or "")
    state.expire(since + LOOKUP_TTL - dt.timedelta(seconds=1))
    assert state.lookup_id is not None
    state.expire(since + LOOKUP_TTL + dt.timedelta(seconds=1))
    assert state.lookup_id is None and state.lookup_since is None


def test_handle_does_not_change_the_state_it_was_given(chat: Any) -> None:
    c = chat()
    before = c.state.to_dict()
    handle(c.state, Incoming(text="五河县低保户交多少钱", address=str(c.chat_id)), c.deps)
    assert c.state.to_dict() == before


def test_in_a_group_no_status_lookup_and_the_id_message_is_deleted(chat: Any, world: Any) -> None:
    from bot.registry.models import AuditLog

    engine, people = world
    c = chat(private=False)
    out = handle(c.state, Incoming(text=f"{people['paid_id']} {people['paid_name']}", address=str(c.chat_id),
                                   private=False), c.deps)
    assert out.delete_incoming
    text = "\n".join(r.text for r in out.replies)
    assert "私聊" in text and people["paid_name"] not in text and people["paid_id"] not in text
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditLog)).scalar() == 0


def test_forged_or_stale_choices_are_refused_politely(chat: Any) -> None:
    c = chat()
    c.say("五河县")
    for value in ("c:not-a-category", "zz:1", "t:nothing", "m:2024-13", "w:北京", "x" * 100, "a:999"):
        out = handle(c.state, Incoming(choice=value, address=str(c.chat_id)), c.deps)
        text = "\n".join(r.text for r in out.replies)
        assert "失效" in text, (value, text)


def test_two_questions_are_answered_in_the_order_asked(chat: Any) -> None:
    c = chat()
    out = handle(c.state, Incoming(text="五河县最晚啥时候交 交多少钱", address=str(c.chat_id)), c.deps)
    first, second = out.replies[0].text, out.replies[1].text
    assert "截止" in first and "380" in second
    assert out.state.topics == ["deadline", "amount"]


def test_a_payout_question_never_shows_a_contribution_figure(chat: Any) -> None:
    c = chat()
    text = c.say("滕州70岁老人住院能报多少")
    assert "没有规定" in text
    assert "0 元" not in text and "350" not in text and "个人缴纳" not in text


def test_a_subscription_is_stored_before_it_is_confirmed(chat: Any, world: Any) -> None:
    from bot.registry.models import ChatLink

    engine, people = world
    c = chat()
    c.say(f"{people['unpaid_id']} {people['unpaid_name']}")
    reply = c.press("全家")
    assert "订阅" in reply
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ChatLink).where(ChatLink.active)).scalar() == 1
    assert "已经订阅过" in handle(c.state, Incoming(choice="s:household", address=str(c.chat_id)), c.deps).replies[0].text


def test_the_place_outlives_the_dialogue_state(chat: Any) -> None:
    c = chat()
    c.say("我是滕州的")
    fresh = chat(c.chat_id)  # the same chat, its dialogue state lost (a restart, the FSM data expired)
    assert "滕州" in fresh.say("交多少钱")


def test_the_year_over_is_said(chat: Any) -> None:
    c = chat()
    clock.set_today(dt.date(2025, 3, 1))
    try:
        assert "2024年度" in c.say("五河县交多少钱")
    finally:
        clock.set_today(dt.date(2023, 11, 20))
