"""Reminders to WeChat users.

WeChat lets an account write freely (客服消息) only for 48 hours after the user last wrote to it
(`ChatProfile.last_seen_at`, set by the callback). Inside that window the reminder's text goes as a
客服 message; outside it (or when WeChat says the window closed: 45015, 45047) it goes as the
template message (模板消息) or subscription message (订阅通知) of WECHAT_TEMPLATE_ID, its fields filled
from the reminder's values by WECHAT_TEMPLATE_FIELDS.

WeChat's answers: 43004 (unfollowed), 43101 (refused the subscription message) and 40003 (no such
openid) mean the user cannot be reached: blocked, their subscriptions end. 45009 (daily quota) and
45011 (per-minute quota) pause every WeChat sender; -1 (system busy), 5xx and network errors retry.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import aiohttp

from bot import clock
from bot.settings import Settings
from scheduler.channels.base import BLOCKED, FAILED, PAUSE, RETRY, Outcome, Row
from scheduler.channels.reminders import TemplateError, fill

WINDOW = dt.timedelta(hours=48) - dt.timedelta(minutes=10)  # keep clear of the edge
UNREACHABLE = frozenset({43004, 43101, 40003})
OUT_OF_WINDOW = frozenset({45015, 45047})
PAUSES = {45009: 3600.0, 45011: 60.0}


class WeChatDelivery:
    channel = "wechat"

    def __init__(self, settings: Settings, engine: Any, api: Any | None = None) -> None:
        self.settings, self.engine = settings, engine
        if api is None:
            from wechat.api import WeChatAPI
            from wechat.store import redis_client

            api = WeChatAPI(settings, engine=engine, redis=redis_client(settings.redis_url))
        self.api = api
        self.rate = settings.wechat_send_rate_per_second

    async def close(self) -> None:
        await self.api.close()

    async def send(self, row: Row) -> Outcome:
        from wechat.api import WeChatError

        try:
            if await self._in_window(row):
                try:
                    await self.api.send_text(row.address, row.text)
                    return Outcome.sent("客服消息")
                except WeChatError as e:
                    if e.errcode not in OUT_OF_WINDOW:
                        return self._failure(e)
            return await self._template(row)
        except WeChatError as e:
            return self._failure(e)
        except (aiohttp.ClientError, TimeoutError, OSError) as e:
            return Outcome(RETRY, f"{type(e).__name__}: {e}")

    async def _in_window(self, row: Row) -> bool:
        from bot.registry import profiles

        last = await asyncio.to_thread(profiles.last_seen, row.chat, engine=self.engine)
        return last is not None and clock.now() - last < WINDOW

    async def _template(self, row: Row) -> Outcome:
        template_id = self.settings.wechat_template_id
        if not template_id:
            return Outcome(FAILED, "outside the 48-hour window and no WECHAT_TEMPLATE_ID to send a template")
        if not row.params:
            return Outcome(FAILED, "outside the 48-hour window and the message has no template values")
        try:
            data = fill(self.settings.wechat_template_fields, row.params)
        except TemplateError as e:
            return Outcome(FAILED, f"WECHAT_TEMPLATE_FIELDS: {e}")
        kind = self.settings.wechat_template_kind
        if kind == "subscribe":  # 订阅通知: thing.* fields hold at most 20 characters
            data = {k: (v[:19] + "…" if k.startswith("thing") and len(v) > 20 else v) for k, v in data.items()}
        await self.api.send_template(row.address, template_id, data, kind=kind)
        return Outcome.sent("模板消息" if kind == "template" else "订阅通知")

    @staticmethod
    def _failure(e: Any) -> Outcome:
        if e.errcode in UNREACHABLE:
            return Outcome(BLOCKED, f"{e.errcode} {e.errmsg}")
        if e.errcode in PAUSES:
            return Outcome(PAUSE, f"{e.errcode} {e.errmsg}", seconds=PAUSES[e.errcode])
        if e.errcode == -1:
            return Outcome(RETRY, f"{e.errcode} {e.errmsg}")
        return Outcome(FAILED, f"{e.errcode} {e.errmsg}")
