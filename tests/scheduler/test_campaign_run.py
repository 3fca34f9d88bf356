"""A whole reminder campaign on generated data at a fixed clock (Wuhe, 7 days before the deadline)."""

from __future__ import annotations

import asyncio
import contextlib
import random
from datetime import date, datetime, timedelta
from decimal import Decimal

from sched_helpers import delivered, settings
from sqlmodel import Session, select

from bot import clock
from bot.policy import engine as policy
from bot.policy import get_pack
from bot.policy.engine import Person as PolicyPerson
from bot.registry.ids import with_check_digit
from bot.registry.models import CategoryMembership, ChatLink, Household, Payment, Person
from scheduler import campaigns, outbox
from scheduler.models import Campaign, OutboxMessage
from scheduler.sender import OutboxSender


def _yuan(value: Decimal) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") + "元"


def _world(s: Session, year: int, rng: random.Random) -> dict:
    """40 households; each has 1-4 people, some paid, some dibao; most subscribed, a few opted out."""
    plan: dict = {"households": {}, "links": {}}
    n = 0
    for h in range(40):
        hh = Household(locality_id="wuhe", code=f"H{h:03d}")
        s.add(hh)
        s.flush()
        members = []
        for _ in range(rng.randint(1, 4)):
            n += 1
            born = date(rng.choice([1950, 1962, 1975, 1990, 2012]), rng.randint(1, 12), rng.randint(1, 28))
            body = f"340322{born:%Y%m%d}{n % 1000:03d}"
            p = Person(id_number=with_check_digit(body), name=f"居民{n}", household_id=hh.id,
                       birth_date=born, migrant=rng.random() < 0.2)
            s.add(p)
            s.flush()
            cats = ("dibao",) if rng.random() < 0.2 else ()
            for c in cats:
                s.add(CategoryMembership(person_id=p.id, category=c))
            if rng.random() < 0.4:
                s.add(Payment(person_id=p.id, coverage_year=year, paid_on=date(2023, 10, 1), amount=Decimal(380)))
            members.append((p, cats))
        plan["households"][hh.id] = members
        if h % 10 != 9:  # every tenth household never subscribed
            active = h % 7 != 3  # a few opted out (/unsubscribe)
            link = ChatLink(chat_id=50_000 + h, household_id=hh.id, active=active,
                            ended_at=None if active else clock.now())
            s.add(link)
            s.flush()
            plan["links"][hh.id] = link
    s.commit()
    return plan


async def test_whole_deadline_campaign(engine, fake_api, bot) -> None:  # noqa: ANN001
    pack = get_pack("wuhe")
    deadline = pack.dates.collection.end
    morning = datetime.combine(deadline - timedelta(days=7), datetime.min.time()).replace(hour=9, tzinfo=clock.TZ)
    clock.set_now(morning)
    today = clock.today()
    with Session(engine, expire_on_commit=False) as s:
        plan = _world(s, pack.coverage_year, random.Random(7))
        paid = set(s.exec(select(Payment.person_id)).all())

    # Expected: active subscribers whose household has someone unpaid who is due by the ordinary deadline
    # (not a migrant worker); their amount summed, and the unpaid migrants' sum under their own deadline.
    expected: dict[int, Decimal] = {}
    migrants_owe: dict[int, Decimal] = {}
    for hh_id, members in plan["households"].items():
        link = plan["links"].get(hh_id)
        unpaid = [(p, c) for p, c in members if p.id not in paid]
        if link is None or not link.active or not any(not p.migrant for p, _ in unpaid):
            continue
        total, extended = Decimal(0), Decimal(0)
        for p, cats in unpaid:
            a = policy.amount("wuhe", PolicyPerson(categories=cats, birth_date=p.birth_date, migrant=p.migrant), today)
            assert a.ok
            if p.migrant:
                extended += Decimal(a.personal)
            else:
                total += Decimal(a.personal)
        expected[link.chat_id] = total
        if any(p.migrant for p, _ in unpaid):
            migrants_owe[link.chat_id] = extended
    assert expected, "generated data must leave someone to remind"
    assert migrants_owe, "and some mixed households"
    extension = policy.deadline("wuhe", PolicyPerson(migrant=True), today).deadline
    assert extension > deadline

    with Session(engine, expire_on_commit=False) as s:
        results = campaigns.run_due(s, "wuhe")
        s.commit()
        built = [c for c in s.exec(select(Campaign).where(Campaign.built_at.is_not(None)))]
        assert [(c.kind, c.offset_label) for c in built] == [("deadline", "D-7")]
        assert s.exec(select(Campaign).where(Campaign.kind == "deadline", Campaign.offset_label == "D-30")).one().status == "done"
        assert sum(r.queued for r in results) == len(expected)
        # building again (a job re-run after a restart) queues nothing new
        assert campaigns.build(s, built[0], today).queued == 0
        s.commit()

    # One household pays after the list was built: it must not be reminded.
    payer_hh = next(h for h, m in plan["households"].items()
                    if plan["links"].get(h) is not None and plan["links"][h].chat_id in expected)
    with Session(engine, expire_on_commit=False) as s:
        for p, _ in plan["households"][payer_hh]:
            if p.id not in paid:
                s.add(Payment(person_id=p.id, coverage_year=pack.coverage_year, paid_on=today, amount=Decimal(380)))
        s.commit()
    payer_chat = plan["links"][payer_hh].chat_id

    # One resident blocked the bot: skipped, and their subscription ends.
    blocked_chat = next(c for c in sorted(expected) if c != payer_chat)
    fake_api.block(blocked_chat)

    # The sender crashes part-way (its task is killed between sends), then a new one takes over.
    first = asyncio.create_task(OutboxSender(engine, bot, settings=settings(send_rate_per_second=20.0)).run())
    for _ in range(200):
        await asyncio.sleep(0.02)
        if len(delivered(fake_api)) >= 3:
            break
    first.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await first
    assert 0 < len(delivered(fake_api)) < len(expected) - 2, "the crash must happen half-way"
    # The new process starts after the dead one's claims have expired (the clock is pinned in tests).
    clock.set_now(morning + timedelta(minutes=2))
    await asyncio.wait_for(OutboxSender(engine, bot, settings=settings(), lease_seconds=30).run(until_empty=True), 60)

    sent = delivered(fake_api)
    by_chat = {c.chat_id: c.text for c in sent}
    assert len(sent) == len(by_chat)  # nobody twice, across the crash
    assert set(by_chat) == set(expected) - {payer_chat, blocked_chat}
    with Session(engine, expire_on_commit=False) as s:
        link = s.exec(select(ChatLink).where(ChatLink.chat_id == blocked_chat)).one()
        assert not link.active and link.ended_at is not None
    for chat_id, text in by_chat.items():
        assert f"应缴合计{_yuan(expected[chat_id])}" in text if expected[chat_id] > 0 else "应缴合计" not in text
        assert f"缴费截止：{deadline.year}年{deadline.month}月{deadline.day}日（还剩7天）" in text
        assert "缴费方式" in text
        later = f"{extension.year}年{extension.month}月{extension.day}日"
        if chat_id in migrants_owe:  # a mixed household: both deadlines, each for whom it applies
            line = next(line for line in text.splitlines() if later in line)
            assert line.startswith("外出务工人员") and f"还剩{(extension - today).days}天" in line
            assert f"应缴{_yuan(migrants_owe[chat_id])}" in line if migrants_owe[chat_id] > 0 else "应缴" not in line
        else:
            assert later not in text
    with Session(engine, expire_on_commit=False) as s:
        skipped = s.exec(select(OutboxMessage).where(OutboxMessage.chat_id == payer_chat)).one()
        assert skipped.status == "skipped" and "paid" in skipped.last_error
        counts = outbox.counts(s, built[0].id)
    assert counts["sent"] == len(expected) - 2 and counts["skipped"] == 2


async def test_paused_campaign_is_held_and_night_build_waits_for_morning(engine, fake_api, bot) -> None:  # noqa: ANN001
    pack = get_pack("wuhe")
    deadline = pack.dates.collection.end
    night = datetime.combine(deadline - timedelta(days=3), datetime.min.time()).replace(hour=22, tzinfo=clock.TZ)
    clock.set_now(night)  # the 09:00 job missed; it runs once at 22:00 on start
    with Session(engine, expire_on_commit=False) as s:
        plan = _world(s, pack.coverage_year, random.Random(3))
        campaigns.run_due(s, "wuhe")
        s.commit()
        wave = s.exec(select(Campaign).where(Campaign.built_at.is_not(None))).one()
        rows = list(s.exec(select(OutboxMessage)))
    assert rows and wave.offset_label == "D-3"
    morning_end = datetime.combine(night.date() + timedelta(days=1), datetime.min.time()).replace(hour=8)
    from scheduler.timeutil import to_utc_naive

    assert all(r.not_before >= to_utc_naive(morning_end) for r in rows)  # quiet hours kept
    assert plan
    with Session(engine, expire_on_commit=False) as s:
        campaigns.set_status(s, wave.id, "paused")
        s.commit()
    clock.set_now(night + timedelta(hours=11))  # 09:00 next day
    sender = OutboxSender(engine, bot, settings=settings(quiet_hours_start="21:00", quiet_hours_end="08:00"))
    import asyncio

    task = asyncio.create_task(sender.run(poll_interval=0.02))
    await asyncio.sleep(0.3)
    assert delivered(fake_api) == []  # paused: nothing goes out
    with Session(engine, expire_on_commit=False) as s:
        campaigns.set_status(s, wave.id, "active")
        s.commit()
    for _ in range(200):
        await asyncio.sleep(0.02)
        if len(delivered(fake_api)) == len(rows):
            break
    sender.stop()
    await task
    assert len({c.chat_id for c in delivered(fake_api)}) == len(rows) == len(delivered(fake_api))
