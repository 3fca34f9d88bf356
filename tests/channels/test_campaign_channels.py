"""A reminder wave over Telegram, WeChat and SMS at once, through the real senders and the fakes:
each unpaid household is reminded exactly once, on the channel chosen last; SMS only for households
nobody subscribed for, never to a number that opted out; a rebuilt wave sends nothing again."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

sys.path.insert(0, str(Path(__file__).resolve().parent))
from channel_world import build as build_world  # noqa: E402

from bot.registry.models import ChatLink  # noqa: E402
from bot.settings import get_settings  # noqa: E402
from scheduler import campaigns  # noqa: E402
from scheduler.channels.sender import ChannelSender  # noqa: E402
from scheduler.channels.sms import SmsDelivery  # noqa: E402
from scheduler.channels.wechat import WeChatDelivery  # noqa: E402
from scheduler.models import OutboxMessage  # noqa: E402
from scheduler.sender import OutboxSender, make_bot  # noqa: E402


async def drain(engine: Any) -> None:
    settings = get_settings()
    bot = make_bot(settings)
    try:
        await OutboxSender(engine, bot, settings=settings).run(until_empty=True, poll_interval=0.05)
    finally:
        await bot.session.close()
    for delivery in (WeChatDelivery(settings, engine), SmsDelivery(settings, engine)):
        try:
            await ChannelSender(engine, delivery, settings=settings).run(until_empty=True, poll_interval=0.05)
        finally:
            await delivery.close()


def received(fakes: dict[str, Any]) -> Counter:
    """(channel, address) -> reminders accepted by the fakes."""
    out: Counter = Counter()
    for call in fakes["telegram"].sent:
        if call.ok and call.method == "sendMessage":
            out[("telegram", str(call.chat_id))] += 1
    for item in fakes["wechat"].sent:
        if item.kind in ("custom", "template", "subscribe"):
            out[("wechat", item.openid)] += 1
    for text in fakes["sms"].delivered():
        out[("sms", text.phone)] += 1
    return out


async def test_each_household_reminded_once_across_channels(engine, fakes) -> None:  # noqa: ANN001
    with Session(engine) as s:
        expect = build_world(s)
    fakes["wechat"].unfollowed.add("o-unfollowed")
    with Session(engine) as s:
        results = campaigns.run_due(s, "wuhe")
        s.commit()
    assert [r.queued for r in results] and sum(r.queued for r in results) == 7  # 6 reminders + the unfollowed
    await drain(engine)

    got = received(fakes)
    wanted = Counter(v for v in expect.where.values() if v is not None)
    assert got == wanted

    wx = fakes["wechat"]
    kinds = {i.openid: i.kind for i in wx.sent if i.kind in ("custom", "template")}
    assert kinds == {"o-recent": "custom", "o-old": "template", "o-switched": "template"}
    recent = next(i for i in wx.sent if i.openid == "o-recent" and i.kind == "custom")
    assert "五河县医保缴费提醒" in (recent.text or "") and "尚未缴纳" in (recent.text or "")
    # Each channel's text says how to stop on that channel: WeChat has no /commands for residents.
    assert "回复“退订”可退订提醒" in (recent.text or "") and "/unsubscribe" not in (recent.text or "")
    telegram = [c.params.get("text", "") for c in fakes["telegram"].sent if c.ok and c.method == "sendMessage"]
    assert telegram and all("发 /unsubscribe 可退订提醒" in t for t in telegram)
    template = next(i for i in wx.sent if i.openid == "o-old")
    assert template.data["template_id"] == "TPL-reminder-1"
    assert template.data["first"] == "五河县医保缴费提醒" and template.data["keyword3"].startswith("2023年12月31日")
    assert template.data["keyword2"].endswith("元")  # the engine's amount for the unpaid member

    [text] = fakes["sms"].delivered()
    assert (text.sign, text.template_id) == ("五河医保", "1234567")
    names, amount, deadline = text.params
    assert names.count("、") == 1 and amount.endswith("元") and deadline == "2023年12月31日"

    with Session(engine) as s:
        gone = s.exec(select(ChatLink).where(ChatLink.address == "o-unfollowed")).one()
        assert not gone.active and gone.ended_at is not None  # blocked -> subscription ended
        statuses = Counter(r.status for r in s.exec(select(OutboxMessage)))
    assert statuses == Counter({"sent": 6, "skipped": 1})

    # The job running again (a restart, a second scheduler) queues and sends nothing new.
    with Session(engine) as s:
        again = campaigns.run_due(s, "wuhe")
        s.commit()
    assert sum(r.queued for r in again) == 0
    await drain(engine)
    assert received(fakes) == wanted
