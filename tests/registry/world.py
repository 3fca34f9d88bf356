"""A small hand-built registry for lookup tests (generated IDs, not real people)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from types import SimpleNamespace

from sqlmodel import Session, select
from stdnum.cn import ric

from bot.registry import db
from bot.registry.models import Area, CategoryMembership, Household, Payment, Person

YEAR = 2024


def make_id(region: str, born: dt.date, seq: int) -> str:
    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")


def wuhe_pack() -> SimpleNamespace:
    entries = [("城关镇", 10, 20), ("头铺镇", 4, 6), ("朱顶镇", 3, None)]
    return SimpleNamespace(
        locality=SimpleNamespace(id="wuhe", name_zh="五河县", division_code="340322"),
        coverage_year=YEAR,
        task_table=SimpleNamespace(
            level="town",
            entries=[SimpleNamespace(name=n, aliases=[], target=t, registered_population=p) for n, t, p in entries],
        ),
    )


@dataclass
class World:
    towns: dict[str, Area]
    villages: dict[str, Area]
    people: dict[str, Person]  # by name
    households: dict[str, Household]
    ids: dict[str, str] = field(default_factory=dict)  # name -> full ID number


def build(session: Session) -> World:
    """城关镇 (target 10): 东村 {h1: 张伟 paid, 李娜 unpaid, 张小明 unpaid (migrant)},
    西村 {h2: 王芳 paid twice (duplicate)}; 头铺镇 (target 4): 南村 {h3: 陈静 unpaid, 刘洋 paid 2023 only};
    朱顶镇: nobody. 张伟 is dibao, recognised 2023-12-01."""
    db.seed_localities(session, [wuhe_pack()])
    session.flush()
    towns = {a.name: a for a in session.exec(select(Area).where(Area.locality_id == "wuhe"))}
    villages: dict[str, Area] = {}
    for name, town in (("东村", "城关镇"), ("西村", "城关镇"), ("南村", "头铺镇")):
        v = Area(locality_id="wuhe", level="village", name=name, parent_id=towns[town].id)
        session.add(v)
        session.flush()
        villages[name] = v
    households = {}
    for code, village in (("H001", "东村"), ("H002", "西村"), ("H003", "南村")):
        h = Household(locality_id="wuhe", code=code, area_id=villages[village].id)
        session.add(h)
        session.flush()
        households[code] = h
    spec = [
        # name, household, relation, village, born, seq, migrant, phone, payments (year, date, amount)
        ("张伟", "H001", "户主", "东村", dt.date(1950, 3, 1), 11, False, "13800000001",
         [(YEAR, dt.date(2023, 11, 2), "60")]),
        ("李娜", "H001", "配偶", "东村", dt.date(1952, 4, 2), 22, False, None, []),
        ("张小明", "H001", "子", "东村", dt.date(1990, 5, 3), 33, True, "13800000003", []),
        ("王芳", "H002", "户主", "西村", dt.date(1985, 6, 4), 44, False, "13800000004",
         [(YEAR, dt.date(2023, 10, 9), "380"), (YEAR, dt.date(2023, 10, 10), "380")]),
        ("陈静", "H003", "户主", "南村", dt.date(2000, 2, 29), 54, False, "13800000005", []),
        ("刘洋", "H003", "子", "南村", dt.date(2023, 9, 1), 63, False, None, [(2023, dt.date(2023, 9, 20), "350")]),
    ]
    world = World(towns=towns, villages=villages, people={}, households=households)
    for name, hh, relation, village, born, seq, migrant, phone, payments in spec:
        number = make_id("340322", born, seq)
        p = Person(id_number=number, name=name, household_id=households[hh].id, relation=relation,
                   area_id=villages[village].id, phone=phone, migrant=migrant, birth_date=born)
        session.add(p)
        session.flush()
        world.people[name], world.ids[name] = p, number
        for year, paid_on, amount in payments:
            session.add(Payment(person_id=p.id, coverage_year=year, paid_on=paid_on, amount=Decimal(amount),
                                channel="微信", source_file="test.csv"))
    session.add(CategoryMembership(person_id=world.people["张伟"].id, category="dibao",
                                   recognised_on=dt.date(2023, 12, 1)))
    session.commit()
    return world
