"""The person a question is about (what the bot knows of them; unknowns stay None)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value  # type: ignore[return-value]
    return dt.date.fromisoformat(str(value))


@dataclass(frozen=True)
class Person:
    categories: tuple[str, ...] = ()  # canonical codes from bot/policy/vocabulary.yaml
    birth_date: dt.date | None = None
    age: int | None = None  # used only when birth_date is unknown
    migrant: bool = False  # rural migrant worker back for Spring Festival
    newborn: bool = False  # then birth_date is the baby's birth date
    student: str | None = None  # "university" | "vocational" (中专/中职) | "school" (中小学/幼儿园)
    school_area: str | None = None  # "urban" (城区学校) | "town" (乡镇/街道学校); None = not known
    hukou_local: bool | None = None  # False = lives here without local household registration
    residence_permit: bool | None = None  # holds a local 居住证; None = not known
    long_term_resident: bool | None = None  # lives (or works) here long-term; None = not known
    insured_elsewhere: bool | None = None  # already insured where the 户籍 is; None = not known
    employee_insured: bool = False  # currently covered by employee insurance
    category_recognised_on: dt.date | None = None
    coverage_break_months: int | None = None  # months the previous coverage lapsed (桃园 cross-system)
    # "new_aid" | "veteran" | "released" | "cross_system" | "mental" | "aid_break" (五河 三（二）1)
    special_late_reason: str | None = None

    def __post_init__(self) -> None:
        # Accept lists (Person(**yaml_dict)) and ISO strings; keep the dataclass hashable.
        cats = self.categories
        if isinstance(cats, str):
            cats = (cats,)
        object.__setattr__(self, "categories", tuple(dict.fromkeys(cats)))
        object.__setattr__(self, "birth_date", _as_date(self.birth_date))
        object.__setattr__(self, "category_recognised_on", _as_date(self.category_recognised_on))
        if self.student not in (None, "university", "vocational", "school"):
            raise ValueError(f"student must be university, vocational or school, not {self.student!r}")
        if self.school_area not in (None, "urban", "town"):
            raise ValueError(f"school_area must be urban or town, not {self.school_area!r}")
        if self.age is not None and self.age < 0:
            raise ValueError("age must not be negative")

    def age_on(self, day: dt.date) -> int | None:
        """Whole years on `day` (turning 60 on the day counts as 60); falls back to `age`."""
        if self.birth_date is None:
            return self.age
        b = self.birth_date
        return day.year - b.year - ((day.month, day.day) < (b.month, b.day))
