"""A small registry with two towns and three villages, staff in each role, and payments."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlmodel import Session

from bot import clock
from bot.registry import db
from bot.registry.ids import with_check_digit
from bot.registry.models import Area, Household, Payment, Person, Staff

TODAY = date(2023, 11, 20)


@pytest.fixture()
def session(tmp_path: Path) -> Iterator[Session]:
    engine = db.get_engine(f"sqlite:///{tmp_path / 'staff.db'}")
    db.ensure_schema(engine)
    clock.set_today(TODAY)
    with Session(engine) as s:
        yield s
    clock.set_today(None)
    engine.dispose()


def _person(s: Session, n: int, area: Area, hh: Household, name: str, paid_on: date | None,
            migrant: bool = False) -> Person:
    # Generated IDs (region 340322 = 五河县); not real people.

    body = f"340322{1960 + n % 40}0{1 + n % 9}1{n % 10}{n % 1000:03d}"
    p = Person(id_number=with_check_digit(body), name=name, household_id=hh.id, relation="户主",
               area_id=area.id, phone=f"1380000{n:04d}", migrant=migrant, birth_date=date(1960 + n % 40, 1 + n % 9, 10 + n % 10))
    s.add(p)
    s.flush()
    if paid_on is not None:
        s.add(Payment(person_id=p.id, coverage_year=2024, paid_on=paid_on, amount=380, channel="微信",
                      source_file="test"))
    return p


@pytest.fixture()
def world(session: Session) -> dict:
    """Wuhe: 城关镇 (target 10) with 东村, 西村; 头铺镇 (target 4) with 南村."""
    from bot.registry.db import seed_localities

    seed_localities(session)
    from sqlmodel import select

    towns = {a.name: a for a in session.exec(select(Area).where(Area.locality_id == "wuhe", Area.level == "town"))}
    chengguan, toupu = towns["城关镇"], towns["头铺镇"]
    villages = {}
    for name, parent in (("东村", chengguan), ("西村", chengguan), ("南村", toupu)):
        v = Area(locality_id="wuhe", level="village", name=name, parent_id=parent.id)
        session.add(v)
        session.flush()
        villages[name] = v
    n = 0
    plan = {  # village: list of (paid_on or None, migrant)
        "东村": [(date(2023, 10, 1), False), (date(2023, 11, 18), False), (None, True), (None, False)],
        "西村": [(date(2023, 9, 5), False), (date(2023, 9, 6), False), (date(2023, 9, 7), False)],
        "南村": [(None, False), (None, True), (date(2023, 11, 1), False)],
    }
    for vname, people in plan.items():
        hh = Household(locality_id="wuhe", code=f"H-{vname}", area_id=villages[vname].id)
        session.add(hh)
        session.flush()
        for paid_on, migrant in people:
            n += 1
            _person(session, n, villages[vname], hh, f"{vname}居民{n}", paid_on, migrant)
    staff = {
        "admin": Staff(user_id=1001, role="county_admin", locality_id="wuhe", area_id=None),
        "town": Staff(user_id=1002, role="town_official", locality_id="wuhe", area_id=chengguan.id),
        "cadre": Staff(user_id=1003, role="village_cadre", locality_id="wuhe", area_id=villages["东村"].id),
    }
    for s in staff.values():
        session.add(s)
    session.commit()
    return {"towns": towns, "villages": villages, "staff": staff}
