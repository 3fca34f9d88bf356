"""Every message holding an ID number is deleted, however the number is typed (issue 12: 8 of 24
such messages stayed in the chat). Driven through the real dispatcher with recorded API calls."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.types import Chat, Message, Update, User

from bot import clock
from bot.app import build_dispatcher
from bot.registry.db import open_db
from bot.settings import Settings

TOKEN = "123456789:AAEexampleexampleexampleexample1234"
NUMBER = "340321194912110013"  # generated, not a real person's


def spaced(sep: str) -> str:
    return f"{NUMBER[:6]}{sep}{NUMBER[6:14]}{sep}{NUMBER[14:]}"


FORMS = {
    "plain": f"{NUMBER} 张三",
    "two spaces": f"{spaced('  ')} 张三",
    "dots": f"{spaced('.')} 张三",
    "slashes": f"{spaced('/')} 张三",
    "underscores": f"{spaced('_')} 张三",
    "zero-width spaces": "\u200b".join(NUMBER) + " 张三",
    "arabic-indic": NUMBER.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) + " 张三",
    "full-width": NUMBER.translate(str.maketrans("0123456789", "０１２３４５６７８９")) + " 张三",
    "/bind": f"/bind {NUMBER}",
    "/unpaid": f"/unpaid {NUMBER}",
    "/start": f"/start {NUMBER}",
}
# The resident's /start is the lead's (handlers/resident/start.py, being rewritten for issue 9).
LEAD: dict[str, str] = {}


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[TelegramMethod[Any]] = []
        self._ids = itertools.count(10_000)

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


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return open_db(Settings(database_url=f"sqlite:///{tmp_path_factory.mktemp('ids')}/d.db"))


@pytest.mark.parametrize(
    "form",
    [pytest.param(f, marks=pytest.mark.xfail(reason=LEAD[f], strict=True)) if f in LEAD else f for f in FORMS],
)
async def test_a_message_holding_an_id_is_deleted(engine: Any, tmp_path, form: str) -> None:
    clock.set_today(dt.date(2023, 11, 20))
    try:
        recorder = RecordingSession()
        dp = build_dispatcher(Settings(database_url=str(engine.url), reports_dir=tmp_path), engine=engine)
        user = 9000 + list(FORMS).index(form)
        msg = Message(message_id=77, date=dt.datetime.now(dt.UTC), chat=Chat(id=user, type="private"),
                      from_user=User(id=user, is_bot=False, first_name="居民"), text=FORMS[form])
        await dp.feed_update(Bot(TOKEN, session=recorder), Update(update_id=1, message=msg))
    finally:
        clock.set_today(None)
    deleted = [c for c in recorder.calls if type(c).__name__ == "DeleteMessage"]
    assert [(c.chat_id, c.message_id) for c in deleted] == [(user, 77)], [type(c).__name__ for c in recorder.calls]
    for call in recorder.calls:
        text = getattr(call, "text", None) or ""
        assert NUMBER not in "".join(ch for ch in text if ch.isdigit()), text
