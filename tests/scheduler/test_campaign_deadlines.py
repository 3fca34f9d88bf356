"""A reminder names the deadline the status reply gives: migrant workers' extended deadline (五河, 桃园),
both deadlines for a mixed household, the ordinary one where a pack has no extension (滕州)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlmodel import Session, select

from bot import clock
from bot.policy import engine as policy
from bot.policy import get_pack
from bot.policy.engine import Person as PolicyPerson
from bot.registry import lookup
from bot.registry.ids import with_check_digit
from bot.registry.models import ChatLink, Household, Payment, Person
from scheduler import campaigns
from scheduler.models import Campaign, OutboxMessage


@dataclass
class Resident:
    name: str
    migrant: bool
    id_number: str = ""


def _zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _household(s: Session, loc: str, code: str, chat_id: int, people: list[Resident]) -> int:
    hh = Household(locality_id=loc, code=code)
    s.add(hh)
    s.flush()
    for i, r in enumerate(people):
        r.id_number = with_check_digit(f"340322198{chat_id % 10}0{i + 1:01d}15{chat_id % 1000:03d}")
        s.add(Person(id_number=r.id_number, name=r.name, household_id=hh.id, birth_date=date(1980, 1, 15),
                     migrant=r.migrant))
    s.flush()
    s.add(ChatLink(chat_id=chat_id, household_id=hh.id))
    return hh.id


def _at(day: date) -> None:
    clock.set_now(datetime.combine(day, datetime.min.time()).replace(hour=9, tzinfo=clock.TZ))


def _deadlines(loc: str, on: date) -> tuple[date, date]:
    ordinary = policy.deadline(loc, PolicyPerson(), on)
    extended = policy.deadline(loc, PolicyPerson(migrant=True), on)
    assert ordinary.ok and extended.ok and extended.extended
    return ordinary.deadline, extended.deadline


def _texts(engine, kind: str) -> dict[int, str]:  # noqa: ANN001
    with Session(engine) as s:
        wave = {c.id for c in s.exec(select(Campaign).where(Campaign.kind == kind, Campaign.built_at.is_not(None)))}
        return {m.chat_id: m.text for m in s.exec(select(OutboxMessage)) if m.campaign_id in wave}


@pytest.mark.parametrize("loc", ["wuhe", "taoyuan"])
def test_all_migrant_household_is_reminded_of_the_extended_deadline_only(engine, loc: str) -> None:  # noqa: ANN001
    pack = get_pack(loc)
    ordinary, extended = _deadlines(loc, pack.dates.collection.end - timedelta(days=7))
    with Session(engine) as s:
        _household(s, loc, "M1", 801, [Resident("张外出", True), Resident("李外出", True)])
        _household(s, loc, "N1", 802, [Resident("王在家", False)])
        s.commit()

    _at(ordinary - timedelta(days=7))  # the ordinary D-7 wave
    with Session(engine) as s:
        results = campaigns.run_due(s, loc)
        s.commit()
    assert sum(r.excluded_other_deadline for r in results) == 1
    texts = _texts(engine, "deadline")
    assert set(texts) == {802}, "the all-migrant household is not told the ordinary deadline"

    _at(extended - timedelta(days=7))  # the migrant D-7 wave
    with Session(engine) as s:
        campaigns.run_due(s, loc)
        s.commit()
        status = lookup.status(s, _first_id(s, "张外出"), "张外出", pack.coverage_year)
    texts = _texts(engine, "migrant")
    assert set(texts) == {801}
    # The same deadline the status reply computes for this person from the registry.
    replied = policy.deadline(pack, PolicyPerson(migrant=status.migrant), clock.today())
    assert status.found and status.migrant and replied.deadline == extended
    assert f"缴费截止：{_zh(extended)}（还剩7天）" in texts[801]
    assert _zh(ordinary) not in texts[801]


def _first_id(s: Session, name: str) -> str:
    return s.exec(select(Person.id_number).where(Person.name == name)).one()


def test_mixed_household_names_both_deadlines_each_for_whom(engine) -> None:  # noqa: ANN001
    ordinary, extended = _deadlines("wuhe", date(2023, 12, 1))
    with Session(engine) as s:
        _household(s, "wuhe", "X1", 803, [Resident("赵在家", False), Resident("钱外出", True)])
        s.commit()
    _at(ordinary - timedelta(days=7))
    with Session(engine) as s:
        campaigns.run_due(s, "wuhe")
        s.commit()
    text = _texts(engine, "deadline")[803]
    amount = policy.amount("wuhe", PolicyPerson(birth_date=date(1980, 1, 15)), clock.today())
    yuan = f"{Decimal(amount.personal):.2f}".rstrip("0").rstrip(".") + "元"
    lines = text.splitlines()
    home = next(line for line in lines if line.startswith("您家"))
    assert "赵*" in home and "钱*" not in home and "共1人" in home and f"应缴合计{yuan}" in home
    assert f"缴费截止：{_zh(ordinary)}（还剩7天）。" in lines
    away = next(line for line in lines if _zh(extended) in line)
    assert away.startswith("外出务工人员钱*") and f"可延至{_zh(extended)}前缴费" in away and f"还剩{(extended - clock.today()).days}天" in away
    assert f"应缴{yuan}" in away


def test_recheck_drops_a_reminder_once_only_migrants_are_left_unpaid(engine) -> None:  # noqa: ANN001
    pack = get_pack("wuhe")
    ordinary, _ = _deadlines("wuhe", date(2023, 12, 1))
    with Session(engine) as s:
        _household(s, "wuhe", "X2", 804, [Resident("孙在家", False), Resident("周外出", True)])
        s.commit()
    _at(ordinary - timedelta(days=7))
    with Session(engine) as s:
        campaigns.run_due(s, "wuhe")
        s.commit()
        row = s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == 804)).one()
        home = s.exec(select(Person).where(Person.name == "孙在家")).one()
        s.add(Payment(person_id=home.id, coverage_year=pack.coverage_year, paid_on=clock.today(), amount=Decimal(380)))
        s.commit()
        skip = campaigns.recheck(s, [row])
    assert "due by this deadline" in skip[row.id]


def test_pack_without_extension_reminds_migrants_of_the_ordinary_deadline(engine) -> None:  # noqa: ANN001
    pack = get_pack("tengzhou")
    assert pack.dates.migrant_extension is None
    ordinary = policy.deadline("tengzhou", PolicyPerson(), pack.dates.collection.end).deadline
    with Session(engine) as s:
        _household(s, "tengzhou", "T1", 805, [Resident("吴外出", True)])
        s.commit()
    _at(ordinary - timedelta(days=7))
    with Session(engine) as s:
        campaigns.run_due(s, "tengzhou")
        s.commit()
    assert f"缴费截止：{_zh(ordinary)}（还剩7天）" in _texts(engine, "deadline")[805]


def test_template_channels_name_only_who_is_due_by_the_waves_deadline(engine) -> None:  # noqa: ANN001
    """WeChat and SMS templates have one deadline slot: they name the members due by the wave's
    deadline and their amount, never a migrant under the ordinary deadline."""
    from scheduler.channels.reminders import reminder_params
    from scheduler.models import DEADLINE

    pack = get_pack("wuhe")
    ordinary, _ = _deadlines("wuhe", date(2023, 12, 1))
    today = ordinary - timedelta(days=7)
    members = [campaigns.Member(1, "赵在家", date(1980, 1, 15), False, ()),
               campaigns.Member(2, "钱外出", date(1980, 1, 15), True, ())]
    hh = campaigns.household_due(pack, 9, members, ordinary, today, campaigns.Deadlines(pack, today))
    params = reminder_params(pack, DEADLINE, ordinary, today, [hh])
    one = policy.amount("wuhe", PolicyPerson(birth_date=date(1980, 1, 15)), today).personal
    assert params["names"] == "赵**" and params["count"] == "1"
    assert params["amount"] == f"{Decimal(one):.2f}".rstrip("0").rstrip(".") + "元"
    assert params["deadline"] == _zh(ordinary)
