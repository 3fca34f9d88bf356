"""WeChat messages in, dialogue replies out: the WeChat twin of handlers/resident/dialogue.py.

inbound message → `Incoming` (a number picks from the choices shown last; a menu click carries a
choice value; a voice message is read through WeChat's speech recognition) → `bot.conversation.handle`
in a worker thread → new state stored per openid → replies rendered as text (wechat.render).

Messages of one openid are handled one at a time (a lock per openid: in this process, and in Redis
across processes when REDIS_URL is set), so state is never lost between two quick messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import weakref
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Engine

from bot.conversation import DialogueState, Incoming, handle
from bot.conversation.deps import Deps
from bot.registry.chats import WECHAT, Chat
from bot.settings import Settings
from wechat import render
from wechat.messages import Inbound
from wechat.store import PREFIX, DialogueStore

log = logging.getLogger(__name__)

START = "/start"


def incoming_of(msg: Inbound, shown: list[str]) -> Incoming | None:
    """The dialogue input for a WeChat message or event; None for events that need no answer."""
    chat = dict(channel=WECHAT, address=msg.from_user, user_id=msg.from_user, private=True)
    if msg.msg_type == "event":
        event = (msg.event or "").lower()
        if event == "subscribe":  # followed the account: greet as /start does
            return Incoming(text=START, **chat)
        if event == "click" and msg.event_key:
            if msg.event_key.startswith("text:"):
                return Incoming(text=msg.event_key[len("text:"):], **chat)
            return Incoming(choice=msg.event_key, **chat)
        return None
    if msg.msg_type == "text" and msg.content is not None:
        value = render.picked(msg.content, shown)
        return Incoming(choice=value, **chat) if value else Incoming(text=msg.content, **chat)
    if msg.msg_type == "voice" and msg.recognition:
        return Incoming(text=msg.recognition, **chat)
    return Incoming(text="", **chat)  # pictures, stickers, voice without recognition: "not understood"


class WeChatDialogue:
    def __init__(self, settings: Settings, engine: Engine, store: DialogueStore, redis: Any | None = None) -> None:
        self.settings, self.engine, self.store, self.redis = settings, engine, store, redis
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @contextlib.asynccontextmanager
    async def _one_at_a_time(self, openid: str) -> AsyncIterator[None]:
        lock = self._locks.get(openid)
        if lock is None:
            lock = self._locks[openid] = asyncio.Lock()
        async with lock:
            if self.redis is None:
                yield
                return
            async with self.redis.lock(f"{PREFIX}lock:{openid}", timeout=60, blocking_timeout=30):
                yield

    async def answer(self, msg: Inbound) -> list[str]:
        """The messages answering `msg` (empty for events that need none); state stored before returning."""
        chat = Chat(WECHAT, msg.from_user)
        if msg.msg_type == "event" and (msg.event or "").lower() == "unsubscribe":
            await asyncio.to_thread(self._unfollowed, chat)
            return []
        async with self._one_at_a_time(msg.from_user):
            stored = await self.store.load(chat)
            incoming = incoming_of(msg, list(stored.get("choices") or []))
            if incoming is None:
                return []
            deps = Deps(self.settings, self.engine, chat)
            state = DialogueState.from_dict(stored.get("dialogue"))
            outcome = await asyncio.to_thread(functools.partial(self._run, chat, state, incoming, deps))
            messages, values = render.render(outcome.replies)
            await self.store.save(chat, {"dialogue": outcome.state.to_dict(), "choices": values})
        return messages

    def _run(self, chat: Chat, state: DialogueState, incoming: Incoming, deps: Deps) -> Any:
        from bot.registry import profiles

        profiles.seen(chat, engine=self.engine)  # opens the 48-hour 客服 window
        return handle(state, incoming, deps)

    def _unfollowed(self, chat: Chat) -> None:
        """The user unfollowed the account: nothing can reach them any more, so their reminders end."""
        from bot.registry import subscriptions

        ended = subscriptions.unsubscribe(chat, engine=self.engine)
        if ended:
            log.info("wechat: %s unfollowed; %d reminder subscriptions ended", chat.masked(), ended)
