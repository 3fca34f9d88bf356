"""A small registry for conversation tests: the four localities seeded from the packs, and 五河
residents whose generated ID numbers fill the YAML placeholders {paid_id}, {unpaid_id}, ..."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from bot import clock


def make_id(region: str, born: dt.date, seq: int) -> str:
    """A valid-looking generated ID number (not a real person's)."""
    from stdnum.cn import ric

    body = f"{region}{born:%Y%m%d}{seq:03d}"
    return body + ric.calc_check_digit(body + "0")  # the function reads 17 digits + a placeholder


def build(path: Path, today: dt.date) -> tuple[Any, dict[str, str]]:
    """(engine, placeholders) for a fresh SQLite registry at `path`."""
    from sqlmodel import Session, select

    from bot.policy import get_pack
    from bot.registry import db
    from bot.registry.models import Area, Household, Payment, Person

    clock.set_today(today)
    engine = db.get_engine(f"sqlite:///{path}")
    db.ensure_schema(engine)
    pack = get_pack("wuhe")
    people: dict[str, str] = {}
    with Session(engine) as s:
        db.seed_localities(s)
        town = s.exec(select(Area).where(Area.locality_id == "wuhe", Area.name == "朱顶镇")).first()
        hh = Household(locality_id="wuhe", code="H-CONV-1", area_id=town.id)
        s.add(hh)
        s.flush()
        for n, (key, name, born, paid) in enumerate((
            ("paid", "王秀兰", dt.date(1962, 3, 8), True),
            ("unpaid", "王建军", dt.date(1988, 7, 21), False),
        ), start=1):
            number = make_id(pack.locality.division_code, born, 200 + n)
            p = Person(id_number=number, name=name, household_id=hh.id, relation="户主" if n == 1 else "家属",
                       area_id=town.id, birth_date=born)
            s.add(p)
            s.flush()
            if paid:
                s.add(Payment(person_id=p.id, coverage_year=pack.coverage_year, paid_on=dt.date(2023, 10, 9),
                              amount=pack.financing.personal.value, channel="微信", source_file="test"))
            people[f"{key}_id"], people[f"{key}_name"] = number, name
        s.commit()
    return engine, people
