"""Catch-all, included LAST: anything not understood gets the menu and example questions, never silence."""

from __future__ import annotations

from typing import Any

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from handlers.resident import keyboards, places
from handlers.resident.conversation import EXAMPLES, drop_pending, menu_text

router = Router(name="resident.fallback")


async def not_understood(message: Message, state: FSMContext, profile: Any = None) -> None:
    await drop_pending(state)
    loc = getattr(profile, "locality_id", None)
    prefix = places.place_name(loc) if loc and places.get_pack(loc) else ""
    examples = "\n".join(f"· {prefix}{e}" if i == 0 else f"· {e}" for i, e in enumerate(EXAMPLES))
    await message.answer(
        f"没太明白您的意思。可以这样问我：\n{examples}\n{menu_text(profile)}",
        reply_markup=keyboards.menu_keyboard(),
    )


_THANKS = ("谢谢", "多谢", "感谢", "谢了", "好的", "知道了", "明白了")


@router.message()
async def anything(message: Message, state: FSMContext, profile: Any = None) -> None:
    text = (message.text or "").strip()
    if text and len(text) <= 12 and any(w in text for w in _THANKS):
        await drop_pending(state)
        await message.answer("不客气！还有问题随时问我。", reply_markup=keyboards.menu_keyboard())
        return
    await not_understood(message, state, profile)


@router.callback_query()
async def stale_button(query: CallbackQuery, profile: Any = None) -> None:
    await query.answer("这个按钮已失效")
    if query.message is not None:
        await query.message.answer(f"这个按钮已失效。{menu_text(profile)}", reply_markup=keyboards.menu_keyboard())

