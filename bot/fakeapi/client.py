"""HTTP client for the fake Bot API's `/_fake/` control endpoints (when it runs in another process)."""

from __future__ import annotations

from typing import Any

import httpx


class FakeAPIClient:
    def __init__(self, base_url: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.AsyncClient(base_url=self.base_url, timeout=timeout)

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = await self._http.post(f"/_fake/{path}", json=body)
        r.raise_for_status()
        return r.json()

    async def push_text(self, chat_id: int, text: str) -> dict[str, Any]:
        return (await self._post("update", {"chat_id": chat_id, "text": text}))["update"]

    async def push_callback(self, chat_id: int, data: str, message_id: int | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"chat_id": chat_id, "callback_data": data}
        if message_id is not None:
            body["message_id"] = message_id
        return (await self._post("update", body))["update"]

    async def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        return (await self._post("update", {"update": update}))["update"]

    async def sent(
        self, *, after: int = 0, chat_id: int | None = None, method: str | None = None,
        count: int = 0, wait: float = 0.0,
    ) -> list[dict[str, Any]]:
        """Recorded calls after sequence `after`; with count and wait, long-poll until `count` succeed."""
        q: dict[str, Any] = {"after": after, "count": count, "wait": wait}
        if chat_id is not None:
            q["chat_id"] = chat_id
        if method:
            q["method"] = method
        r = await self._http.get("/_fake/sent", params=q, timeout=wait + 30)
        r.raise_for_status()
        return r.json()["result"]

    async def block(self, chat_id: int, blocked: bool = True) -> None:
        await self._post("block", {"chat_id": chat_id, "blocked": blocked})

    async def fail_next(self, n: int = 1, status: int = 500, methods: list[str] | None = None) -> None:
        await self._post("fail_next", {"n": n, "status": status, "methods": methods})

    async def configure(self, *, rate_limit: float | None = None, per_chat_limit: float | None = None,
                        burst: float | None = None) -> None:
        await self._post("config", {"rate_limit": rate_limit, "per_chat_limit": per_chat_limit, "burst": burst})

    async def set_webhooks(self, urls: list[str], secret_token: str | None = None) -> None:
        await self._post("webhooks", {"urls": urls, "secret_token": secret_token})

    async def stats(self) -> dict[str, Any]:
        r = await self._http.get("/_fake/stats")
        r.raise_for_status()
        return r.json()["result"]

    async def reset(self) -> None:
        await self._post("reset", {})

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> FakeAPIClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
