"""parse(text) -> Parsed: normalise, find the ID number, place and facts, then decide the intent."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from bot.nlu import slots as extract
from bot.nlu.intents import decide
from bot.nlu.normalize import finish, width_and_script
from bot.nlu.places import combine, find_places


@dataclass(frozen=True)
class Slots:
    """Facts in one message. Unknown facts are None / empty / False."""

    locality: str | None = None  # locality id (wuhe, tengzhou, ...): named in the text, else the default
    town: str | None = None  # task-table name, e.g. 滨湖镇
    village: str | None = None  # task-table name, e.g. 桃东村
    categories: tuple[str, ...] = ()  # canonical codes from bot/policy/vocabulary.yaml
    age: int | None = None
    birth_date: dt.date | None = None
    dates: tuple[dt.date, ...] = ()  # other dates (usually when paid); a year left out is inferred
    month: int | None = None  # a month without a day: 3月份补交
    amount: Decimal | None = None
    migrant: bool = False  # works away, back for the Spring Festival
    newborn: bool = False
    student: str | None = None  # university | vocational | school
    id_number: str | None = field(default=None, repr=False)  # normalised candidate, not validated
    name: str | None = field(default=None, repr=False)  # the name typed beside the ID number
    refund_reason: str | None = None  # death | duplicate | employee_insurance | other_city
    hukou_elsewhere: bool = False  # household registration is elsewhere
    place_named: bool = False  # True when the locality came from the text, not the default
    place_exact: bool = True  # False when the place was read through a typo

    @property
    def hukou_local(self) -> bool | None:
        """The engine's Person.hukou_local: False when registered elsewhere, else unknown."""
        return False if self.hukou_elsewhere else None

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Parsed:
    intent: str
    confidence: float
    slots: Slots
    text: str = field(default="", repr=False)  # the normalised text, ID numbers removed


# Words that may surround a place in a message that only names the place (我是五河县的).
_PLACE_FILLER = re.compile(
    r"我是|我在|我住在|我住|住在|我家住|我家在|我们是|我们在|我们|我家|俺|的人|的|人|了|这边|那边|这里|那里|呢|啊|呀"
    r"|换成|切换到|切换|改成|改为|地址|搬到|省|市|县|区|安徽|山东|河南|蚌埠|枣庄|南阳|宿州|埇桥|\s"
)


def _id_spans(text: str, numbers: list[str]) -> list[tuple[int, int]]:
    spans = []
    for number in numbers:
        pattern = r"[ \-]?".join(re.escape(ch) for ch in number)
        m = re.search(pattern, text, flags=re.IGNORECASE)
        if m:
            spans.append(m.span())
    return spans


def parse(text: str, default_locality: str | None = None) -> Parsed:
    """Intent and slots of one resident message. Never raises on odd input; empty → unknown."""
    raw = width_and_script(text if isinstance(text, str) else str(text or ""))
    ids = extract.find_ids(raw)
    id_number = ids[0] if ids else None
    name = None
    if id_number:
        spans = _id_spans(raw, ids)
        if spans:
            name = extract.name_near_id(raw, spans[0])
            for start, end in reversed(spans):
                raw = raw[:start] + " " + raw[end:]
    norm = finish(raw)

    hits = find_places(norm, default_locality)
    place = combine(hits, norm)
    used: list[tuple[int, int]] = [(h.start, h.end) for h in hits]
    dates, birth, date_spans = extract.dates(norm)
    used += date_spans
    age, age_span = extract.age(norm)
    if age_span:
        used.append(age_span)
    month = extract.month(norm, used)
    found = Slots(
        locality=place.locality if place else default_locality,
        town=place.town if place else None,
        village=place.village if place else None,
        categories=extract.categories(norm),
        age=age,
        birth_date=birth,
        dates=dates,
        month=month,
        amount=extract.amount(norm, used),
        migrant=extract.migrant(norm),
        newborn=extract.newborn(norm, birth),
        student=extract.student(norm),
        id_number=id_number,
        name=name,
        refund_reason=extract.refund_reason(norm),
        hukou_elsewhere=extract.hukou_elsewhere(norm),
        place_named=place is not None,
        place_exact=place.exact if place else True,
    )
    place_only = bool(hits) and not _PLACE_FILLER.sub("", _without(norm, hits))
    decision = decide(norm, found, has_place=bool(hits), place_only=place_only)
    return Parsed(decision.intent, decision.confidence, found, norm)


def _without(text: str, hits: list) -> str:
    for hit in sorted(hits, key=lambda h: h.start, reverse=True):
        text = text[: hit.start] + text[hit.end :]
    return text
