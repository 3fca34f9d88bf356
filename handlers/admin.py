"""County admin commands in chat: /invite ROLE 地名 creates a one-time code; /staff lists posts."""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import Message
from sqlmodel import Session, select

from bot.registry import access, audit
from bot.registry.models import Area, Staff

router = Router(name="admin")

USAGE = "用法：/invite 角色 地名\n角色：town-official（乡镇）或 cadre（村）\n例如：/invite cadre 桃东村"


@router.message(Command("invite"))
async def invite(message: Message, command: CommandObject, session: Session, staff: Staff | None = None) -> None:
    if staff is None or staff.role != access.COUNTY_ADMIN:
        await message.answer("此命令仅限县级管理员使用。")
        return
    parts = (command.args or "").split(maxsplit=1)
    if len(parts) != 2:
        await message.answer(USAGE)
        return
    try:
        role = access.normalize_role(parts[0])
        if role == access.COUNTY_ADMIN:
            raise access.AccessError("县级管理员的邀请码请在服务器上用 yibao staff invite 创建。")
        area = access.find_area(session, staff.locality_id, parts[1], level=access.ROLE_LEVEL[role])
        code = access.create_invite(session, role, staff.locality_id, area.id)
    except access.AccessError as e:
        await message.answer(e.message_zh)
        return
    audit.record(session, chat_id=message.chat.id, actor="admin", action="invite", outcome=role)
    await message.answer(
        f"邀请码：{code.code}\n{access.ROLE_ZH[role]}，{area.name}，7天内有效，仅可使用一次。\n"
        f"请对方向本机器人发送：/bind {code.code}"
    )


@router.message(Command("staff"))
async def staff_list(message: Message, session: Session, staff: Staff | None = None) -> None:
    if staff is None or staff.role != access.COUNTY_ADMIN:
        await message.answer("此命令仅限县级管理员使用。")
        return
    rows = list(session.exec(select(Staff).where(Staff.locality_id == staff.locality_id)))
    names = {a.id: a.name for a in session.exec(select(Area).where(Area.locality_id == staff.locality_id))}
    lines = [f"本地区已绑定工作人员 {len(rows)} 人："]
    for s in rows[:30]:
        lines.append(f"· {access.ROLE_ZH[s.role]} {names.get(s.area_id, '全县')}")
    await message.answer("\n".join(lines))
