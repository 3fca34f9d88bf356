"""How much a person pays: the standard, the category or age help that wins, who pays the rest."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bot.policy.engine.answers import Answer, Citation, SubsidyShare
from bot.policy.engine.common import Loc, cite, head, lines, refuse, select_pack, uniq, yuan, zh_date
from bot.policy.engine.info import contact_line
from bot.policy.engine.person import Person
from bot.policy.schema import Cited, Help, PolicyPack
from bot.policy.vocab import vocabulary


@dataclass(frozen=True)
class Candidate:
    key: str  # the person's category code, or an age rule id
    name_zh: str
    help: Help
    order: int  # document order, the tie-break
    subsidy: Decimal | None  # None: the document does not state the amount

    @property
    def net(self) -> Decimal | None:
        return None if self.subsidy is None else self._standard - self.subsidy

    _standard: Decimal = Decimal(0)


def subsidy_of(help_: Help, standard: Decimal) -> Decimal | None:
    """The help on the personal part a help rule gives; None when the document states no amount."""
    if help_.kind == "not_stated":
        return None
    if help_.kind == "none":
        return Decimal(0)
    if help_.kind in ("full", "paid_by"):
        return standard
    if help_.kind == "percentage":
        return (standard * help_.percent / 100).quantize(Decimal("0.01"))  # type: ignore[operator]
    return help_.subsidy.value  # type: ignore[union-attr]


def help_citations(pack: PolicyPack, help_: Help) -> list[Citation]:
    out = [cite(pack, help_.basis)]
    out += [cite(pack, c) for c in (help_.subsidy, help_.personal) if c is not None]
    out += [cite(pack, p) for p in help_.payers]
    return out


def _candidates(
    pack: PolicyPack, person: Person, on: dt.date, citations: list[Citation], trace: list[str]
) -> tuple[list[Candidate], list[str], list[str]]:
    standard = pack.financing.personal.value
    found: list[Candidate] = []
    not_listed: list[str] = []
    notes: list[str] = []
    cutoff = pack.dates.aid_recognition_cutoff
    recognised = person.category_recognised_on
    if (
        cutoff is not None
        and recognised is None
        and person.special_late_reason == "new_aid"
        and on > cutoff.value
    ):
        # 动态新增 asked after the cut-off: recognised after it, though the day is not known.
        recognised = on
        trace.append(f"new_aid asked on {on}, after the recognition cut-off {cutoff.value}")
    vocab = vocabulary()
    for code in person.categories:
        cat = pack.category(code)
        name = vocab[code].name_zh if code in vocab else code
        if cat is None:
            not_listed.append(code)
            trace.append(f"category {code}: no clause in this document (文件未列该类资助)")
            continue
        if cutoff is not None and recognised is not None:
            citations.append(cite(pack, cutoff))
            if recognised > cutoff.value:
                trace.append(f"category {code}: recognised {recognised} after {cutoff.value}")
                notes.append(f"{name}是在集中缴费期结束后认定的，当年不享受资助。")
                continue
            trace.append(f"category {code}: recognised {recognised}, within the period")
            if person.category_recognised_on is not None:
                notes.append(f"{name}是在{zh_date(cutoff.value)}（集中缴费期结束）以前认定的，可以享受资助。")
        order = pack.categories.index(cat)
        found.append(Candidate(code, cat.name_zh, cat.help, order, subsidy_of(cat.help, standard), standard))
    if pack.age_rules:
        age = person.age_on(on)
        if age is None:
            trace.append("age unknown: age rules not applied")
            notes.append("本地对老年人有缴费减免；告诉我出生日期可以算得更准。")
        else:
            trace.append(
                f"age {age} on {on} (age taken on the payment date: {pack.age_rules.reference_note})"
            )
            # Cite the age bands even when none applies: they are why the age did (not) lower the amount.
            citations.extend(cite(pack, r.help.basis) for r in pack.age_rules.rules)
            for i, rule in enumerate(pack.age_rules.rules):
                if age >= rule.min_age and (rule.max_age is None or age <= rule.max_age):
                    found.append(
                        Candidate(
                            rule.id,
                            rule.name_zh,
                            rule.help,
                            len(pack.categories) + i,
                            subsidy_of(rule.help, standard),
                            standard,
                        )
                    )
    elif not found and (person.age_on(on) or 0) >= 60:
        # "60岁以上老人有补贴吗" where the document has no age rule: say so, not just the figure.
        trace.append("no age rules in this document")
        notes.append("文件里没有按年龄减免的规定，老人按普通居民标准交。")
    return found, not_listed, notes


def amount(loc: Loc, person: Person, on: dt.date) -> Answer:
    """What the person pays for the coverage year that `on` falls in."""
    pack = select_pack(loc, on)
    if isinstance(pack, str):
        return refuse("amount", pack, trace=[f"no pack for {loc!r} on {on}"], locality=loc)
    permit = _permit_subsidy(pack, person)
    if isinstance(permit, Answer):
        return permit
    fin = pack.financing
    standard, gov = fin.personal.value, fin.government.value
    citations = [cite(pack, fin.personal), cite(pack, fin.government)]
    trace = [
        f"pack {pack.locality.id}-{pack.coverage_year}",
        f"personal standard {standard}, government {gov}",
    ]
    if fin.total is not None:
        total, derived = fin.total.value, False
        citations.insert(0, cite(pack, fin.total))
    else:
        total, derived = gov + standard, True
        trace.append(f"total not stated in the document: derived {gov} + {standard} = {total}")
    citations += [cite(pack, s) for s in fin.government_split]

    found, not_listed, notes = _candidates(pack, person, on, citations, trace)
    known = [c for c in found if c.subsidy is not None]
    unknown = [c for c in found if c.subsidy is None]
    for c in found:
        citations += help_citations(pack, c.help)
    best = min(known, key=lambda c: (c.net, c.help.kind == "pay_first", c.order)) if known else None
    if unknown and (best is None or best.net > 0):
        names = "、".join(c.name_zh for c in unknown)
        where = "、".join(dict.fromkeys(c.help.basis.locator for c in unknown))
        reason = f"文件（{where}）没有写{names}的具体资助金额，无法算出您要缴多少。请咨询镇医保办或村干部。"
        return refuse(
            "amount",
            reason,
            pack,
            citations=[cite(pack, c.help.basis) for c in unknown],
            trace=[*trace, f"amount not stated for {[c.key for c in unknown]}"],
        )
    if pack.combination.cite is not None and len(found) > 1:
        citations.append(cite(pack, pack.combination.cite))
    if len(found) > 1:
        trace.append(
            f"combination {pack.combination.rule}: candidates {[(c.key, str(c.net)) for c in found]}"
        )

    aid = best if best is not None and best.subsidy and best.subsidy > 0 else None
    subsidy = aid.subsidy if aid else Decimal(0)
    pay_first = bool(aid and aid.help.kind == "pay_first")
    personal = standard if pay_first else standard - subsidy
    set_aside = tuple(c.key for c in found if c is not aid and (c.subsidy is None or c.subsidy > 0))

    shares = list(_gov_shares(pack))
    if aid:
        payers = aid.help.payers
        for p in payers:
            shares.append(
                SubsidyShare(p.name, (subsidy * p.percent / 100).quantize(Decimal("0.01")), "personal_aid")
            )
        if not payers:
            shares.append(SubsidyShare("文件未写明资助方", subsidy, "personal_aid"))
        trace.append(f"winner {aid.key} ({aid.help.kind}): subsidy {subsidy}")
    elif found:
        trace.append("no category gives help here: standard applies")
    if permit is not None:
        citations.append(cite(pack, permit))
        notes.append("持居住证参保，财政按本地居民相同标准补助。")
    fees = _newborn_fees(pack, person, personal, citations, notes, trace) if person.newborn else None

    return Answer(
        question="amount",
        ok=True,
        locality=pack.locality.id,
        coverage_year=pack.coverage_year,
        explanation_zh=_explain(pack, aid, personal, subsidy, total, gov, set_aside, not_listed, notes),
        citations=uniq(citations),
        trace=tuple(trace),
        personal=personal,
        total=total,
        total_derived=derived,
        government=gov,
        subsidy=subsidy,
        subsidy_by=tuple(shares),
        pay_first=pay_first,
        reimbursed_later=subsidy if pay_first else None,
        net=standard - subsidy,
        winner=aid.key if aid else None,
        set_aside=set_aside,
        not_in_document=tuple(not_listed),
        newborn_fees=fees,
    )


def _permit_subsidy(pack: PolicyPack, person: Person) -> Cited | Answer | None:
    """桃园 三（二）: 居住证 holders without local 户籍 get the same subsidy; for others it is not stated."""
    if person.hukou_local is not False:
        return None
    clause = next(
        (
            g.permit_same_subsidy
            for g in pack.eligibility.groups
            if g.hukou_local is False and g.permit_same_subsidy
        ),
        None,
    )
    if clause is None or person.residence_permit is not False:
        return clause
    contact, contact_cites, _ = contact_line(pack)
    return refuse(
        "amount",
        lines(
            f"文件（{clause.locator}）只写了持居住证参保的，财政按相同标准补助；",
            "没有居住证的补助和个人要缴多少，文件没写，无法回答。",
            contact,
        ),
        pack,
        citations=[cite(pack, clause), *contact_cites],
        trace=[
            f"pack {pack.locality.id}-{pack.coverage_year}",
            "non-local without 居住证: subsidy not stated",
        ],
        needs=("residence_permit",),
    )


def _newborn_fees(
    pack: PolicyPack,
    person: Person,
    personal: Decimal,
    citations: list[Citation],
    notes: list[str],
    trace: list[str],
) -> tuple[dict[str, Any], ...]:
    """What a newborn pays per coverage year: the document's own rows for the birth year (五河 三（一）1:
    2023-born pay 350 for 2023 and 380 for 2024), else this year's amount."""
    d = pack.dates
    if d.newborn is None:
        notes.append(f"{pack.locality.name_zh}的文件没有规定新生儿怎么参保（没有新生儿参保的专门条款），这里按普通居民算。")
        trace.append("newborn: no newborn clause, ordinary amount")
    birth = person.birth_date
    rows = [f for f in d.newborn_fees if birth is not None and f.born_in == birth.year]
    if rows:
        citations.extend(cite(pack, f) for f in rows)
        trace.append(f"newborn born {birth.year}: fees {[(f.coverage_year, str(f.value)) for f in rows]}")
        notes.append(
            f"{birth.year}年出生的新生儿："  # type: ignore[union-attr]
            + "，".join(f"{f.coverage_year}年度缴{yuan(f.value)}" for f in rows)
            + "。"
        )
        return tuple(
            {"coverage_year": f.coverage_year, "personal": f.value, "citation": cite(pack, f)} for f in rows
        )
    if birth is None and d.newborn_fees:
        years = sorted({f.born_in for f in d.newborn_fees})
        citations.extend(cite(pack, f) for f in d.newborn_fees)
        notes.append(f"{'、'.join(map(str, years))}年出生的新生儿缴费另有规定，告诉我宝宝的出生日期。")
    return (
        {
            "coverage_year": pack.coverage_year,
            "personal": personal,
            "citation": cite(pack, pack.financing.personal),
        },
    )


def _gov_shares(pack: PolicyPack) -> list[SubsidyShare]:
    fin = pack.financing
    if fin.government_split:
        return [SubsidyShare(s.payer, s.value, "government") for s in fin.government_split]
    return [SubsidyShare("各级财政补助", fin.government.value, "government")]


def _explain(
    pack: PolicyPack,
    aid: Candidate | None,
    personal: Decimal,
    subsidy: Decimal,
    total: Decimal,
    gov: Decimal,
    set_aside: tuple[str, ...],
    not_listed: list[str],
    notes: list[str],
) -> str:
    vocab = vocabulary()
    at_least = "不低于" if pack.financing.government_at_least else ""
    if aid is None:
        first = f"{head(pack)}：每人缴{yuan(personal)}。"
    elif aid.help.kind == "pay_first":
        first = (
            f"{head(pack)}：{aid.name_zh}先缴{yuan(personal)}，之后补助{yuan(subsidy)}"
            f"（先缴后补），实际负担{yuan(personal - subsidy)}。"
        )
    elif personal == 0:
        first = f"{head(pack)}：{aid.name_zh}个人不用缴费（{yuan(subsidy)}由政府承担）。"
    else:
        first = f"{head(pack)}：{aid.name_zh}个人缴{yuan(personal)}，资助{yuan(subsidy)}。"
    if pack.financing.total is None:  # the document gives no total: do not present a derived one as stated
        second = f"财政补助每人{at_least}{yuan(gov)}，个人缴费标准{yuan(pack.financing.personal.value)}。"
    else:
        second = f"筹资标准每人{yuan(total)}，财政补助{at_least}{yuan(gov)}。"
    third = None
    if set_aside:
        names = "、".join(
            vocab[k].name_zh if k in vocab else k for k in set_aside if not k.startswith("age_")
        )
        third = "有多种身份时只按最优惠的一项算，不叠加" + (f"（未采用：{names}）。" if names else "。")
    missing = "、".join(vocab[k].name_zh for k in not_listed if k in vocab)
    fourth = " ".join([*(f"文件未列{missing}的资助。" for _ in [0] if missing), *notes]) or None
    return lines(first, second, third, fourth)
