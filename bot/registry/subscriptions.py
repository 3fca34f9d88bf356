"""Reminder subscriptions (ChatLink): a chat linked to a person or a household, with the time of consent.

Each call is one short transaction, committed before it returns, so the dialogue confirms a
subscription or an opt-out only once it is stored. A chat is a `Chat` (any channel) or a Telegram
chat id. A resident subscribed on two channels keeps both links; the campaign builder reminds a
household on the channel subscribed last (scheduler.channels.recipients).
"""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import select

from bot import clock
from bot.registry.chats import Chat
from bot.registry.db import session_scope
from bot.registry.models import ChatLink


def _chat(chat: Chat | int) -> Chat:
    found = Chat.of(chat)
    assert found is not None
    return found


def subscribe(chat_id: Chat | int, *, person_id: int | None, household_id: int | None,
              engine: Engine | None = None) -> bool:
    """Link the chat to a household (household_id) or to one person; False when already subscribed."""
    chat = _chat(chat_id)
    with session_scope(engine) as session:
        links = session.exec(select(ChatLink).where(*chat.match(ChatLink), ChatLink.active == True))  # noqa: E712
        for link in links:
            same = link.household_id == household_id if household_id is not None else (
                link.person_id == person_id and link.household_id is None)
            if same:
                return False
        session.add(ChatLink(**chat.columns(), person_id=None if household_id is not None else person_id,
                             household_id=household_id, consent_at=clock.now(), active=True))
        return True


def unsubscribe(chat_id: Chat | int, *, engine: Engine | None = None) -> int:
    """End every active subscription of the chat; returns how many there were."""
    chat = _chat(chat_id)
    with session_scope(engine) as session:
        links = list(session.exec(select(ChatLink).where(*chat.match(ChatLink), ChatLink.active == True)))  # noqa: E712
        now = clock.now()
        for link in links:
            link.active, link.ended_at = False, now
            session.add(link)
        return len(links)
