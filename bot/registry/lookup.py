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
from functools import lru_cache
from typing import Any

from sqlalchemy import exists, func, select
from sqlmodel import Session

from bot import clock
from bot.registry import history, ids
from bot.registry.models import Area, Payment, Person

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
    # Enrolment history (bot.registry.history): payments plus imported years.
    enrolled_years: tuple[int, ...] = ()
    continuous_years: int = 0  # the run of insured years ending with `continuous_through`
    continuous_through: int | None = None  # `year` when paid, else the year before (None: no run)
    last_break: int | None = None  # the latest year without insurance before the run, within the records

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["categories"] = list(self.categories)
        out["enrolled_years"] = list(self.enrolled_years)
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


@lru_cache(maxsize=65536)
def normalize_name(name: str | None) -> str:
    """Full-width → half-width, spaces removed, the various middle dots (少数民族 names) unified,
    traditional characters read as simplified (a resident may type 陳 for 陈). Memoised: names repeat."""
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name)
    text = _SPACES.sub("", text)
    text = _NAME_DOTS.sub("·", text)
    import zhconv

    return zhconv.convert(text, "zh-cn")


def names_match(stored: str, typed: str) -> bool:
    return stored == typed or normalize_name(stored) == normalize_name(typed)


@lru_cache(maxsize=256)
def _pack_year(locality_id: str) -> int | None:
    # Packs are loaded once per process, so the answer cannot change while we run.
    from bot.policy import get_pack

    pack = get_pack(locality_id)
    return int(pack.coverage_year) if pack is not None else None


def default_year(locality_id: str | None) -> int:
    """The campaign's coverage year: the newest policy pack's for the locality, else this calendar year."""
    year = _pack_year(locality_id) if locality_id else None
    return year if year is not None else clock.today().year


def benefit_for(locality_id: str, paid_on: dt.date, categories: list[str] | tuple[str, ...], birth_date: dt.date,
                migrant: bool) -> tuple[dt.date | None, str | None]:
    """Benefit start (and the rule's name) from the policy engine; (None, reason or None) when it cannot say.

    The engine reads the birth date only for newborns (never asked here), so answers are memoised
    without it: a county's residents share a few hundred payment days.
    """
    return _benefit(locality_id, paid_on, tuple(sorted(categories)), bool(migrant), birth_date)


def _benefit_key(locality_id: str, paid_on: dt.date, categories: tuple[str, ...], migrant: bool) -> tuple:
    return (locality_id, paid_on, categories, migrant)


_benefit_cache: dict[tuple, tuple[dt.date | None, str | None]] = {}


def _benefit(locality_id: str, paid_on: dt.date, categories: tuple[str, ...], migrant: bool,
             birth_date: dt.date) -> tuple[dt.date | None, str | None]:
    key = _benefit_key(locality_id, paid_on, categories, migrant)
    hit = _benefit_cache.get(key)
    if hit is not None:
        return hit
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
        result: tuple[dt.date | None, str | None] = (None, getattr(answer, "refusal", None))
    else:
        rule = getattr(answer, "rule", None)
        result = (getattr(answer, "benefit_start", None), str(rule) if rule is not None else None)
    if len(_benefit_cache) > 65536:
        _benefit_cache.clear()
    _benefit_cache[key] = result
    return result


def _not_found(id_number: str, year: int | None) -> StatusResult:
    return StatusResult(found=False, masked_id=ids.mask(id_number), year=year)


# Status lookups run as plain driver SQL: residents ask one at a time and the bot must answer
# thousands per second per core; building SQLAlchemy statements per call costs more than the query.
_SQL_PERSON = (
    "SELECT p.id, p.name, p.household_id, p.migrant, p.birth_date, COALESCE(h.locality_id, a.locality_id) "
    "FROM person p LEFT JOIN household h ON h.id = p.household_id LEFT JOIN area a ON a.id = p.area_id "
    "WHERE p.id_number = {0}"
)
# Every year at once, in one round trip: each year's first payment and sum (the year asked about, and
# the payment years of the history), then the imported history rows (paid_on NULL marks them).
_SQL_PAYMENT = (
    "SELECT coverage_year, MIN(paid_on), SUM(amount), NULL, NULL FROM payment WHERE person_id = {0} "
    "GROUP BY coverage_year UNION ALL "
    "SELECT coverage_year, NULL, NULL, insured, zero_claim FROM enrolment_history WHERE person_id = {0}"
)
_SQL_CATEGORIES = "SELECT category FROM category_membership WHERE person_id = {0}"


@lru_cache(maxsize=8)
def _sql(dialect: str) -> tuple[str, str, str]:
    mark = "?" if dialect == "sqlite" else "%s"
    return tuple(q.format(mark) for q in (_SQL_PERSON, _SQL_PAYMENT, _SQL_CATEGORIES))  # type: ignore[return-value]


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])  # SQLite returns ISO text


def status(session: Session, id_number: str, name: str, year: int | None = None) -> StatusResult:
    """Enrollment status for the coverage year (default: the locality's current campaign year).

    A wrong name, an unknown number and an invalid number all give the same not-found result.
    """
    check = ids.validate(id_number)
    if not check.ok:
        return _not_found(id_number, year)
    conn = session.connection()
    q_person, q_payment, q_categories = _sql(conn.dialect.name)
    # The raw DB-API cursor of the session's connection: inside the session's transaction.
    cur = conn.connection.cursor()
    try:
        cur.execute(q_person, (check.number,))
        row = cur.fetchone()
        if row is None or not names_match(row[1], name):
            return _not_found(id_number, year)
        person_id, stored_name, household_id, migrant, birth, locality_id = row
        year = year or default_year(locality_id)
        cur.execute(q_payment, (person_id, person_id))
        by_year: dict[int, tuple[Any, Any]] = {}
        records = []
        for y, first, total, insured, zero in cur.fetchall():
            if first is not None:
                by_year[int(y)] = (first, total)
            else:
                records.append((y, insured, zero))
        cur.execute(q_categories, (person_id,))
        categories = tuple(sorted(r[0] for r in cur.fetchall()))
    finally:
        cur.close()
    pay = by_year.get(year)
    paid_on, amount = (_as_date(pay[0]), pay[1]) if pay else (None, None)
    past = history.history_from_rows(by_year, records)
    enrolment = history.summarize(past, year)
    start = rule = None
    if paid_on is not None and locality_id:
        waited = history.benefit_with_history(locality_id, paid_on, categories, bool(migrant), _as_date(birth), past)
        start, rule = waited or _benefit(locality_id, paid_on, categories, bool(migrant), _as_date(birth))
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
        amount=Decimal(str(amount)).quantize(Decimal("0.01")) if amount is not None else None,
        categories=categories,
        migrant=bool(migrant),
        benefit_start=start,
        benefit_rule=rule,
        enrolled_years=enrolment.years,
        continuous_years=enrolment.continuous_years,
        continuous_through=enrolment.through,
        last_break=enrolment.last_break,
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
    # Driver-level SQL (as in `status`): a village list has thousands of rows and ORM row
    # processing would cost more than the query.
    conn = session.connection()
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    sql = (
        "SELECT p.id, p.name, p.id_number, p.phone, p.migrant, p.relation, p.area_id, p.household_id, h.code, "
        "h.area_id FROM person p LEFT JOIN household h ON h.id = p.household_id "
        f"WHERE p.area_id IN ({', '.join([mark] * len(area_ids))}) AND NOT EXISTS "
        f"(SELECT 1 FROM payment pay WHERE pay.person_id = p.id AND pay.coverage_year = {mark})"
    )
    cur = conn.connection.cursor()
    try:
        cur.execute(sql, (*area_ids, year))
        rows = cur.fetchall()
    finally:
        cur.close()
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
