"""Staff may see only their own area; progress and unpaid views count what the registry holds."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import Session

from bot import clock
from bot.policy import get_pack
from bot.registry import access
from bot.reports.staff_views import progress_view, unpaid_view

TODAY = date(2023, 11, 20)


def test_cadre_cannot_read_another_village(session: Session, world: dict) -> None:
    cadre = world["staff"]["cadre"]
    with pytest.raises(access.AccessError) as e:
        unpaid_view(session, cadre, "西村")
    assert "本辖区" in e.value.message_zh
    with pytest.raises(access.AccessError):
        unpaid_view(session, cadre, "南村")


def test_town_official_sees_own_villages_only(session: Session, world: dict) -> None:
    town = world["staff"]["town"]
    assert unpaid_view(session, town, "东村").people == 2
    with pytest.raises(access.AccessError):
        unpaid_view(session, town, "南村")  # belongs to 头铺镇
    scope = access.scope_area_ids(session, town)
    assert world["villages"]["东村"].id in scope and world["villages"]["南村"].id not in scope


def test_cadre_unpaid_list_groups_households(session: Session, world: dict) -> None:
    view = unpaid_view(session, world["staff"]["cadre"])
    assert view.people == 2 and len(view.households) == 1
    assert "外出务工 1 人" in view.text
    names = {m.name for h in view.households for m in h.members}
    assert names == {"东村居民3", "东村居民4"}
    # the cadre's list never shows a full ID number
    assert all("*" in m.masked_id for h in view.households for m in h.members)


def test_county_admin_must_name_an_area(session: Session, world: dict) -> None:
    with pytest.raises(access.AccessError):
        unpaid_view(session, world["staff"]["admin"])
    assert unpaid_view(session, world["staff"]["admin"], "头铺镇").people == 2


def test_town_progress_ranks_villages_with_weekly_change(session: Session, world: dict) -> None:
    view = progress_view(session, world["staff"]["town"], TODAY)
    by_name = {r.name: r for r in view.rows}
    assert [r.name for r in view.rows] == ["西村", "东村"]  # 3/3 before 2/4
    assert (by_name["东村"].paid, by_name["东村"].target, by_name["东村"].paid_last_week) == (2, 4, 1)
    assert not by_name["东村"].target_is_task  # villages have no task-table target: roster size
    assert "东村 50.0%（周+25.0）" in view.text


def test_county_progress_uses_task_table_targets(session: Session, world: dict) -> None:
    view = progress_view(session, world["staff"]["admin"], TODAY)
    pack = get_pack("wuhe")
    targets = {e.name: e.target for e in pack.task_table.entries}
    by_name = {r.name: r for r in view.rows}
    assert len(view.rows) == len(targets)
    assert by_name["城关镇"].paid == 5 and by_name["城关镇"].target == targets["城关镇"]
    assert by_name["头铺镇"].paid == 1 and by_name["头铺镇"].target == targets["头铺镇"]
    assert by_name["城关镇"].gap == targets["城关镇"] - 5
    # beside the task-table rate, the roster rate: 5 of the 7 people on 城关镇's roster paid
    assert by_name["城关镇"].roster == 7 and "花名册已缴71.4%" in view.text


def test_invite_codes_bind_once(session: Session, world: dict) -> None:
    village = world["villages"]["西村"]
    with pytest.raises(access.AccessError):
        access.create_invite(session, "cadre", "wuhe", world["towns"]["城关镇"].id)  # a town is not a village
    code = access.create_invite(session, "cadre", "wuhe", village.id)
    staff = access.redeem_invite(session, code.code.lower(), user_id=2001)
    assert (staff.role, staff.area_id) == ("village_cadre", village.id)
    with pytest.raises(access.AccessError) as e:
        access.redeem_invite(session, code.code, user_id=2002)
    assert "已被使用" in e.value.message_zh
    with pytest.raises(access.AccessError):
        access.redeem_invite(session, "NOPE2345", user_id=2002)


def test_invite_expires_after_a_week(session: Session, world: dict) -> None:
    code = access.create_invite(session, "town-official", "wuhe", world["towns"]["头铺镇"].id)
    clock.set_today(TODAY + access.INVITE_TTL + timedelta(days=1))
    with pytest.raises(access.AccessError) as e:
        access.redeem_invite(session, code.code, user_id=2003)
    assert "过期" in e.value.message_zh


def test_find_area_matches_short_names_and_refuses_guesses(session: Session, world: dict) -> None:
    assert access.find_area(session, "wuhe", "城关").name == "城关镇"
    with pytest.raises(access.AccessError):
        access.find_area(session, "wuhe", "不存在的地方")


def test_tanghe_mark_is_the_cited_96_percent() -> None:
    from bot.reports.staff_views import progress_mark

    pack = get_pack("tanghe")
    mark = pack.task_table.completion_mark
    assert progress_mark("tanghe") == 0.96 and "96%" in mark.quote.replace(" ", "")
    assert mark.locator == "六（一）" and mark.by.isoformat() == "2022-11-30"
    assert progress_mark("wuhe") is None  # 五河 sets no such mark: nothing is drawn


def test_fixture_ids_are_valid(session: Session, world: dict) -> None:
    from sqlmodel import select

    from bot.registry import ids
    from bot.registry.models import Person

    assert all(ids.validate(p.id_number).ok for p in session.exec(select(Person)))
