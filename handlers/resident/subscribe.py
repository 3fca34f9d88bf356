"""Reminder subscriptions: offered after a status lookup, stored with the time of consent
(ChatLink.consent_at), ended by /unsubscribe or /stop."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import clock
from handlers.resident import keyboards
from handlers.resident.states import Lookup
from handlers.resident.understanding import Says

router = Router(name="resident.subscribe")


def _now() -> Any:
    return clock.now().replace(tzinfo=None)


def active_links(session: Any, chat_id: int) -> list[Any]:
    from sqlmodel import select

    from bot.registry.models import ChatLink

    stmt = select(ChatLink).where(ChatLink.chat_id == chat_id, ChatLink.active == True)  # noqa: E712
    return list(session.exec(stmt))


@router.callback_query(keyboards.MenuCb.filter(F.topic == "subscribe"))
async def remind_button(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if query.message is not None:
        await offer(query.message, state)


@router.message(Says("subscribe"))
async def remind_text(message: Message, state: FSMContext) -> None:
    await offer(message, state)


async def offer(message: Message, state: FSMContext) -> None:
    last = (await state.get_data()).get("last_lookup")
    if not last:
        # Reminders are per person: we need to know whom, so start with a status check.
        await state.set_state(Lookup.id_number)
        await message.answer("提醒要对应到具体参保人。请先查询参保：发送身份证号和姓名，查完就可以订阅提醒。")
        return
    await message.answer(
        f"要为 {last['masked']} {last['name']} 订阅缴费提醒吗？",
        reply_markup=keyboards.subscribe_keyboard(last.get("household_id") is not None),
    )


@router.callback_query(keyboards.SubCb.filter())
async def subscribe(query: CallbackQuery, callback_data: keyboards.SubCb, state: FSMContext,
                    session: Any = None) -> None:
    await query.answer()
    if query.message is None:
        return
    from bot.registry.models import ChatLink

    last = (await state.get_data()).get("last_lookup")
    if callback_data.target == "no":
        await query.message.answer("好的，不提醒。需要时点菜单里的“提醒我”。")
        return
    if not last:
        await query.message.answer("这个按钮已过期，请先重新查询参保。")
        return
    chat_id = query.message.chat.id
    household = callback_data.target == "household" and last.get("household_id") is not None
    for link in active_links(session, chat_id):
        same = (link.household_id == last.get("household_id")) if household else (
            link.person_id == last.get("person_id") and link.household_id is None)
        if same:
            await query.message.answer("已经订阅过了，截止前会提醒您。发 /unsubscribe 可取消。")
            return
    link = ChatLink(
        chat_id=chat_id,
        person_id=None if household else last.get("person_id"),
        household_id=last.get("household_id") if household else None,
        consent_at=_now(),
        active=True,
    )
    session.add(link)
    who = "全家" if household else f"{last['masked']} {last['name']}"
    await query.message.answer(f"好的，已为{who}订阅缴费提醒，截止前会提醒未缴费的人。\n不想收了发 /unsubscribe 或 /stop。")


@router.message(Command("unsubscribe", "stop"))
@router.message(Says("unsubscribe"))
async def unsubscribe(message: Message, session: Any = None) -> None:
    links = active_links(session, message.chat.id)
    for link in links:
        link.active = False
        link.ended_at = _now()
        session.add(link)
    if links:
        await message.answer(f"已取消 {len(links)} 项缴费提醒，以后不再发送。需要时可以重新查询后订阅。")
    else:
        await message.answer("您目前没有订阅缴费提醒。")
