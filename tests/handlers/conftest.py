"""Driving the bot without Telegram: the production dispatcher with its real middleware stack, a
mocked Bot session that records every API call (in the spirit of aiogram's tests/mocked_bot.py), and
a temp SQLite registry with demo data."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.methods import SendMessage, TelegramMethod
from aiogram.types import CallbackQuery, Chat, InlineKeyboardMarkup, Message, Update, User

from bot import clock
from bot.settings import Settings

TODAY = dt.date(2023, 11, 20)


class MockedSession(BaseSession):
    """Records each Bot API call and answers it the way Telegram would, without a network."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[TelegramMethod[Any]] = []
        self._ids = itertools.count(10_000)
        self.fail_delete = False

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        self.calls.append(method)
        name = type(method).__name__
        if name == "SendMessage":
            return Message(
                message_id=next(self._ids),
                date=dt.datetime.now(dt.UTC),
                chat=Chat(id=method.chat_id, type="private"),
                from_user=User(id=42, is_bot=True, first_name="bot"),
                text=method.text,
                reply_markup=method.reply_markup,
            )
        if name == "DeleteMessage" and self.fail_delete:
            from aiogram.exceptions import TelegramBadRequest

            raise TelegramBadRequest(method=method, message="Bad Request: message can't be deleted")
        return True

    async def close(self) -> None:  # nothing to close
        return None

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncIterator[bytes]:  # pragma: no cover
        yield b""


def _buttons(markup: Any) -> list[tuple[str, str]]:
    if not isinstance(markup, InlineKeyboardMarkup):
        return []
    return [(b.text, b.callback_data or "") for row in markup.inline_keyboard for b in row]


class Conversation:
    """One resident's chat: `say` a text, `press` a button of the last keyboard, read the replies."""

    def __init__(self, dp: Dispatcher, bot: Bot, session: MockedSession, chat_id: int,
                 chat_type: str = "private") -> None:
        self.dp, self.bot, self.session, self.chat_id = dp, bot, session, chat_id
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self.user = User(id=abs(chat_id), is_bot=False, first_name="居民")
        self.chat = Chat(id=chat_id, type=chat_type)
        self.keyboard: list[tuple[str, str]] = []
        self.last_message_id: int | None = None

    def _sent_since(self, start: int) -> list[SendMessage]:
        return [c for c in self.session.calls[start:] if isinstance(c, SendMessage)]

    async def _feed(self, update: Update) -> list[str]:
        start = len(self.session.calls)
        await self.dp.feed_update(self.bot, update)
        sent = self._sent_since(start)
        for m in sent:
            if m.reply_markup is not None:
                self.keyboard = _buttons(m.reply_markup)
        self.calls = self.session.calls[start:]
        return [m.text for m in sent]

    async def say(self, text: str) -> list[str]:
        self.last_message_id = next(self._message_ids)
        msg = Message(message_id=self.last_message_id, date=dt.datetime.now(dt.UTC), chat=self.chat,
                      from_user=self.user, text=text)
        return await self._feed(Update(update_id=next(self._update_ids), message=msg))

    async def press(self, label: str) -> list[str]:
        """Press the button whose label contains `label` on the latest keyboard."""
        matches = [data for text, data in self.keyboard if label in text]
        assert matches, f"no button {label!r} in {[t for t, _ in self.keyboard]}"
        return await self.press_data(matches[0])

    async def press_data(self, data: str) -> list[str]:
        origin = Message(message_id=next(self._message_ids), date=dt.datetime.now(dt.UTC), chat=self.chat,
                         from_user=User(id=42, is_bot=True, first_name="bot"), text="…")
        query = CallbackQuery(id=str(next(self._update_ids)), from_user=self.user, chat_instance="ci",
                              message=origin, data=data)
        return await self._feed(Update(update_id=next(self._update_ids), callback_query=query))

    def labels(self) -> list[str]:
        return [t for t, _ in self.keyboard]

    def deleted(self) -> bool:
        return any(type(c).__name__ == "DeleteMessage" for c in self.calls)


@pytest.fixture()
def db_engine(tmp_path: Path) -> Iterator[Any]:
    from sqlmodel import Session

    from bot.registry import db

    clock.set_today(TODAY)
    engine = db.get_engine(f"sqlite:///{tmp_path / 'resident.db'}")
    db.ensure_schema(engine)
    with Session(engine) as s:
        db.seed_localities(s)
        s.commit()
    yield engine
    clock.set_today(None)
    engine.dispose()


@pytest.fixture()
def demo(db_engine: Any) -> dict[str, Any]:
    """Generated registry data for wuhe (small scale); samples are (id_number, name, paid)."""
    from sqlmodel import Session

    from bot.registry import demo as demo_data

    with Session(db_engine) as s:
        summary = demo_data.generate(s, "wuhe", scale=0.002, seed=7)
        s.commit()
    return {"samples": list(summary.samples)}


@pytest.fixture()
def settings() -> Settings:
    return Settings(bot_token="42:TEST", status_api_url=None, lookup_limit=5, lookup_window_seconds=600)


@pytest.fixture()
async def talk(db_engine: Any, settings: Settings) -> AsyncIterator[Callable[[int], Conversation]]:
    """The production dispatcher (contract router order, the real middleware stack) on a mocked Bot
    session and a temp SQLite registry."""
    from bot.app import build_dispatcher
    from handlers.resident import router

    dp = build_dispatcher(settings, engine=db_engine, storage=MemoryStorage(), flood_guard=False)
    session = MockedSession()
    bot = Bot(token="42:TEST", session=session)
    chats: dict[int, Conversation] = {}

    def conversation(chat_id: int = 777, *, chat_type: str = "private") -> Conversation:
        if chat_id not in chats:
            chats[chat_id] = Conversation(dp, bot, session, chat_id, chat_type=chat_type)
        return chats[chat_id]

    conversation.engine = db_engine  # type: ignore[attr-defined]
    try:
        yield conversation
    finally:
        # The resident router is a module-level singleton: detach it so the next test's dispatcher can
        # include it again.
        router._parent_router = None


def make_id(region: str, born: dt.date, seq: int) -> str:
    """A valid-looking generated ID number (not a real person's): region, birth date, sequence, check digit."""
    from stdnum.cn import ric

    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # the function reads 17 digits + a placeholder


@pytest.fixture()
def residents(db_engine: Any) -> dict[str, dict[str, Any]]:
    """Three wuhe residents in one household: paid, unpaid ordinary, unpaid 低保 (generated IDs)."""
    from sqlmodel import Session, select

    from bot.policy import get_pack
    from bot.registry.models import Area, CategoryMembership, Household, Payment, Person

    pack = get_pack("wuhe")
    year = pack.coverage_year
    out: dict[str, dict[str, Any]] = {}
    with Session(db_engine) as s:
        town = s.exec(select(Area).where(Area.locality_id == "wuhe", Area.level == "town")).first()
        hh = Household(locality_id="wuhe", code="H-TEST-1", area_id=town.id)
        s.add(hh)
        s.flush()
        plan = (
            ("paid", "李建国", dt.date(1965, 4, 12), None, True),
            ("unpaid", "李秀英", dt.date(1968, 9, 3), None, False),
            ("dibao", "李小明", dt.date(1990, 1, 20), "dibao", False),
        )
        for n, (key, name, born, category, paid) in enumerate(plan, start=1):
            number = make_id(pack.locality.division_code, born, 100 + n)
            p = Person(id_number=number, name=name, household_id=hh.id, relation="户主" if n == 1 else "家属",
                       area_id=town.id, birth_date=born)
            s.add(p)
            s.flush()
            if category:
                s.add(CategoryMembership(person_id=p.id, category=category))
            if paid:
                paid_on = pack.dates.periods[0].end.replace(day=1)
                s.add(Payment(person_id=p.id, coverage_year=year, paid_on=paid_on,
                              amount=pack.financing.personal.value, channel="微信", source_file="test"))
            out[key] = {"id": number, "name": name, "person_id": p.id, "household_id": hh.id,
                        "birth_date": born, "categories": (category,) if category else ()}
        s.commit()
    return out
