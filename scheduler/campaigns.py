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
has unpaid members, and queues one message per chat (key `campaign:<id>:chat:<chat_id>`, so nobody gets
the same reminder twice, even if a build is repeated). Right before sending, `recheck` looks again:
nobody is reminded who paid, or unsubscribed, after the list was built, and the amount is recomputed.
Only the newest due wave of a kind is built; older unbuilt ones are marked done as superseded.
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
    """The engine's deadline for this person; straight from the pack's dates while the engine build
    in use has no `deadline()` yet (same data, no figure typed here)."""
    if hasattr(engine, "deadline"):
        answer = engine.deadline(pack, person, on)
        return answer.deadline if answer.ok else None
    dates = pack.dates
    if person.newborn and person.birth_date is not None:
        return None if dates.newborn is None else person.birth_date + timedelta(days=dates.newborn.within_days - 1)
    if person.migrant and dates.migrant_extension is not None:
        return dates.migrant_extension.end
    return dates.collection.end


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
    existing = {(c.kind, c.offset_label, c.send_on): c for c in session.exec(
        select(Campaign).where(Campaign.locality_id == locality_id, Campaign.coverage_year == pack.coverage_year))}
    out: list[Campaign] = []
    for kind, days, deadline in waves:
        send_on = deadline - timedelta(days=days)
        found = existing.get((kind, offset_label(days), send_on))
        if found is None:
            found = Campaign(locality_id=locality_id, coverage_year=pack.coverage_year, kind=kind,
                             offset_label=offset_label(days), deadline=deadline, send_on=send_on, status=ACTIVE)
            session.add(found)
        out.append(found)
    session.flush()
    return out


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
class HouseholdDue:
    household_id: int
    members: list[Member]
    amount: Decimal = Decimal(0)
    refused: list[str] = field(default_factory=list)


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


def _keep(kind: str, members: list[Member]) -> list[Member]:
    return [m for m in members if m.migrant] if kind == MIGRANT else members


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


def render(pack: Any, kind: str, deadline: date, today: date, households: list[HouseholdDue]) -> str:
    """The reminder text for one chat: amount due per household, deadline, how to pay."""
    days = (deadline - today).days
    when = "今天是最后一天" if days <= 0 else f"还剩{days}天"
    lines = [f"【{pack.locality.name_zh}医保缴费提醒】"]
    what = {MIGRANT: "外出务工返乡人员延期缴费", NEWBORN: "新生儿参保缴费"}.get(kind, "城乡居民医保缴费")
    for hh in households:
        who = "、".join(_masked_name(m.name) for m in hh.members[:5]) + ("等" if len(hh.members) > 5 else "")
        line = f"您家{who}共{len(hh.members)}人尚未缴纳{pack.coverage_year}年度{what}"
        if hh.amount > 0:
            line += f"，应缴合计{_yuan(hh.amount)}"
        lines.append(line + "。")
        if hh.refused:
            lines.append(f"{'、'.join(_masked_name(n) for n in hh.refused)}的金额请咨询村（社区）。")
    lines.append(f"缴费截止：{_zh_date(deadline)}（{when}）。")
    lines.append(f"缴费方式：{how_to_pay(pack, today)}")
    lines.append("已缴费请忽略本消息；发送 /unsubscribe 可退订提醒。")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------- building


@dataclass
class BuildResult:
    campaign_id: int
    queued: int = 0
    excluded_paid: int = 0
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
    per_chat: dict[int, list[tuple[int, HouseholdDue]]] = defaultdict(list)
    for hh_id, links in subs.items():
        members = _keep(campaign.kind, unpaid.get(hh_id, []))
        if not members:
            result.excluded_paid += 1
            continue
        due_ = HouseholdDue(hh_id, members)
        due_.amount, due_.refused = amount_due(pack, members, today)
        for link_id, chat_id in links:
            per_chat[chat_id].append((link_id, due_))
    when = _send_moment(campaign.send_on)
    for chat, items in per_chat.items():
        households = [d for _, d in items]
        text = render(pack, campaign.kind, campaign.deadline, today, households)
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
    log.info("campaign %s %s %s %s: %d reminders queued, %d subscribed households already paid",
             campaign.id, campaign.locality_id, campaign.kind, campaign.offset_label, result.queued,
             result.excluded_paid)
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
            due_ = HouseholdDue(hh_id, [mem])
            due_.amount, due_.refused = amount_due(pack, [mem], today)
            for link_id, chat in subs.get(hh_id, []):
                result.queued += outbox.enqueue(
                    session, key=f"newborn:{mem.person_id}:{label}:chat:{chat.key}", chat=chat,
                    text=render(pack, NEWBORN, dl, today, [due_]), campaign_id=campaign.id,
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
    for r in rows:
        if r.chat_link_id is not None and r.chat_link_id not in active:
            skip[r.id] = "unsubscribed since the list was built"
            continue
        if r.household_id is None or r.coverage_year is None:
            continue
        campaign = campaigns.get(r.campaign_id)
        kind = campaign.kind if campaign is not None else DEADLINE
        members = _keep(kind, unpaid.get(r.coverage_year, {}).get(r.household_id, []))
        if not members:
            skip[r.id] = "paid since the list was built"
            continue
        if campaign is None or campaign.deadline is None or kind == NEWBORN:
            continue
        pack = get_pack(campaign.locality_id, campaign.coverage_year)
        if pack is None:
            continue
        hh = HouseholdDue(r.household_id, members)
        hh.amount, hh.refused = amount_due(pack, members, today)
        r.text = render(pack, kind, campaign.deadline, today, [hh])
        if getattr(r, "params", None) is not None:  # a templated channel's row (scheduler.channels)
            r.params = reminder_params(pack, kind, campaign.deadline, today, [hh])
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


__all__ = ["BuildResult", "build", "build_newborn", "campaigns_of", "due", "plan", "recheck", "render",
           "run_due", "set_status"]
