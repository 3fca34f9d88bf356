"""WeChat's access token: fetched with the app id and secret, shared by every process, refreshed before
it expires, one refresh at a time.

WeChat gives a token for 7,200 s and a new one invalidates the old after a few minutes, so processes
must not each fetch their own: the token lives in Redis when REDIS_URL is set, else in the database
(`api_token`), and a refresh takes a shared lock (a Redis lock, or the `scheduler_lease` row
`wechat-token:<appid>`) so only one process asks WeChat while the others wait and reuse its answer.
Expiry is wall-clock time (WeChat's), not `bot.clock`'s pinned day.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)

REFRESH_MARGIN_SECONDS = 300  # refresh this long before the token expires
LOCK_SECONDS = 15.0


@dataclass(frozen=True)
class Token:
    value: str
    expires_at: float  # Unix time

    def fresh(self, now: float | None = None) -> bool:
        return self.expires_at - (now if now is not None else time.time()) > REFRESH_MARGIN_SECONDS


class RedisTokenStore:
    def __init__(self, redis: Any, name: str) -> None:
        self.redis, self.key = redis, f"yibao:wechat:token:{name}"

    async def get(self) -> Token | None:
        raw = await self.redis.get(self.key)
        if not raw:
            return None
        data = json.loads(raw)
        return Token(data["value"], float(data["expires_at"]))

    async def put(self, token: Token) -> None:
        ttl = max(1, int(token.expires_at - time.time()))
        await self.redis.set(self.key, json.dumps({"value": token.value, "expires_at": token.expires_at}), ex=ttl)

    @contextlib.asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        async with self.redis.lock(self.key + ":lock", timeout=LOCK_SECONDS, blocking_timeout=LOCK_SECONDS * 2):
            yield


class DbTokenStore:
    def __init__(self, engine: Engine, name: str) -> None:
        self.engine, self.name = engine, f"wechat-token:{name}"
        self.holder = uuid.uuid4().hex

    async def get(self) -> Token | None:
        return await asyncio.to_thread(self._get)

    def _get(self) -> Token | None:
        from bot.registry.db import session_scope
        from bot.registry.models import ApiToken

        with session_scope(self.engine) as session:
            row = session.get(ApiToken, self.name)
            return None if row is None else Token(row.value, row.expires_at.timestamp())

    async def put(self, token: Token) -> None:
        await asyncio.to_thread(self._put, token)

    def _put(self, token: Token) -> None:
        from bot.registry.db import insert_for
        from bot.registry.models import ApiToken

        # One upsert statement: a read-then-write transaction on SQLite fails at once ("database is
        # locked") when another process writes meanwhile, instead of waiting for it.
        insert = insert_for(self.engine)
        values = {"name": self.name, "value": token.value,
                  "expires_at": dt.datetime.fromtimestamp(token.expires_at, dt.UTC)}
        stmt = insert(ApiToken).values(**values)
        stmt = stmt.on_conflict_do_update(index_elements=["name"],
                                          set_={"value": stmt.excluded.value, "expires_at": stmt.excluded.expires_at})
        with self.engine.begin() as conn:
            conn.execute(stmt)

    @contextlib.asynccontextmanager
    async def lock(self) -> AsyncIterator[None]:
        deadline = time.monotonic() + LOCK_SECONDS * 2
        while not await asyncio.to_thread(self._acquire):
            if time.monotonic() > deadline:
                raise TimeoutError("another process holds the WeChat token refresh lock")
            await asyncio.sleep(0.1)
        try:
            yield
        finally:
            await asyncio.to_thread(self._release)

    def _acquire(self) -> bool:
        from bot.registry.db import session_scope
        from scheduler import leases

        with session_scope(self.engine) as session:
            return leases.acquire(session, self.name, self.holder, LOCK_SECONDS)

    def _release(self) -> None:
        from bot.registry.db import session_scope
        from scheduler import leases

        with session_scope(self.engine) as session:
            leases.release(session, self.name, self.holder)


class AccessTokens:
    """`await tokens.get()` for a usable token; `await tokens.refresh(stale)` when WeChat refused one."""

    def __init__(self, store: Any, fetch: Any) -> None:
        self.store = store
        self._fetch = fetch  # async () -> Token: asks WeChat
        self._cached: Token | None = None
        self._local = asyncio.Lock()

    async def get(self) -> str:
        if self._cached is not None and self._cached.fresh():
            return self._cached.value
        shared = await self.store.get()
        if shared is not None and shared.fresh():
            self._cached = shared
            return shared.value
        return await self.refresh()

    async def refresh(self, stale: str | None = None) -> str:
        """A new token, unless another coroutine or process got one meanwhile (then that one)."""
        async with self._local, self.store.lock():
            shared = await self.store.get()
            if shared is not None and shared.fresh() and shared.value != stale:
                self._cached = shared
                return shared.value
            token = await self._fetch()
            await self.store.put(token)
            self._cached = token
            log.info("wechat: new access token, valid for %d s", int(token.expires_at - time.time()))
            return token.value
