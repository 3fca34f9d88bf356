"""Households of 五河 reminded over every channel (imported by name: tests/ is not a package)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from sqlmodel import Session

from bot import clock
from bot.policy import get_pack
from bot.registry.chats import SMS, WECHAT, Chat
from bot.registry.ids import with_check_digit
from bot.registry.models import ChannelOptOut, ChatLink, ChatProfile, Household, Payment, Person


@dataclass
class Expect:
    """Where each household's reminder must go (None: nowhere)."""

    where: dict[str, tuple[str, str] | None] = field(default_factory=dict)  # household code -> (channel, address)
    households: dict[str, int] = field(default_factory=dict)


def build(s: Session) -> Expect:
    pack = get_pack("wuhe")
    year = pack.coverage_year
    now = clock.now()
    exp = Expect()
    seq = iter(range(1, 1000))

    def household(code: str, people: list[tuple[str | None, bool, str]]) -> Household:
        """people: (phone, paid, relation)"""
        hh = Household(locality_id="wuhe", code=code)
        s.add(hh)
        s.flush()
        for phone, paid, relation in people:
            n = next(seq)
            born = date(1970, 1, 1) + timedelta(days=n)
            p = Person(id_number=with_check_digit(f"340322{born:%Y%m%d}{n:03d}"), name=f"居民{n}", household_id=hh.id,
                       relation=relation, phone=phone, birth_date=born)
            s.add(p)
            s.flush()
            if paid:
                s.add(Payment(person_id=p.id, coverage_year=year, paid_on=date(2023, 10, 1), amount=Decimal(380)))
        exp.households[code] = hh.id
        return hh

    def link(hh: Household, chat: Chat, minutes_ago: int, active: bool = True) -> None:
        s.add(ChatLink(**chat.columns(), household_id=hh.id, consent_at=now - timedelta(minutes=minutes_ago),
                       active=active))

    tg1 = household("TG-ONLY", [(None, False, "户主")])
    link(tg1, Chat.telegram(1001), 60)
    exp.where["TG-ONLY"] = ("telegram", "1001")

    wx_recent = household("WX-RECENT", [(None, False, "户主"), (None, True, "配偶")])
    link(wx_recent, Chat(WECHAT, "o-recent"), 60)
    s.add(ChatProfile(channel=WECHAT, address="o-recent", last_seen_at=now - timedelta(hours=3)))
    exp.where["WX-RECENT"] = ("wechat", "o-recent")

    wx_old = household("WX-OLD", [(None, False, "户主")])
    link(wx_old, Chat(WECHAT, "o-old"), 60 * 24 * 5)
    s.add(ChatProfile(channel=WECHAT, address="o-old", last_seen_at=now - timedelta(days=5)))
    exp.where["WX-OLD"] = ("wechat", "o-old")

    both_wx = household("TG-THEN-WX", [("13800000004", False, "户主")])
    link(both_wx, Chat.telegram(1004), 600)
    link(both_wx, Chat(WECHAT, "o-switched"), 30)  # chosen last
    exp.where["TG-THEN-WX"] = ("wechat", "o-switched")

    both_tg = household("WX-THEN-TG", [(None, False, "户主")])
    link(both_tg, Chat(WECHAT, "o-went-back"), 600)
    link(both_tg, Chat.telegram(1005), 30)  # chosen last
    exp.where["WX-THEN-TG"] = ("telegram", "1005")

    household("SMS", [("139-0000-0006", False, "配偶"), ("+86 13800000006", False, "户主")])
    exp.where["SMS"] = ("sms", "13800000006")  # the head of household's number

    household("SMS-TD", [("13800000007", False, "户主")])
    s.add(ChannelOptOut(channel=SMS, address="13800000007", at=now, reason="replied TD"))
    exp.where["SMS-TD"] = None

    paid = household("PAID", [("13800000008", True, "户主")])
    link(paid, Chat.telegram(1008), 60)
    exp.where["PAID"] = None

    household("NO-PHONE", [(None, False, "户主")])
    exp.where["NO-PHONE"] = None

    gone = household("WX-UNFOLLOWED", [(None, False, "户主")])
    link(gone, Chat(WECHAT, "o-unfollowed"), 60)
    exp.where["WX-UNFOLLOWED"] = None  # WeChat answers 43004: blocked, subscription ended

    s.commit()
    return exp
