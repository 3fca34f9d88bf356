"""Helpers every question uses: which pack answers for a date, citations, Chinese formatting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from bot.policy.engine.answers import Answer, Citation
from bot.policy.loader import get_pack, packs_for
from bot.policy.schema import Cited, PolicyPack
from bot.policy.vocab import squash

Loc = str | PolicyPack


def window(pack: PolicyPack) -> tuple[dt.date, dt.date]:
    """Dates a pack answers for: from 1 January of the year before its coverage year (when collection
    campaigns open) to the end of its benefit period (late payment and refunds happen then)."""
    return dt.date(pack.coverage_year - 1, 1, 1), pack.dates.benefit.end


def opens(pack: PolicyPack) -> dt.date:
    starts = [p.start for p in pack.dates.periods if p.start is not None]
    return min(starts) if starts else pack.main_document.issued.value


def select_pack(loc: Loc, on: dt.date) -> PolicyPack | str:
    """The pack for a locality on a date, or the Chinese reason why there is none.

    Several packs may cover a date (a new campaign opens while last year's benefit year runs): the
    newest one whose collection has opened wins, otherwise the older one.
    """
    if isinstance(loc, PolicyPack):
        start, end = window(loc)
        if start <= on <= end:
            return loc
        return f"{loc.locality.name_zh}{loc.coverage_year}年度的政策不适用于{zh_date(on)}。"
    base = get_pack(loc)
    if base is None:
        return f"还没有收录“{loc}”的医保缴费政策，无法回答。请咨询当地医保部门或村（社区）干部。"
    packs = packs_for(base.locality.id)
    covering = [p for p in packs if window(p)[0] <= on <= window(p)[1]]
    if not covering:
        years = "、".join(f"{p.coverage_year}年度" for p in packs)
        return (
            f"{base.locality.name_zh}目前只收录了{years}的政策，{zh_date(on)}对应的年度还没有收录，"
            "不能给出金额或日期。请以当地最新通知为准。"
        )
    opened = [p for p in covering if opens(p) <= on]
    return opened[-1] if opened else covering[0]


def cite(pack: PolicyPack, cited: Cited) -> Citation:
    return Citation(pack.documents[cited.doc].number.value, cited.locator, cited.quote)


def uniq(citations: list[Citation]) -> tuple[Citation, ...]:
    """Drop repeats, and a quote already contained in a longer quote of the same clause."""
    seen = list(dict.fromkeys(citations))
    keep = []
    for c in seen:
        inner = squash(c.quote)
        if not any(
            o is not c
            and o.locator == c.locator
            and o.document == c.document
            and inner in squash(o.quote)
            and len(squash(o.quote)) > len(inner)
            for o in seen
        ):
            keep.append(c)
    return tuple(keep)


def yuan(value: Decimal) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text}元"


def zh_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def head(pack: PolicyPack) -> str:
    return f"{pack.locality.name_zh}{pack.coverage_year}年度"


def refuse(
    question: str,
    reason: str,
    pack: PolicyPack | None = None,
    *,
    citations: list[Citation] | None = None,
    trace: list[str] | None = None,
    locality: Loc | None = None,
    needs: tuple[str, ...] | None = None,
) -> Answer:
    """A refusal: no figures, a Chinese reason (which may ask for the one fact that decides, `needs`)."""
    if pack is None and isinstance(locality, str):
        known = get_pack(locality)
        locality = known.locality.id if known else locality
    return Answer(
        question=question,
        ok=False,
        refusal=reason,
        locality=pack.locality.id if pack else (locality if isinstance(locality, str) else None),
        coverage_year=pack.coverage_year if pack else None,
        explanation_zh=reason,
        citations=uniq(citations or []),
        trace=tuple(trace or ()),
        needs=needs,
    )


# What a waiting-period clause with `uncovered_in_waiting` says of costs during the wait.
UNCOVERED_IN_WAITING_ZH = "等待期内发生的医疗费用，居民医保不予报销"


def lines(*parts: str | None) -> str:
    """At most four short lines for elderly readers."""
    return "\n".join([p for p in parts if p][:4])


def add_months(day: dt.date, months: int) -> dt.date:
    """Same day-of-month `months` later (clamped to the month's end)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def first_of_month(day: dt.date, months_later: int) -> dt.date:
    return add_months(day.replace(day=1), months_later)
