"""Reminder campaigns derived from each policy pack's dates, and the messages they queue.

Waves (offsets in days before the deadline; the dates themselves always come from the policy engine):

- `deadline`: 30, 7, 3 and 1 days before the ordinary payment deadline, and the last day (D-0);
  households with anyone unpaid for the pack's coverage year.
- `migrant`: before the extended deadline for migrant workers (桃园 2023-02-28, 五河 2024-02-29 in the
  seeds): D-30 and D-15 bracket the Spring Festival return (in both seeds D-30 falls in the days around
  the festival when workers come home, D-15 in the first lunar month before most leave again), then D-7,
  D-3 and the last day; households with an unpaid member flagged as a migrant worker.
- `newborn`: each day, households with an unpaid baby whose newborn deadline (the pack's day-N rule) is
  7, 3 or 0 days away; one wave per day and offset, the key names the baby so a baby is never nagged
  twice for the same offset.

Building a wave selects subscribed, active `ChatLink`s (opt-outs are `active = False`) whose household
has an unpaid member due by the wave's deadline, and queues one message per chat (key
`campaign:<id>:chat:<chat_id>`, so nobody gets the same reminder twice, even if a build is repeated).
Each member's deadline is the engine's answer for that member, as in the status reply: a household whose
unpaid members are all migrant workers is left out of the ordinary deadline's waves and reminded by
the migrant waves of the extended deadline; a mixed household's reminder names both deadlines, each
with the members it applies to. Right before sending, `recheck` looks again: nobody is reminded who
paid, or unsubscribed, after the list was built, and the amounts are recomputed. Only the newest due
wave of a kind is built; older unbuilt ones are marked done as superseded.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlmodel import Session, select

from bot import clock
from bot.policy import engine, get_pack
from bot.policy.engine import Person as PolicyPerson
from bot.registry.chats import stop_hint
from bot.registry.db import insert_for
from scheduler import outbox
from scheduler.channels import recipients as channel_recipients
from scheduler.channels.reminders import reminder_params
from scheduler.models import ACTIVE, DEADLINE, DONE, MIGRANT, NEWBORN, PAUSED, Campaign
from scheduler.timeutil import to_utc_naive, utcnow

log = logging.getLogger(__name__)

DEADLINE_OFFSETS = (30, 7, 3, 1, 0)
MIGRANT_OFFSETS = (30, 15, 7, 3, 0)
NEWBORN_OFFSETS = (7, 3, 0)
SEND_AT = time(9, 0)  # local time a wave is meant to go out (quiet hours still apply)


def offset_label(days: int) -> str:
    return f"D-{days}"


# ---------------------------------------------------------------------------------------- planning


def deadline_of(pack: Any, person: PolicyPerson, on: date) -> date | None:
    """The engine's deadline for this person (None when the engine gives none)."""
    answer = engine.deadline(pack, person, on)
    return answer.deadline if answer.ok else None


def _deadline_for(pack: Any, person: PolicyPerson) -> date | None:
    """The deadline for this kind of person, asked on a day inside the pack's collection period."""
    return deadline_of(pack, person, pack.dates.collection.start or pack.dates.collection.end)


def plan(session: Session, locality_id: str) -> list[Campaign]:
    """Create (idempotently) the deadline and migrant waves of the locality's newest pack."""
    pack = get_pack(locality_id)
    if pack is None:
        return []
    waves: list[tuple[str, int, date]] = []
    ordinary = _deadline_for(pack, PolicyPerson())
    if ordinary is not None:
        waves += [(DEADLINE, d, ordinary) for d in DEADLINE_OFFSETS]
    if pack.dates.migrant_extension is not None:
        extended = _deadline_for(pack, PolicyPerson(migrant=True))
        if extended is not None and extended != ordinary:
            waves += [(MIGRANT, d, extended) for d in MIGRANT_OFFSETS]
    def existing() -> dict[tuple[str, str, date], Campaign]:
        return {(c.kind, c.offset_label, c.send_on): c for c in session.exec(
            select(Campaign).where(Campaign.locality_id == locality_id, Campaign.coverage_year == pack.coverage_year))}

    have = existing()
    missing = [dict(locality_id=locality_id, coverage_year=pack.coverage_year, kind=kind,
                    offset_label=offset_label(days), deadline=deadline, send_on=deadline - timedelta(days=days),
                    status=ACTIVE, recipients=0, excluded_paid=0)
               for kind, days, deadline in waves
               if (kind, offset_label(days), deadline - timedelta(days=days)) not in have]
    if missing:
        # Two planners at once (the daily job, `yibao campaign list`, `campaign run`): whoever comes second
        # inserts nothing instead of failing on the unique wave (PostgreSQL waits for the first's commit).
        insert = insert_for(session)
        for values in missing:
            session.execute(insert(Campaign).values(**values).on_conflict_do_nothing(
                index_elements=["locality_id", "coverage_year", "kind", "offset_label", "send_on"]))
        have = existing()
    return [have[(kind, offset_label(days), deadline - timedelta(days=days))] for kind, days, deadline in waves]


def due(session: Session, locality_id: str, today: date) -> list[Campaign]:
    """Waves to build today: per kind, the newest active unbuilt wave whose day has come and whose
    deadline has not passed. Older unbuilt ones are marked done (a missed D-30 is useless on D-7)."""
    rows = list(session.exec(
        select(Campaign).where(Campaign.locality_id == locality_id, Campaign.built_at.is_(None),
                               Campaign.status == ACTIVE, Campaign.send_on <= today,
                               Campaign.kind.in_((DEADLINE, MIGRANT)))
        .order_by(Campaign.send_on.desc())))
    chosen: dict[str, Campaign] = {}
    for c in rows:
        if c.deadline is not None and c.deadline < today:
            c.status, c.note = DONE, "deadline passed before it was built"
        elif c.kind not in chosen:
            chosen[c.kind] = c
        else:
            c.status, c.note = DONE, f"superseded by {chosen[c.kind].offset_label}"
    session.flush()
    return list(chosen.values())


# ---------------------------------------------------------------------------------------- who and how much


@dataclass
class Member:
    person_id: int
    name: str
    birth_date: date
    migrant: bool
    categories: tuple[str, ...]


@dataclass
class DueGroup:
    """Members of one household who share a deadline, and what they pay together."""

    deadline: date
    extended: bool  # the migrant workers' extended deadline
    members: list[Member]
    amount: Decimal = Decimal(0)
    refused: list[str] = field(default_factory=list)


@dataclass
class HouseholdDue:
    """A household in a wave: its groups by deadline, the wave's deadline first."""

    household_id: int
    groups: list[DueGroup]

    # What a one-deadline template (WeChat, SMS: scheduler.channels.reminders) can say: the members due
    # by the wave's deadline and their amount. The text reminder (render) names every group.
    @property
    def members(self) -> list[Member]:
        return self.groups[0].members

    @property
    def amount(self) -> Decimal:
        return self.groups[0].amount


class Deadlines:
    """Each member's deadline from the engine, as the status reply gives it (asked once per kind of
    member: the deadline depends on the migrant flag only; newborns have their own waves)."""

    def __init__(self, pack: Any, on: date) -> None:
        self.pack, self.on = pack, on
        self._cache: dict[bool, tuple[date, bool] | None] = {}

    def of(self, member: Member) -> tuple[date, bool] | None:
        """(deadline, extended) for the member, or None when the engine gives none."""
        key = bool(member.migrant)
        if key not in self._cache:
            answer = engine.deadline(self.pack, PolicyPerson(migrant=key), self.on)
            if not answer.ok and key:  # no extension in this pack: a migrant has the ordinary deadline
                answer = engine.deadline(self.pack, PolicyPerson(), self.on)
            self._cache[key] = (answer.deadline, bool(answer.extended)) if answer.ok else None
        return self._cache[key]


def household_due(pack: Any, household_id: int, members: list[Member], wave_deadline: date, today: date,
                  deadlines: Deadlines) -> HouseholdDue | None:
    """What a household is reminded of in a wave for `wave_deadline`: its unpaid members grouped by their
    own deadline (those already past are left out), the wave's group first; None when none of them is
    due by the wave's deadline (an all-migrant household in an ordinary wave, say)."""
    by_deadline: dict[date, DueGroup] = {}
    for mem in members:
        found = deadlines.of(mem)
        if found is None or found[0] < today:
            continue
        group = by_deadline.setdefault(found[0], DueGroup(found[0], found[1], []))
        group.members.append(mem)
    if wave_deadline not in by_deadline:
        return None
    groups = [by_deadline.pop(wave_deadline)] + [by_deadline[d] for d in sorted(by_deadline)]
    for g in groups:
        g.amount, g.refused = amount_due(pack, g.members, today)
    return HouseholdDue(household_id, groups)


def _registry() -> Any:
    from bot.registry import models

    return models


def unpaid_members(session: Session, household_ids: list[int], year: int) -> dict[int, list[Member]]:
    """Unpaid people per household for the coverage year (households with nobody unpaid are absent)."""
    m = _registry()
    if not household_ids:
        return {}
    paid = select(m.Payment.person_id).where(m.Payment.coverage_year == year)
    people = list(session.exec(select(m.Person).where(m.Person.household_id.in_(household_ids),
                                                      m.Person.id.not_in(paid))))
    cats: dict[int, list[str]] = defaultdict(list)
    if people:
        for cm in session.exec(select(m.CategoryMembership).where(
                m.CategoryMembership.person_id.in_([p.id for p in people]))):
            cats[cm.person_id].append(cm.category)
    out: dict[int, list[Member]] = defaultdict(list)
    for p in people:
        out[p.household_id].append(Member(p.id, p.name, p.birth_date, bool(p.migrant), tuple(cats[p.id])))
    return dict(out)


def amount_due(pack: Any, members: list[Member], on: date) -> tuple[Decimal, list[str]]:
    """Sum of what each member pays (engine, per member); names the engine would not price."""
    total, refused = Decimal(0), []
    for mem in members:
        a = engine.amount(pack, PolicyPerson(categories=mem.categories, birth_date=mem.birth_date,
                                             migrant=mem.migrant), on)
        if a.ok and a.personal is not None:
            total += Decimal(a.personal)
        else:
            refused.append(mem.name)
    return total, refused


def subscriptions(session: Session, locality_id: str, year: int) -> dict[int, list[tuple[int | None, Any]]]:
    """Who the locality's reminders go to: household id -> [(chat_link id or None, Chat)]; one channel
    per household (the one chosen last), SMS where the county turned it on (scheduler.channels)."""
    return channel_recipients.reminded(session, locality_id, year)


def _params(chat: Any, pack: Any, kind: str, deadline: date, today: date, households: list[Any]) -> dict | None:
    """Template values for the channels that send templates (None for Telegram, which sends the text)."""
    return None if chat.channel == "telegram" else reminder_params(pack, kind, deadline, today, households)


# ---------------------------------------------------------------------------------------- text


def _yuan(value: Decimal) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text}元"


def _zh_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _masked_name(name: str) -> str:
    return name[:1] + "*" * max(1, len(name) - 1)


def how_to_pay(pack: Any, on: date) -> str:
    """How to pay, from the engine when it offers it, else from the pack's listed channels."""
    info = getattr(engine, "payment_info", None)
    if info is not None:
        try:
            answer = info(pack, on)
            if answer.ok and answer.explanation_zh:
                return answer.explanation_zh.strip().splitlines()[0]
        except Exception:  # noqa: BLE001 - a reminder still goes out with the channel list below
            log.exception("payment_info failed for %s", pack.locality.id)
    names = [c.name for c in pack.payment.channels]
    return "、".join(names[:4])


def _days_left(deadline: date, today: date) -> str:
    days = (deadline - today).days
    return "今天是最后一天" if days <= 0 else f"还剩{days}天"


def _names(members: list[Member]) -> str:
    return "、".join(_masked_name(m.name) for m in members[:5]) + ("等" if len(members) > 5 else "")


def render(
    pack: Any, kind: str, deadline: date, today: date, households: list[HouseholdDue], channel: str | None = None
) -> str:
    """The reminder text for one chat: per household who is unpaid and what they owe, the wave's
    deadline, then any member with another deadline (a migrant worker's extension) and theirs, and
    how to stop reminders on the chat's channel."""
    lines = [f"【{pack.locality.name_zh}医保缴费提醒】"]
    what = {MIGRANT: "外出务工返乡人员延期缴费", NEWBORN: "新生儿参保缴费"}.get(kind, "城乡居民医保缴费")
    later: list[str] = []
    for hh in households:
        first, *others = hh.groups
        line = f"您家{_names(first.members)}共{len(first.members)}人尚未缴纳{pack.coverage_year}年度{what}"
        if first.amount > 0:
            line += f"，应缴合计{_yuan(first.amount)}"
        lines.append(line + "。")
        if first.refused:
            lines.append(f"{'、'.join(_masked_name(n) for n in first.refused)}的金额请咨询村（社区）。")
        for g in others:
            when = f"{_zh_date(g.deadline)}（{_days_left(g.deadline, today)}）"
            text = (f"外出务工人员{_names(g.members)}可延至{_zh_date(g.deadline)}前缴费（{_days_left(g.deadline, today)}）"
                    if g.extended else f"{_names(g.members)}的缴费截止：{when}")
            if g.amount > 0:
                text += f"，应缴{_yuan(g.amount)}"
            later.append(text + "。")
            if g.refused:
                later.append(f"{'、'.join(_masked_name(n) for n in g.refused)}的金额请咨询村（社区）。")
    lines.append(f"缴费截止：{_zh_date(deadline)}（{_days_left(deadline, today)}）。")
    lines += later
    lines.append(f"缴费方式：{how_to_pay(pack, today)}")
    lines.append(f"已缴费请忽略本消息；{stop_hint(channel)}可退订提醒。")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------- building


@dataclass
class BuildResult:
    campaign_id: int
    queued: int = 0
    excluded_paid: int = 0
    excluded_other_deadline: int = 0  # unpaid, but nobody due by this wave's deadline (e.g. all migrants)
    chats: int = 0


def _send_moment(send_on: date) -> datetime:
    """A wave's send time (09:00 local on its day, or now if later), naive UTC."""
    planned = to_utc_naive(datetime.combine(send_on, SEND_AT, tzinfo=clock.TZ))
    return max(planned, utcnow())


def build(session: Session, campaign: Campaign, today: date | None = None) -> BuildResult:
    """Queue a deadline or migrant wave's messages (idempotent: keys are per campaign and chat)."""
    today = today or clock.today()
    pack = get_pack(campaign.locality_id, campaign.coverage_year)
    result = BuildResult(campaign_id=campaign.id)
    if pack is None or campaign.deadline is None:
        campaign.status, campaign.note = DONE, "no policy pack"
        return result
    subs = subscriptions(session, campaign.locality_id, campaign.coverage_year)
    unpaid = unpaid_members(session, list(subs), campaign.coverage_year)
    deadlines = Deadlines(pack, today)
    per_chat: dict[Any, list[tuple[int | None, HouseholdDue]]] = defaultdict(list)
    for hh_id, links in subs.items():
        due_ = household_due(pack, hh_id, unpaid.get(hh_id, []), campaign.deadline, today, deadlines)
        if due_ is None:
            result.excluded_paid += hh_id not in unpaid  # nobody unpaid (else: not due by this deadline)
            result.excluded_other_deadline += hh_id in unpaid
            continue
        for link_id, chat in links:
            per_chat[chat].append((link_id, due_))
    when = _send_moment(campaign.send_on)
    for chat, items in per_chat.items():
        households = [d for _, d in items]
        text = render(pack, campaign.kind, campaign.deadline, today, households, chat.channel)
        result.queued += outbox.enqueue(
            session, key=f"campaign:{campaign.id}:chat:{chat.key}", chat=chat, text=text,
            params=_params(chat, pack, campaign.kind, campaign.deadline, today, households),
            campaign_id=campaign.id, not_before=when, chat_link_id=items[0][0],
            # One household: re-checked and re-priced right before sending. A chat following several
            # households gets them in one message; only its subscription is re-checked then.
            household_id=households[0].household_id if len(households) == 1 else None,
            coverage_year=campaign.coverage_year)
    result.chats = len(per_chat)
    campaign.built_at = utcnow()
    campaign.recipients = (campaign.recipients or 0) + result.queued
    campaign.excluded_paid = result.excluded_paid
    session.add(campaign)
    log.info("campaign %s %s %s %s: %d reminders queued, %d subscribed households already paid, "
             "%d due by another deadline", campaign.id, campaign.locality_id, campaign.kind,
             campaign.offset_label, result.queued, result.excluded_paid, result.excluded_other_deadline)
    return result


def build_newborn(session: Session, locality_id: str, today: date | None = None) -> list[BuildResult]:
    """Today's newborn waves: parents of unpaid babies whose newborn deadline is 7, 3 or 0 days away."""
    today = today or clock.today()
    pack = get_pack(locality_id)
    if pack is None or pack.dates.newborn is None:
        return []
    subs = subscriptions(session, locality_id, pack.coverage_year)
    unpaid = unpaid_members(session, list(subs), pack.coverage_year)
    # A baby can only be close to its newborn deadline if born in the last year: cheap prefilter.
    babies: dict[int, list[tuple[Member, date]]] = defaultdict(list)
    for hh_id, members in unpaid.items():
        for mem in members:
            if mem.birth_date is None or mem.birth_date > today or (today - mem.birth_date).days > 366:
                continue
            dl = deadline_of(pack, PolicyPerson(newborn=True, birth_date=mem.birth_date), today)
            if dl is not None and (dl - today).days in NEWBORN_OFFSETS:
                babies[hh_id].append((mem, dl))
    results = []
    for days in NEWBORN_OFFSETS:
        wave = [(hh, mem, dl) for hh, items in babies.items() for mem, dl in items if (dl - today).days == days]
        if not wave:
            continue
        label = offset_label(days)
        campaign = session.exec(select(Campaign).where(
            Campaign.locality_id == locality_id, Campaign.coverage_year == pack.coverage_year,
            Campaign.kind == NEWBORN, Campaign.offset_label == label, Campaign.send_on == today)).first()
        if campaign is None:
            campaign = Campaign(locality_id=locality_id, coverage_year=pack.coverage_year, kind=NEWBORN,
                                offset_label=label, send_on=today, status=ACTIVE)
            session.add(campaign)
            session.flush()
        if campaign.status != ACTIVE:
            continue
        result = BuildResult(campaign_id=campaign.id)
        for hh_id, mem, dl in wave:
            group = DueGroup(dl, False, [mem])
            group.amount, group.refused = amount_due(pack, [mem], today)
            due_ = HouseholdDue(hh_id, [group])
            for link_id, chat in subs.get(hh_id, []):
                result.queued += outbox.enqueue(
                    session, key=f"newborn:{mem.person_id}:{label}:chat:{chat.key}", chat=chat,
                    text=render(pack, NEWBORN, dl, today, [due_], chat.channel), campaign_id=campaign.id,
                    params=_params(chat, pack, NEWBORN, dl, today, [due_]),
                    not_before=_send_moment(today), chat_link_id=link_id, household_id=hh_id,
                    coverage_year=pack.coverage_year)
        campaign.built_at = utcnow()
        campaign.recipients = (campaign.recipients or 0) + result.queued
        session.add(campaign)
        results.append(result)
    return results


def run_due(session: Session, locality_id: str, today: date | None = None) -> list[BuildResult]:
    """Plan the locality's waves and build whatever is due today (the daily job's body)."""
    today = today or clock.today()
    plan(session, locality_id)
    results = [build(session, c, today) for c in due(session, locality_id, today)]
    results += build_newborn(session, locality_id, today)
    return results


# ---------------------------------------------------------------------------------------- send-time check


def recheck(session: Session, rows: list[Any]) -> dict[int, str]:
    """Called by the sender right before sending guarded rows: skip who unsubscribed or paid since the
    list was built; otherwise refresh the text so the amount matches who is still unpaid."""
    m = _registry()
    skip: dict[int, str] = {}
    link_ids = {r.chat_link_id for r in rows if r.chat_link_id is not None}
    active = set()
    if link_ids:
        active = set(session.exec(select(m.ChatLink.id).where(m.ChatLink.id.in_(link_ids), m.ChatLink.active)))
    campaign_ids = {r.campaign_id for r in rows if r.campaign_id is not None}
    campaigns = {c.id: c for c in session.exec(select(Campaign).where(Campaign.id.in_(campaign_ids)))} if campaign_ids else {}
    by_year: dict[int, set[int]] = defaultdict(set)
    for r in rows:
        if r.household_id is not None and r.coverage_year is not None:
            by_year[r.coverage_year].add(r.household_id)
    unpaid = {year: unpaid_members(session, list(hhs), year) for year, hhs in by_year.items()}
    today = clock.today()
    books: dict[int, Deadlines] = {}
    for r in rows:
        if r.chat_link_id is not None and r.chat_link_id not in active:
            skip[r.id] = "unsubscribed since the list was built"
            continue
        if r.household_id is None or r.coverage_year is None:
            continue
        campaign = campaigns.get(r.campaign_id)
        members = unpaid.get(r.coverage_year, {}).get(r.household_id, [])
        if not members:
            skip[r.id] = "paid since the list was built"
            continue
        if campaign is None or campaign.deadline is None or campaign.kind == NEWBORN:
            continue
        pack = get_pack(campaign.locality_id, campaign.coverage_year)
        if pack is None:
            continue
        book = books.setdefault(campaign.id, Deadlines(pack, today))
        hh = household_due(pack, r.household_id, members, campaign.deadline, today, book)
        if hh is None:
            skip[r.id] = "nobody left who is due by this deadline"
            continue
        r.text = render(pack, campaign.kind, campaign.deadline, today, [hh], getattr(r, "channel", None))
        if getattr(r, "params", None) is not None:  # a templated channel's row (scheduler.channels)
            r.params = reminder_params(pack, campaign.kind, campaign.deadline, today, [hh])
    return skip


def set_status(session: Session, campaign_id: int, status: str) -> Campaign | None:
    """Pause or resume a campaign (the sender does not claim a paused campaign's messages)."""
    if status not in (ACTIVE, PAUSED):
        raise ValueError(status)
    c = session.get(Campaign, campaign_id)
    if c is None:
        return None
    if c.status != DONE or status == ACTIVE:
        c.status = status
        session.add(c)
    return c


def campaigns_of(session: Session, locality_id: str | None = None) -> list[Campaign]:
    q = select(Campaign).order_by(Campaign.locality_id, Campaign.send_on, Campaign.kind)
    if locality_id:
        q = q.where(Campaign.locality_id == locality_id)
    return list(session.exec(q))


__all__ = ["BuildResult", "Deadlines", "DueGroup", "HouseholdDue", "build", "build_newborn", "campaigns_of",
           "due", "household_due", "plan", "recheck", "render", "run_due", "set_status"]
