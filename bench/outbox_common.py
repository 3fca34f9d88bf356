"""Shared plumbing for the outbox benchmarks: a fresh SQLite outbox, the fake Bot API in this process,
the sender as a separate `yibao outbox send` process (so it can be killed -9)."""

from __future__ import annotations

import asyncio
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from bot.fakeapi import FakeBotAPI
from bot.registry import db
from scheduler import outbox
from scheduler.models import OutboxMessage

TOKEN = "123456:BENCH-token"
ROOT = Path(__file__).resolve().parent.parent


def fresh_outbox(n: int, tmp: Path) -> tuple[str, Any]:
    url = f"sqlite:///{tmp / 'bench.db'}"
    os.environ["DATABASE_URL"] = url
    # Bench runs at any hour: quiet hours off for the queue and the sender process.
    os.environ["QUIET_HOURS_START"] = os.environ["QUIET_HOURS_END"] = "00:00"
    from bot.settings import get_settings

    get_settings.cache_clear()
    engine = db.get_engine(url)
    db.ensure_schema(engine)
    with Session(engine) as s:
        for i in range(n):
            outbox.enqueue(s, key=f"bench:{i}", chat_id=10_000 + i, text=f"第{i}条提醒：请于截止日前缴费。")
        s.commit()
    return url, engine


def spawn_sender(url: str, base: str, *, rate: float, paid: bool, lease: float = 30.0) -> asyncio.subprocess.Process:
    env = dict(os.environ, DATABASE_URL=url, BOT_TOKEN=TOKEN, TELEGRAM_API_BASE=base, LOG_LEVEL="WARNING",
               ALLOW_PAID_BROADCAST="true" if paid else "false", QUIET_HOURS_START="00:00", QUIET_HOURS_END="00:00")
    args = [sys.executable, "-m", "bot.cli", "outbox", "send", "--until-empty", "--rate", str(rate),
            "--lease-seconds", str(lease)]
    return asyncio.create_subprocess_exec(*args, env=env, cwd=str(ROOT))  # type: ignore[return-value]


def delivered(api: FakeBotAPI) -> list[Any]:
    return [c for c in api.sent if c.ok and c.method == "sendMessage"]


def rejected_429(api: FakeBotAPI) -> int:
    return sum(1 for c in api.sent if c.status == 429)


def sustained_rate(calls: list[Any]) -> float:
    if len(calls) < 2:
        return 0.0
    return (len(calls) - 1) / (calls[-1].at - calls[0].at)


async def raw_ceiling(api: FakeBotAPI, base: str, n: int, concurrency: int = 32) -> float:
    """Baseline: the fastest this machine pushes sendMessage through the fake API (bare aiohttp, no DB)."""
    import aiohttp

    url = f"{base}/bot{TOKEN}/sendMessage"
    limit = api.rate_limit
    api.configure(rate_limit=None)
    start = time.perf_counter()
    async with aiohttp.ClientSession() as http:
        queue = iter(range(n))

        async def worker() -> None:
            for i in queue:
                async with http.post(url, json={"chat_id": 1 + i, "text": "x"}) as r:
                    await r.read()

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - start
    api.configure(rate_limit=limit)
    api.sent.clear()
    return n / elapsed


def machine() -> str:
    return f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def per_chat(calls: list[Any]) -> Counter:
    return Counter(c.chat_id for c in calls)


def mark_lag_ms(engine: Any, calls: list[Any]) -> list[float]:
    """Telegram's acceptance (fake's clock) to the sender's committed `sent_at`: the duplicate window."""
    from datetime import UTC

    accepted = {c.chat_id: c.at for c in calls}
    with Session(engine) as s:
        rows = s.exec(select(OutboxMessage.chat_id, OutboxMessage.sent_at).where(OutboxMessage.status == "sent"))
        lags = [(sent.replace(tzinfo=UTC).timestamp() - accepted[chat]) * 1000 for chat, sent in rows
                if sent is not None and chat in accepted]
    return lags


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def tmpdir() -> Path:
    return Path(tempfile.mkdtemp(prefix="yibao-outbox-bench-"))


def kill9(proc: asyncio.subprocess.Process) -> None:
    os.kill(proc.pid, signal.SIGKILL)
