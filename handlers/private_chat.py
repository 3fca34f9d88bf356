"""Personal data stays in private chats: the one line a group gets instead, and deleting a message
that holds an ID number wherever it was sent (staff commands, wrong places)."""

from __future__ import annotations

import contextlib

from aiogram.enums import ChatType
from aiogram.types import Message

from bot.registry import ids

PRIVATE_ONLY = "为保护个人信息，请私聊我使用这个功能。"

async def is_command(message: Message) -> bool:
    """Router-level filter of the staff and admin routers: only commands reach their handlers, so a
    resident's plain message passes them by with one check (a coroutine: no worker-thread hop)."""
    return bool(message.text) and message.text.startswith("/")


async def IN_GROUP(message: Message) -> bool:  # noqa: N802 - used as a filter, reads like one
    """Filter for handlers answering a command sent in a group, supergroup or channel. A coroutine, not
    a magic filter: aiogram runs a synchronous filter in a worker thread, a hop per update."""
    return message.chat.type != ChatType.PRIVATE


def holds_id(message: Message) -> bool:
    """True when the message's text or caption holds anything the ID detector reads as a number."""
    return bool(ids.find_ids(message.text or message.caption or ""))


async def delete_if_holds_id(message: Message) -> bool:
    """Delete the message when it holds an ID number (Telegram may refuse: too old, no rights in a
    group; the caller goes on regardless). True when it held one, so the caller can say so."""
    if not holds_id(message):
        return False
    with contextlib.suppress(Exception):
        await message.delete()
    return True
