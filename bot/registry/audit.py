"""Audit log of lookups and the lookup limits derived from it.

Three limits, all counted from AuditLog rows (not process memory), so they hold across restarts and
across several bot processes sharing a database:

- per chat: settings.lookup_limit lookups per lookup_window_seconds (a chat cannot run through
  names quickly);
- per ID number, across all chats: lookup_id_limit per lookup_id_window_seconds (guessing one
  person's name by spreading tries over many chats does not pay);
- a global ceiling on failed lookups (not found) across all chats: lookup_failed_limit per
  lookup_failed_window_seconds (guessing many people's names at once trips it; then lookups pause for
  everyone until the window has passed, and a warning is logged for the operators).

Lookups without a chat (the operators' `yibao status`) are neither limited nor counted. A refused
attempt is audited but does not count, so a chat is free again one window after its last real
lookup however often it retried meanwhile.

An audit row stores the looked-up number masked, plus `subject_key`: HMAC-SHA256 of the normalised
number under a secret key (settings.audit_key, else the key migration 0003_security generated into
the app_secret table), so lookups of one number can be counted without storing it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot import clock
from bot.registry import ids
from bot.registry.chats import Chat
from bot.registry.models import AppSecret, AuditLog
from bot.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Actions that count against the lookup limits.
LOOKUP_ACTIONS = ("status", "household_status")
OUTCOME_RATE_LIMITED = "rate_limited"  # the chat's limit (the name predates the other two)
OUTCOME_ID_LIMITED = "id_limited"
OUTCOME_GLOBAL_LIMITED = "global_limited"
REFUSALS = (OUTCOME_RATE_LIMITED, OUTCOME_ID_LIMITED, OUTCOME_GLOBAL_LIMITED)
# Outcomes of a lookup that found nobody for that number and name: what guessing produces.
FAILED = ("not_found",)

AUDIT_KEY_NAME = "audit_subject_key"  # row in app_secret, created by migration 0003_security


@dataclass(frozen=True)
class LookupVerdict:
    """Whether a lookup may go ahead; when refused, `outcome` is the audited reason and `reason_zh`
    the one line to show the resident."""

    allowed: bool
    outcome: str
    reason_zh: str | None = None


ALLOWED = LookupVerdict(True, "allowed")


# ---- keyed subject -----------------------------------------------------------------------------

_keys: dict[str, bytes] = {}  # database URL -> key read from app_secret (stable once stored)


def _stored_key(session: Session) -> bytes:
    url = str(session.get_bind().url)
    cached = _keys.get(url)
    if cached is not None:
        return cached
    row = session.get(AppSecret, AUDIT_KEY_NAME)
    if row is not None:
        _keys[url] = row.value.encode()
        return _keys[url]
    # The migration creates the key; it is missing only if someone deleted it. Create one in the
    # caller's transaction (not cached: if that transaction rolls back, the next call makes another).
    value = secrets.token_hex(32)
    try:
        with session.begin_nested():
            session.add(AppSecret(name=AUDIT_KEY_NAME, value=value, created_at=clock.now()))
    except IntegrityError:  # another process created it meanwhile
        row = session.get(AppSecret, AUDIT_KEY_NAME)
        value = row.value if row is not None else value
    return value.encode()


def subject_key(session: Session, id_number: str, settings: Settings | None = None) -> str:
    """HMAC-SHA256 (hex) of the normalised number: the same for every way of typing one number,
    useless without the key for telling which number a row is about."""
    settings = settings or get_settings()
    key = settings.audit_key.encode() if settings.audit_key else _stored_key(session)
    check = ids.validate(id_number)
    number = check.number if check.ok else ids.normalize(id_number)
    return hmac.new(key, number.encode(), hashlib.sha256).hexdigest()


# ---- counting ------------------------------------------------------------------------------------

def _count(session: Session, *where: object) -> int:
    return session.execute(
        select(func.count()).select_from(AuditLog).where(AuditLog.action.in_(LOOKUP_ACTIONS), *where)
    ).scalar_one()


def _since(seconds: int) -> dt.datetime:
    return clock.now() - dt.timedelta(seconds=seconds)


def lookups_in_window(session: Session, chat_id: Chat | int, settings: Settings | None = None) -> int:
    """Lookups by one chat (a `Chat`, or a Telegram chat id) in the per-chat window."""
    settings = settings or get_settings()
    chat = Chat.of(chat_id)
    assert chat is not None
    return _count(session, *chat.match(AuditLog), AuditLog.at >= _since(settings.lookup_window_seconds),
                  AuditLog.outcome.not_in(REFUSALS))


def lookups_of_subject(session: Session, key: str, settings: Settings | None = None) -> int:
    """Lookups of one number (by subject key) from any chat in the per-ID window."""
    settings = settings or get_settings()
    return _count(session, AuditLog.subject_key == key, AuditLog.at >= _since(settings.lookup_id_window_seconds),
                  AuditLog.address.is_not(None), AuditLog.outcome.not_in(REFUSALS))


def failed_lookups(session: Session, settings: Settings | None = None) -> int:
    """Failed lookups from any chat in the global window."""
    settings = settings or get_settings()
    return _count(session, AuditLog.outcome.in_(FAILED), AuditLog.at >= _since(settings.lookup_failed_window_seconds),
                  AuditLog.address.is_not(None))


def lookup_allowed(session: Session, chat_id: Chat | int | None, settings: Settings | None = None) -> bool:
    """True while the chat has made fewer than settings.lookup_limit lookups in the last
    settings.lookup_window_seconds. Lookups without a chat (CLI, staff tools) are not limited.

    The per-chat limit only: callers that know the number call `check_lookup`, which applies all
    three limits and audits its refusals."""
    if chat_id is None:
        return True
    settings = settings or get_settings()
    return lookups_in_window(session, chat_id, settings) < settings.lookup_limit


# ---- the check a lookup goes through -----------------------------------------------------------

def _span_zh(seconds: int) -> str:
    if seconds % 86_400 == 0:
        return f"{seconds // 86_400 * 24}小时"
    if seconds % 3_600 == 0:
        return f"{seconds // 3_600}小时"
    return f"{max(1, seconds // 60)}分钟"


def check_lookup(session: Session, *, chat_id: Chat | int | None, id_number: str, settings: Settings | None = None,
                 actor: str = "resident", action: str = "status") -> LookupVerdict:
    """Call before a status lookup. Applies the per-chat, per-ID and global limits in that order;
    a refusal is audited here (so none can be forgotten) and comes back with its Chinese line.
    After an allowed lookup the caller records the result with `record` (same number, same chat).
    Lookups without a chat are always allowed (operators on the server). `chat_id` is a `Chat` (any
    channel) or a Telegram chat id."""
    if chat_id is None:
        return ALLOWED
    settings = settings or get_settings()
    key = subject_key(session, id_number, settings)
    if lookups_in_window(session, chat_id, settings) >= settings.lookup_limit:
        verdict = LookupVerdict(False, OUTCOME_RATE_LIMITED, (
            f"查询太频繁了。为保护个人信息，每个聊天{_span_zh(settings.lookup_window_seconds)}内最多查"
            f"{settings.lookup_limit}次，请过一会儿再查。谢谢理解！"))
    elif lookups_of_subject(session, key, settings) >= settings.lookup_id_limit:
        verdict = LookupVerdict(False, OUTCOME_ID_LIMITED, (
            f"这个身份证号最近查询次数太多了。为防止他人冒查，同一个身份证号{_span_zh(settings.lookup_id_window_seconds)}内"
            f"最多查{settings.lookup_id_limit}次，请以后再查；着急的话请联系村（社区）干部。"))
    elif failed_lookups(session, settings) >= settings.lookup_failed_limit:
        log.warning("lookup ceiling reached: %d failed lookups in %d s; lookups paused for every chat",
                    settings.lookup_failed_limit, settings.lookup_failed_window_seconds)
        verdict = LookupVerdict(False, OUTCOME_GLOBAL_LIMITED, (
            "最近查不到的查询太多，为保护居民个人信息，查询功能暂停一会儿，请过一小时左右再试；"
            "着急的话请联系村（社区）干部。"))
    else:
        return ALLOWED
    _add(session, chat_id=chat_id, actor=actor, action=action, id_number=id_number, outcome=verdict.outcome,
         key=key)
    return verdict


def record(session: Session, *, chat_id: Chat | int | None, actor: str, action: str, id_number: str | None = None,
           outcome: str, settings: Settings | None = None) -> AuditLog:
    """Add an audit row (flushed, committed with the caller's session). The ID is masked here and
    its keyed hash stored beside it."""
    key = subject_key(session, id_number, settings) if id_number else None
    return _add(session, chat_id=chat_id, actor=actor, action=action, id_number=id_number, outcome=outcome, key=key)


def _add(session: Session, *, chat_id: Chat | int | None, actor: str, action: str, id_number: str | None, outcome: str,
         key: str | None) -> AuditLog:
    chat = Chat.of(chat_id)
    where = chat.columns() if chat is not None else {}
    row = AuditLog(at=clock.now(), **where, actor=actor, action=action,
                   subject_masked=ids.mask(id_number) if id_number else None, subject_key=key, outcome=outcome)
    session.add(row)
    session.flush()
    return row
