"""Helpers of the bot's end-to-end tests: processes, and a conversation driver speaking to the fake
Bot API over its /_fake/ HTTP controls. (Not named conftest: test dirs have no __init__.py.)"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from bot.fakeapi import FakeAPIClient

TODAY = dt.date(2023, 11, 20)
TOKEN = "123456:TEST-e2e_token"
LOCALITIES = ("taoyuan", "wuhe", "tengzhou", "tanghe")
ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def yibao(*args: str, env: dict[str, str], log: Path, stdin: Any = subprocess.DEVNULL) -> subprocess.Popen:
    """Start `yibao ARGS` as its own process (the real CLI entry point)."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=env, stdin=stdin,
        stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _exited(proc: subprocess.Popen, log: Path) -> RuntimeError:
    return RuntimeError(f"process exited early ({proc.returncode}):\n{log.read_text()[-3000:]}")


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float | None = None) -> None:
    """Until `url` answers. No deadline of its own by default: a loaded CI machine may take long to
    start a process, and a process that cannot start exits (reported with its log); pytest's overall
    timeout bounds the rest."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while deadline is None or time.monotonic() < deadline:
        if proc.poll() is not None:
            raise _exited(proc, log)
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} not up:\n{log.read_text()[-3000:]}")


def polls(base: str) -> int:
    """How many getUpdates calls the fake Bot API at `base` has answered."""
    return int(httpx.get(f"{base}/_fake/stats", timeout=5).json()["result"]["by_method"].get("getUpdates", 0))


def wait_polling(base: str, proc: subprocess.Popen, log: Path) -> None:
    """Until the bot process has long-polled the fake Bot API at `base` once: it is ready for updates
    (anything still warming up, such as jieba, is waited for by the bot itself). Same no-deadline rule
    as wait_http: the process exiting, or pytest's timeout, ends the wait."""
    while polls(base) == 0:
        if proc.poll() is not None:
            raise _exited(proc, log)
        time.sleep(0.05)


def base_env(db_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "STATUS_API_URL", "BOT_TOKEN")}
    env.update({"DATABASE_URL": db_url, "YIBAO_TODAY": TODAY.isoformat(), "BOT_TOKEN": TOKEN,
                "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


def money(value: Any) -> str:
    return f"{Decimal(str(value)).normalize():f}"


class Conversation:
    """One user's chat with the bot running in another process."""

    def __init__(self, ctl: FakeAPIClient, chat_id: int) -> None:
        self.ctl, self.chat_id, self.after = ctl, chat_id, 0
        self.last: list[dict[str, Any]] = []

    # Long enough for a loaded CI machine (the bot is known to be polling already); pytest's overall
    # timeout stays the real bound.
    REPLY_WAIT = 240.0

    async def _collect(self, settle: float = 0.4) -> list[dict[str, Any]]:
        calls = await self.ctl.sent(after=self.after, chat_id=self.chat_id, method="sendMessage", count=1,
                                    wait=self.REPLY_WAIT)
        assert calls, f"no reply in chat {self.chat_id}"
        await asyncio.sleep(settle)  # a step may answer with several messages
        calls = await self.ctl.sent(after=self.after, chat_id=self.chat_id)
        self.after = max(c["seq"] for c in calls)
        self.last = calls
        return calls

    @staticmethod
    def texts(calls: list[dict[str, Any]]) -> list[str]:
        return [c["params"].get("text", "") for c in calls if c["method"] == "sendMessage" and c["status"] == 200]

    async def say(self, text: str) -> list[str]:
        await self.ctl.push_text(self.chat_id, text)
        return self.texts(await self._collect())

    async def click(self, label: str) -> list[str]:
        """Press the inline button whose text contains `label` on the latest keyboard."""
        for call in reversed(self.last):
            markup = call["params"].get("reply_markup") or {}
            for row in markup.get("inline_keyboard", []):
                for button in row:
                    if label in button["text"] and button.get("callback_data"):
                        await self.ctl.push_callback(self.chat_id, button["callback_data"],
                                                     message_id=call["result"]["message_id"])
                        return self.texts(await self._collect())
        shown = [b["text"] for c in self.last for r in (c["params"].get("reply_markup") or {}).get(
            "inline_keyboard", []) for b in r]
        raise AssertionError(f"no button with {label!r}; shown: {shown}")


def expected_amount(loc: str, category: str) -> tuple[str, Any]:
    """The personal amount the engine gives for `category` in `loc` on the day the bot asks about."""
    from bot.policy import engine, get_pack
    from bot.policy.engine import Person

    pack = get_pack(loc)
    on = TODAY if pack.dates.benefit.end >= TODAY else pack.dates.collection.end
    answer = engine.amount(pack, Person(categories=(category,)), on)
    assert answer.ok, answer.refusal
    return money(answer.personal), pack
