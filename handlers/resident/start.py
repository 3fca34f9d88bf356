"""/start, /menu, /help and the "more questions" button."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from handlers.resident import keyboards, places
from handlers.resident.conversation import ask_place, drop_pending, send_menu
from handlers.resident.understanding import Says

router = Router(name="resident.start")

GREETING = "您好！我是城乡居民医保缴费小助手，可以帮您查交多少钱、什么时候交、自己是否已参保。"


@router.message(CommandStart())
async def start(message: Message, state: FSMContext, profile: Any = None) -> None:
    await drop_pending(state)
    loc = getattr(profile, "locality_id", None)
    if loc and places.get_pack(loc):
        await send_menu(message, profile, GREETING)
    else:
        await ask_place(message, state, None, lead=f"{GREETING}\n请问您在哪里参保？")


@router.message(Says("greeting"))
async def greeting(message: Message, state: FSMContext, profile: Any = None) -> None:
    await start(message, state, profile)


@router.message(Command("menu", "help"))
@router.message(Says("menu"))
async def menu(message: Message, state: FSMContext, profile: Any = None) -> None:
    await drop_pending(state)
    await send_menu(message, profile)


@router.callback_query(keyboards.MenuCb.filter(F.topic == "menu"))
async def menu_button(query: CallbackQuery, state: FSMContext, profile: Any = None) -> None:
    await query.answer()
    await drop_pending(state)
    if query.message is not None:
        await send_menu(query.message, profile)
