"""County admin commands in chat: /invite ROLE 地名 creates a one-time code; /staff lists posts.

Like the staff commands they answer only in the admin's private chat (a code shown in a group is
a code for everyone in it) and check the caller's post by Telegram user id, in a short transaction
run in a worker thread.
"""

from __future__ import annotations

import asyncio

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlalchemy import Engine
from sqlmodel import select

from bot.registry import access, audit
from bot.registry.db import session_scope
from bot.registry.models import Area, Staff
from handlers.private_chat import IN_GROUP, PRIVATE_ONLY, is_command

router = Router(name="admin")
router.message.filter(is_command)

ADMIN_ONLY = "此命令仅限县级管理员使用。"
USAGE = "用法：/invite 角色 地名\n角色：town-official（乡镇）或 cadre（村）\n例如：/invite cadre 桃东村"


@router.message(Command("invite", "staff"), IN_GROUP)
async def in_group(message: Message) -> None:
    await message.answer(PRIVATE_ONLY)


@router.message(Command("invite"))
async def invite(message: Message, command: CommandObject, engine: Engine) -> None:
    user_id = message.from_user.id if message.from_user else None
    text = await asyncio.to_thread(_invite, engine, user_id, message.chat.id, command.args or "")
    await message.answer(text)


def _invite(engine: Engine, user_id: int | None, chat_id: int, args: str) -> str:
    with session_scope(engine) as s:
        staff = access.staff_of_user(s, user_id)
        if staff is None or staff.role != access.COUNTY_ADMIN:
            return ADMIN_ONLY
        parts = args.split(maxsplit=1)
        if len(parts) != 2:
            return USAGE
        try:
            role = access.normalize_role(parts[0])
            if role == access.COUNTY_ADMIN:
                raise access.AccessError("县级管理员的邀请码请在服务器上用 yibao staff invite 创建。")
            area = access.find_area(s, staff.locality_id, parts[1], level=access.ROLE_LEVEL[role])
            code = access.create_invite(s, role, staff.locality_id, area.id)
        except access.AccessError as e:
            return e.message_zh
        audit.record(s, chat_id=chat_id, actor="admin", action="invite", outcome=role)
        return (
            f"邀请码：{code.code}\n{access.ROLE_ZH[role]}，{area.name}，7天内有效，仅可使用一次。\n"
            f"请对方私聊本机器人发送：/bind {code.code}"
        )


@router.message(Command("staff"))
async def staff_list(message: Message, engine: Engine) -> None:
    user_id = message.from_user.id if message.from_user else None
    await message.answer(await asyncio.to_thread(_staff_list, engine, user_id))


def _staff_list(engine: Engine, user_id: int | None) -> str:
    with session_scope(engine) as s:
        staff = access.staff_of_user(s, user_id)
        if staff is None or staff.role != access.COUNTY_ADMIN:
            return ADMIN_ONLY
        rows = list(s.exec(select(Staff).where(Staff.locality_id == staff.locality_id)))
        names = {a.id: a.name for a in s.exec(select(Area).where(Area.locality_id == staff.locality_id))}
    lines = [f"本地区已绑定工作人员 {len(rows)} 人："]
    lines += [f"· {access.ROLE_ZH[s.role]} {names.get(s.area_id, '全县')}" for s in rows[:30]]
    return "\n".join(lines)
