"""Lookup limits: per chat, per ID number across all chats, and a global ceiling on failed lookups;
every refusal is audited; the audit keeps a keyed hash of the number, never the number.

The guessing scenario is the red team's: one ID number, a different name tried again and again,
spread over four private chats so that each chat stays under its own limit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from bot import clock
from bot.registry import audit, ids
from bot.registry.models import AppSecret, AuditLog
from bot.settings import Settings

NUMBER = "340321194912110013"  # generated, not a real person's
START = dt.datetime(2023, 11, 20, 9, 0, tzinfo=clock.TZ)


def other_number(n: int) -> str:
    return ids.with_check_digit(f"3403211950{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}")


@pytest.fixture()
def at(session: Session) -> Iterator[list[dt.datetime]]:
    """The pinned instant, advanced by the test (the limits are windows of time)."""
    moment = [START]
    clock.set_now(START)
    yield moment
    clock.set_now(None)


def advance(moment: list[dt.datetime], **delta: float) -> None:
    moment[0] += dt.timedelta(**delta)
    clock.set_now(moment[0])


SETTINGS = Settings(database_url="sqlite://", lookup_limit=5, lookup_window_seconds=600, lookup_id_limit=10,
                    lookup_id_window_seconds=86_400, lookup_failed_limit=1000, lookup_failed_window_seconds=3600)


def try_lookup(session: Session, chat_id: int, number: str, settings: Settings = SETTINGS,
               outcome: str = "not_found") -> audit.LookupVerdict:
    """What the dialogue does: check, and when allowed look up (here: the name was wrong) and record."""
    verdict = audit.check_lookup(session, chat_id=chat_id, id_number=number, settings=settings)
    if verdict.allowed:
        audit.record(session, chat_id=chat_id, actor="resident", action="status", id_number=number,
                     outcome=outcome, settings=settings)
    session.commit()
    return verdict


def test_guessing_one_id_across_four_chats_is_refused_after_the_per_id_limit(session: Session, at) -> None:
    verdicts: list[tuple[int, audit.LookupVerdict]] = []
    for chat in (101, 102, 103, 104):  # five guesses per chat: under each chat's own limit
        for _ in range(5):
            verdicts.append((chat, try_lookup(session, chat, NUMBER)))
            advance(at, seconds=20)
    allowed = [chat for chat, v in verdicts if v.allowed]
    assert len(allowed) == 10, Counter(allowed)
    refused = [v for _, v in verdicts if not v.allowed]
    assert len(refused) == 10 and {v.outcome for v in refused} == {audit.OUTCOME_ID_LIMITED}
    assert all("身份证号" in v.reason_zh and "10次" in v.reason_zh for v in refused)
    # A fifth, fresh chat gets nowhere either; the same number typed another way is the same number.
    spaced = f"{NUMBER[:6]}  {NUMBER[6:14]}  {NUMBER[14:]}"
    assert try_lookup(session, 105, spaced).outcome == audit.OUTCOME_ID_LIMITED
    # Another person's number is not affected, and the day after, the number can be looked up again.
    assert try_lookup(session, 105, other_number(1)).allowed
    advance(at, hours=24)
    assert try_lookup(session, 106, NUMBER).allowed


def test_the_per_chat_limit_still_holds(session: Session, at) -> None:
    results = [try_lookup(session, 201, other_number(n)) for n in range(7)]
    assert [v.allowed for v in results] == [True] * 5 + [False] * 2
    assert results[-1].outcome == audit.OUTCOME_RATE_LIMITED and "10分钟" in results[-1].reason_zh
    assert not audit.lookup_allowed(session, 201, SETTINGS)  # the current caller's check agrees
    advance(at, minutes=11)
    assert try_lookup(session, 201, other_number(99)).allowed


def test_the_global_ceiling_on_failed_lookups_trips(session: Session, at, caplog) -> None:
    settings = SETTINGS.model_copy(update={"lookup_failed_limit": 8})
    # Found lookups do not count towards the ceiling; failed ones from many chats do.
    for n in range(5):
        assert try_lookup(session, 300 + n, other_number(n), settings, outcome="enrolled").allowed
    for n in range(8):
        assert try_lookup(session, 400 + n, other_number(100 + n), settings).allowed
    verdict = try_lookup(session, 999, other_number(500), settings)  # a fresh chat, a fresh number
    assert not verdict.allowed and verdict.outcome == audit.OUTCOME_GLOBAL_LIMITED
    assert "暂停" in verdict.reason_zh
    assert any("lookup ceiling reached" in r.getMessage() for r in caplog.records)
    advance(at, minutes=61)  # the failed lookups have left the window
    assert try_lookup(session, 999, other_number(500), settings).allowed


def test_every_refusal_is_audited_masked_and_keyed(session: Session, at) -> None:
    refusals = []

    def attempt(chat: int, number: str, settings: Settings = SETTINGS) -> None:
        verdict = try_lookup(session, chat, number, settings)
        if not verdict.allowed:
            refusals.append((chat, verdict.outcome))
        advance(at, seconds=10)

    for n in range(7):  # one chat, seven numbers: two over the chat's limit
        attempt(500, other_number(n))
    for chat in (510, 511, 512, 513):  # one number from four chats: six over the number's limit
        for _ in range(4):
            attempt(chat, NUMBER)
    attempt(520, other_number(50), SETTINGS.model_copy(update={"lookup_failed_limit": 15}))  # 15 failed so far
    assert Counter(o for _, o in refusals) == {audit.OUTCOME_RATE_LIMITED: 2, audit.OUTCOME_ID_LIMITED: 6,
                                               audit.OUTCOME_GLOBAL_LIMITED: 1}
    rows = list(session.exec(select(AuditLog).where(AuditLog.outcome.in_(audit.REFUSALS)).order_by(AuditLog.id)))
    assert [(r.chat_id, r.outcome) for r in rows] == refusals
    for row in list(session.exec(select(AuditLog))):
        assert row.subject_masked and "*" in row.subject_masked and len(row.subject_key or "") == 64
        assert NUMBER not in (row.subject_masked + row.subject_key)
        assert row.subject_key != hashlib.sha256(NUMBER.encode()).hexdigest()  # keyed, not a plain hash


def test_operators_lookups_are_not_limited_and_do_not_count(session: Session, at) -> None:
    for _ in range(20):
        assert audit.check_lookup(session, chat_id=None, id_number=NUMBER, settings=SETTINGS).allowed
        audit.record(session, chat_id=None, actor="cli", action="status", id_number=NUMBER, outcome="not_found",
                     settings=SETTINGS)
    session.commit()
    assert try_lookup(session, 601, NUMBER).allowed
    assert audit.failed_lookups(session, SETTINGS) == 1


def test_subject_key_uses_the_configured_or_the_stored_key(session: Session, at) -> None:
    # (The migration creates the stored key: tests/registry/test_security_migration.py.)
    same = {audit.subject_key(session, form, SETTINGS) for form in
            (NUMBER, f"{NUMBER[:6]}.{NUMBER[6:14]}.{NUMBER[14:]}", "".join(chr(0xFF10 + int(c)) for c in NUMBER))}
    assert len(same) == 1
    assert audit.subject_key(session, other_number(1), SETTINGS) not in same
    configured = SETTINGS.model_copy(update={"audit_key": "k" * 64})
    assert audit.subject_key(session, NUMBER, configured) not in same
    assert audit.subject_key(session, NUMBER, configured) == audit.subject_key(session, NUMBER, configured)


def test_a_deleted_key_is_recreated(session: Session, at) -> None:
    stored = session.get(AppSecret, audit.AUDIT_KEY_NAME)
    if stored is not None:  # (PostgreSQL test databases are emptied between tests, keys too)
        session.delete(stored)
        session.commit()
    audit._keys.clear()  # a new process
    key = audit.subject_key(session, NUMBER, SETTINGS)
    session.commit()
    audit._keys.clear()
    assert audit.subject_key(session, NUMBER, SETTINGS) == key
    assert len(session.get(AppSecret, audit.AUDIT_KEY_NAME).value) == 64
