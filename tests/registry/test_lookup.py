"""Lookups: status (and its privacy), households, unpaid lists, completion; audit and rate limit."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pytest

from bot import clock
from bot.registry import audit, ids, lookup
from bot.registry.models import AuditLog
from bot.settings import Settings

from . import world as w


@pytest.fixture()
def world(session):
    return w.build(session)


def test_status_found_and_paid(session, world):
    r = lookup.status(session, world.ids["张伟"], "张伟", w.YEAR)
    assert r.found and r.enrolled
    assert r.name == "张伟" and r.person_id == world.people["张伟"].id
    assert r.household_id == world.households["H001"].id and r.locality_id == "wuhe"
    assert r.paid_on == dt.date(2023, 11, 2) and r.amount == Decimal("60.00")
    assert r.categories == ("dibao",) and r.migrant is False
    assert r.masked_id == ids.mask(world.ids["张伟"]) and world.ids["张伟"] not in str(r.to_json())


def test_status_unpaid_and_wrong_year(session, world):
    r = lookup.status(session, world.ids["张小明"], "张小明", w.YEAR)
    assert r.found and not r.enrolled and r.paid_on is None and r.amount is None and r.migrant
    liu = lookup.status(session, world.ids["刘洋"], "刘洋", w.YEAR)
    assert liu.found and not liu.enrolled  # paid 2023 only
    assert lookup.status(session, world.ids["刘洋"], "刘洋", 2023).enrolled


def test_status_duplicate_payment_sums_and_keeps_first_date(session, world):
    r = lookup.status(session, world.ids["王芳"], "王芳", w.YEAR)
    assert r.paid_on == dt.date(2023, 10, 9) and r.amount == Decimal("760.00")


def test_status_accepts_typed_variants(session, world):
    number = world.ids["陈静"]
    typed = " ".join([number[:6], number[6:14], number[14:]]).translate(
        {ord(c): ord(c) + 0xFEE0 for c in "0123456789"}
    )
    assert lookup.status(session, typed, " 陈 静 ", w.YEAR).found
    assert lookup.status(session, world.ids["陈静"], "陳靜", w.YEAR).found  # traditional characters


def test_name_mismatch_answers_exactly_like_not_found(session, world):
    number = world.ids["张伟"]
    mismatch = lookup.status(session, number, "张三", w.YEAR)
    unknown_body = w.make_id("340322", dt.date(1950, 3, 1), 12)  # valid, not registered, same masked shape
    unknown = lookup.status(session, unknown_body, "张三", w.YEAR)
    assert not mismatch.found
    assert mismatch == lookup.StatusResult(found=False, masked_id=ids.mask(number), year=w.YEAR)
    # Field by field identical apart from the masked echo of what was typed.
    assert {k: v for k, v in mismatch.to_json().items() if k != "masked_id"} == {
        k: v for k, v in unknown.to_json().items() if k != "masked_id"
    }
    invalid = lookup.status(session, number[:-1] + ("0" if number[-1] != "0" else "1"), "张伟", w.YEAR)
    assert {k: v for k, v in invalid.to_json().items() if k != "masked_id"} == {
        k: v for k, v in unknown.to_json().items() if k != "masked_id"
    }


def test_status_default_year_without_pack_is_this_year(session, world, monkeypatch):
    monkeypatch.setattr(lookup, "default_year", lambda loc: w.YEAR)
    assert lookup.status(session, world.ids["张伟"], "张伟").year == w.YEAR


def test_status_benefit_start_comes_from_policy_engine(session, world):
    from bot.policy import engine

    r = lookup.status(session, world.ids["王芳"], "王芳", w.YEAR)
    expected = engine.benefit_start(
        "wuhe", engine.Person(categories=[], birth_date=dt.date(1985, 6, 4), migrant=False), dt.date(2023, 10, 9)
    )
    assert r.benefit_start == getattr(expected, "benefit_start", None)


def test_status_never_logs_a_full_id(session, world, caplog):
    caplog.set_level(logging.DEBUG)
    for name, number in world.ids.items():
        lookup.status(session, number, name, w.YEAR)
        lookup.status(session, number, "某某", w.YEAR)
    lookup.unpaid_by_household(session, None, w.YEAR, locality_id="wuhe")
    audit.record(session, chat_id=1, actor="resident", action="status", id_number=world.ids["张伟"], outcome="found")
    logging.getLogger("test").info("done")  # the capture works
    assert "done" in caplog.text
    for number in world.ids.values():
        assert number not in caplog.text


def test_household_status(session, world):
    members = lookup.household_status(session, world.households["H001"].id, w.YEAR)
    assert [m.name for m in members] == ["张伟", "李娜", "张小明"]  # head first
    assert [m.enrolled for m in members] == [True, False, False]
    assert all(m.masked_id == ids.mask(world.ids[m.name]) for m in members)
    assert lookup.household_status(session, 999999, w.YEAR) == []


def test_unpaid_by_village_town_and_locality(session, world):
    east = lookup.unpaid_by_household(session, world.villages["东村"].id, w.YEAR)
    assert len(east) == 1 and east[0].household_code == "H001" and east[0].village == "东村"
    assert [m.name for m in east[0].members] == ["李娜", "张小明"]
    migrant = east[0].members[1]
    assert migrant.migrant and migrant.phone == "13800000003" and migrant.masked_id == ids.mask(world.ids["张小明"])

    chengguan = lookup.unpaid_by_household(session, world.towns["城关镇"].id, w.YEAR)
    assert [h.household_code for h in chengguan] == ["H001"]  # 西村's only household paid

    everyone = lookup.unpaid_by_household(session, None, w.YEAR, locality_id="wuhe")
    assert {h.household_code: len(h.members) for h in everyone} == {"H001": 2, "H003": 2}
    assert lookup.unpaid_by_household(session, world.towns["朱顶镇"].id, w.YEAR) == []
    with pytest.raises(ValueError):
        lookup.unpaid_by_household(session, None, w.YEAR)


def test_completion_per_town_and_per_village(session, world):
    towns = {p.name: p for p in lookup.completion(session, "wuhe", w.YEAR)}
    assert set(towns) == {"城关镇", "头铺镇", "朱顶镇"}
    cg = towns["城关镇"]
    assert (cg.target, cg.registered_population, cg.roster, cg.paid) == (10, 20, 4, 2)  # 王芳 counted once
    assert cg.rate == pytest.approx(2 / 10) and cg.unpaid == 8
    assert (towns["头铺镇"].paid, towns["头铺镇"].rate) == (0, 0.0)
    assert towns["朱顶镇"].roster == 0 and towns["朱顶镇"].rate == 0.0

    villages = {p.name: p for p in lookup.completion(session, "wuhe", w.YEAR, world.towns["城关镇"].id)}
    assert set(villages) == {"东村", "西村"}
    assert villages["东村"].target is None and villages["东村"].rate == pytest.approx(1 / 3)
    assert villages["西村"].rate == 1.0
    assert lookup.completion(session, "wuhe", 2023)[1].paid == 1  # 刘洋 in 头铺镇
    assert lookup.completion(session, "nowhere", w.YEAR) == []


def test_audit_record_masks_the_id(session, world):
    number = world.ids["张伟"]
    row = audit.record(session, chat_id=42, actor="resident", action="status", id_number=number, outcome="found")
    session.commit()
    stored = session.get(AuditLog, row.id)
    assert stored.subject_masked == ids.mask(number) and number not in stored.subject_masked
    assert stored.at.tzinfo is not None


def test_rate_limit_counts_audit_rows_in_window(session, world):
    settings = Settings(lookup_limit=3, lookup_window_seconds=600)
    start = dt.datetime(2023, 11, 20, 10, 0, tzinfo=clock.TZ)
    clock.set_now(start)
    try:
        for _ in range(3):
            assert audit.lookup_allowed(session, 7, settings)
            audit.record(session, chat_id=7, actor="resident", action="status", outcome="not_found")
        assert not audit.lookup_allowed(session, 7, settings)
        assert audit.lookup_allowed(session, 8, settings)  # another chat is unaffected
        assert audit.lookup_allowed(session, None, settings)  # CLI is not limited
        # Refused attempts are recorded but do not extend the lock.
        audit.record(session, chat_id=7, actor="resident", action="status", outcome=audit.OUTCOME_RATE_LIMITED)
        session.commit()
        clock.set_now(start + dt.timedelta(seconds=599))
        assert not audit.lookup_allowed(session, 7, settings)
        clock.set_now(start + dt.timedelta(seconds=601))
        assert audit.lookup_allowed(session, 7, settings)
    finally:
        clock.set_now(None)
