"""Shared steps of the resident conversation: send a reply (keeping a pending question in FSM state),
ask for the place, and answer a question for the place we know."""

from __future__ import annotations

from typing import Any

from aiogram.fsm.context import FSMContext
from aiogram.types import InlineKeyboardMarkup, Message
from aiogram.utils.keyboard import InlineKeyboardBuilder

from bot import clock
from handlers.resident import keyboards, places
from handlers.resident.asking import Reply, answer
from handlers.resident.states import Asking

EXAMPLES = ("低保户交多少钱", "什么时候截止交费", "三月份补交什么时候能报销")


def more_keyboard() -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    b.button(text="还想问别的", callback_data=keyboards.MenuCb(topic="menu"))
    return b.as_markup()


async def deliver(message: Message, state: FSMContext, reply: Reply) -> None:
    """Send a reply; a clarifying question parks its pending intent in FSM state."""
    if reply.pending is not None:
        await state.set_state(Asking.fact)
        await state.update_data(pending=reply.pending)
    else:
        await drop_pending(state)
    await message.answer(reply.text, reply_markup=reply.keyboard or more_keyboard())


async def drop_pending(state: FSMContext) -> None:
    current = await state.get_state()
    if current in (Asking.fact.state, Asking.place.state):
        await state.set_state(None)
    data = await state.get_data()
    if "pending" in data:
        await state.update_data(pending=None)


async def ask_place(message: Message, state: FSMContext, pending: dict[str, Any] | None = None,
                    lead: str = "请先告诉我您在哪个地方参保。") -> None:
    if pending is not None:
        await state.set_state(Asking.place)
        await state.update_data(pending=pending)
    text = f"{lead}\n点选省份，或直接发地名（比如“{_example_place()}”）。"
    await message.answer(text, reply_markup=keyboards.provinces_keyboard(places.provinces()))


def _example_place() -> str:
    covered = places.covered_places()
    return covered[0].name if covered else "县名"


async def answer_topic(message: Message, state: FSMContext, topic: str, loc: str | None,
                       facts: dict[str, Any]) -> None:
    if not loc:
        await ask_place(message, state, {"topic": topic, "facts": facts})
        return
    await deliver(message, state, answer(topic, loc, facts, clock.today()))


async def answer_pending(message: Message, state: FSMContext, loc: str) -> bool:
    """After the place or a fact arrived: answer the question that was waiting, if any."""
    data = await state.get_data()
    pending = data.get("pending")
    if not pending:
        return False
    await answer_topic(message, state, pending["topic"], pending.get("loc") or loc, dict(pending.get("facts") or {}))
    return True


def menu_text(profile: Any) -> str:
    loc = getattr(profile, "locality_id", None)
    where = f"当前地区：{places.place_name(loc)}。" if loc and places.get_pack(loc) else "还没选地区。"
    return f"{where}点下面的按钮，或直接打字问我。"


async def send_menu(message: Message, profile: Any, lead: str | None = None) -> None:
    text = menu_text(profile) if lead is None else f"{lead}\n{menu_text(profile)}"
    await message.answer(text, reply_markup=keyboards.menu_keyboard())
