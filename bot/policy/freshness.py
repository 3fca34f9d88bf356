"""Whether a pack still speaks for the campaign now running, and the label to put on answers when not.

A locality's collection campaign comes round once a year, so the campaign running on a day is
estimated from the newest pack's own calendar: its opening day (first period start, else the
document date) plus one year per anniversary passed. On 2026-11-30 a pack for 2024 that opened on
2023-09-01 has seen three anniversaries: the running campaign is for 2027 and the pack does not
cover it. Pure: `today` is passed in (callers take it from `bot.clock`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.policy.engine.common import head, opens
from bot.policy.loader import get_pack
from bot.policy.schema import PolicyPack


@dataclass(frozen=True)
class Currency:
    covers_now: bool
    note_zh: str | None  # for residents: which year is shown, that the new notice is not loaded, whom to ask
    pack_year: int
    running_year: int  # coverage year of the campaign running on the day asked (estimated)


def _anniversary(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def running_year(pack: PolicyPack, today: dt.date) -> int:
    """The coverage year whose campaign runs on `today`, judged from this pack's calendar."""
    start = opens(pack)
    passed = 0
    while _anniversary(start, passed + 1) <= today:
        passed += 1
    return pack.coverage_year + passed


def contact_zh(pack: PolicyPack) -> str:
    """Whom to ask: the locality-wide phone, else where the pack says to ask, else the village cadres.

    A town's own phone is not offered to the whole locality (滕州 prints only per-town offices).
    """
    phones = [p for p in pack.contacts.phones if p.town is None]
    if phones:
        return f"{phones[0].office}（电话 {phones[0].phone}）"
    if pack.contacts.where_to_ask:
        return pack.contacts.where_to_ask[0].value
    return "村（社区）干部或当地医保部门"


def currency(pack: PolicyPack, today: dt.date) -> Currency:
    """Does `pack` cover the campaign running on `today`; if not, the Chinese label for its answers."""
    running = running_year(pack, today)
    if running == pack.coverage_year:
        return Currency(True, None, pack.coverage_year, running)
    state = "该年度已经结束" if today > pack.dates.benefit.end else f"{running}年度的参保缴费已经开始"
    note = (
        f"以下是{head(pack)}的政策（{pack.main_document.number.value}）。{state}，"
        f"新一年度的通知还没有收录，请以当地最新通知为准，可咨询{contact_zh(pack)}。"
    )
    return Currency(False, note, pack.coverage_year, running)


def locality_currency(locality: str, today: dt.date) -> tuple[PolicyPack, Currency] | None:
    """The locality's newest pack and whether it covers the running campaign; None for an unknown place."""
    pack = get_pack(locality)
    if pack is None:
        return None
    return pack, currency(pack, today)


def staff_warning_zh(pack: PolicyPack, today: dt.date) -> str | None:
    """One line for staff reports when the newest pack is behind the running campaign."""
    cur = currency(pack, today)
    if cur.covers_now:
        return None
    return (
        f"⚠ 最新收录的是{head(pack)}政策，正在进行的应是{cur.running_year}年度征缴，新通知还没有导入"
        f"（管理员用 yibao policy new 导入）；以下按{pack.coverage_year}年度缴费统计。"
    )
