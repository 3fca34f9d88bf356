"""Policy questions answered for a known place: the answer that holds for most people first, then
choices to narrow it.

Each topic function takes the question's context and returns an `Answered`: the replies, and an open
question only when no answer can be given without one more fact (a town for a per-town phone list).
Every figure comes from the policy engine; this module picks the engine calls and the choices.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from bot.conversation import render
from bot.conversation.choices import (
    age_value,
    category_value,
    month_value,
    refund_value,
    topic_value,
    town_value,
)
from bot.conversation.facts import ages, died_on, knows_who, paid_on, person, said_categories
from bot.conversation.model import Choice, Reply
from bot.conversation.state import OpenQuestion, Place
from bot.policy import engine
from bot.policy.engine import REFUND_REASONS

ORDINARY_LABEL = "普通居民"


@dataclass
class Ctx:
    pack: Any
    place: Place
    facts: dict[str, Any]
    today: dt.date
    text: str = ""  # the message as the resident typed it (some answers depend on its words)

    @property
    def name(self) -> str:
        return self.pack.locality.name_zh

    def note(self, *, collection: bool = False) -> str | None:
        return render.year_note(self.pack, self.today, collection=collection)

    def past_year(self) -> int | None:
        """The coverage year when its collection is over (answers about paying are then that year's)."""
        return int(self.pack.coverage_year) if render.collection_over(self.pack, self.today) else None

    def day(self, *, amount: bool = False) -> dt.date:
        return policy_day(self.pack, self.today, amount=amount)


def policy_day(pack: Any, today: dt.date, *, amount: bool = False) -> dt.date:
    """The date the engine is asked about: today while the pack applies; once its benefit year is
    over, a day inside that year (amounts as during its collection period)."""
    if today <= pack.dates.benefit.end:
        return today
    return pack.dates.collection.end if amount else pack.dates.benefit.end


@dataclass
class Answered:
    replies: list[Reply]
    open: OpenQuestion | None = None
    facts: dict[str, Any] = field(default_factory=dict)  # facts the answer settled (e.g. a town chosen)


def _rows(choices: list[Choice], width: int = 2) -> tuple[tuple[Choice, ...], ...]:
    return tuple(tuple(choices[i : i + width]) for i in range(0, len(choices), width))


_NEXT = ("amount", "deadline", "how_to_pay", "contact")


def follow_ups(*topics: str) -> list[Choice]:
    """The next questions people ask: those named first, then the common ones (up to four)."""
    from bot.conversation.menus import TOPIC_LABELS

    wanted = list(dict.fromkeys([*topics, *_NEXT]))[:4]
    return [Choice(TOPIC_LABELS[t], topic_value(t)) for t in wanted if t in TOPIC_LABELS]


# ---------------------------------------------------------------------------- amount


RELATION_ZH = {"mother": "母亲", "father": "父亲", "parents": "父母", "spouse": "老伴", "child": "孩子",
               "grandchild": "孙辈", "grandparent": "老人", "sibling": "兄弟姐妹", "self": "本人"}


def _who(pack: Any, facts: dict[str, Any], age: int | None) -> str | None:
    parts = [RELATION_ZH[facts["relation"]]] if facts.get("relation") in RELATION_ZH else []
    parts += [render.category_name(pack, c) for c in said_categories(facts)]
    if age is not None:
        parts.append(f"{age}岁")
    if facts.get("newborn"):
        parts.append("新生儿")
    if not parts and facts.get("ordinary"):
        parts.append(ORDINARY_LABEL)
    return "、".join(parts) or None


def narrow_choices(pack: Any) -> list[Choice]:
    """Buttons that narrow an amount: ordinary resident, each category, each age band."""
    choices = [Choice(ORDINARY_LABEL, category_value("none"))]
    choices += [Choice(render.short_category(c.name_zh), category_value(c.code)) for c in pack.categories]
    choices += [Choice(label, age_value(lo)) for lo, label in render.age_bands(pack)]
    return choices


def amount(ctx: Ctx) -> Answered:
    facts = ctx.facts
    day = ctx.day(amount=True)
    note = ctx.note(collection=True)
    if not knows_who(facts):
        return _amount_table(ctx, day, note)
    if facts.get("newborn") and facts.get("birth_year") and not facts.get("birth_date"):
        # A baby's amount depends only on the year of birth (五河: born 2023 pays 350 then 380).
        facts = {**facts, "birth_date": dt.date(int(facts["birth_year"]), 7, 1).isoformat()}
    possible = ages(facts, day) if not facts.get("newborn") else [None]
    answers = [(age, engine.amount(ctx.pack, person(facts, age=age), day)) for age in possible]
    if len(answers) > 1 and render.same_amount(answers[0][1], answers[1][1]):
        answers = answers[1:]
    stated = facts.get("amount_stated")
    verdict = (render.amount_check(Decimal(str(stated)), [a for _, a in answers], past_year=ctx.past_year())
               if stated is not None else None)
    if len(answers) > 1:
        text = render.amount_by_birthday(answers, ctx.pack, _who(ctx.pack, facts, None), facts.get("birth_year"),
                                         day, note, verdict)
    else:
        age, ans = answers[0]
        total = None
        if age is None and not facts.get("newborn"):
            # A household's total only where its members share the answer (低保 is a household's).
            kinds = [render.category_name(ctx.pack, c) for c in said_categories(facts)]
            total = _household_total(facts, ans, "、".join(kinds) or ORDINARY_LABEL)
        text = render.amount(ans, ctx.pack, _who(ctx.pack, facts, age), note, verdict, extra=total)
        if age is None and not facts.get("newborn") and render.age_bands(ctx.pack) and ans.ok and ans.personal:
            # Age unknown where the pack has age rules (滕州): the age bands, answer first.
            bands = [(label, engine.amount(ctx.pack, person(facts, age=lo), day))
                     for lo, label in render.age_bands(ctx.pack)]
            for line, (_, band) in zip(render.age_lines(bands), bands, strict=True):
                text = render.add_line(text, line, band.citations[0].locator if band.citations else None)
    # Narrow or widen from here: the other groups, then the next questions people ask.
    return Answered([Reply(text, _rows(narrow_choices(ctx.pack) + follow_ups("deadline", "how_to_pay"), 3))])


def _household_total(facts: dict[str, Any], ans: Any, who: str) -> str | None:
    """"俺家5口人 一共交多少": the total if everyone pays what this answer says (else each their own)."""
    size = facts.get("household_size")
    if not size or not ans.ok or ans.personal is None:
        return None
    total = Decimal(size) * Decimal(str(ans.personal))
    return (f"全家{size}口人都按{who}算的话：{size}×{render.money(ans.personal)}={render.money(total)}元；"
            "家里人身份或年龄不同的，各按各的标准交。")


def _unsure_line(ctx: Ctx) -> str | None:
    """"三级残疾": the document subsidises 重度残疾人 and does not say which grades that is."""
    names = [render.category_name(ctx.pack, c) for c in ctx.facts.get("unsure_categories") or ()
             if ctx.pack.category(c) is not None]
    if not names:
        return None
    return (f"三、四级残疾算不算文件里的“{'、'.join(names)}”，文件没有写；不算的话按普通居民交。"
            + render.contact_line(ctx.pack))


def _amount_table(ctx: Ctx, day: dt.date, note: str | None) -> Answered:
    """Nobody in particular: the ordinary resident's amount, then every subsidised group in short lines."""
    table = engine.amount_table(ctx.pack, day)
    ordinary = engine.amount(ctx.pack, person({}), day)
    stated = ctx.facts.get("amount_stated")
    verdict = None
    if stated is not None:
        others = [engine.amount(ctx.pack, person({"categories": [c.code]}), day) for c in ctx.pack.categories]
        verdict = render.amount_check(Decimal(str(stated)), [ordinary], table=others, past_year=ctx.past_year())
    text = render.amount_table(table, ordinary, ctx.pack, note, lead="是哪一类人？点一下看具体金额：",
                               financing_first=bool(ctx.facts.get("financing")), verdict=verdict,
                               extra=_unsure_line(ctx) or _household_total(ctx.facts, ordinary, ORDINARY_LABEL))
    return Answered([Reply(text, _rows(narrow_choices(ctx.pack) + follow_ups("deadline", "how_to_pay"), 3))])


# ---------------------------------------------------------------------------- dates


def deadline(ctx: Ctx) -> Answered:
    facts = ctx.facts
    day = ctx.day()
    who = person(facts, age=ages(facts, day)[-1])
    note = ctx.note(collection=True)
    if who.newborn and not who.migrant:
        return newborn(ctx)
    baby: Answered | None = None
    if who.newborn:
        # A household with a baby and a worker coming home for the Spring Festival ("孩子还没上医保 打工的
        # 能晚点交不"): the baby's 90 days, and the migrant deadline for the worker.
        baby = newborn(ctx)
        grown = {k: v for k, v in facts.items() if k not in ("newborn", "birth_date", "age", "birth_year")}
        who = person(grown, age=ages(grown, day)[-1])
    ans = engine.deadline(ctx.pack, who, day)
    text = render.deadline(ans, ctx.pack, note)
    extension = ctx.pack.dates.migrant_extension
    if extension is not None and not who.migrant and ans.ok:
        text = render.add_line(text, f"外出务工返乡人员可以延长到{render.day(extension.end)}。",
                               render.cite_line(ctx.pack, extension))
    if ctx.pack.dates.late is None and ans.ok:
        # The document is silent on paying late: whom to ask, by name, not just "the authorities".
        text = render.add_line(text, render.contact_line(ctx.pack))
    reply = Reply(text, _rows(follow_ups("amount", "how_to_pay", "benefit_start")))
    return Answered([*baby.replies, reply] if baby else [reply])


def benefit_start(ctx: Ctx) -> Answered:
    facts = ctx.facts
    pack = ctx.pack
    day = ctx.day()
    who = person(facts, age=ages(facts, day)[-1])
    when = paid_on(facts, pack) or _month_day(pack, facts.get("month"))
    if who.newborn:
        return newborn(ctx)
    if facts.get("uninsured_years") is not None:
        # "断保两年，现在交要等多久": the 2025 waiting-period rules where the pack has them; else say so
        # and give the late-payment rule the document does state.
        waited = engine.waiting_period(pack, when or day, uninsured_years=int(facts["uninsured_years"]),
                                       paid_back_years=int(facts.get("paid_back_years") or 0), person=who)
        if waited.ok:
            return Answered([Reply(render.benefit_start(waited, pack, when or day, ctx.note()))])
        late = engine.deadline(pack, who, day).missed_consequence_zh
        text = render.refusal(waited, pack, ctx.note())
        if late:
            text = render.add_line(text, f"文件写的补缴规定：{late}", None)
        return Answered([Reply(text, _rows(follow_ups("deadline", "contact")))])
    if when is not None:
        ans = engine.benefit_start(pack, who, when)
        text = render.add_line(render.benefit_start(ans, pack, when, ctx.note()), render.benefit_period_line(pack))
        return Answered([Reply(text, _rows(follow_ups("deadline", "contact")))])
    if who.special_late_reason:
        # A group the document lets pay after the period (退伍, 刑满释放, 新认定的资助对象): paying now.
        ans = engine.benefit_start(pack, who, day)
        return Answered([Reply(render.benefit_start(ans, pack, day, ctx.note(), paying_now=True),
                               _rows(follow_ups("deadline", "contact")))])
    if render.collection_over(pack, ctx.today):
        # The collection is over: which payment the resident means cannot be guessed.
        text = render.benefit_rules(pack, ctx.note(), engine.benefit_start(pack, who, pack.dates.collection.end),
                                    engine.deadline(pack, who, pack.dates.collection.end))
        if pack.dates.late is None:
            # The document is silent on late payment: asking the month would lead nowhere.
            text = render.add_line(render.add_line(text, render.contact_line(pack)), render.benefit_period_line(pack))
            return Answered([Reply(text, _rows(follow_ups("contact", "deadline")))])
        return Answered([Reply(text + "\n请问是什么时候缴的？", _rows(_month_choices(pack), 3))],
                        OpenQuestion("paid", "benefit_start"))
    ans = engine.benefit_start(pack, who, ctx.today)
    text = render.benefit_start(ans, pack, ctx.today, ctx.note(), paying_now=True)
    text = render.add_line(text, render.benefit_period_line(pack))
    late = engine.deadline(pack, who, ctx.today)
    if late.ok and late.missed_consequence_zh and not late.missed:
        text = render.add_line(text, f"如果错过：{late.missed_consequence_zh}", None)
    return Answered([Reply(text, _rows(follow_ups("deadline", "amount")))])


def _date_of(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _month_day(pack: Any, month: Any) -> dt.date | None:
    """A month said without a day (3月份补交), placed in the campaign the pack covers."""
    if not month:
        return None
    month = int(month)
    start = min((p.start for p in pack.dates.periods if p.start is not None), default=None)
    end = pack.dates.collection.end
    year = int(pack.coverage_year)
    candidate = dt.date(year - 1, month, 1)
    if start is not None and start.replace(day=1) <= candidate <= end:
        return candidate
    return dt.date(year, month, 1)


def _month_choices(pack: Any) -> list[Choice]:
    year = int(pack.coverage_year)
    choices = [Choice("截止前按时缴的", month_value("ontime"))]
    choices += [Choice(f"{year}年{m}月补缴", month_value(f"{year}-{m:02d}")) for m in range(1, 13)]
    return choices


def newborn(ctx: Ctx) -> Answered:
    facts = ctx.facts
    pack = ctx.pack
    day = ctx.day()
    note = ctx.note()
    rule = pack.dates.newborn
    if rule is None:
        ans = engine.not_in_document(pack, "newborn", day, town=ctx.place.town or ctx.place.village)
        return Answered([Reply(render.plain(ans, pack, note), _rows(follow_ups("amount", "contact")))])
    born = facts.get("birth_date")
    if facts.get("newborn_late"):
        # Born more than the window ago: the rule for babies enrolled late, without assuming a birthday.
        baby = person({**facts, "newborn": True, "birth_date": (day - dt.timedelta(days=rule.within_days + 10)).isoformat()})
        ans = engine.benefit_start(pack, baby, day)
        text = render.rule_only(ans, pack, [render.day(day), render.day(day + dt.timedelta(days=1))], note,
                                f"超过{rule.within_days}天的，在一周岁内办理，从缴费次日起享受待遇。" if rule.after else None)
        return Answered([Reply(text, _rows(follow_ups("amount", "how_to_pay")))])
    if born:
        baby = person({**facts, "newborn": True})
        ans = engine.deadline(pack, baby, day)
        text = render.deadline(ans, pack, note, newborn=True)
        if facts.get("birth_month_only") and ans.ok:
            # Only the month was said: the earliest birthday is the safe reading; say so.
            month = dt.date.fromisoformat(str(born)).month
            text = render.add_line(text, f"您只说了{month}月出生，这里按{month}月1日算（最早的一天）；"
                                         f"实际从出生当天算{rule.within_days}天，告诉我具体哪天出生我再帮您算。")
    else:
        baby = person({**facts, "newborn": True, "birth_date": day.isoformat()})
        ans = engine.benefit_start(pack, baby, day)
        hint = "告诉我宝宝的出生日期（比如：宝宝10月5日出生），我帮您算最晚哪天办。"
        text = render.rule_only(ans, pack, [render.day(day)], note, hint)
    fee = render.newborn_fee(pack)
    if fee:
        text = render.add_line(text, fee[0], fee[1])
    return Answered([Reply(text, _rows(follow_ups("amount", "how_to_pay")))])


# ---------------------------------------------------------------------------- who, refunds, info


def eligibility(ctx: Ctx) -> Answered:
    facts = ctx.facts
    day = ctx.day()
    ans = engine.eligibility(ctx.pack, person(facts, age=ages(facts, day)[-1]), day)
    return Answered([Reply(render.eligibility(ans, ctx.pack, ctx.note()), _rows(follow_ups("amount", "deadline")))])


def refund(ctx: Ctx) -> Answered:
    facts = ctx.facts
    pack = ctx.pack
    day = ctx.day()
    who = person(facts, age=ages(facts, day)[-1])
    reason = facts.get("refund_reason")
    if reason:
        # The event the refund turns on: the death, else the date the message gives (joining employee
        # insurance, the second payment), which the reader may have taken for a payment date.
        event = died_on(facts) if reason == "death" else (_date_of(facts.get("event_on")) or paid_on(facts, pack))
        ans = engine.refund(pack, who, day, reason, event_on=event)
        until = _date_of(facts.get("died_until")) if reason == "death" else None
        if until is not None and engine.refund(pack, who, day, reason, event_on=until).refund_allowed \
                != ans.refund_allowed:
            # Only the month was said (去年腊月) and the document's cut-off falls inside it: ask the day.
            ans = engine.refund(pack, who, day, reason)
        # Asked for the day of death: the next message may be just the date ("12月20号").
        asked = OpenQuestion("died", "refund") if reason == "death" and "event_on" in (ans.needs or ()) else None
        return Answered([Reply(render.refund(ans, pack, ctx.note()), _rows(follow_ups("contact", "how_to_pay")))],
                        asked)
    # No reason given: the rule for each reason the document names, then the reasons as choices.
    answers = [(reason, engine.refund(pack, who, day, reason)) for reason in REFUND_REASONS]
    text = render.refund_overview(answers, pack, ctx.note())
    choices = [Choice(label, refund_value(r)) for r, label in render.REFUND_LABELS if r in REFUND_REASONS]
    return Answered([Reply(text, _rows(choices, 2))])


def how_to_pay(ctx: Ctx) -> Answered:
    ans = engine.payment_info(ctx.pack, ctx.day())
    return Answered([Reply(render.plain(ans, ctx.pack, ctx.note()), _rows(follow_ups("amount", "deadline")))])


def contact(ctx: Ctx) -> Answered:
    town = ctx.place.town or ctx.place.village
    ans = engine.contacts(ctx.pack, town=town, on=ctx.day())
    towns = list(dict.fromkeys(i.get("town") for i in (ans.items or ()) if i.get("town")))
    if ans.ok and not town and len(towns) > 1:
        choices = [Choice(t, town_value(t)) for t in towns]
        return Answered([Reply(render.plain(ans, ctx.pack, ctx.note()), _rows(choices, 3))],
                        OpenQuestion("town", "contact"))
    if not ans.ok and town:
        # The town is not in the table (a village of another town, a typo): the whole list instead.
        ans = engine.contacts(ctx.pack, on=ctx.day())
    return Answered([Reply(render.plain(ans, ctx.pack, ctx.note()))])


# "啥时候返钱", "多久到账": when the subsidy paid back arrives, which no document states.
_WHEN_PAID_BACK = re.compile(r"什么时候|啥时候|多久|多长时间|几时|哪天|几号|到账|打到")


def pay_first(ctx: Ctx) -> Answered:
    ans = engine.explain_pay_first(ctx.pack, ctx.day())
    text = render.plain(ans, ctx.pack, ctx.note())
    if ans.ok and _WHEN_PAID_BACK.search(ctx.text):
        text = render.add_line(text, "什么时候补到、怎么补给您，文件没有写。" + render.contact_line(ctx.pack))
    return Answered([Reply(text, _rows(follow_ups("amount", "contact")))])


_PAYOUT_WORDS = (("inpatient", ("住院", "手术")), ("outpatient", ("门诊", "看病", "拿药", "买药", "慢性病", "慢病")),
                 ("critical_illness", ("大病",)), ("remote_care", ("异地", "外地看病", "外地住院")),
                 ("services", ("医保卡", "社保卡", "药店", "电子医保", "医保码", "个人账户", "定点")))


def payout_topic(text: str) -> str:
    """Which payout the resident asks about, as the engine names it (reimbursement in general)."""
    return next((topic for topic, words in _PAYOUT_WORDS if any(w in text for w in words)), "reimbursement")


# Costs during a waiting period (等着的那几个月看病能报不): some documents settle that much.
_WAITING_WORDS = re.compile(r"等待|等着|等的那|等那|那几个月|这几个月")


def reimbursement(ctx: Ctx) -> Answered:
    ans = engine.not_in_document(ctx.pack, payout_topic(ctx.text), ctx.day(),
                                 town=ctx.place.town or ctx.place.village,
                                 waiting=bool(_WAITING_WORDS.search(ctx.text)))
    text = render.add_line(render.plain(ans, ctx.pack, ctx.note()), "文件只写了" + render.benefit_period_line(ctx.pack))
    return Answered([Reply(text, _rows(follow_ups("contact", "benefit_start")))])


def incentive(ctx: Ctx) -> Answered:
    facts = ctx.facts
    ans = engine.incentive(ctx.pack, ctx.day(), continuous_years=facts.get("continuous_years"),
                           zero_claim_last_year=True if facts.get("no_claims") else None)
    return Answered([Reply(render.plain(ans, ctx.pack, ctx.note()), _rows(follow_ups("contact", "amount")))])


def staff_rules(ctx: Ctx) -> Answered:
    """Rewards and penalties for villages and towns: the documents have them, the packs deliberately
    leave them out (internal assessment, not a resident's question); say so and whom to ask."""
    internal = [n for n in ctx.pack.not_modelled if "内部" in n.reason]
    where = "、".join(dict.fromkeys(n.locator for n in internal))
    said = f"文件{('（' + where + '）') if where else ''}里对村、乡镇和干部的奖励、处罚和考核是内部考核规定，我这里不解答。"
    text = render.compose([ctx.note(), said, "想了解具体规定，请问镇（乡）政府或县医保、税务部门。", render.contact_line(ctx.pack)], None)
    return Answered([Reply(text, _rows(follow_ups("task", "amount")))])


def task(ctx: Ctx) -> Answered:
    ans = engine.task_target(ctx.pack, ctx.day(), ctx.place.village or ctx.place.town)
    return Answered([Reply(render.plain(ans, ctx.pack, ctx.note()))])


TOPICS: dict[str, Callable[[Ctx], Answered]] = {
    "amount": amount,
    "deadline": deadline,
    "eligibility": eligibility,
    "benefit_start": benefit_start,
    "newborn": newborn,
    "refund": refund,
    "how_to_pay": how_to_pay,
    "contact": contact,
    "pay_first": pay_first,
    "reimbursement": reimbursement,
    "incentive": incentive,
    "task": task,
    "staff_rules": staff_rules,
}
