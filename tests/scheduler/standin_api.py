"""A small stand-in for the project's fake Bot API (bot.fakeapi), same constructor and controls.

Used by the scheduler tests and benchmarks only when `bot.fakeapi` is not installed yet. It speaks just
what the outbox sender calls (sendMessage, sendDocument, sendPhoto, getMe), enforces a global rate
limit over a sliding one-second window and answers 429 with `retry_after` above it, and can block a
chat (403) or fail the next n calls with a status.
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

from aiohttp import web


class FakeBotAPI:
    def __init__(self, rate_limit: float | None = None, per_chat_limit: float | None = None,
                 retry_after: int = 1) -> None:
        self.rate_limit = rate_limit
        self.per_chat_limit = per_chat_limit
        self.retry_after = retry_after
        self.sent: list[dict[str, Any]] = []
        self.rejected_429 = 0
        self._window: deque[float] = deque()
        self._chat_last: dict[int, float] = {}
        self._blocked: set[int] = set()
        self._fail: list[int] = []
        self._runner: web.AppRunner | None = None
        self._next_id = 1

    def block(self, chat_id: int) -> None:
        self._blocked.add(int(chat_id))

    def fail_next(self, n: int, status: int = 500) -> None:
        self._fail.extend([status] * n)

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/_fake/sent", self._http_sent)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        real_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"http://{host}:{real_port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _http_sent(self, request: web.Request) -> web.Response:
        return web.json_response(self.sent)

    @staticmethod
    def _error(code: int, description: str, **params: Any) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if params:
            body["parameters"] = params
        return web.json_response(body, status=code)

    async def _payload(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            return dict(await request.json())
        data: dict[str, Any] = {}
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                data[part.name] = (await part.read()).decode("utf-8", "replace") if part.filename is None else part.filename
        else:
            data.update(await request.post())
        return data

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        data = await self._payload(request)
        if method == "getMe":
            return web.json_response({"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "yibao",
                                                             "username": "yibao_bot"}})
        now = time.monotonic()
        if self._fail:
            status = self._fail.pop(0)
            return self._error(status, "Internal Server Error" if status >= 500 else "Bad Request: injected")
        chat_id = int(data.get("chat_id", 0))
        if self.rate_limit is not None:
            while self._window and now - self._window[0] >= 1.0:
                self._window.popleft()
            if len(self._window) >= self.rate_limit:
                self.rejected_429 += 1
                return self._error(429, f"Too Many Requests: retry after {self.retry_after}",
                                   retry_after=self.retry_after)
        if self.per_chat_limit is not None:
            last = self._chat_last.get(chat_id)
            if last is not None and now - last < 1.0 / self.per_chat_limit:
                self.rejected_429 += 1
                return self._error(429, f"Too Many Requests: retry after {self.retry_after}",
                                   retry_after=self.retry_after)
        if chat_id in self._blocked:
            return self._error(403, "Forbidden: bot was blocked by the user")
        if self.rate_limit is not None:
            self._window.append(now)
        self._chat_last[chat_id] = now
        self.sent.append({"method": method, "chat_id": chat_id, "text": data.get("text") or data.get("caption"),
                          "at": time.time(), "data": data})
        mid, self._next_id = self._next_id, self._next_id + 1
        result = {"message_id": mid, "date": int(time.time()), "chat": {"id": chat_id, "type": "private"},
                  "text": data.get("text") or ""}
        return web.json_response({"ok": True, "result": result})
