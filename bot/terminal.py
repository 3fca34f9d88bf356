"""`yibao chat`: the real dispatcher and handlers, fed from stdin, answering in the terminal.

A local aiogram session (in the spirit of aiogram's tests/mocked_bot.py) answers every Bot API call
itself and prints what the bot would send: text, buttons as numbered choices the user picks by
typing the number, files saved under var/chat-files/. No token or network is needed, so this is the
first thing a new user runs. Non-interactive use works too:

    printf '五河县低保户交多少钱\\n' | yibao chat
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.methods import TelegramMethod
from aiogram.types import (
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
    User,
)

from bot import clock
from bot.settings import Settings

FILES_DIR = Path("var") / "chat-files"
DEMO_SCALE = 0.002
DELETED_NOTICE = "（已删除您含身份证号的消息）"
TERMINAL_TOKEN = "1000000:terminal-chat"  # well-formed, never sent anywhere
BOT_USER = User(id=1000000, is_bot=True, first_name="医保助手", username="yibao_bot")
EXIT_WORDS = {"exit", "quit", "q", "退出", "再见"}


class TerminalError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Choice:
    label: str
    callback_data: str | None  # inline button
    message: Message | None  # the bot message carrying it (for callback queries)


class TerminalSession(BaseSession):
    """Answers the Bot API locally and prints what the bot sends to `out`."""

    def __init__(self, out: TextIO, files_dir: Path = FILES_DIR) -> None:
        super().__init__()
        self.out = out
        self.files_dir = files_dir
        self.choices: list[Choice] = []
        self._ids = itertools.count(1_000_000)
        self.calls: list[TelegramMethod[Any]] = []

    def _print(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def _message(self, chat_id: int | str, **fields: Any) -> Message:
        return Message(
            message_id=next(self._ids), date=clock.now(), chat=Chat(id=int(chat_id), type="private"),
            from_user=BOT_USER, **fields,
        )

    def _show_markup(self, markup: Any, message: Message | None) -> None:
        if isinstance(markup, InlineKeyboardMarkup):
            self.choices = [
                Choice(b.text, b.callback_data, message) for row in markup.inline_keyboard for b in row
                if b.callback_data is not None
            ]
            links = [b for row in markup.inline_keyboard for b in row if b.url]
            for b in links:
                self._print(f"  （链接）{b.text}: {b.url}")
        elif isinstance(markup, ReplyKeyboardMarkup):
            self.choices = [Choice(b.text, None, None) for row in markup.keyboard for b in row]
        elif isinstance(markup, ReplyKeyboardRemove):
            self.choices = []
        else:
            return
        for i, c in enumerate(self.choices, 1):
            self._print(f"  [{i}] {c.label}")

    async def _save(self, bot: Bot, file: Any, default_name: str) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        if isinstance(file, InputFile):
            name = Path(file.filename or default_name).name
            path = self.files_dir / name
            with path.open("wb") as fh:
                async for chunk in file.read(bot):
                    fh.write(chunk)
            return path
        return Path(str(file))  # a file_id or URL: nothing to save

    async def make_request(self, bot: Bot, method: TelegramMethod[Any], timeout: int | None = None) -> Any:
        self.calls.append(method)
        name = type(method).__name__
        if name == "SendMessage":
            msg = self._message(method.chat_id, text=method.text, reply_markup=method.reply_markup)
            self._print(f"机器人：{method.text}")
            self._show_markup(method.reply_markup, msg)
            return msg
        if name in ("SendDocument", "SendPhoto"):
            kind = "document" if name == "SendDocument" else "photo"
            path = await self._save(bot, getattr(method, kind), f"{kind}-{next(self._ids)}")
            label = "文件" if kind == "document" else "图片"
            caption = f"{method.caption}：" if method.caption else ""
            self._print(f"机器人发来{label}：{caption}已保存到 {path}")
            self._show_markup(method.reply_markup, None)
            return self._message(method.chat_id, text=method.caption or "")
        if name == "DeleteMessage":
            self._print(DELETED_NOTICE)
            return True
        if name == "AnswerCallbackQuery":
            if method.text:
                self._print(f"（提示）{method.text}")
            return True
        if name == "EditMessageText":
            self._print(f"机器人（更新）：{method.text}")
            msg = self._message(method.chat_id or 0, text=method.text, reply_markup=method.reply_markup)
            self._show_markup(method.reply_markup, msg)
            return msg
        if name == "EditMessageReplyMarkup":
            if method.reply_markup is None:
                self.choices = []
            else:
                self._show_markup(method.reply_markup, self._message(method.chat_id or 0, text=""))
            return True
        if name == "GetMe":
            return BOT_USER
        return True  # setMyCommands, sendChatAction and the like: nothing to show

    async def close(self) -> None:
        return None

    async def stream_content(self, *args: Any, **kwargs: Any) -> AsyncGenerator[bytes, None]:
        yield b""


# ---------------------------------------------------------------------- database preparation


def _known_localities() -> list[str]:
    from bot.policy import all_packs

    return sorted({p.locality.id for p in all_packs()})


def _prepare_data(engine: Any, out: TextIO) -> None:
    """Generate small demo data for every locality when the registry holds nobody yet."""
    from sqlmodel import Session, select

    from bot.registry.models import Person

    with Session(engine) as session:
        if session.exec(select(Person.id).limit(1)).first() is not None:
            return
    from bot.registry import demo

    samples: list[tuple[str, str, bool]] = []
    with Session(engine, expire_on_commit=False) as session:
        for loc in _known_localities():
            summary = demo.generate(session, loc, scale=DEMO_SCALE, seed=0)
            samples.extend(list(getattr(summary, "samples", []) or [])[:1])
        session.commit()
    out.write("已生成演示数据（虚构人员，仅供试用）。可以试着查询参保，例如发送：\n")
    # Demo IDs are synthetic (generated just now), so showing them in full is the point.
    for sample in samples[:3]:
        id_number, name, paid = sample[0], sample[1], sample[2] if len(sample) > 2 else None
        state = "" if paid is None else ("（已缴费）" if paid else "（未缴费）")
        out.write(f"  {id_number} {name}{state}\n")
    out.flush()


def _preset(engine: Any, chat_id: int, locality: str | None, staff_role: str | None, area: str | None) -> str | None:
    """Apply --locality / --staff; returns a line describing the staff post, if any."""
    from sqlmodel import Session, select

    from bot.registry import access
    from bot.registry.models import Area, ChatProfile, Locality, Staff

    known = _known_localities()
    if locality is not None and locality not in known:
        raise TerminalError(f"未知地区“{locality}”。可选：{'、'.join(known)}")
    if staff_role is not None and locality is None:
        raise TerminalError("以工作人员身份试用时请同时指定 --locality，例如 --staff county-admin --locality wuhe")
    with Session(engine, expire_on_commit=False) as session:
        if locality is not None:
            profile = session.get(ChatProfile, ("telegram", str(chat_id))) or ChatProfile(chat_id=chat_id)
            profile.locality_id, profile.area_id, profile.updated_at = locality, None, clock.now()
            session.add(profile)
        described = None
        if staff_role is not None:
            try:
                role = access.normalize_role(staff_role)
                area_row = None
                level = access.ROLE_LEVEL.get(role)
                if level is not None:
                    if area:
                        area_row = access.find_area(session, locality, area, level=level)
                    else:
                        area_row = session.exec(
                            select(Area).where(Area.locality_id == locality, Area.level == level).order_by(Area.id)
                        ).first()
                        if area_row is None:
                            raise access.AccessError(f"该地区没有{'乡镇' if level == 'town' else '村（社区）'}数据。")
            except access.AccessError as e:
                raise TerminalError(e.message_zh) from None
            staff = session.exec(select(Staff).where(Staff.user_id == chat_id)).first() or Staff(
                user_id=chat_id, role=role, locality_id=locality
            )
            staff.role, staff.locality_id = role, locality
            staff.area_id = area_row.id if area_row is not None else None
            session.add(staff)
            loc_row = session.get(Locality, locality)
            where = area_row.name if area_row is not None else (loc_row.name_zh if loc_row else locality)
            described = f"{access.ROLE_ZH[role]}，{where}"
        session.commit()
    return described


# ---------------------------------------------------------------------- the loop


class TerminalChat:
    """One terminal user talking to the dispatcher."""

    def __init__(self, dp: Any, bot: Bot, session: TerminalSession, user_id: int) -> None:
        self.dp, self.bot, self.session = dp, bot, session
        self.user = User(id=user_id, is_bot=False, first_name="终端用户", language_code="zh-hans")
        self.chat = Chat(id=user_id, type="private", first_name="终端用户")
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)

    async def send(self, line: str) -> None:
        """Feed one line: a number picks a shown button, anything else is a text message."""
        line = line.strip()
        if not line:
            return
        picked = self._pick(line)
        if picked is not None and picked.callback_data is not None:
            query = CallbackQuery(
                id=str(next(self._update_ids)), from_user=self.user, chat_instance=str(self.chat.id),
                data=picked.callback_data,
                message=picked.message or Message(message_id=0, date=clock.now(), chat=self.chat, text=""),
            )
            await self._feed(Update(update_id=next(self._update_ids), callback_query=query))
            return
        text = picked.label if picked is not None else line
        message = Message(
            message_id=next(self._message_ids), date=clock.now(), chat=self.chat, from_user=self.user, text=text
        )
        await self._feed(Update(update_id=next(self._update_ids), message=message))

    def _pick(self, line: str) -> Choice | None:
        digits = line.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        if digits.isdigit() and 1 <= int(digits) <= len(self.session.choices):
            return self.session.choices[int(digits) - 1]
        return None

    async def _feed(self, update: Update) -> None:
        await self.dp.feed_update(self.bot, update)


async def _lines(stdin: TextIO) -> AsyncGenerator[str, None]:
    while True:
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            return
        yield line


async def run_terminal(
    settings: Settings,
    *,
    locality: str | None = None,
    staff_role: str | None = None,
    area: str | None = None,
    user_id: int = 10001,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    files_dir: Path = FILES_DIR,
    on_ready: Callable[[TerminalChat], None] | None = None,
) -> None:
    from bot.app import build_dispatcher
    from bot.registry.db import open_db

    stdin = stdin or sys.stdin
    out = out or sys.stdout
    engine = open_db(settings)
    _prepare_data(engine, out)
    described = _preset(engine, user_id, locality, staff_role, area)

    session = TerminalSession(out, files_dir)
    bot = Bot(TERMINAL_TOKEN, session=session)
    dp = build_dispatcher(settings, engine=engine, flood_guard=False)
    chat = TerminalChat(dp, bot, session, user_id)
    if on_ready is not None:
        on_ready(chat)
    interactive = stdin.isatty()
    out.write("医保助手（终端版）：输入问题后回车；出现 [数字] 选项时输入数字即可选择；Ctrl+D 或“退出”结束。\n")
    if described:
        out.write(f"您以工作人员身份登录：{described}。可用命令：/progress /unpaid /whoami\n")
    elif locality is None:
        out.write("试试：/start，或直接问“五河县低保户交多少钱”。\n")
    out.flush()
    await dp.emit_startup(bot=bot)
    try:
        if interactive:
            out.write("您：")
            out.flush()
        async for line in _lines(stdin):
            text = line.strip()
            if text.lower() in EXIT_WORDS:
                break
            if text and not interactive:
                # Echo piped input so the transcript reads as a dialogue, masked: the bot deletes a
                # message holding an ID number, so its transcript must not keep one either.
                from bot.registry.ids import mask_in_text

                out.write(f"您：{mask_in_text(text)}\n")
            await chat.send(text)
            if interactive:
                out.write("您：")
                out.flush()
    finally:
        await dp.emit_shutdown(bot=bot)
        await dp.storage.close()
        if interactive:
            out.write("\n")
        out.flush()
