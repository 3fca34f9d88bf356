"""Telegram updates in, dialogue replies out.

update → `Incoming` → `bot.conversation.handle` (in a worker thread: it reads and writes the database
in short transactions of its own, and commits before returning) → new state into the FSM storage →
replies sent. Nothing is confirmed to a resident before it is stored, and no transaction spans an
await. Updates of one chat stay in order: aiogram's FSM middleware holds the chat's isolation lock
(memory, or Redis across processes) around this handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any

from aiogram import Router
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot.conversation import DialogueState, Incoming, Outcome, handle
from bot.conversation.deps import Deps
from handlers.resident import keyboards

router = Router(name="resident")
STATE_KEY = "dialogue"


def _deps(data: dict[str, Any], chat_id: int) -> Deps:
    return Deps(data["settings"], data.get("engine"), chat_id)


async def _run(state: FSMContext, incoming: Incoming, deps: Deps) -> Outcome:
    stored = (await state.get_data()).get(STATE_KEY)
    outcome = await asyncio.to_thread(
        functools.partial(handle, DialogueState.from_dict(stored), incoming, deps)
    )
    await state.update_data({STATE_KEY: outcome.state.to_dict()})
    return outcome


async def _send(message: Message, outcome: Outcome) -> None:
    for reply in outcome.replies:
        await message.answer(reply.text, reply_markup=keyboards.markup(reply.choices))


async def _has_text(message: Message) -> bool:
    # A coroutine, not F.text: aiogram runs a synchronous filter in a worker thread, a hop per update.
    return bool(message.text)


@router.message(_has_text)
async def on_message(message: Message, state: FSMContext, **data: Any) -> None:
    incoming = Incoming(
        text=message.text,
        channel="telegram",
        address=str(message.chat.id),
        user_id=str(message.from_user.id) if message.from_user else None,
        private=message.chat.type == "private",
    )
    outcome = await _run(state, incoming, _deps(data, message.chat.id))
    if outcome.delete_incoming:
        # Telegram refuses to delete some messages (too old, no rights); the answer goes out regardless.
        with contextlib.suppress(Exception):
            await message.delete()
    await _send(message, outcome)


@router.message()
async def on_other(message: Message, state: FSMContext, **data: Any) -> None:
    """Stickers, voice notes, photos: the dialogue answers as to a message it did not understand."""
    incoming = Incoming(text="", address=str(message.chat.id), private=message.chat.type == "private")
    await _send(message, await _run(state, incoming, _deps(data, message.chat.id)))


@router.callback_query()
async def on_choice(query: CallbackQuery, state: FSMContext, **data: Any) -> None:
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return
    incoming = Incoming(
        choice=keyboards.choice_of(query.data) or "-",
        channel="telegram",
        address=str(message.chat.id),
        user_id=str(query.from_user.id),
        private=message.chat.type == "private",
    )
    await _send(message, await _run(state, incoming, _deps(data, message.chat.id)))
