"""Status answers on generated demo data for every locality: what the resident is told matches the
registry, and an unpaid resident's due amount and deadline match the policy engine."""

from __future__ import annotations

from typing import Any

import pytest
from sqlmodel import Session

from bot import clock
from bot.conversation import render
from bot.conversation.topics import policy_day
from bot.policy import all_packs, engine
from bot.policy.engine import Person
from bot.registry import ids, lookup

LOCALITIES = sorted({p.locality.id for p in all_packs()})


@pytest.mark.parametrize("loc", LOCALITIES)
async def test_demo_residents_status(talk: Any, db_engine: Any, loc: str) -> None:
    from bot.registry import demo

    with Session(db_engine) as s:
        summary = demo.generate(s, loc, scale=0.0005, seed=3)
        s.commit()
    paid = next(x for x in summary.samples if x[2])
    unpaid = next((x for x in summary.samples if not x[2]), None)

    c = talk(700)
    replies = await c.say(f"{paid[0]} {paid[1]}")
    with Session(db_engine) as s:
        res = lookup.status(s, paid[0], paid[1])
    text = replies[0]
    assert ids.mask(paid[0]) in text and paid[0] not in text
    assert "已参加" in text and render.day(res.paid_on) in text and f"{render.money(res.amount)} 元" in text

    if unpaid is None:
        return
    replies = await c.say(f"{unpaid[0]} {unpaid[1]}")
    with Session(db_engine) as s:
        res = lookup.status(s, unpaid[0], unpaid[1])
    text = replies[0]
    assert "还没有缴费" in text and unpaid[0] not in text
    pack = next(p for p in all_packs() if p.locality.id == loc and p.coverage_year == res.year)
    person = Person(categories=res.categories, birth_date=ids.birth_date(unpaid[0]), migrant=res.migrant)
    due = engine.amount(pack, person, policy_day(pack, clock.today(), amount=True))
    if due.ok:
        assert f"{render.money(due.personal)} 元" in text
    else:
        assert due.refusal in text
    dl = engine.deadline(pack, person, policy_day(pack, clock.today()))
    assert render.day(dl.deadline) in text
    assert len(render.body_lines(text)) <= render.MAX_LINES
