"""Registry tables (SQLModel). Names and fields follow docs/architecture.md "Registry models";
the schema itself is created by the hand-written Alembic revisions 0001_registry and
0003_security, which must stay in step with this file (tests/registry/test_migrations.py compares them).

Areas form a tree per locality: the task table's entries (towns, or villages for a town-level
pack) are the top level (parent_id NULL); villages a roster names below a task-table town hang
under that town. A person's area_id is the finest area known for them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Numeric, String, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from bot import clock


class AwareDateTime(TypeDecorator):
    """Timestamps stored as Asia/Shanghai and always read back timezone-aware.

    PostgreSQL keeps the offset (timestamptz); SQLite stores wall-clock text, so values are
    converted to Shanghai time before writing and tagged with it on reading. Comparisons on
    both backends then agree as long as every value comes from `bot.clock`.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect) -> dt.datetime | None:  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=clock.TZ)
        value = value.astimezone(clock.TZ)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: dt.datetime | None, dialect) -> dt.datetime | None:  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=clock.TZ)
        return value.astimezone(clock.TZ)


def _chat_id_column(*, primary_key: bool = False, nullable: bool = False) -> Column:
    # Telegram chat ids exceed 32 bits.
    return Column(BigInteger, primary_key=primary_key, nullable=nullable, autoincrement=False)


# A chat is a channel and an address on it (bot.registry.chats): Telegram chat id as text, WeChat
# openid, phone number. Tables keyed by chat keep `chat_id` for Telegram rows, which the Bot API
# sender and the staff handlers read; a row written with only `chat_id` (Telegram code that predates
# the channels) gets its channel and address from it here, so (channel, address) is always filled.
def _telegram_channel(context) -> str | None:  # noqa: ANN001 - SQLAlchemy's execution context
    return "telegram" if context.get_current_parameters().get("chat_id") is not None else None


def _telegram_address(context) -> str | None:  # noqa: ANN001
    chat_id = context.get_current_parameters().get("chat_id")
    return None if chat_id is None else str(chat_id)


def _channel_column(*, primary_key: bool = False, nullable: bool = False, server_default: str | None = None) -> Column:
    return Column(String(16), primary_key=primary_key, nullable=nullable, default=_telegram_channel,
                  server_default=server_default)


def _address_column(*, primary_key: bool = False, nullable: bool = False) -> Column:
    return Column(String(64), primary_key=primary_key, nullable=nullable, default=_telegram_address)


class Locality(SQLModel, table=True):
    __tablename__ = "locality"

    id: str = Field(primary_key=True, max_length=64)  # policy pack locality id, e.g. "wuhe"
    name_zh: str = Field(max_length=64)
    division_code: str = Field(default="", max_length=12)  # 行政区划代码, e.g. 340322


class Area(SQLModel, table=True):
    __tablename__ = "area"
    __table_args__ = (Index("ix_area_locality_parent", "locality_id", "parent_id"),)

    id: int | None = Field(default=None, primary_key=True)
    locality_id: str = Field(foreign_key="locality.id", max_length=64)
    level: str = Field(max_length=16)  # "town" | "village"
    name: str = Field(max_length=64)
    parent_id: int | None = Field(default=None, foreign_key="area.id")
    target: int | None = None  # task-table target (参保任务数)
    registered_population: int | None = None  # 户籍人口 where the task table gives it


class Household(SQLModel, table=True):
    __tablename__ = "household"
    __table_args__ = (
        UniqueConstraint("locality_id", "code", name="uq_household_locality_code"),
        Index("ix_household_area", "area_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    locality_id: str = Field(foreign_key="locality.id", max_length=64)
    code: str = Field(max_length=64)  # 户号
    area_id: int | None = Field(default=None, foreign_key="area.id")


class Person(SQLModel, table=True):
    __tablename__ = "person"
    __table_args__ = (
        UniqueConstraint("id_number", name="uq_person_id_number"),
        Index("ix_person_area", "area_id"),
        Index("ix_person_household", "household_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    id_number: str = Field(max_length=18)  # normalised 18 digits (bot.registry.ids.validate)
    name: str = Field(max_length=64)
    household_id: int | None = Field(default=None, foreign_key="household.id")
    relation: str = Field(default="", max_length=32)  # 与户主关系
    area_id: int | None = Field(default=None, foreign_key="area.id")
    phone: str | None = Field(default=None, max_length=32)
    migrant: bool = False  # 外出务工
    birth_date: dt.date


class CategoryMembership(SQLModel, table=True):
    __tablename__ = "category_membership"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    category: str = Field(primary_key=True, max_length=32)  # vocabulary code, e.g. "dibao"
    # When the category was recognised: 唐河 and 桃园 treat people recognised after the payment
    # period differently, so the date is kept when the source gives it.
    recognised_on: dt.date | None = None


class Payment(SQLModel, table=True):
    __tablename__ = "payment"
    # The unique key doubles as the (person_id, coverage_year) lookup index and lets importers
    # skip rows already loaded (the same file twice changes nothing).
    __table_args__ = (
        UniqueConstraint("person_id", "coverage_year", "paid_on", "amount", "channel", name="uq_payment_dedupe"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    coverage_year: int
    paid_on: dt.date
    amount: Decimal = Field(sa_type=Numeric(10, 2))
    channel: str = Field(default="", max_length=64)
    source_file: str = Field(default="", max_length=255)


class ChatProfile(SQLModel, table=True):
    """A chat we know: the place it named, and when the resident last wrote (WeChat's 客服 window)."""

    __tablename__ = "chat_profile"

    channel: str | None = Field(default=None, sa_column=_channel_column(primary_key=True))
    address: str | None = Field(default=None, sa_column=_address_column(primary_key=True))
    chat_id: int | None = Field(default=None, sa_column=_chat_id_column(nullable=True))  # Telegram only
    locality_id: str | None = Field(default=None, foreign_key="locality.id", max_length=64)
    area_id: int | None = Field(default=None, foreign_key="area.id")
    updated_at: dt.datetime = Field(default_factory=clock.now, sa_type=AwareDateTime)
    last_seen_at: dt.datetime | None = Field(default=None, sa_type=AwareDateTime)


class ChatLink(SQLModel, table=True):
    """A reminder subscription: a chat linked to a person or household, with its consent time."""

    __tablename__ = "chat_link"
    __table_args__ = (
        Index("ix_chat_link_chat", "chat_id"),
        Index("ix_chat_link_person", "person_id"),
        Index("ix_chat_link_household", "household_id"),
        Index("ix_chat_link_channel_address", "channel", "address"),
    )

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int | None = Field(default=None, sa_column=_chat_id_column(nullable=True))  # Telegram only
    channel: str | None = Field(default=None, sa_column=_channel_column(server_default="telegram"))
    address: str | None = Field(default=None, sa_column=_address_column())
    person_id: int | None = Field(default=None, foreign_key="person.id")
    household_id: int | None = Field(default=None, foreign_key="household.id")
    consent_at: dt.datetime = Field(default_factory=clock.now, sa_type=AwareDateTime)
    active: bool = True
    ended_at: dt.datetime | None = Field(default=None, sa_type=AwareDateTime)


class Staff(SQLModel, table=True):
    """A staff post, bound to the Telegram *user* who redeemed the invite (never to a chat: a code
    sent in a group would otherwise make every member staff). Staff commands answer only in the
    user's private chat, whose chat id equals the user id, so reports are sent to `user_id`."""

    __tablename__ = "staff"
    __table_args__ = (UniqueConstraint("user_id", name="uq_staff_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_chat_id_column())
    role: str = Field(max_length=32)  # "county_admin" | "town_official" | "village_cadre"
    locality_id: str = Field(foreign_key="locality.id", max_length=64)
    area_id: int | None = Field(default=None, foreign_key="area.id")



class InviteCode(SQLModel, table=True):
    __tablename__ = "invite_code"

    code: str = Field(primary_key=True, max_length=32)
    role: str = Field(max_length=32)
    locality_id: str = Field(foreign_key="locality.id", max_length=64)
    area_id: int | None = Field(default=None, foreign_key="area.id")
    created_at: dt.datetime = Field(default_factory=clock.now, sa_type=AwareDateTime)
    used_at: dt.datetime | None = Field(default=None, sa_type=AwareDateTime)
    # The chat the code was sent in, and the user bound by it; a code sent in a group is burned
    # (used_at set, no user): everyone in the group has seen it.
    used_by_chat_id: int | None = Field(default=None, sa_column=_chat_id_column(nullable=True))
    used_by_user_id: int | None = Field(default=None, sa_column=_chat_id_column(nullable=True))


class AppSecret(SQLModel, table=True):
    """Keys the application generates for itself when settings give none (e.g. the audit key that
    turns ID numbers into per-ID counters). Created by migration 0003_security; shared by every
    process using the database."""

    __tablename__ = "app_secret"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=128)
    created_at: dt.datetime = Field(default_factory=clock.now, sa_type=AwareDateTime)


class AuditLog(SQLModel, table=True):
    """Who looked up what. subject_masked is always masked (bot.registry.ids.mask); subject_key is a
    keyed hash of the full number (bot.registry.audit.subject_key), so lookups of one ID can be
    counted across chats without storing the number."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_chat_at", "chat_id", "at"),
        Index("ix_audit_log_subject_at", "subject_key", "at"),
        Index("ix_audit_log_outcome_at", "outcome", "at"),
        Index("ix_audit_log_channel_address_at", "channel", "address", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=clock.now, sa_type=AwareDateTime)
    chat_id: int | None = Field(default=None, sa_column=_chat_id_column(nullable=True))  # Telegram only
    channel: str | None = Field(default=None, sa_column=_channel_column(nullable=True))  # None: no chat (CLI)
    address: str | None = Field(default=None, sa_column=_address_column(nullable=True))
    actor: str = Field(max_length=32)  # "resident" | "staff" | "cli" | ...
    action: str = Field(max_length=32)  # "status" | "household" | ...
    subject_masked: str | None = Field(default=None, max_length=32)
    subject_key: str | None = Field(default=None, max_length=64)
    outcome: str = Field(max_length=32)  # "found" | "not_found" | "invalid" | "rate_limited" | ...


class DialogueStateRow(SQLModel, table=True):
    """A chat's dialogue state where no Redis keeps it (the WeChat adapter; Alembic 0005_channels)."""

    __tablename__ = "dialogue_state"

    channel: str = Field(sa_column=Column(String(16), primary_key=True))
    address: str = Field(sa_column=Column(String(64), primary_key=True))
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_at: dt.datetime = Field(default_factory=clock.now, sa_type=AwareDateTime)


class ChannelOptOut(SQLModel, table=True):
    """An address that must get no more reminders on its channel: a phone that replied TD (退订), or
    that the SMS provider reports as opted out. Kept, with when and why, for audit."""

    __tablename__ = "channel_opt_out"

    channel: str = Field(sa_column=Column(String(16), primary_key=True))
    address: str = Field(sa_column=Column(String(64), primary_key=True))
    at: dt.datetime = Field(default_factory=clock.now, sa_type=AwareDateTime)
    reason: str = Field(default="", max_length=64)


class ApiToken(SQLModel, table=True):
    """An access token of an outside API (WeChat's), shared by every process when there is no Redis,
    so two processes do not keep invalidating each other's token (Alembic 0005_channels)."""

    __tablename__ = "api_token"

    name: str = Field(primary_key=True, max_length=100)
    value: str = Field(sa_column=Column(String(1024), nullable=False))
    expires_at: dt.datetime = Field(sa_type=AwareDateTime)


class EnrolmentRecord(SQLModel, table=True):
    """One imported year of one person (Alembic 0004_history)."""

    __tablename__ = "enrolment_history"

    person_id: int = Field(foreign_key="person.id", primary_key=True)
    coverage_year: int = Field(primary_key=True)
    insured: bool
    scheme: str = Field(max_length=16)  # "resident" | "employee"
    zero_claim: bool | None = None  # True: the fund reimbursed nothing that year; None: not known
    source_file: str = Field(default="", max_length=255)


REGISTRY_TABLES = [
    Locality.__table__,
    Area.__table__,
    Household.__table__,
    Person.__table__,
    CategoryMembership.__table__,
    Payment.__table__,
    ChatProfile.__table__,
    ChatLink.__table__,
    Staff.__table__,
    InviteCode.__table__,
    AuditLog.__table__,
    AppSecret.__table__,
    DialogueStateRow.__table__,
    ChannelOptOut.__table__,
    ApiToken.__table__,
    EnrolmentRecord.__table__,
]
