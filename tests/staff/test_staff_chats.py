"""Staff rights belong to the Telegram user, and staff commands answer only in private chats.

Driven through the real dispatcher and middlewares (build_dispatcher) with a Bot whose API calls are
recorded, on the small registry of conftest.py: cadre 1003 of 东村, admin 1001, town official 1002.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiogram import Bot, Dispatcher
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.types import Chat, Message, Update, User
from sqlmodel import Session, select

from bot.app import build_dispatcher
from bot.registry import access
from bot.registry.models import AuditLog, ChatProfile, InviteCode, Staff
from bot.settings import Settings
from handlers.middlewares import SORRY_TEXT
from handlers.private_chat import PRIVATE_ONLY

TOKEN = "123456789:AAEexampleexampleexampleexample1234"
GROUP = -100_500_600_700
NUMBER = "340321194912110013"  # generated, not a real person's


class RecordingSession(BaseSession):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[TelegramMethod[Any]] = []
        self._ids = itertools.count(10_000)

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        self.calls.append(method)
        if type(method).__name__ == "GetMe":  # "/bind@yibao_bot" is checked against the bot's name
            return User(id=1, is_bot=True, first_name="bot", username="yibao_bot")
        if type(method).__name__ in ("SendMessage", "SendDocument", "SendPhoto"):
            return Message(message_id=next(self._ids), date=dt.datetime.now(dt.UTC),
                           chat=Chat(id=method.chat_id, type="private"),
                           from_user=User(id=1, is_bot=True, first_name="bot"), text=getattr(method, "text", None))
        return True

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncIterator[bytes]:  # pragma: no cover
        yield b""


class Chats:
    """Send a text as a user, in their private chat or in the group; read what the bot did."""

    def __init__(self, dp: Dispatcher, bot: Bot, recorder: RecordingSession) -> None:
        self.dp, self.bot, self.recorder = dp, bot, recorder
        self._ids = itertools.count(1)

    async def send(self, user_id: int, text: str, *, group: bool = False) -> list[TelegramMethod[Any]]:
        chat = Chat(id=GROUP, type="supergroup", title="马坊村工作群") if group else Chat(id=user_id, type="private")
        n = next(self._ids)
        msg = Message(message_id=n, date=dt.datetime.now(dt.UTC), chat=chat, text=text,
                      from_user=User(id=user_id, is_bot=False, first_name="用户"))
        start = len(self.recorder.calls)
        await self.dp.feed_update(self.bot, Update(update_id=n, message=msg))
        return self.recorder.calls[start:]

    @staticmethod
    def texts(calls: list[TelegramMethod[Any]]) -> list[str]:
        return [c.text for c in calls if type(c).__name__ == "SendMessage"]

    @staticmethod
    def files(calls: list[TelegramMethod[Any]]) -> list[TelegramMethod[Any]]:
        return [c for c in calls if type(c).__name__ in ("SendDocument", "SendPhoto")]


@pytest.fixture()
def chats(session: Session, world: dict, tmp_path) -> Chats:
    engine = session.get_bind()
    settings = Settings(database_url=str(engine.url), reports_dir=tmp_path / "reports")
    recorder = RecordingSession()
    return Chats(build_dispatcher(settings, engine=engine), Bot(TOKEN, session=recorder), recorder)


def _new_code(session: Session, world: dict, village: str = "南村") -> str:
    code = access.create_invite(session, "cadre", "wuhe", world["villages"][village].id).code
    session.commit()
    return code


async def test_bind_in_a_group_binds_nobody_and_voids_the_code(chats: Chats, session: Session, world: dict) -> None:
    code = _new_code(session, world)
    calls = await chats.send(501, f"/bind {code}", group=True)
    (reply,) = chats.texts(calls)
    assert reply.startswith(PRIVATE_ONLY) and "作废" in reply
    session.rollback()  # end the read snapshot: the bot wrote in its own transactions
    assert session.exec(select(Staff).where(Staff.user_id.in_([501, GROUP]))).first() is None
    session.rollback()  # SQLite: a test session's open transaction holds the write lock the bot needs
    # Another member of the group saw the code and tries it privately: refused.
    (reply,) = chats.texts(await chats.send(502, f"/bind {code}"))
    assert "作废" in reply or "已被使用" in reply
    session.rollback()  # end the read snapshot: the bot wrote in its own transactions
    assert session.exec(select(Staff).where(Staff.user_id == 502)).first() is None
    invite = session.get(InviteCode, code)
    assert invite.used_by_chat_id == GROUP and invite.used_by_user_id is None
    assert session.exec(select(AuditLog).where(AuditLog.outcome == "burned_in_group")).first() is not None


@pytest.mark.parametrize("command", ["/unpaid", "/unpaid 东村", "/progress", "/whoami", "/bind", "/invite cadre 东村",
                                     "/staff"])
async def test_staff_commands_in_a_group_answer_one_line(chats: Chats, command: str) -> None:
    for user in (1003, 1001, 777):  # the cadre, the county admin, a plain member of the group
        calls = await chats.send(user, command, group=True)
        assert chats.texts(calls) == [PRIVATE_ONLY], (user, command)
        assert chats.files(calls) == []


async def test_the_cadre_gets_the_list_in_private(chats: Chats, world: dict) -> None:
    calls = await chats.send(1003, "/unpaid")
    (text,) = chats.texts(calls)
    assert "东村居民3" in text and len(chats.files(calls)) == 1
    assert PRIVATE_ONLY not in text
    (text,) = chats.texts(await chats.send(1003, "/whoami"))
    assert "村（社区）干部" in text and "东村" in text


async def test_rights_follow_the_user_not_the_chat(chats: Chats, session: Session, world: dict) -> None:
    """A private bind makes that user staff and nobody else; /whoami of another user says so."""
    code = _new_code(session, world, "西村")
    (reply,) = chats.texts(await chats.send(601, f"/bind {code}"))
    assert reply.startswith("绑定成功") and "西村" in reply
    (reply,) = chats.texts(await chats.send(602, "/whoami"))
    assert "仅限工作人员" in reply
    session.rollback()  # end the read snapshot: the bot wrote in its own transactions
    staff = session.exec(select(Staff).where(Staff.user_id == 601)).one()
    assert staff.area_id == world["villages"]["西村"].id
    assert session.get(InviteCode, code).used_by_user_id == 601


async def test_first_contact_bind_is_stored_without_an_apology(chats: Chats, session: Session, world: dict) -> None:
    """/bind is often a cadre's first message: the staff post written in the handler's own transaction
    is stored, without an apology. (A chat profile is written only once a resident names a place.)"""
    code = _new_code(session, world)
    texts = chats.texts(await chats.send(701, f"/bind {code}"))
    assert SORRY_TEXT not in texts and texts[0].startswith("绑定成功")
    session.rollback()  # end the read snapshot: the bot wrote in its own transactions
    assert session.get(ChatProfile, ("telegram", "701")) is None
    assert session.exec(select(Staff).where(Staff.user_id == 701)).one().role == "village_cadre"


@pytest.mark.parametrize("command", ["/bind", "/unpaid", "/bind@yibao_bot"])
async def test_an_id_after_a_staff_command_is_deleted_not_echoed(chats: Chats, command: str) -> None:
    for group in (False, True):
        calls = await chats.send(1003, f"{command} {NUMBER[:6]}.{NUMBER[6:14]}.{NUMBER[14:]}", group=group)
        assert any(type(c).__name__ == "DeleteMessage" for c in calls), (command, group)
        for text in chats.texts(calls):
            assert NUMBER not in text.replace(".", "") and NUMBER[6:14] not in text
        assert chats.files(calls) == []


async def test_admin_invites_only_in_private(chats: Chats, session: Session) -> None:
    before = len(list(session.exec(select(InviteCode))))
    session.rollback()  # SQLite: a test session's open transaction holds the write lock the bot needs
    await chats.send(1001, "/invite cadre 东村", group=True)
    session.rollback()  # end the read snapshot: the bot wrote in its own transactions
    assert len(list(session.exec(select(InviteCode)))) == before
    session.rollback()
    (reply,) = chats.texts(await chats.send(1001, "/invite cadre 东村"))
    assert reply.startswith("邀请码：") and "私聊" in reply
    session.rollback()  # end the read snapshot: the bot wrote in its own transactions
    assert len(list(session.exec(select(InviteCode)))) == before + 1
