"""Registry lookups for residents (status by ID + name) and staff (households, unpaid lists, completion).

Privacy: `status` answers a wrong name exactly like an unknown number, so nobody learns whether an
ID number is registered without also knowing the name. Nothing here logs a full ID number.

"Paid" for a coverage year means at least one payment row for that person and year; completion
counts distinct persons, so a duplicate payment never counts twice.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, func, select
from sqlmodel import Session

from bot import clock
from bot.registry import ids
from bot.registry.models import Area, CategoryMembership, Household, Payment, Person

log = logging.getLogger(__name__)

HEAD_RELATIONS = ("户主", "本人")


@dataclass(frozen=True)
class StatusResult:
    found: bool
    masked_id: str
    name: str | None = None
    person_id: int | None = None
    household_id: int | None = None
    locality_id: str | None = None
    year: int | None = None
    enrolled: bool = False
    paid_on: dt.date | None = None
    amount: Decimal | None = None
    categories: tuple[str, ...] = ()
    migrant: bool = False
    benefit_start: dt.date | None = None
    benefit_rule: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["categories"] = list(self.categories)
        for key in ("paid_on", "benefit_start"):
            out[key] = out[key].isoformat() if out[key] else None
        out["amount"] = str(self.amount) if self.amount is not None else None
        return out


@dataclass(frozen=True)
class MemberStatus:
    person_id: int
    masked_id: str
    name: str
    relation: str
    enrolled: bool
    paid_on: dt.date | None = None


@dataclass(frozen=True)
class UnpaidMember:
    person_id: int
    name: str
    masked_id: str
    phone: str | None
    migrant: bool
    relation: str


@dataclass
class HouseholdUnpaid:
    household_id: int | None
    household_code: str
    village: str
    members: list[UnpaidMember] = field(default_factory=list)


@dataclass(frozen=True)
class AreaProgress:
    area_id: int
    name: str
    level: str
    target: int | None  # task-table target; None for areas below the task table's level
    registered_population: int | None
    roster: int  # persons in the registry for this area (and below)
    paid: int  # distinct persons with a payment for the year
    rate: float | None  # paid / target, or paid / roster when there is no target; None if neither

    @property
    def unpaid(self) -> int:
        return max((self.target or self.roster) - self.paid, 0)


_NAME_DOTS = re.compile(r"[·•・‧∙.．]")
_SPACES = re.compile(r"\s+")


def normalize_name(name: str | None) -> str:
    """Full-width → half-width, spaces removed, the various middle dots (少数民族 names) unified,
    traditional characters read as simplified (a resident may type 陳 for 陈)."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name)
    text = _SPACES.sub("", text)
    text = _NAME_DOTS.sub("·", text)
    try:
        import zhconv

        text = zhconv.convert(text, "zh-cn")
    except ImportError:  # pragma: no cover - zhconv is a dependency
        pass
    return text


def default_year(locality_id: str | None) -> int:
    """The campaign's coverage year: the newest policy pack's for the locality, else this calendar year."""
    if locality_id:
        try:
            from bot.policy import get_pack

            pack = get_pack(locality_id)
            if pack is not None:
                return int(pack.coverage_year)
        except ImportError:
            pass
    return clock.today().year


def benefit_for(locality_id: str, paid_on: dt.date, categories: list[str], birth_date: dt.date,
             migrant: bool) -> tuple[dt.date | None, str | None]:
    try:
        from bot.policy import engine
        from bot.policy.engine import Person as PolicyPerson

        answer = engine.benefit_start(
            locality_id, PolicyPerson(categories=categories, birth_date=birth_date, migrant=migrant), paid_on
        )
    except Exception:  # the status answer must not fail because the policy layer cannot say
        log.warning("benefit start unavailable for locality %s", locality_id, exc_info=True)
        return None, None
    if getattr(answer, "ok", True) is False:
        return None, getattr(answer, "refusal", None)
    start = getattr(answer, "benefit_start", None)
    rule = getattr(answer, "rule", None)
    return start, (str(rule) if rule is not None else None)


def _not_found(id_number: str, year: int | None) -> StatusResult:
    return StatusResult(found=False, masked_id=ids.mask(id_number), year=year)


_STATUS_PERSON = (
    select(Person.id, Person.name, Person.household_id, Person.migrant, Person.birth_date, Household.locality_id,
           Area.locality_id)
    .select_from(Person)
    .outerjoin(Household, Household.id == Person.household_id)
    .outerjoin(Area, Area.id == Person.area_id)
)


def status(session: Session, id_number: str, name: str, year: int | None = None) -> StatusResult:
    """Enrollment status for the coverage year (default: the locality's current campaign year).

    A wrong name, an unknown number and an invalid number all give the same not-found result.
    """
    check = ids.validate(id_number)
    if not check.ok:
        return _not_found(id_number, year)
    row = session.execute(_STATUS_PERSON.where(Person.id_number == check.number)).first()
    if row is None or normalize_name(row[1]) != normalize_name(name):
        return _not_found(id_number, year)
    person_id, stored_name, household_id, migrant, birth, hh_locality, area_locality = row
    locality_id = hh_locality or area_locality
    year = year or default_year(locality_id)
    pay = session.execute(
        select(func.min(Payment.paid_on), func.sum(Payment.amount)).where(
            Payment.person_id == person_id, Payment.coverage_year == year
        )
    ).first()
    paid_on, amount = (pay[0], pay[1]) if pay else (None, None)
    categories = sorted(
        session.execute(select(CategoryMembership.category).where(CategoryMembership.person_id == person_id))
        .scalars()
        .all()
    )
    start = rule = None
    if paid_on is not None and locality_id:
        start, rule = benefit_for(locality_id, paid_on, categories, birth, bool(migrant))
    return StatusResult(
        found=True,
        masked_id=ids.mask(check.number),
        name=stored_name,
        person_id=person_id,
        household_id=household_id,
        locality_id=locality_id,
        year=year,
        enrolled=paid_on is not None,
        paid_on=paid_on,
        amount=Decimal(amount).quantize(Decimal("0.01")) if amount is not None else None,
        categories=tuple(categories),
        migrant=bool(migrant),
        benefit_start=start,
        benefit_rule=rule,
    )


def _relation_order(relation: str) -> int:
    return 0 if relation in HEAD_RELATIONS else 1


def household_status(session: Session, household_id: int, year: int) -> list[MemberStatus]:
    """Every member of a household with their status for the year (IDs masked), head first."""
    first_paid = (
        select(func.min(Payment.paid_on))
        .where(Payment.person_id == Person.id, Payment.coverage_year == year)
        .correlate(Person)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Person.id, Person.id_number, Person.name, Person.relation, first_paid).where(
            Person.household_id == household_id
        )
    ).all()
    members = [
        MemberStatus(person_id=pid, masked_id=ids.mask(number), name=name, relation=relation or "",
                     enrolled=paid is not None, paid_on=paid)
        for pid, number, name, relation, paid in rows
    ]
    return sorted(members, key=lambda m: (_relation_order(m.relation), m.person_id))


def _subtree(session: Session, locality_id: str | None, root_id: int | None) -> tuple[list[int], dict[int, str]]:
    """Area ids at and below root_id (all of the locality when root_id is None), and their names."""
    if root_id is not None and locality_id is None:
        locality_id = session.execute(select(Area.locality_id).where(Area.id == root_id)).scalar_one_or_none()
        if locality_id is None:
            return [], {}
    rows = session.execute(select(Area.id, Area.parent_id, Area.name).where(Area.locality_id == locality_id)).all()
    names = {aid: name for aid, _parent, name in rows}
    if root_id is None:
        return list(names), names
    children: dict[int | None, list[int]] = defaultdict(list)
    for aid, parent, _name in rows:
        children[parent].append(aid)
    out, todo = [], [root_id]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(children.get(current, ()))
    return out, names


def unpaid_by_household(session: Session, area_id: int | None, year: int, *,
                        locality_id: str | None = None) -> list[HouseholdUnpaid]:
    """Unpaid persons of an area (a village, a town, or the whole locality when area_id is None and
    locality_id is given), grouped by household, ordered by village and household code."""
    if area_id is None and locality_id is None:
        raise ValueError("unpaid_by_household needs an area_id or a locality_id")
    area_ids, names = _subtree(session, locality_id, area_id)
    if not area_ids:
        return []
    paid = exists().where(Payment.person_id == Person.id, Payment.coverage_year == year)
    rows = session.execute(
        select(Person.id, Person.name, Person.id_number, Person.phone, Person.migrant, Person.relation,
               Person.area_id, Person.household_id, Household.code, Household.area_id)
        .select_from(Person)
        .outerjoin(Household, Household.id == Person.household_id)
        .where(Person.area_id.in_(area_ids), ~paid)
    ).all()
    groups: dict[Any, HouseholdUnpaid] = {}
    for pid, name, number, phone, migrant, relation, p_area, hh_id, hh_code, hh_area in rows:
        key = hh_id if hh_id is not None else ("person", pid)
        group = groups.get(key)
        if group is None:
            group = groups[key] = HouseholdUnpaid(
                household_id=hh_id, household_code=hh_code or "", village=names.get(hh_area or p_area, "")
            )
        group.members.append(UnpaidMember(person_id=pid, name=name, masked_id=ids.mask(number), phone=phone,
                                          migrant=bool(migrant), relation=relation or ""))
    for group in groups.values():
        group.members.sort(key=lambda m: (_relation_order(m.relation), m.person_id))
    return sorted(groups.values(), key=lambda g: (g.village, g.household_code, g.members[0].person_id))


def completion(session: Session, locality_id: str, year: int, parent_area_id: int | None = None) -> list[AreaProgress]:
    """Progress of each area directly below parent_area_id (the task table's top level when None):
    distinct paid persons against the task-table target (or the roster where there is none).
    Ordered as the task table (area id)."""
    rows = session.execute(
        select(Area.id, Area.parent_id, Area.name, Area.level, Area.target, Area.registered_population).where(
            Area.locality_id == locality_id
        )
    ).all()
    level = [r for r in rows if r[1] == parent_area_id]
    if not level:
        return []
    parent = {r[0]: r[1] for r in rows}
    wanted = {r[0] for r in level}
    top_of: dict[int, int] = {}
    for aid in parent:
        current: int | None = aid
        while current is not None and current not in wanted:
            current = parent.get(current)
        if current is not None:
            top_of[aid] = current
    area_ids = list(top_of)
    roster: dict[int, int] = defaultdict(int)
    paid_count: dict[int, int] = defaultdict(int)
    for aid, n in session.execute(
        select(Person.area_id, func.count()).where(Person.area_id.in_(area_ids)).group_by(Person.area_id)
    ):
        roster[top_of[aid]] += n
    has_paid = exists().where(Payment.person_id == Person.id, Payment.coverage_year == year)
    for aid, n in session.execute(
        select(Person.area_id, func.count()).where(Person.area_id.in_(area_ids), has_paid).group_by(Person.area_id)
    ):
        paid_count[top_of[aid]] += n
    out = []
    for aid, _parent, name, lvl, target, population in sorted(level, key=lambda r: r[0]):
        base = target or roster[aid]
        out.append(AreaProgress(area_id=aid, name=name, level=lvl, target=target,
                                registered_population=population, roster=roster[aid], paid=paid_count[aid],
                                rate=(paid_count[aid] / base) if base else None))
    return out
