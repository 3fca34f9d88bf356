"""Answers about what a document does not say: benefit payouts, and clauses a locality lacks.

The seeds are contribution (征缴) documents. A question about 报销比例, 住院/门诊 payouts, 大病保险 or
异地就医 is answered with "this document does not set it" and whom to ask, from the pack, and never
with a contribution figure that could be mistaken for a payout. A missing newborn clause (滕州, 唐河)
is said as such, with the general rule that does apply (the ordinary amount and deadline).
"""

from __future__ import annotations

import datetime as dt

from bot.policy.engine.answers import Answer, Citation
from bot.policy.engine.common import (
    UNCOVERED_IN_WAITING_ZH,
    Loc,
    cite,
    lines,
    refuse,
    select_pack,
    uniq,
    yuan,
    zh_date,
)
from bot.policy.engine.info import contact_line
from bot.policy.loader import get_pack
from bot.policy.schema import PolicyPack, WaitingRule

# topic -> how residents name it
BENEFIT_TOPICS = {
    "reimbursement": "报销比例",
    "inpatient": "住院报销",
    "outpatient": "门诊报销",
    "critical_illness": "大病保险",
    "remote_care": "异地就医",
    "services": "医保卡、药店买药这些看病时用医保的办法",
}
TOPICS = {**BENEFIT_TOPICS, "newborn": "新生儿参保"}


def not_in_document(
    loc: Loc, topic: str, on: dt.date | None = None, town: str | None = None, *, waiting: bool = False
) -> Answer:
    """ "The document does not set this" plus whom to ask; topic is one of TOPICS. `waiting`: the
    question is about costs during a waiting period, which some documents do settle (不予报销)."""
    if topic not in TOPICS:
        return refuse(
            "not_in_document",
            f"不认识的问题类别“{topic}”。可选：{'、'.join(TOPICS.values())}。",
            trace=[f"unknown topic {topic!r}"],
        )
    pack = _pack(loc, on)
    if isinstance(pack, str):
        return refuse("not_in_document", pack, trace=[f"no pack for {loc!r}"], locality=loc)
    trace = [f"pack {pack.locality.id}-{pack.coverage_year}", f"topic {topic}"]
    contact, contact_cites, items = contact_line(pack, town)
    if topic == "newborn":
        if pack.dates.newborn is not None:
            return refuse(
                "not_in_document",
                f"{pack.locality.name_zh}的文件有新生儿参保的规定（{pack.dates.newborn.locator}），"
                "请告诉我宝宝的出生日期，我帮您算。",
                pack,
                citations=[cite(pack, pack.dates.newborn)],
                trace=[*trace, "the document has a newborn clause"],
                needs=("birth_date",),
            )
        parts, citations = newborn_silence(pack)
        trace.append("no newborn clause: the ordinary amount and deadline apply")
    elif waiting and (uncovered := _uncovered_waits(pack)):
        where = "、".join(dict.fromkeys(r.locator for r in uncovered))
        parts = [
            f"{pack.locality.name_zh}的文件写了：{UNCOVERED_IN_WAITING_ZH}（{where}）。",
            "等待期过后能报销多少，这份文件没有规定。",
        ]
        citations = [cite(pack, r) for r in uncovered]
        trace.append(f"costs during a waiting period: not reimbursed ({where})")
    else:
        parts = [
            f"{pack.locality.name_zh}的这份文件只规定参保缴费（交多少、什么时候交），没有规定{TOPICS[topic]}，",
            "所以这里答不了。" if topic == "services" else "所以这里不能告诉您能报销多少。",
        ]
        citations = []
        trace.append("benefit topic: not in a contribution document")
    return _ok(pack, topic, lines(*parts, contact), [*citations, *contact_cites], items, trace)


def _uncovered_waits(pack: PolicyPack) -> list[WaitingRule]:
    """The waiting-period clauses that say costs during the wait are not reimbursed."""
    rules = (pack.dates.late, pack.dates.break_waiting)
    return [r for r in rules if r is not None and r.uncovered_in_waiting]


def newborn_silence(pack: PolicyPack) -> tuple[list[str], list[Citation]]:
    """Lines for a locality with no newborn clause, and the general rule that still applies."""
    fin, col = pack.financing, pack.dates.collection
    parts = [
        f"{pack.locality.name_zh}的文件没有规定新生儿怎么参保（没有新生儿参保的专门条款）。",
        f"文件里普通居民每人缴{yuan(fin.personal.value)}，集中缴费期到{zh_date(col.end)}。",
    ]
    return parts, [cite(pack, fin.personal), cite(pack, col)]


def _pack(loc: Loc, on: dt.date | None) -> PolicyPack | str:
    if isinstance(loc, PolicyPack):
        return loc
    if on is not None:
        return select_pack(loc, on)
    pack = get_pack(loc)
    return pack or f"还没有收录“{loc}”的医保缴费政策，无法回答。请咨询当地医保部门或村（社区）干部。"


def _ok(
    pack: PolicyPack, topic: str, text: str, citations: list, items: list[dict], trace: list[str]
) -> Answer:
    return Answer(
        question="not_in_document",
        ok=True,
        locality=pack.locality.id,
        coverage_year=pack.coverage_year,
        explanation_zh=text,
        citations=uniq(citations),
        trace=tuple(trace),
        topic=topic,
        items=tuple(items),
    )
