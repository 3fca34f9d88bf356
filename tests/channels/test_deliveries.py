"""Each channel's delivery seam against its fake: the shared access token, rate limits that pause a
channel, blocked recipients, a number's daily cap, opting out by replying TD."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
from aiohttp import web
from sqlmodel import Session, select

from bot import clock
from bot.registry.chats import SMS, WECHAT, Chat
from bot.registry.models import ChannelOptOut
from bot.settings import get_settings
from scheduler import leases, outbox
from scheduler.channels.sender import PAUSE_PREFIX, ChannelSender
from scheduler.channels.sms import SmsDelivery
from scheduler.channels.wechat import WeChatDelivery
from scheduler.models import OutboxMessage
from scheduler.timeutil import to_utc_naive
from wechat.api import WeChatAPI

PARAMS = {"place": "五河县", "year": "2024", "names": "王*", "count": "1", "amount": "380元",
          "deadline": "2023年12月31日", "days_left": "还剩7天", "what": "城乡居民医保缴费"}


def queue(engine, chat: Chat, key: str) -> None:  # noqa: ANN001
    with Session(engine) as s:
        assert outbox.enqueue(s, key=key, chat=chat, text="提醒", params=PARAMS)
        s.commit()


def rows(engine) -> dict[str, OutboxMessage]:  # noqa: ANN001
    with Session(engine) as s:
        return {r.key: r for r in s.exec(select(OutboxMessage))}


async def test_access_token_shared_refreshed_once_and_retried(engine, fakes) -> None:  # noqa: ANN001
    wx = fakes["wechat"]
    settings = get_settings()
    first, second = WeChatAPI(settings, engine=engine), WeChatAPI(settings, engine=engine)  # two processes
    try:
        await asyncio.gather(*(first.send_text(f"o-{i}", "你好") for i in range(5)))
        await second.send_text("o-x", "你好")
        assert wx.tokens_issued == 1  # fetched once, shared through the database
        wx.expire_tokens()  # WeChat now answers 40001 to that token
        await asyncio.gather(first.send_text("o-y", "再见"), second.send_text("o-z", "再见"))
        assert wx.tokens_issued == 2  # one refresh between both, each call retried once
        assert [i.openid for i in wx.sent if i.kind == "custom"][-2:] in (["o-y", "o-z"], ["o-z", "o-y"])
    finally:
        await first.close()
        await second.close()


async def test_wechat_quota_pauses_the_channel(engine, fakes) -> None:  # noqa: ANN001
    fakes["wechat"].failures.append(45009)  # daily API quota reached
    queue(engine, Chat(WECHAT, "o-quota"), "q1")
    delivery = WeChatDelivery(get_settings(), engine)
    sender = ChannelSender(engine, delivery)
    task = asyncio.create_task(sender.run(poll_interval=0.05))
    await asyncio.sleep(0.5)
    sender.stop()
    await task
    await delivery.close()
    row = rows(engine)["q1"]
    assert row.status == "pending" and row.attempts == 0 and "45009" in (row.last_error or "")
    with Session(engine) as s:
        pause = leases.holder_of(s, PAUSE_PREFIX + "wechat")
    assert pause is not None and sender.stats.paused == 1 and sender.stats.sent == 0


async def test_sms_daily_cap_and_provider_opt_out(engine, fakes, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setenv("SMS_DAILY_LIMIT_PER_NUMBER", "1")
    get_settings.cache_clear()
    fakes["sms"].opt_out("13800000099")
    queue(engine, Chat(SMS, "13800000001"), "a")
    queue(engine, Chat(SMS, "13800000001"), "b")  # same number, same day
    queue(engine, Chat(SMS, "13800000099"), "c")
    sender = ChannelSender(engine, SmsDelivery(get_settings(), engine))
    task = asyncio.create_task(sender.run(poll_interval=0.05))
    await asyncio.sleep(0.6)
    sender.stop()
    await task
    got = rows(engine)
    assert got["a"].status == "sent"
    tomorrow_8 = dt.datetime.combine(clock.today() + dt.timedelta(days=1), dt.time(0, 0), tzinfo=clock.TZ)
    assert got["b"].status == "pending" and got["b"].not_before >= to_utc_naive(tomorrow_8)
    assert got["c"].status == "skipped" and "blocked" in (got["c"].last_error or "")
    with Session(engine) as s:
        assert s.get(ChannelOptOut, (SMS, "13800000099")) is not None
    assert [t.phone for t in fakes["sms"].delivered()] == ["13800000001"]


async def test_sms_account_rate_limit_pauses(engine, fakes) -> None:  # noqa: ANN001
    fakes["sms"].fail_next("LimitExceeded.DeliveryFrequencyLimit")
    queue(engine, Chat(SMS, "13800000002"), "r1")
    sender = ChannelSender(engine, SmsDelivery(get_settings(), engine))
    task = asyncio.create_task(sender.run(poll_interval=0.05))
    await asyncio.sleep(0.5)
    sender.stop()
    await task
    assert rows(engine)["r1"].status == "pending" and sender.stats.paused == 1


async def test_td_reply_opts_the_number_out(engine, fakes, monkeypatch) -> None:  # noqa: ANN001
    from wechat.server import build_app

    monkeypatch.setenv("SMS_CALLBACK_KEY", "callback-key-0123456789")
    get_settings.cache_clear()
    runner = web.AppRunner(build_app(get_settings(), engine))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    url = f"http://127.0.0.1:{port}/sms/reply"
    try:
        async with httpx.AsyncClient() as http:
            bad = await http.post(url, params={"key": "wrong"}, json={"mobile": "13800000003", "text": "TD"})
            ok = await http.post(url, params={"key": "callback-key-0123456789"}, json=[
                {"extend": "", "mobile": "13800000003", "nationcode": "86", "sign": "五河医保", "text": "TD",
                 "time": 1700000000},
                {"extend": "", "mobile": "13800000004", "nationcode": "86", "sign": "五河医保", "text": "收到",
                 "time": 1700000001}])
    finally:
        await runner.cleanup()
    assert bad.status_code == 403 and ok.json() == {"result": 0, "errmsg": "OK"}
    with Session(engine) as s:
        assert [o.address for o in s.exec(select(ChannelOptOut))] == ["13800000003"]
    queue(engine, Chat(SMS, "13800000003"), "after-td")
    sender = ChannelSender(engine, SmsDelivery(get_settings(), engine))
    task = asyncio.create_task(sender.run(poll_interval=0.05))
    await asyncio.sleep(0.4)
    sender.stop()
    await task
    assert rows(engine)["after-td"].status == "skipped" and fakes["sms"].texts == []
