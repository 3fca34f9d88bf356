"""The senders of the non-Telegram channels, run beside the Telegram sender by the scheduler service.

A channel runs when it is configured: WeChat with WECHAT_APP_ID and WECHAT_APP_SECRET, SMS when some
county is in SMS_LOCALITIES (its provider settings are then required). They share one thread with
its own event loop, like the Telegram sender, so the bot's loop never waits on them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from typing import Any

from sqlalchemy import Engine

from bot.settings import Settings
from scheduler.channels.sender import ChannelSender

log = logging.getLogger(__name__)


def deliveries(settings: Settings, engine: Engine) -> list[Any]:
    out: list[Any] = []
    if settings.wechat_app_id and settings.wechat_app_secret:
        from scheduler.channels.wechat import WeChatDelivery

        out.append(WeChatDelivery(settings, engine))
    if settings.sms_localities:
        from scheduler.channels.sms import SmsDelivery
        from sms.provider import SmsConfigError

        try:
            out.append(SmsDelivery(settings, engine))
        except SmsConfigError as e:
            log.error("%s SMS reminders are queued but not sent.", e)
    return out


class ChannelSenders:
    """`start()` runs every configured channel's sender in a thread; `stop()` ends them."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings, self.engine = settings, engine
        self.senders: list[ChannelSender] = []
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> bool:
        found = deliveries(self.settings, self.engine)
        if not found:
            return False
        self.senders = [ChannelSender(self.engine, d, settings=self.settings) for d in found]
        ready = threading.Event()

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            ready.set()
            try:
                await asyncio.gather(*(s.run() for s in self.senders))
            finally:
                for d in found:
                    with contextlib.suppress(Exception):
                        await d.close()

        def target() -> None:
            try:
                asyncio.run(main())
            except Exception:  # noqa: BLE001 - logged; the scheduler keeps running the other channels
                log.exception("channel senders stopped with an error")
            finally:
                ready.set()

        self._thread = threading.Thread(target=target, name="channel-senders", daemon=True)
        self._thread.start()
        ready.wait(timeout=10)
        log.info("channel senders started: %s", ", ".join(d.channel for d in found))
        return True

    def stop(self, timeout: float = 30.0) -> None:
        if self._loop is not None:
            for sender in self.senders:
                with contextlib.suppress(RuntimeError):  # loop already closed
                    self._loop.call_soon_threadsafe(sender.stop)
        if self._thread is not None:
            self._thread.join(timeout)
