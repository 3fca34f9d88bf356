"""Completion against the task table, ranked, with the change since last week.

Counts come from payments dated on or before `as_of`, so last week's figure is recomputed from the
same data (no snapshot table to keep in sync). Areas without a task-table target (villages of a
county whose table lists towns) are measured against the people on the roster.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import distinct, func
from sqlmodel import Session, select

from bot.registry.models import Area, Payment, Person


@dataclass(frozen=True)
class ProgressRow:
    area_id: int
    name: str
    target: int          # the task-table target, or the roster size when the table has none
    target_is_task: bool  # False when `target` is the roster size
    paid: int
    paid_last_week: int
    roster: int = 0       # people on the registry's roster for this area

    @property
    def roster_rate(self) -> float:
        return self.paid / self.roster if self.roster else 0.0

    @property
    def rate(self) -> float:
        return self.paid / self.target if self.target else 0.0

    @property
    def rate_last_week(self) -> float:
        return self.paid_last_week / self.target if self.target else 0.0

    @property
    def gap(self) -> int:
        """People still to enrol to reach the target (0 when reached)."""
        return max(self.target - self.paid, 0)

    def gap_to(self, mark: float) -> int:
        return max(int(-(-self.target * mark // 1)) - self.paid, 0)


def _ancestor_map(areas: list[Area], level_ids: set[int]) -> dict[int, int]:
    """Map every area id to the id of its ancestor (or itself) among level_ids."""
    parent = {a.id: a.parent_id for a in areas}
    out: dict[int, int] = {}
    for a in areas:
        current: int | None = a.id
        while current is not None and current not in level_ids:
            current = parent.get(current)
        if current is not None and a.id is not None:
            out[a.id] = current
    return out


def progress_rows(session: Session, locality_id: str, year: int, as_of: date,
                  parent_area_id: int | None = None, only: set[int] | None = None) -> list[ProgressRow]:
    """Rows for the areas directly below parent_area_id (top-level areas when None), best first."""
    areas = list(session.exec(select(Area).where(Area.locality_id == locality_id)))
    level = [a for a in areas if a.parent_id == parent_area_id and (only is None or a.id in only)]
    if not level:
        return []
    ids = {a.id for a in level if a.id is not None}
    to_row = _ancestor_map(areas, ids)
    area_ids = list(to_row)

    def paid_by_area(until: date) -> Counter[int]:
        q = (select(Person.area_id, func.count(distinct(Person.id)))
             .join(Payment, Payment.person_id == Person.id)
             .where(Payment.coverage_year == year, Payment.paid_on <= until, Person.area_id.in_(area_ids))
             .group_by(Person.area_id))
        counts: Counter[int] = Counter()
        for area_id, n in session.exec(q):
            counts[to_row[area_id]] += n
        return counts

    roster: Counter[int] = Counter()
    for area_id, n in session.exec(select(Person.area_id, func.count()).where(Person.area_id.in_(area_ids))
                                   .group_by(Person.area_id)):
        roster[to_row[area_id]] += n
    now, before = paid_by_area(as_of), paid_by_area(as_of - timedelta(days=7))
    rows = [
        ProgressRow(area_id=a.id, name=a.name, target=a.target or roster[a.id], target_is_task=bool(a.target),
                    paid=now[a.id], paid_last_week=before[a.id], roster=roster[a.id])
        for a in level if a.id is not None
    ]
    return sorted(rows, key=lambda r: (-r.rate, r.name))
