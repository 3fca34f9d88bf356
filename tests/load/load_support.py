"""The load check's moving parts: a registry to load against, the fake Bot API's replies per chat, the
real `yibao` processes. Kept apart from the test so the same scenario is easy to re-run after the
resident dialogue changes: the test asserts error texts and stored data, never reply wording.

What the dialogue stores for a chat's place is read in one place, `remembered_place`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, func, select

from bot.fakeapi import FakeBotAPI

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "123456:TEST-load_token"
# 五河's ordinary deadline minus 7 days: a reminder wave is due, and every question has an answer.
TODAY = dt.date(2023, 12, 24)
# Typed place names (no buttons: the keyboards may change) and the locality each one means.
PLACES = {"五河县": "wuhe", "滕州市": "tengzhou", "唐河县": "tanghe", "桃园镇": "taoyuan"}
QUESTIONS = ("低保户交多少钱", "什么时候截止")
DEMO_LOCALITIES = ("taoyuan", "wuhe", "tengzhou")  # tanghe arrives by the roster import during the load
IMPORT_LOCALITY = "tanghe"
REMINDED_LOCALITY = "wuhe"
ERROR_MARKS = ("出了点问题",)  # the error guard's apology (handlers.middlewares.errors.SORRY_TEXT)
LOCKED = "database is locked"


def remembered_place(engine: Engine, chat_id: int) -> str | None:
    """The locality the bot stored for the chat (its chat profile, keyed by channel and address)."""
    from bot.registry.profiles import remembered_place as stored

    found = stored(chat_id, engine=engine)
    return found.locality_id if found is not None else None


@dataclass
class Prepared:
    url: str
    roster: Path
    roster_rows: int
    subscribers: list[int] = field(default_factory=list)


def prepare(url: str, tmp: Path) -> Prepared:
    """Demo residents for three localities, every 五河 household subscribed to reminders (chat ids
    800000+), and a roster file for the fourth locality to import while the bot is busy."""
    from sqlmodel import Session

    from bot import clock
    from bot.registry import db, demo
    from bot.registry.models import ChatLink, Household
    from bot.settings import Settings

    clock.set_today(TODAY)
    try:
        engine = db.open_db(Settings(database_url=url))
        with db.session_scope(engine) as s:
            for loc in DEMO_LOCALITIES:
                demo.generate(s, loc, scale=0.002, seed=1)
        with db.session_scope(engine) as s:
            households = s.execute(select(Household.id).where(Household.locality_id == REMINDED_LOCALITY)).scalars().all()
            chats = [800_000 + i for i in range(len(households))]
            for chat_id, hh in zip(chats, households, strict=True):
                s.add(ChatLink(chat_id=chat_id, household_id=hh))
        scratch = db.get_engine(f"sqlite:///{tmp / 'scratch.db'}")
        db.prepare(scratch)
        with Session(scratch) as s:
            demo.generate(s, IMPORT_LOCALITY, scale=0.005, seed=7, out_dir=tmp / "roster")
            s.rollback()
        scratch.dispose()
    finally:
        clock.set_today(None)
    roster = tmp / "roster" / "roster.csv"
    rows = sum(1 for _ in roster.open(encoding="utf-8")) - 1
    return Prepared(url=url, roster=roster, roster_rows=rows, subscribers=chats)


def env(url: str, api_base: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "STATUS_API_URL", "BOT_TOKEN")}
    out.update({"DATABASE_URL": url, "YIBAO_TODAY": TODAY.isoformat(), "BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE": api_base, "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1",
                # Reminders go out whatever the hour the suite runs, fast enough to overlap the chats.
                "QUIET_HOURS_START": "00:00", "QUIET_HOURS_END": "00:00", "SEND_RATE_PER_SECOND": "200"})
    return out


def start(args: list[str], environ: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bot.cli", *args], cwd=ROOT, env=environ,
                            stdin=subprocess.DEVNULL, stdout=log.open("wb"), stderr=subprocess.STDOUT)


async def finished(proc: subprocess.Popen) -> int:
    """Wait for a process without blocking the event loop."""
    while proc.poll() is None:
        await asyncio.sleep(0.05)
    return proc.returncode


class Inbox:
    """What the bot sent to each chat, read from the in-process fake Bot API."""

    def __init__(self, api: FakeBotAPI, bot: subprocess.Popen, bot_log: Path) -> None:
        self.api, self.bot, self.bot_log = api, bot, bot_log
        self.texts: dict[int, list[str]] = defaultdict(list)
        self._events: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self._seen = 0
        self.dead = False

    async def pump(self) -> None:
        while True:
            calls = self.api.sent
            for call in calls[self._seen:]:
                if call.method == "sendMessage" and call.ok and call.chat_id is not None:
                    self.texts[call.chat_id].append(call.text or "")
                    self._events[call.chat_id].set()
            self._seen = len(calls)
            if self.bot.poll() is not None:
                self.dead = True
                for ev in self._events.values():
                    ev.set()
                return
            await asyncio.sleep(0.02)

    async def reply_after(self, chat_id: int, before: int) -> None:
        """Until the chat has more than `before` messages from the bot (pytest's timeout bounds it)."""
        while len(self.texts[chat_id]) <= before:
            if self.dead:
                raise AssertionError(f"the bot exited:\n{self.bot_log.read_text()[-4000:]}")
            event = self._events[chat_id]
            event.clear()
            await event.wait()

    async def converse(self, chat_id: int, lines: list[str], settle: float = 0.3) -> None:
        """Send each line after the bot has answered the previous one (a step may answer with several
        messages: wait until the chat has been quiet for `settle` seconds)."""
        for text in lines:
            before = len(self.texts[chat_id])
            self.api.push_text(chat_id, text)
            await self.reply_after(chat_id, before)
            while True:
                seen = len(self.texts[chat_id])
                await asyncio.sleep(settle)
                if len(self.texts[chat_id]) == seen:
                    break


def handled(log: Path) -> int:
    """Updates the bot has finished with (aiogram logs one line per update at INFO)."""
    text = log.read_text(errors="replace")
    return text.count(" is handled. Duration") + text.count(" is not handled. Duration")


async def all_handled(n: int, bot: subprocess.Popen, log: Path) -> None:
    """Until the bot has finished handling `n` updates (pytest's timeout bounds the wait)."""
    while handled(log) < n:
        if bot.poll() is not None:
            raise AssertionError(f"yibao run exited:\n{log.read_text()[-4000:]}")
        await asyncio.sleep(0.2)


async def wait_polling(api: FakeBotAPI, bot: subprocess.Popen, log: Path) -> None:
    """Until the bot has long-polled once; no deadline of its own (the bot exiting, or pytest's timeout)."""
    while api.stats["by_method"].get("getUpdates", 0) == 0:
        if bot.poll() is not None:
            raise AssertionError(f"yibao run exited ({bot.returncode}):\n{log.read_text()[-4000:]}")
        await asyncio.sleep(0.05)


async def outbox_drained(engine: Engine, bot: subprocess.Popen, log: Path) -> dict[str, int]:
    """Until no reminder is pending or being sent; returns the outbox counts."""
    from bot.registry import db
    from scheduler import outbox

    while True:
        with db.read_scope(engine) as s:
            counts = outbox.counts(s)
        if counts["pending"] == 0 and counts["sending"] == 0:
            return counts
        if bot.poll() is not None:
            raise AssertionError(f"yibao run exited with reminders unsent:\n{log.read_text()[-4000:]}")
        await asyncio.sleep(0.2)


def count_people(engine: Engine, locality_id: str) -> int:
    from bot.registry import db
    from bot.registry.models import Household, Person

    with db.read_scope(engine) as s:
        return int(s.execute(select(func.count()).select_from(Person).join(Household, Person.household_id == Household.id)
                             .where(Household.locality_id == locality_id)).scalar_one())


@contextmanager
def fresh_pg_database() -> Iterator[str | None]:
    """A new, empty PostgreSQL database (dropped afterwards), or None without DATABASE_URL_PG."""
    from bot.registry import db

    base = os.environ.get("DATABASE_URL_PG")
    if not base:
        yield None
        return
    with db.scratch_database(base, "yibao_load") as url:
        yield url


def problems_in(text: str) -> list[str]:
    """Lines of a process log that mean something went wrong under load."""
    marks = (LOCKED, "Traceback", "ERROR handlers.errors", "update failed")
    return [line for line in text.splitlines() if any(m in line for m in marks)]

