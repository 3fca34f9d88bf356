"""The webhook endpoint is public: it refuses to exist without a secret, acts only on updates that
carry it (compared in constant time, any header bytes), and answers a malformed update with 400 and
one masked log line instead of a 500 and a traceback holding what the resident typed."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import logging
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiogram import BaseMiddleware, Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.types import Chat, Message, TelegramObject, User
from aiohttp.test_utils import TestClient, TestServer
from e2e_support import base_env, free_port
from sqlmodel import Session

from bot.app import (
    SECRET_HEADER,
    WebhookSecretError,
    build_dispatcher,
    build_webhook_app,
    check_webhook_secret,
)
from bot.registry.db import open_db
from bot.registry.models import ChatProfile
from bot.settings import Settings

TOKEN = "123456789:AAEexampleexampleexampleexample1234"
SECRET = "s" * 8 + "0123456789abcdefghijklmnopqrstuvwxyz_-"
NUMBER = "340321194912110013"  # generated, not a real person's


class RecordingSession(BaseSession):
    """Answers Bot API calls like Telegram would and records them (no network)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[TelegramMethod[Any]] = []
        self._ids = itertools.count(1000)

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        self.calls.append(method)
        if type(method).__name__ == "SendMessage":
            return Message(message_id=next(self._ids), date=dt.datetime.now(dt.UTC),
                           chat=Chat(id=method.chat_id, type="private"),
                           from_user=User(id=1, is_bot=True, first_name="bot"), text=method.text)
        return True

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncIterator[bytes]:  # pragma: no cover
        yield b""


class SeenUpdates(BaseMiddleware):
    """Records the id of every update the dispatcher is given."""

    def __init__(self) -> None:
        self.ids: list[int] = []

    async def __call__(self, handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
                       event: TelegramObject, data: dict[str, Any]) -> Any:
        self.ids.append(event.update_id)  # type: ignore[attr-defined]
        return await handler(event, data)


def update(update_id: int, chat_id: int, text: str) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id, "date": 1700000000, "text": text,
            "chat": {"id": chat_id, "type": "private", "first_name": "居民"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "居民"},
        },
    }


@pytest.fixture()
async def served(tmp_path) -> AsyncIterator[tuple[TestClient, RecordingSession, SeenUpdates, Any]]:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/w.db", bot_token=TOKEN, webhook_secret=SECRET)
    engine = open_db(settings)
    dp = build_dispatcher(settings, engine=engine)
    seen = SeenUpdates()
    dp.update.outer_middleware(seen)
    recorder = RecordingSession()
    bot = Bot(TOKEN, session=recorder)
    client = TestClient(TestServer(build_webhook_app(settings, dp=dp, bot=bot)))
    await client.start_server()
    try:
        yield client, recorder, seen, engine
    finally:
        await client.close()


async def _handled(seen: SeenUpdates, update_id: int, recorder: RecordingSession) -> None:
    """Wait until the dispatcher has handled `update_id` and replied (handling runs in the background)."""
    for _ in range(600):
        if update_id in seen.ids and recorder.calls:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"update {update_id} was never handled")


def test_no_secret_no_endpoint() -> None:
    for bad in (None, "", "   ", "short", "x" * 31, "有中文的密钥" * 8, "a b" * 20):
        with pytest.raises(WebhookSecretError) as err:
            check_webhook_secret(bad)
        assert "WEBHOOK_SECRET" in err.value.message and "\n" not in err.value.message
        if bad and bad.strip():
            assert bad.strip() not in err.value.message  # a secret is never echoed
    settings = Settings(database_url="sqlite://", bot_token=TOKEN, webhook_secret=None)
    with pytest.raises(WebhookSecretError):
        build_webhook_app(settings, dp=None, bot=None)  # type: ignore[arg-type]
    assert check_webhook_secret(f"  {SECRET} ") == SECRET


async def test_unsigned_or_wrongly_signed_updates_are_refused_and_never_acted_on(served) -> None:
    client, recorder, seen, engine = served
    forged = [
        {},  # no header at all
        {SECRET_HEADER: ""},
        {SECRET_HEADER: SECRET[:-1]},
        {SECRET_HEADER: SECRET + "x"},
        {SECRET_HEADER: "ключ-" + SECRET},  # non-ASCII: constant-time compare of str would raise (500)
    ]
    for n, headers in enumerate(forged, start=1):
        resp = await client.post("/webhook", data=json.dumps(update(n, 7000 + n, "/stop")), headers=headers)
        assert resp.status in (401, 403), (headers, resp.status)
    # A signed update after them is handled, so the endpoint works and the forged ones were not queued.
    resp = await client.post("/webhook", json=update(99, 7099, "/stop"), headers={SECRET_HEADER: SECRET})
    assert resp.status == 200
    await _handled(seen, 99, recorder)
    assert seen.ids == [99]
    assert {c.chat_id for c in recorder.calls if hasattr(c, "chat_id")} == {7099}
    with Session(engine) as s:
        assert all(s.get(ChatProfile, ("telegram", str(7000 + n))) is None for n in range(1, len(forged) + 1))


MALFORMED: dict[str, bytes] = {
    "wrong type with an ID in the text": json.dumps(
        {**update(1, 8001, f"我的身份证 {NUMBER[:6]} {NUMBER[6:14]} {NUMBER[14:]}"), "update_id": "x" + NUMBER}
    ).encode(),
    "missing fields, ID in a field": json.dumps({"update_id": 5, "message": {"text": NUMBER}}).encode(),
    "not JSON": f"{{\"update_id\": 1, \"text\": \"{NUMBER}".encode(),
    "a JSON list": json.dumps([NUMBER]).encode(),
    "not UTF-8": b"\xff\xfe" + NUMBER.encode("utf-16-le"),
    "nested 100,000 deep": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("body", MALFORMED, ids=list(MALFORMED))
async def test_malformed_update_gets_400_and_one_masked_line(served, caplog, body: str) -> None:
    client, recorder, seen, _ = served
    caplog.set_level(logging.DEBUG)
    resp = await client.post("/webhook", data=MALFORMED[body],
                             headers={SECRET_HEADER: SECRET, "Content-Type": "application/json"})
    assert resp.status == 400
    await asyncio.sleep(0)  # let any stray background task start (there must be none)
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1, [r.getMessage() for r in records]
    line = records[0].getMessage()
    assert "400" in line and records[0].exc_info is None
    assert NUMBER not in re.sub(r"[^0-9]", "", line), line
    assert seen.ids == [] and recorder.calls == []


@pytest.mark.slow
def test_yibao_webhook_refuses_to_start_without_a_secret(tmp_path) -> None:
    env = base_env(f"sqlite:///{tmp_path}/none.db", BOT_TOKEN=TOKEN, WEBHOOK_PORT=str(free_port()))
    env.pop("WEBHOOK_SECRET", None)
    for secret in (None, "tooshort"):
        if secret is not None:
            env["WEBHOOK_SECRET"] = secret
        out = subprocess.run([sys.executable, "-m", "bot.cli", "webhook"], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=60)
        lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
        assert out.returncode == 2, out.stderr[-2000:]
        assert len(lines) == 1 and "WEBHOOK_SECRET" in lines[0] and "Traceback" not in out.stderr, lines
        assert "secrets.token_urlsafe" in lines[0]  # says how to make one
        assert not (tmp_path / "none.db").exists()  # refused before touching the database
