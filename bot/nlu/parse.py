"""parse(text) -> Parsed: normalise, find the ID number, place and facts, then decide the intent."""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from bot.nlu import categories, history, numbers, relatives
from bot.nlu import slots as extract
from bot.nlu import when as dates
from bot.nlu.intents import decide
from bot.nlu.normalize import finish, width_and_script
from bot.nlu.places import combine, find_places
from bot.nlu.unknown_places import unknown_place

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Slots:
    """Facts in one message. Unknown facts are None / empty / False. Every value is JSON-safe once
    dates are written as ISO strings and Decimals as strings (`to_dict` keeps the Python types)."""

    locality: str | None = None  # locality id (wuhe, tengzhou, ...): named in the text, else the default
    town: str | None = None  # task-table name, e.g. 滨湖镇
    village: str | None = None  # task-table name, e.g. 桃东村
    categories: tuple[str, ...] = ()  # canonical codes from bot/policy/vocabulary.yaml, said and not denied
    not_categories: tuple[str, ...] = ()  # denied: 不是低保, 没有残疾证, 非低保
    unsure_categories: tuple[str, ...] = ()  # said in a form no document settles: 三级残疾
    relation: str | None = None  # whose insurance: self | mother | father | parents | spouse | child | ...
    age: int | None = None  # stated in years (never derived from a birth year: the dialogue picks the day)
    birth_year: int | None = None  # 俺是58年的, 1958年出生; also the year of a full birth_date
    birth_date: dt.date | None = None
    dates: tuple[dt.date, ...] = ()  # every date except births (paid, died, or asked about: 2月28号之前)
    paid_on: dt.date | None = None  # the day the resident says was paid: 上礼拜交的, 10月8号交的
    died_on: dt.date | None = None  # 12月20号去世, 去年腊月走的
    died_until: dt.date | None = None  # only the month was said: the death was between died_on and this
    dates_relative: bool = False  # a date was read from a word relative to today (前天, 上礼拜, 过了年)
    month: int | None = None  # a month without a day: 3月份补交, 明年一月份
    amount: Decimal | None = None
    migrant: bool = False  # works away, back for the Spring Festival
    newborn: bool = False
    student: str | None = None  # university | vocational | school
    employee_insured: bool = False  # has employee insurance now: 单位给交, 有职工医保
    residence_permit: bool = False  # 有居住证
    newly_recognised: bool = False  # recognised as a category member lately: 刚评上低保, 年后才认定
    uninsured_years: int | None = None  # 断保两年, 两年没交
    paid_back_years: int | None = None  # 补交了一年
    continuous_years: int | None = None  # 连续交了五年
    no_claims: bool = False  # 去年没报销, 一年没看病
    id_number: str | None = field(default=None, repr=False)  # normalised candidate, not validated
    name: str | None = field(default=None, repr=False)  # the name typed beside the ID number
    refund_reason: str | None = None  # death | duplicate | employee_insurance | other_city
    hukou_elsewhere: bool = False  # household registration is elsewhere
    place_named: bool = False  # True when the locality came from the text, not the default
    place_exact: bool = True  # False when the place was read through a near spelling
    unknown_place: str | None = None  # a place named that no pack covers: 北京, 郑州市
    # Further covered places asked about alongside the first ("桃园镇和唐河县的低保户 谁交得少"), in order.
    other_localities: tuple[str, ...] = ()
    corrections: tuple[tuple[str, str], ...] = ()  # near spellings (as written, as read): (藤州, 滕州)

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


def parse(text: str, default_locality: str | None = None) -> Parsed:
    """Intent and slots of one resident message. Never raises on odd input; empty → unknown."""
    try:
        return _parse(text, default_locality)
    except Exception:  # noqa: BLE001 - a reader's bug must cost one message its slots, not the bot
        log.exception("NLU failed on a message of %d characters", len(text) if isinstance(text, str) else -1)
        return Parsed("unknown", 0.0, Slots(locality=default_locality), "")


def _parse(text: str, default_locality: str | None) -> Parsed:
    raw = width_and_script(text if isinstance(text, str) else str(text or ""))
    spans = extract.find_id_spans(raw)
    id_number = spans[0][2] if spans else None
    name = None
    if spans:
        name = extract.name_near_id(raw, spans[0][:2])
        for start, end, _ in reversed(spans):
            raw = raw[:start] + " " + raw[end:]
    norm = finish(raw)

    hits = find_places(norm, default_locality)
    place = combine(hits, norm)
    used: list[tuple[int, int]] = [(h.start, h.end) for h in hits]
    when = dates.read(norm)
    used += when.spans
    relation = relatives.relation(norm)
    birth_year, year_span = numbers.birth_year(norm, relation)
    if year_span:
        used.append(year_span)
    if when.birth_date is not None:
        birth_year = when.birth_date.year
    age, age_span = numbers.age(norm)
    if age_span:
        used.append(age_span)
    kinds = categories.read(norm)
    found = Slots(
        locality=place.locality if place else default_locality,
        town=place.town if place else None,
        village=place.village if place else None,
        categories=kinds.categories,
        not_categories=kinds.denied,
        unsure_categories=kinds.unsure,
        relation=relation,
        age=age,
        birth_year=birth_year,
        birth_date=when.birth_date,
        dates=when.dates,
        paid_on=when.paid_on,
        died_on=when.died_on,
        died_until=when.died_until,
        dates_relative=when.relative,
        month=when.month or dates.month(norm, used),
        amount=numbers.amount(norm, used),
        migrant=extract.migrant(norm),
        newborn=extract.newborn(norm, when.birth_date, birth_year),
        student=extract.student(norm),
        employee_insured=extract.employee_insured(norm),
        residence_permit=extract.residence_permit(norm),
        newly_recognised=extract.newly_recognised(norm),
        uninsured_years=history.uninsured_years(norm),
        paid_back_years=history.paid_back_years(norm),
        continuous_years=history.continuous_years(norm),
        no_claims=history.no_claims(norm),
        id_number=id_number,
        name=name,
        refund_reason=extract.refund_reason(norm),
        hukou_elsewhere=extract.hukou_elsewhere(norm, [(h.start, h.end) for h in hits]),
        place_named=place is not None,
        place_exact=place.exact if place else True,
        unknown_place=None if hits else unknown_place(norm),
        other_localities=_asked_together(hits, norm),
        corrections=(place.corrections if place else ()) + kinds.corrections,
    )
    place_only = bool(hits) and not _PLACE_FILLER.sub("", _without(norm, hits))
    decision = decide(norm, found, has_place=bool(hits), place_only=place_only)
    return Parsed(decision.intent, decision.confidence, found, norm)


# Two places asked about together: joined by a conjunction ("五河和滕州", "桃园镇、唐河县"), or a
# message that compares or asks for each ("谁交得少", "分别多少"). Otherwise a second place plays another
# part (户口在五河 在滕州打工) and only the first is the place asked about.
_JOINED = re.compile(r"(?:县|市|镇|的)?\s*(?:和|跟|与|同|及|以及|还有|或者|或|还是|、|，|,|\s)+\s*")
_COMPARED = re.compile(r"分别|各(?:自|是|交|要)|谁|哪个|哪边|哪家|比.{0,6}(?:多|少|贵|便宜|高|低)|一样")


def _asked_together(hits: list, text: str) -> tuple[str, ...]:
    if not hits:
        return ()
    first = hits[0].locality
    compared = bool(_COMPARED.search(text))
    others: list[str] = []
    for before, hit in zip(hits, hits[1:], strict=False):
        if hit.locality == first or hit.locality in others:
            continue
        if compared or _JOINED.fullmatch(text[before.end : hit.start]):
            others.append(hit.locality)
    return tuple(others)


def _without(text: str, hits: list) -> str:
    for hit in sorted(hits, key=lambda h: h.start, reverse=True):
        text = text[: hit.start] + text[hit.end :]
    return text
