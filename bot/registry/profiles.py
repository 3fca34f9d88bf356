"""The place each chat told us it is in (ChatProfile): read once when a dialogue starts, written when
the resident names a new place, so it outlives the dialogue state and reaches staff reports.

Each call is one short transaction, committed before it returns (the dialogue confirms a place only
after it is stored).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, bindparam, text

from bot import clock
from bot.registry.chats import Chat
from bot.registry.db import insert_for, read_scope, session_scope, single_statement
from bot.registry.models import Area, AwareDateTime, ChatProfile


@dataclass(frozen=True)
class RememberedPlace:
    locality_id: str
    area_id: int | None
    area_name: str | None
    area_level: str | None


def _key(chat: Chat | int) -> tuple[str, str]:
    found = Chat.of(chat)
    assert found is not None
    return found.channel, found.address


def remembered_place(chat: Chat | int, *, engine: Engine | None = None) -> RememberedPlace | None:
    """The chat's stored place, or None for a chat that never named one (`chat`: a `Chat`, or a
    Telegram chat id)."""
    with read_scope(engine) as session:  # a read: it takes no write lock
        profile = session.get(ChatProfile, _key(chat))
        if profile is None or not profile.locality_id:
            return None
        area = session.get(Area, profile.area_id) if profile.area_id is not None else None
        return RememberedPlace(profile.locality_id, profile.area_id, area.name if area else None,
                               area.level if area else None)


# The place upsert, written once: both SQLite (3.35+) and PostgreSQL read this ON CONFLICT ... RETURNING
# form. A prepared text statement skips the ORM insert's construction and cache-key work (~0.3 ms, most
# of a first message's cost in the dialogue), and the area lookup rides in it as a subquery: on
# PostgreSQL the whole write is one round trip in autocommit, where BEGIN, SELECT, INSERT, COMMIT were
# four.
_UPSERT_PLACE = text(
    "INSERT INTO chat_profile (channel, address, chat_id, locality_id, area_id, updated_at) "
    "VALUES (:channel, :address, :chat_id, :locality_id, "
    "(SELECT id FROM area WHERE locality_id = :area_locality AND name = :area_name ORDER BY id LIMIT 1), "
    ":now) "
    "ON CONFLICT (channel, address) DO UPDATE SET locality_id = excluded.locality_id, "
    "area_id = excluded.area_id, updated_at = excluded.updated_at "
    "RETURNING area_id"
).bindparams(bindparam("now", type_=AwareDateTime()))


def remember_place(chat: Chat | int, locality_id: str, area_name: str | None = None, *,
                   engine: Engine | None = None) -> int | None:
    """Store the chat's place (creating its profile on first use); returns the area id, if known
    (a town or village of this locality the registry has, by name).

    One statement: the place is written when a resident names one, often in their very first
    message."""
    found = Chat.of(chat)
    assert found is not None
    with single_statement(engine) as conn:
        return conn.execute(_UPSERT_PLACE, {**found.columns(), "locality_id": locality_id,
                                            "area_locality": locality_id, "area_name": area_name or None,
                                            "now": clock.now()}).scalar()


def seen(chat: Chat, *, engine: Engine | None = None) -> None:
    """The resident just wrote: WeChat allows 客服消息 to them for 48 hours from now (one upsert)."""
    with session_scope(engine) as session:
        now = clock.now()
        stmt = insert_for(session)(ChatProfile).values(**chat.columns(), updated_at=now, last_seen_at=now)
        session.execute(stmt.on_conflict_do_update(index_elements=["channel", "address"],
                                                   set_={"last_seen_at": stmt.excluded.last_seen_at}))


def last_seen(chat: Chat, *, engine: Engine | None = None) -> object | None:
    """When the resident last wrote (aware datetime), or None."""
    with session_scope(engine) as session:
        profile = session.get(ChatProfile, (chat.channel, chat.address))
        return profile.last_seen_at if profile is not None else None
