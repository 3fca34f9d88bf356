"""Who gets a household's reminder, and on which channel.

- Residents subscribe in a dialogue (Telegram or WeChat): an active `ChatLink` to a person or a
  household. A household followed on several channels is reminded once, on the channel of the link
  consented to last ("the channel chosen last"); several chats on that channel (two family members)
  each get it, as before.
- SMS: only in counties that turned it on (settings.sms_localities), only for the reminders the
  county sends, and only for households nobody subscribed for: the household's phone from the roster
  (the head of household's, else the first member's with one), unless it opted out (TD).
"""

from __future__ import annotations

import re
from collections import defaultdict

from sqlmodel import Session, select

from bot.registry.chats import SMS, Chat
from bot.settings import Settings, get_settings

MOBILE = re.compile(r"^1[3-9]\d{9}$")  # mainland mobile numbers: what an SMS can reach
HEAD = "户主"

Reminded = dict[int, list[tuple[int | None, Chat]]]  # household id -> [(chat_link id or None, chat)]


def mobile(phone: str | None) -> str | None:
    """The 11-digit mobile number in a roster's phone field ("+86 138-0000-0000"), or None."""
    if not phone:
        return None
    digits = re.sub(r"\D", "", phone)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if MOBILE.match(digits) else None


def subscribed(session: Session, locality_id: str) -> Reminded:
    """Active subscriptions of the locality's households, the newest channel's only."""
    from bot.registry import models as m

    links = list(session.exec(select(m.ChatLink).where(m.ChatLink.active, m.ChatLink.ended_at.is_(None))))
    person_ids = [lk.person_id for lk in links if lk.household_id is None and lk.person_id is not None]
    person_hh = dict(session.exec(select(m.Person.id, m.Person.household_id)
                                  .where(m.Person.id.in_(person_ids))).all()) if person_ids else {}
    by_hh: dict[int, list] = defaultdict(list)
    for lk in links:
        hh = lk.household_id if lk.household_id is not None else person_hh.get(lk.person_id)
        if hh is not None:
            by_hh[hh].append(lk)
    if not by_hh:
        return {}
    local = set(session.exec(select(m.Household.id).where(m.Household.id.in_(list(by_hh)),
                                                           m.Household.locality_id == locality_id)))
    out: Reminded = {}
    for hh, hh_links in by_hh.items():
        if hh not in local:
            continue
        latest = max(hh_links, key=lambda lk: (lk.consent_at, lk.id)).channel
        out[hh] = [(lk.id, Chat(lk.channel, lk.address)) for lk in hh_links if lk.channel == latest]
    return out


def by_sms(session: Session, locality_id: str, year: int, skip: set[int]) -> Reminded:
    """Households of the locality with someone unpaid for `year` and a mobile number in the roster,
    other than `skip` (subscribed elsewhere) and numbers that opted out."""
    from bot.registry import models as m

    paid = select(m.Payment.person_id).where(m.Payment.coverage_year == year)
    rows = session.exec(
        select(m.Person.household_id, m.Person.phone, m.Person.relation, m.Person.id)
        .join(m.Household, m.Household.id == m.Person.household_id)
        .where(m.Household.locality_id == locality_id, m.Person.household_id.is_not(None))
        .where(m.Person.household_id.in_(
            select(m.Person.household_id).where(m.Person.id.not_in(paid), m.Person.household_id.is_not(None))))
        .order_by(m.Person.household_id, m.Person.id)
    ).all()
    opted_out = set(session.exec(select(m.ChannelOptOut.address).where(m.ChannelOptOut.channel == SMS)))
    chosen: dict[int, tuple[bool, str]] = {}  # household -> (the head's number?, number)
    for hh, phone, relation, _ in rows:
        number = mobile(phone)
        if hh in skip or number is None or number in opted_out:
            continue
        head = relation == HEAD
        if hh not in chosen or (head and not chosen[hh][0]):
            chosen[hh] = (head, number)
    return {hh: [(None, Chat(SMS, number))] for hh, (_, number) in chosen.items()}


def reminded(session: Session, locality_id: str, year: int, settings: Settings | None = None) -> Reminded:
    """Every household of the locality that gets its reminders, with the chats they go to."""
    settings = settings or get_settings()
    out = subscribed(session, locality_id)
    if locality_id in settings.sms_localities:
        out.update(by_sms(session, locality_id, year, skip=set(out)))
    return out
