"""The place each chat told us it is in (ChatProfile): read once when a dialogue starts, written when
the resident names a new place, so it outlives the dialogue state and reaches staff reports.

Each call is one short transaction, committed before it returns (the dialogue confirms a place only
after it is stored).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import select

from bot import clock
from bot.registry.db import session_scope
from bot.registry.models import Area, ChatProfile


@dataclass(frozen=True)
class RememberedPlace:
    locality_id: str
    area_id: int | None
    area_name: str | None
    area_level: str | None


def remembered_place(chat_id: int, *, engine: Engine | None = None) -> RememberedPlace | None:
    """The chat's stored place, or None for a chat that never named one."""
    with session_scope(engine) as session:
        profile = session.get(ChatProfile, chat_id)
        if profile is None or not profile.locality_id:
            return None
        area = session.get(Area, profile.area_id) if profile.area_id is not None else None
        return RememberedPlace(profile.locality_id, profile.area_id, area.name if area else None,
                               area.level if area else None)


def area_id_for(session: object, locality_id: str, name: str | None) -> int | None:
    """The registry area (town or village) of this locality with this name, if the registry has it."""
    if not name:
        return None
    row = session.exec(  # type: ignore[attr-defined]
        select(Area.id).where(Area.locality_id == locality_id, Area.name == name).order_by(Area.id)
    ).first()
    return row


def remember_place(chat_id: int, locality_id: str, area_name: str | None = None, *,
                   engine: Engine | None = None) -> int | None:
    """Store the chat's place (creating its profile on first use); returns the area id, if known."""
    with session_scope(engine) as session:
        area_id = area_id_for(session, locality_id, area_name)
        profile = session.get(ChatProfile, chat_id)
        if profile is None:
            profile = ChatProfile(chat_id=chat_id)
        profile.locality_id, profile.area_id, profile.updated_at = locality_id, area_id, clock.now()
        session.add(profile)
        return area_id
