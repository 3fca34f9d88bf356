"""Addresses that asked for no more reminders on a channel (table channel_opt_out): a phone that
replied TD (退订) to a reminder text, or that the SMS provider reports as opted out. The campaign
builder leaves them out and the SMS sender checks again right before sending.

Each call is one short transaction of its own.
"""

from __future__ import annotations

from sqlalchemy import Engine

from bot import clock
from bot.registry.chats import Chat
from bot.registry.db import session_scope
from bot.registry.models import ChannelOptOut


def opt_out(chat: Chat, reason: str, *, engine: Engine | None = None) -> bool:
    """Record the opt-out; False when it was already recorded (the first reason and time are kept)."""
    with session_scope(engine) as session:
        if session.get(ChannelOptOut, (chat.channel, chat.address)) is not None:
            return False
        session.add(ChannelOptOut(channel=chat.channel, address=chat.address, at=clock.now(), reason=reason[:64]))
        return True


def opted_out(chat: Chat, *, engine: Engine | None = None) -> bool:
    with session_scope(engine) as session:
        return session.get(ChannelOptOut, (chat.channel, chat.address)) is not None
