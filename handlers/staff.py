"""Staff commands: /bind CODE, /progress, /unpaid [乡镇或村], /whoami.

Rights belong to the Telegram user who redeemed an invite (`from_user.id`), never to a chat, and
these commands answer only in that user's private chat: in a group the bot says one line and, for
/bind, voids the code everyone there has just seen. Each command re-checks the caller's post and
area scope in the same short transaction that reads the data (run in a worker thread; nothing is
held across an await), then sends.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import FSInputFile, Message
from sqlalchemy import Engine

from bot import clock
from bot.registry import access, audit
from bot.registry.db import session_scope
from bot.reports.staff_views import progress_view, render_chart, unpaid_view, write_unpaid_file
from bot.settings import Settings
from handlers.private_chat import IN_GROUP, PRIVATE_ONLY, delete_if_holds_id, is_command

router = Router(name="staff")
router.message.filter(is_command)

COMMANDS = ("bind", "whoami", "progress", "unpaid")
NOT_STAFF = "此命令仅限工作人员使用。如您是村（社区）或乡镇工作人员，请向县医保局索取邀请码，然后发送：/bind 邀请码"
CODE_BURNED = "刚才的邀请码已在群里公开，已经作废，请向管理员重新申请，并私聊我发送 /bind 邀请码。"
NO_ID_IN_BIND = "这里要写邀请码，不是身份证号。为保护隐私，您的消息已删除。请发送：/bind 邀请码"
NO_ID_IN_UNPAID = "这里请写乡镇或村（社区）的名称，不要写身份证号。为保护隐私，您的消息已删除。"


@dataclass(frozen=True)
class Reply:
    """What a staff command sends: a text, then optionally a file (photo or document)."""

    text: str
    file: Path | None = None
    caption: str | None = None


@router.message(Command(*COMMANDS), IN_GROUP)
async def in_group(message: Message, command: CommandObject, engine: Engine) -> None:
    held_id = await delete_if_holds_id(message)
    burned = False
    if command.command == "bind" and command.args and not held_id:
        burned = await asyncio.to_thread(_burn, engine, command.args, message.chat.id)
    await message.answer(f"{PRIVATE_ONLY}{CODE_BURNED if burned else ''}")


def _burn(engine: Engine, code: str, chat_id: int) -> bool:
    with session_scope(engine) as s:
        burned = access.burn_invite(s, code, chat_id)
        if burned:
            audit.record(s, chat_id=chat_id, actor="staff", action="bind", outcome="burned_in_group")
        return burned


@router.message(Command("bind"))
async def bind(message: Message, command: CommandObject, engine: Engine) -> None:
    if await delete_if_holds_id(message):
        await message.answer(NO_ID_IN_BIND)
        return
    if not command.args or message.from_user is None:
        await message.answer("请在命令后写上邀请码，例如：/bind ABCD2345")
        return
    text = await asyncio.to_thread(_bind, engine, command.args, message.from_user.id, message.chat.id)
    await message.answer(text)


def _bind(engine: Engine, code: str, user_id: int, chat_id: int) -> str:
    with session_scope(engine) as s:
        try:
            staff = access.redeem_invite(s, code, user_id, chat_id)
        except access.AccessError as e:
            audit.record(s, chat_id=chat_id, actor="staff", action="bind", outcome="refused")
            return e.message_zh
        audit.record(s, chat_id=chat_id, actor="staff", action="bind", outcome=staff.role)
        return (
            f"绑定成功：{access.ROLE_ZH[staff.role]}，{access.staff_area_name(s, staff)}。\n"
            "可用命令：/progress 参保进度排名，/unpaid 未缴费名单，/whoami 我的身份"
        )


@router.message(Command("whoami"))
async def whoami(message: Message, engine: Engine) -> None:
    user_id = message.from_user.id if message.from_user else None
    await message.answer(await asyncio.to_thread(_whoami, engine, user_id))


def _whoami(engine: Engine, user_id: int | None) -> str:
    with session_scope(engine) as s:
        staff = access.staff_of_user(s, user_id)
        if staff is None:
            return NOT_STAFF
        return f"{access.ROLE_ZH[staff.role]}，{access.staff_area_name(s, staff)}。"


@router.message(Command("progress"))
async def progress(message: Message, engine: Engine, settings: Settings) -> None:
    user_id = message.from_user.id if message.from_user else None
    reply = await asyncio.to_thread(_progress, engine, user_id, message.chat.id, settings.reports_dir)
    await _send(message, reply)


def _progress(engine: Engine, user_id: int | None, chat_id: int, reports_dir: Path) -> Reply:
    with session_scope(engine) as s:
        staff = access.staff_of_user(s, user_id)
        if staff is None:
            return Reply(NOT_STAFF)
        try:
            view = progress_view(s, staff, clock.today())
        except access.AccessError as e:
            return Reply(e.message_zh)
        audit.record(s, chat_id=chat_id, actor="staff", action="progress", outcome="ok")
    # Drawing takes tens of milliseconds of CPU: after the transaction, still off the event loop.
    render_chart(view, reports_dir / f"progress-{user_id}.png")
    return Reply(view.text, view.chart_path, view.title)


@router.message(Command("unpaid"))
async def unpaid(message: Message, command: CommandObject, engine: Engine, settings: Settings) -> None:
    if await delete_if_holds_id(message):
        await message.answer(NO_ID_IN_UNPAID)
        return
    user_id = message.from_user.id if message.from_user else None
    reply = await asyncio.to_thread(_unpaid, engine, user_id, message.chat.id, command.args,
                                    settings.reports_dir)
    await _send(message, reply, document=True)


def _unpaid(engine: Engine, user_id: int | None, chat_id: int, area_name: str | None, reports_dir: Path) -> Reply:
    with session_scope(engine) as s:
        staff = access.staff_of_user(s, user_id)
        if staff is None:
            return Reply(NOT_STAFF)
        try:
            view = unpaid_view(s, staff, area_name)
        except access.AccessError as e:
            audit.record(s, chat_id=chat_id, actor="staff", action="unpaid", outcome="refused")
            return Reply(e.message_zh)
        audit.record(s, chat_id=chat_id, actor="staff", action="unpaid", outcome=f"{view.people} people")
    write_unpaid_file(view, reports_dir / f"unpaid-{user_id}.xlsx")
    return Reply(view.text, view.file_path, view.title)


async def _send(message: Message, reply: Reply, *, document: bool = False) -> None:
    await message.answer(reply.text)
    if reply.file is None:
        return
    if document:
        await message.answer_document(FSInputFile(reply.file), caption=reply.caption)
    else:
        await message.answer_photo(FSInputFile(reply.file), caption=reply.caption)
