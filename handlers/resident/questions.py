"""Policy questions by button (main menu) and by free text, and the clarifying-question round trip."""

from __future__ import annotations

import re
from typing import Any

from aiogram import F, Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from handlers.resident import keyboards, places
from handlers.resident.asking import ORDINARY, TOPICS
from handlers.resident.conversation import answer_topic, drop_pending
from handlers.resident.states import Asking
from handlers.resident.understanding import Says, understand

router = Router(name="resident.questions")

_AGE_ONLY = re.compile(r"^\s*(\d{1,3})\s*岁?\s*$")


@router.callback_query(keyboards.MenuCb.filter(F.topic.in_(set(TOPICS))))
async def menu_topic(query: CallbackQuery, callback_data: keyboards.MenuCb, state: FSMContext,
                     profile: Any = None, session: Any = None) -> None:
    await query.answer()
    if query.message is None:
        return
    await drop_pending(state)
    facts = with_home_town({}, callback_data.topic, profile, session)
    await answer_topic(query.message, state, callback_data.topic, getattr(profile, "locality_id", None), facts)


@router.callback_query(keyboards.FactCb.filter())
async def fact_button(query: CallbackQuery, callback_data: keyboards.FactCb, state: FSMContext,
                      profile: Any = None, session: Any = None) -> None:
    await query.answer()
    if query.message is None:
        return
    pending = (await state.get_data()).get("pending")
    if not pending:
        # A button from an old question: start that topic afresh rather than guessing.
        await query.message.answer("这个问题已经过期了，请重新点菜单提问。", reply_markup=keyboards.menu_keyboard())
        return
    facts = dict(pending.get("facts") or {})
    if callback_data.kind == "cat":
        if callback_data.value == ORDINARY:
            facts["ordinary"] = True
        else:
            facts["categories"] = [callback_data.value]
    elif callback_data.kind == "age" and callback_data.value.isdigit():
        facts["age"] = int(callback_data.value)
    elif callback_data.kind == "refund":
        facts["refund_reason"] = callback_data.value
    elif callback_data.kind == "paid":
        facts["paid_on"] = callback_data.value
    elif callback_data.kind == "town":
        facts["town"] = callback_data.value
    loc = pending.get("loc") or getattr(profile, "locality_id", None)
    if callback_data.kind == "town" and loc and profile is not None:
        area_id = places.area_id_for(session, loc, callback_data.value)
        if area_id is not None:
            places.remember(session, profile, loc, area_id)
    await answer_topic(query.message, state, pending["topic"], loc, facts)


@router.message(Asking.fact, F.text)
async def fact_typed(message: Message, state: FSMContext, profile: Any = None) -> None:
    """The resident typed instead of pressing a button: take the missing fact from the text if it
    is there, otherwise treat the text as a new message."""
    pending = (await state.get_data()).get("pending") or {}
    u = understand(message.text)
    facts = dict(pending.get("facts") or {})
    got = False
    if pending.get("ask") == "cat":
        if u.facts.get("categories"):
            facts["categories"] = u.facts["categories"]
            got = True
        age = u.facts.get("age")
        m = _AGE_ONLY.match(message.text or "")
        if age is None and m:
            age = int(m.group(1))
        if age is not None:
            facts["age"] = int(age)
            got = True
    elif pending.get("ask") == "refund" and u.facts.get("refund_reason"):
        facts["refund_reason"] = u.facts["refund_reason"]
        got = True
    elif pending.get("ask") == "town" and (u.town or u.village):
        facts["town"] = u.town or u.village
        got = True
    same_place = not u.loc or u.loc == (pending.get("loc") or getattr(profile, "locality_id", None))
    if got and same_place and (u.topic is None or u.topic == pending.get("topic")):
        facts = {**u.facts, **facts}
        loc = pending.get("loc") or getattr(profile, "locality_id", None)
        await answer_topic(message, state, pending["topic"], loc, facts)
        return
    await drop_pending(state)
    await typed_question(message, state, u, profile)


async def typed_question(message: Message, state: FSMContext, u: Any, profile: Any = None,
                         session: Any = None) -> None:
    if u.topic not in TOPICS:
        from handlers.resident.fallback import not_understood

        await not_understood(message, state, profile)
        return
    loc = u.loc if u.loc and places.get_pack(u.loc) else getattr(profile, "locality_id", None)
    if u.loc and places.get_pack(u.loc) and profile is not None and (
            u.loc != getattr(profile, "locality_id", None) or u.town or u.village):
        # The place named in a question is the one follow-up questions are about too (every answer
        # names its place, so the switch is visible).
        places.remember(session, profile, u.loc, places.area_id_for(session, u.loc, u.village or u.town))
    facts = dict(u.facts)
    if loc == getattr(profile, "locality_id", None):
        facts = with_home_town(facts, u.topic, profile, session)
    await answer_topic(message, state, u.topic, loc, facts)


def with_home_town(facts: dict[str, Any], topic: str, profile: Any, session: Any) -> dict[str, Any]:
    """Contacts are per town in some documents: use the town the resident told us before."""
    if topic == "contacts" and not facts.get("town"):
        town = places.area_name(session, getattr(profile, "area_id", None))
        if town:
            facts = {**facts, "town": town}
    return facts


@router.message(Says(*TOPICS))
async def question(message: Message, state: FSMContext, understood: Any, profile: Any = None,
                   session: Any = None) -> None:
    await drop_pending(state)
    await typed_question(message, state, understood, profile, session)
