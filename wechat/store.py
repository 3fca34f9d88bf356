"""Shared, short-lived state of the WeChat adapter, in Redis when REDIS_URL is set, else in the database
(dialogue state) and in this process (replay marks):

- `DialogueStore`: per-openid dialogue state plus the numbered choices last shown, so several
  `yibao wechat` processes behind one URL continue each other's dialogues;
- `OnceGuard`: "have we seen this before?" for callback nonces (replay) and MsgIds (WeChat's retries).

Without Redis the replay marks live in one process: run a single `yibao wechat` process then, or set
REDIS_URL (the README says so).
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from sqlalchemy import Engine

from bot import clock
from bot.registry.chats import Chat

STATE_TTL_SECONDS = 30 * 86_400  # a dialogue idle for a month starts afresh (the place is kept in the profile)
PREFIX = "yibao:wechat:"


def redis_client(url: str | None) -> Any | None:
    if not url:
        return None
    from redis.asyncio import Redis

    return Redis.from_url(url)


class DialogueStore:
    """{"dialogue": DialogueState.to_dict(), "choices": [values]} per chat."""

    def __init__(self, engine: Engine, redis: Any | None = None) -> None:
        self.engine, self.redis = engine, redis

    async def load(self, chat: Chat) -> dict[str, Any]:
        if self.redis is not None:
            raw = await self.redis.get(f"{PREFIX}state:{chat.address}")
            return json.loads(raw) if raw else {}
        return await asyncio.to_thread(self._load_db, chat)

    async def save(self, chat: Chat, data: dict[str, Any]) -> None:
        if self.redis is not None:
            await self.redis.set(f"{PREFIX}state:{chat.address}", json.dumps(data, ensure_ascii=False),
                                 ex=STATE_TTL_SECONDS)
            return
        await asyncio.to_thread(self._save_db, chat, data)

    def _load_db(self, chat: Chat) -> dict[str, Any]:
        from bot.registry.db import session_scope
        from bot.registry.models import DialogueStateRow

        with session_scope(self.engine) as session:
            row = session.get(DialogueStateRow, (chat.channel, chat.address))
            return dict(row.data) if row is not None else {}

    def _save_db(self, chat: Chat, data: dict[str, Any]) -> None:
        from bot.registry.db import session_scope
        from bot.registry.models import DialogueStateRow

        with session_scope(self.engine) as session:
            row = session.get(DialogueStateRow, (chat.channel, chat.address))
            if row is None:
                row = DialogueStateRow(channel=chat.channel, address=chat.address, data=data)
            row.data, row.updated_at = data, clock.now()
            session.add(row)


class OnceGuard:
    """`first(key, ttl)` is True the first time a key is seen within ttl seconds, False after."""

    MAX_LOCAL = 100_000

    def __init__(self, redis: Any | None = None) -> None:
        self.redis = redis
        self._local: dict[str, float] = {}

    async def first(self, key: str, ttl: int) -> bool:
        if self.redis is not None:
            return bool(await self.redis.set(f"{PREFIX}once:{key}", b"1", nx=True, ex=max(1, ttl)))
        now = time.monotonic()
        if len(self._local) >= self.MAX_LOCAL:
            self._local = {k: v for k, v in self._local.items() if v > now}
        until = self._local.get(key)
        if until is not None and until > now:
            return False
        self._local[key] = now + ttl
        return True
