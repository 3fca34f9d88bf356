"""Answers handlers render without holding any policy text: how to pay, whom to call, 先缴后补, overview."""

from __future__ import annotations

import datetime as dt

from bot.policy.engine.answers import Answer, Citation
from bot.policy.engine.common import Loc, cite, head, lines, refuse, select_pack, uniq, yuan, zh_date
from bot.policy.loader import get_pack
from bot.policy.schema import PolicyPack
from bot.policy.vocab import norm_word


def _pack(loc: Loc, on: dt.date | None, question: str) -> PolicyPack | Answer:
    if isinstance(loc, PolicyPack):
        return loc
    if on is not None:
        found = select_pack(loc, on)
        return refuse(question, found) if isinstance(found, str) else found
    pack = get_pack(loc)
    if pack is None:
        return refuse(
            question, f"还没有收录“{loc}”的医保缴费政策，无法回答。请咨询当地医保部门或村（社区）干部。"
        )
    return pack


def _ok(
    pack: PolicyPack, question: str, text: str, citations: list, items: list[dict], trace: list[str]
) -> Answer:
    return Answer(
        question=question,
        ok=True,
        locality=pack.locality.id,
        coverage_year=pack.coverage_year,
        explanation_zh=text,
        citations=uniq(citations),
        trace=tuple(trace),
        items=tuple(items),
    )


def payment_info(loc: Loc, on: dt.date | None = None) -> Answer:
    """Payment channels and how to pay."""
    pack = _pack(loc, on, "payment_info")
    if isinstance(pack, Answer):
        return pack
    pay = pack.payment
    names = "、".join(c.name for c in pay.channels)
    items = [{"name": c.name, "kind": c.kind} for c in pay.channels]
    text = lines(f"{pack.locality.name_zh}缴费渠道：{names}。", *(h.value for h in pay.how[:3]))
    citations = [cite(pack, c) for c in pay.channels] + [cite(pack, h) for h in pay.how]
    return _ok(
        pack, "payment_info", text, citations, items, [f"pack {pack.locality.id}-{pack.coverage_year}"]
    )


def _same_place(a: str, b: str) -> bool:
    a, b = norm_word(a), norm_word(b)
    return a == b or a.rstrip("镇乡") == b.rstrip("镇乡") or a.removesuffix("街道") == b.removesuffix("街道")


def contact_line(pack: PolicyPack, town: str | None = None) -> tuple[str, list[Citation], list[dict]]:
    """One line saying whom to ask, from the pack's own contacts (phones when few or the town is known).

    For answers the document cannot give (payouts, a missing clause): never a made-up office.
    """
    phones = list(pack.contacts.phones)
    asks = list(pack.contacts.where_to_ask)
    per_town = [p for p in phones if p.town]
    if per_town:
        phones = [p for p in per_town if town and _same_place(p.town, town)]
    items = [{"town": p.town, "office": p.office, "person": p.person, "phone": p.phone} for p in phones]
    if phones and len(phones) <= 4:
        offices: dict[str, list[str]] = {}
        for p in phones:
            offices.setdefault(p.office, []).append(p.phone)
        shown = "；".join(f"{office} {'、'.join(nums)}" for office, nums in offices.items())
        return f"可以打电话问：{shown}。", [cite(pack, p) for p in phones], items
    if asks:
        return f"可以问：{'、'.join(a.value for a in asks)}。", [cite(pack, a) for a in asks], items
    return "请咨询当地医保部门。", [], items


def contacts(loc: Loc, town: str | None = None, on: dt.date | None = None) -> Answer:
    """Contact phones (per town where the document has a table) and where to ask."""
    pack = _pack(loc, on, "contacts")
    if isinstance(pack, Answer):
        return pack
    trace = [f"pack {pack.locality.id}-{pack.coverage_year}", f"town {town!r}"]
    phones = list(pack.contacts.phones)
    asks = list(pack.contacts.where_to_ask)
    ask_text = "、".join(a.value for a in asks)
    if not phones:
        return refuse(
            "contacts",
            f"{pack.locality.name_zh}的文件里没有联系电话。可以找：{ask_text}。"
            if ask_text
            else f"{pack.locality.name_zh}的文件里没有联系电话。",
            pack,
            citations=[cite(pack, a) for a in asks],
            trace=[*trace, "no phones in the document"],
        )
    per_town = [p for p in phones if p.town]
    if town and per_town:
        phones = [p for p in per_town if _same_place(p.town, town)]
        if not phones:
            towns = "、".join(dict.fromkeys(p.town for p in per_town))
            return refuse(
                "contacts",
                f"文件的联系表里没有“{town}”。有这些镇街：{towns}。",
                pack,
                citations=[cite(pack, a) for a in asks],
                trace=[*trace, "town not in the table"],
            )
    elif per_town:
        trace.append("no town given: every town's contacts")
    items = [{"town": p.town, "office": p.office, "person": p.person, "phone": p.phone} for p in phones]
    if len(phones) <= 4:
        shown = "；".join(f"{p.office}{(' ' + p.person) if p.person else ''} {p.phone}" for p in phones)
        first = f"联系电话：{shown}。"
    else:
        first = "各镇街都有医保办和税务分局的电话，告诉我您在哪个镇街，我把那里的电话给您。"
    note = "号码照文件原样，本地座机可能要加区号。" if any(len(p.phone) == 7 for p in phones) else None
    text = lines(first, note, f"也可以找：{ask_text}。" if ask_text else None)
    return _ok(
        pack, "contacts", text, [cite(pack, p) for p in phones] + [cite(pack, a) for a in asks], items, trace
    )


def explain_pay_first(loc: Loc, on: dt.date | None = None) -> Answer:
    """What 先缴后补 means in this locality, or a refusal when it has none."""
    pack = _pack(loc, on, "explain_pay_first")
    if isinstance(pack, Answer):
        return pack
    cats = [c for c in pack.categories if c.help.kind == "pay_first"]
    trace = [
        f"pack {pack.locality.id}-{pack.coverage_year}",
        f"pay_first categories {[c.code for c in cats]}",
    ]
    if not cats:
        return refuse(
            "explain_pay_first",
            f"{pack.locality.name_zh}的文件里没有“先缴后补”的规定，资助对象按文件标准直接少缴或不缴。",
            pack,
            trace=trace,
        )
    standard = pack.financing.personal.value
    groups: dict[str, list[str]] = {}
    for c in cats:
        groups.setdefault(yuan(c.help.subsidy.value), []).append(c.name_zh)  # type: ignore[union-attr]
    parts = [f"{'、'.join(names)}之后补{amount}" for amount, names in groups.items()]
    text = lines(
        f"“先缴后补”：先按标准自己缴{yuan(standard)}，", f"之后再把资助款补给您：{'；'.join(parts)}。"
    )
    items = [
        {
            "code": c.code,
            "name": c.name_zh,
            "pay_now": int(standard),
            "reimbursed_later": float(c.help.subsidy.value),
        }
        for c in cats
    ]  # type: ignore[union-attr]
    citations = [cite(pack, c.help.basis) for c in cats]
    return _ok(pack, "explain_pay_first", text, citations, items, trace)


def summary(loc: Loc, on: dt.date) -> Answer:
    """One short paragraph: standard personal amount, the period, the benefit year."""
    pack = select_pack(loc, on) if not isinstance(loc, PolicyPack) else loc
    if isinstance(pack, str):
        return refuse("summary", pack, trace=[f"no pack for {loc!r} on {on}"], locality=loc)
    fin, d = pack.financing, pack.dates
    col = d.collection
    total = fin.total.value if fin.total else fin.government.value + fin.personal.value
    period = f"{zh_date(col.start)}至{zh_date(col.end)}" if col.start else f"{zh_date(col.end)}前"
    aided = [c.name_zh for c in pack.categories if c.help.kind not in ("none", "not_stated")]
    note = f"（{'、'.join(aided[:2])}等有资助）" if aided else ""
    text = lines(
        f"{head(pack)}居民医保：每人缴{yuan(fin.personal.value)}{note}。",
        f"缴费时间：{period}。",
        f"待遇期：{zh_date(d.benefit.start)}至{zh_date(d.benefit.end)}。",
    )
    citations = [cite(pack, fin.personal), cite(pack, col), cite(pack, d.benefit)]
    return Answer(
        question="summary",
        ok=True,
        locality=pack.locality.id,
        coverage_year=pack.coverage_year,
        explanation_zh=text,
        citations=uniq(citations),
        trace=(f"pack {pack.locality.id}-{pack.coverage_year}",),
        personal=fin.personal.value,
        total=total,
        deadline=col.end,
        periods=tuple({"start": p.start, "end": p.end, "label": p.label_zh} for p in d.periods),
        benefit_start=d.benefit.start,
        benefit_end=d.benefit.end,
    )
