"""Staff roles, areas and one-time invite codes: who may see which part of the registry.

A staff member is bound to one area: a county admin to the whole locality, a town official to a
town, a village cadre to a village. Every staff view asks `scope_area_ids` first, so a cadre can
never read another village, whatever they type.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from rapidfuzz import fuzz, process
from sqlmodel import Session, select

from bot import clock
from bot.registry.models import Area, InviteCode, Staff

COUNTY_ADMIN, TOWN_OFFICIAL, VILLAGE_CADRE = "county_admin", "town_official", "village_cadre"
ROLES = (COUNTY_ADMIN, TOWN_OFFICIAL, VILLAGE_CADRE)
ROLE_ZH = {COUNTY_ADMIN: "县级管理员", TOWN_OFFICIAL: "乡镇（街道）干部", VILLAGE_CADRE: "村（社区）干部"}
_ROLE_ALIASES = {
    "county-admin": COUNTY_ADMIN, "county": COUNTY_ADMIN, "admin": COUNTY_ADMIN, "县": COUNTY_ADMIN,
    "town-official": TOWN_OFFICIAL, "town": TOWN_OFFICIAL, "official": TOWN_OFFICIAL, "乡镇": TOWN_OFFICIAL,
    "village-cadre": VILLAGE_CADRE, "cadre": VILLAGE_CADRE, "village": VILLAGE_CADRE, "村": VILLAGE_CADRE,
}
ROLE_LEVEL = {TOWN_OFFICIAL: "town", VILLAGE_CADRE: "village"}
INVITE_TTL = timedelta(days=7)
# No 0/O, 1/I/L: codes are read aloud over the phone and typed by hand.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class AccessError(ValueError):
    """A staff action refused; message_zh tells the user what is wrong and what to do."""

    def __init__(self, message_zh: str) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh


def normalize_role(text: str) -> str:
    key = text.strip().lower().replace("_", "-")
    if key.replace("-", "_") in ROLES:
        return key.replace("-", "_")
    if key in _ROLE_ALIASES:
        return _ROLE_ALIASES[key]
    raise AccessError(f"未知角色“{text}”。可用：county-admin（县级）、town-official（乡镇）、cadre（村）。")


@dataclass(frozen=True)
class AreaRef:
    id: int
    name: str
    level: str
    parent_id: int | None


def areas_of(session: Session, locality_id: str) -> list[Area]:
    return list(session.exec(select(Area).where(Area.locality_id == locality_id)))


def find_area(session: Session, locality_id: str, name: str, level: str | None = None,
              within: set[int] | None = None) -> Area:
    """Exact name, then a unique prefix/fuzzy match (柴胡店 → 柴胡店镇); ambiguous guesses are refused."""
    candidates = [a for a in areas_of(session, locality_id)
                  if (level is None or a.level == level) and (within is None or a.id in within)]
    name = name.strip()
    exact = [a for a in candidates if a.name == name]
    if len(exact) == 1:
        return exact[0]
    prefix = [a for a in candidates if a.name.startswith(name) or name.startswith(a.name)]
    if len(prefix) == 1:
        return prefix[0]
    pool = exact or prefix or candidates
    scored = process.extract(name, {a.id: a.name for a in pool}, scorer=fuzz.ratio, limit=3)
    good = [s for s in scored if s[1] >= 80]
    if len(good) == 1 or (len(good) > 1 and good[0][1] - good[1][1] >= 10):
        return next(a for a in pool if a.id == good[0][2])
    if good or len(exact) > 1 or len(prefix) > 1:
        names = "、".join(dict.fromkeys(s[0] for s in (good or scored)))
        raise AccessError(f"“{name}”对应多个地方（{names}），请写全称。")
    raise AccessError(f"没有找到“{name}”。请核对乡镇或村（社区）的名称。")


def create_invite(session: Session, role: str, locality_id: str, area_id: int | None) -> InviteCode:
    role = normalize_role(role)
    if role == COUNTY_ADMIN:
        area_id = None
    else:
        area = session.get(Area, area_id) if area_id is not None else None
        if area is None or area.locality_id != locality_id:
            raise AccessError("请指定该角色负责的乡镇或村（社区）。")
        if area.level != ROLE_LEVEL[role]:
            want = "乡镇（街道）" if ROLE_LEVEL[role] == "town" else "村（社区）"
            raise AccessError(f"{ROLE_ZH[role]}须绑定到{want}，“{area.name}”不是。")
    code = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    invite = InviteCode(code=code, role=role, locality_id=locality_id, area_id=area_id,
                        created_at=clock.now())
    session.add(invite)
    session.flush()
    return invite


def staff_of_user(session: Session, user_id: int | None) -> Staff | None:
    """The post bound to a Telegram user, if any. Rights belong to the person, never to a chat."""
    if user_id is None:
        return None
    return session.exec(select(Staff).where(Staff.user_id == user_id)).first()


def _usable_invite(session: Session, code: str) -> InviteCode:
    invite = session.get(InviteCode, code.strip().upper().replace(" ", ""))
    if invite is None:
        raise AccessError("邀请码不正确。请核对后重新发送：/bind 邀请码")
    if invite.used_at is not None:
        raise AccessError("该邀请码已被使用或已作废。请向管理员重新申请。")
    if clock.now() - invite.created_at > INVITE_TTL:
        raise AccessError("该邀请码已过期（7天有效）。请向管理员重新申请。")
    return invite


def redeem_invite(session: Session, code: str, user_id: int, chat_id: int | None = None) -> Staff:
    """Bind the Telegram user `user_id` as staff; each code works once and for INVITE_TTL.

    `chat_id` is the chat the code was sent in (the user's private chat; recorded on the code)."""
    invite = _usable_invite(session, code)
    staff = staff_of_user(session, user_id)
    if staff is None:
        staff = Staff(user_id=user_id, role=invite.role, locality_id=invite.locality_id, area_id=invite.area_id)
    else:  # re-binding moves the person to the new post; one post per account
        staff.role, staff.locality_id, staff.area_id = invite.role, invite.locality_id, invite.area_id
    session.add(staff)
    invite.used_at = clock.now()
    invite.used_by_user_id = user_id
    invite.used_by_chat_id = user_id if chat_id is None else chat_id
    session.add(invite)
    session.flush()
    return staff


def burn_invite(session: Session, code: str, chat_id: int) -> bool:
    """Void a code that was posted in a group chat (everyone there has seen it, and any of them
    could redeem it privately). True when a usable code was voided."""
    try:
        invite = _usable_invite(session, code)
    except AccessError:
        return False
    invite.used_at = clock.now()
    invite.used_by_chat_id = chat_id
    invite.used_by_user_id = None
    session.add(invite)
    session.flush()
    return True


def scope_area_ids(session: Session, staff: Staff) -> set[int]:
    """Every area id the staff member may see: their area and everything below it."""
    areas = areas_of(session, staff.locality_id)
    if staff.area_id is None:
        return {a.id for a in areas if a.id is not None}
    children: dict[int | None, list[int]] = {}
    for a in areas:
        children.setdefault(a.parent_id, []).append(a.id)  # type: ignore[arg-type]
    seen, todo = set(), [staff.area_id]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        todo.extend(children.get(current, []))
    return seen


def staff_area_name(session: Session, staff: Staff) -> str:
    from bot.policy import get_pack

    pack = get_pack(staff.locality_id)
    root = pack.locality.name_zh if pack else staff.locality_id
    if staff.area_id is None:
        return root
    area = session.get(Area, staff.area_id)
    return f"{root} {area.name}" if area else root
