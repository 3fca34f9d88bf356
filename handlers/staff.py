"""Staff commands: /bind CODE, /progress, /unpaid [乡镇或村], /whoami.

Every command re-checks the caller's Staff row (injected by the middleware) and the area scope;
a resident who types a staff command gets a short explanation, nothing else.
"""

from __future__ import annotations

import asyncio
import logging

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import FSInputFile, Message
from sqlmodel import Session

from bot import clock
from bot.registry import access, audit
from bot.registry.models import Staff
from bot.reports.staff_views import progress_view, render_chart, unpaid_view, write_unpaid_file
from bot.settings import Settings

router = Router(name="staff")
log = logging.getLogger(__name__)

NOT_STAFF = "此命令仅限工作人员使用。如您是村（社区）或乡镇工作人员，请向县医保局索取邀请码，然后发送：/bind 邀请码"


@router.message(Command("bind"))
async def bind(message: Message, command: CommandObject, session: Session) -> None:
    if not command.args:
        await message.answer("请在命令后写上邀请码，例如：/bind ABCD2345")
        return
    try:
        staff = access.redeem_invite(session, command.args, message.chat.id)
    except access.AccessError as e:
        audit.record(session, chat_id=message.chat.id, actor="staff", action="bind", outcome="refused")
        await message.answer(e.message_zh)
        return
    audit.record(session, chat_id=message.chat.id, actor="staff", action="bind", outcome=staff.role)
    where = access.staff_area_name(session, staff)
    await message.answer(
        f"绑定成功：{access.ROLE_ZH[staff.role]}，{where}。\n"
        "可用命令：/progress 参保进度排名，/unpaid 未缴费名单，/whoami 我的身份"
    )


@router.message(Command("whoami"))
async def whoami(message: Message, session: Session, staff: Staff | None = None) -> None:
    if staff is None:
        await message.answer(NOT_STAFF)
        return
    await message.answer(f"{access.ROLE_ZH[staff.role]}，{access.staff_area_name(session, staff)}。")


@router.message(Command("progress"))
async def progress(message: Message, session: Session, settings: Settings, staff: Staff | None = None) -> None:
    if staff is None:
        await message.answer(NOT_STAFF)
        return
    view = progress_view(session, staff, clock.today())
    # Drawing takes tens of milliseconds of CPU: do it off the event loop so other chats are not held up.
    await asyncio.to_thread(render_chart, view, settings.reports_dir / f"progress-{message.chat.id}.png")
    audit.record(session, chat_id=message.chat.id, actor="staff", action="progress", outcome="ok")
    await message.answer(view.text)
    if view.chart_path is not None:
        await message.answer_photo(FSInputFile(view.chart_path), caption=view.title)


@router.message(Command("unpaid"))
async def unpaid(message: Message, command: CommandObject, session: Session, settings: Settings,
                 staff: Staff | None = None) -> None:
    if staff is None:
        await message.answer(NOT_STAFF)
        return
    try:
        view = unpaid_view(session, staff, command.args)
    except access.AccessError as e:
        audit.record(session, chat_id=message.chat.id, actor="staff", action="unpaid", outcome="refused")
        await message.answer(e.message_zh)
        return
    audit.record(session, chat_id=message.chat.id, actor="staff", action="unpaid", outcome=f"{view.people} people")
    await message.answer(view.text)
    await asyncio.to_thread(write_unpaid_file, view, settings.reports_dir / f"unpaid-{message.chat.id}.xlsx")
    if view.file_path is not None:
        await message.answer_document(FSInputFile(view.file_path), caption=view.title)
