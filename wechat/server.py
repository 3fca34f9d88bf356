"""The callback server of the service account: `yibao wechat` serves it at WECHAT_PATH (/wechat).

- GET: URL verification. WeChat sends signature, timestamp, nonce, echostr; we answer echostr when
  the signature (SHA1 over the sorted token, timestamp, nonce) is right.
- POST: a message or event, XML. Plaintext mode: `signature` as above. 安全模式 (WECHAT_AES_KEY set):
  `msg_signature` also covers the `Encrypt` text, which is AES-decrypted (current key, then the
  previous one), and the reply is encrypted and signed the same way. With an AES key configured a
  plaintext callback is refused.

Every POST is checked in this order, each failure answered 403 with nothing processed: signature
(constant-time), timestamp within WECHAT_MAX_CLOCK_SKEW_SECONDS of now, (timestamp, nonce) never seen
before (replay). WeChat retries a message it got no answer to, with the same MsgId: a retry is
answered "success" and not run again.

WeChat waits 5 s. The dialogue gets WECHAT_REPLY_BUDGET_SECONDS (4 s): when it answers in time the
reply goes back in the HTTP response (passive reply); otherwise "success" goes back at once and the
replies follow through 客服消息 when ready. Replies too long for one message: the first passively,
the rest through 客服消息.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from typing import Any

from aiohttp import web
from sqlalchemy import Engine

from bot.settings import Settings
from wechat import crypto
from wechat.dialogue import WeChatDialogue
from wechat.messages import (
    MAX_BODY,
    BadMessage,
    Inbound,
    encrypted_envelope,
    inbound,
    parse_fields,
    text_reply,
)
from wechat.store import DialogueStore, OnceGuard

log = logging.getLogger(__name__)

SUCCESS = "success"  # WeChat's "received, no reply"
SORRY = "抱歉，系统暂时出了点问题，请稍后再发一次。"
RETRY_WINDOW_SECONDS = 120  # WeChat retries three times within 15 s; remember MsgIds a while longer
FOLLOW_UP_DELAY = 0.3  # 客服 messages after a passive reply wait this long, so they arrive after it
KEYS: web.AppKey[Any] = web.AppKey("wechat", object)


class Refused(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status, self.reason = status, reason


class CallbackServer:
    def __init__(self, settings: Settings, engine: Engine, *, redis: Any | None = None, api: Any | None = None) -> None:
        if not settings.wechat_token:
            raise ValueError("WECHAT_TOKEN is not set")
        if settings.wechat_aes_key and not settings.wechat_app_id:
            raise ValueError("WECHAT_APP_ID is needed with WECHAT_AES_KEY")
        self.settings, self.token = settings, settings.wechat_token
        self.crypto = (crypto.MessageCrypto(settings.wechat_app_id or "", settings.wechat_aes_key,
                                            settings.wechat_aes_key_previous)
                       if settings.wechat_aes_key else None)
        self.guard = OnceGuard(redis)
        self.dialogue = WeChatDialogue(settings, engine, DialogueStore(engine, redis), redis)
        self.api = api  # None: no app secret, so no 客服消息 (answers that miss the budget are lost)
        self._background: set[asyncio.Task] = set()

    # ---- checks -----------------------------------------------------------------------------------

    def _fresh(self, timestamp: str) -> None:
        try:
            sent = int(timestamp)
        except ValueError:
            raise Refused(400, "timestamp is not a number") from None
        # Wall-clock time on purpose: WeChat signs with the real Unix time, whatever day bot.clock pins.
        if abs(time.time() - sent) > self.settings.wechat_max_clock_skew_seconds:
            raise Refused(403, "stale timestamp")

    async def _once(self, timestamp: str, nonce: str) -> None:
        if not nonce or len(nonce) > 64:
            raise Refused(400, "bad nonce")
        ttl = 2 * self.settings.wechat_max_clock_skew_seconds
        if not await self.guard.first(f"nonce:{timestamp}:{nonce}", ttl):
            raise Refused(403, "repeated nonce (replay)")

    async def _verified(self, request: web.Request) -> tuple[Inbound, str, str]:
        q = request.query
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        body = await request.read()
        if len(body) > MAX_BODY:
            raise Refused(400, "body too large")
        try:
            fields = parse_fields(body)
        except BadMessage as e:
            raise Refused(400, str(e)) from None
        if self.crypto is not None:
            if q.get("encrypt_type") != "aes" or not fields.get("Encrypt"):
                raise Refused(403, "plaintext callback while 安全模式 is configured")
            encrypted = fields["Encrypt"]
            if not crypto.signature_ok(q.get("msg_signature"), self.token, timestamp, nonce, encrypted):
                raise Refused(403, "bad msg_signature")
        elif not crypto.signature_ok(q.get("signature"), self.token, timestamp, nonce):
            raise Refused(403, "bad signature")
        self._fresh(timestamp)
        await self._once(timestamp, nonce)
        if self.crypto is not None:
            try:
                fields = parse_fields(self.crypto.decrypt(fields["Encrypt"]))
            except (crypto.CryptoError, BadMessage) as e:
                raise Refused(400, f"cannot decrypt: {e}") from None
        try:
            return inbound(fields), timestamp, nonce
        except BadMessage as e:
            raise Refused(400, str(e)) from None

    # ---- handlers ---------------------------------------------------------------------------------

    async def verify_url(self, request: web.Request) -> web.Response:
        q = request.query
        if not crypto.signature_ok(q.get("signature"), self.token, q.get("timestamp", ""), q.get("nonce", "")):
            return web.Response(status=403, text="bad signature")
        return web.Response(text=q.get("echostr", ""))

    async def on_post(self, request: web.Request) -> web.Response:
        try:
            msg, timestamp, nonce = await self._verified(request)
        except Refused as e:
            log.warning("wechat: callback refused (%d): %s", e.status, e.reason)
            return web.Response(status=e.status, text=e.reason)
        if not await self.guard.first(f"msg:{msg.dedupe_key}", RETRY_WINDOW_SECONDS):
            return web.Response(text=SUCCESS)  # WeChat's retry of a message already being answered
        first = await self._answer(msg)
        if first is None:
            return web.Response(text=SUCCESS)
        xml = text_reply(msg.from_user, msg.to_user, first, int(time.time()))
        if self.crypto is not None:
            encrypted = self.crypto.encrypt(xml)
            reply_nonce = secrets.token_hex(8)
            xml = encrypted_envelope(encrypted, crypto.signature(self.token, timestamp, reply_nonce, encrypted),
                                     timestamp, reply_nonce)
        return web.Response(text=xml, content_type="application/xml")

    async def _answer(self, msg: Inbound) -> str | None:
        """The passive reply, or None (answered "success"; anything to say follows through 客服消息)."""
        task = asyncio.create_task(self.dialogue.answer(msg))
        done, _ = await asyncio.wait({task}, timeout=self.settings.wechat_reply_budget_seconds)
        if task not in done:
            log.info("wechat: answer slower than %.1f s; it follows through 客服消息",
                     self.settings.wechat_reply_budget_seconds)
            self._spawn(self._send_later(msg.from_user, task, delay=0.0))
            return None
        try:
            messages = task.result()
        except Exception:  # noqa: BLE001 - the resident gets one line, the operators the traceback
            log.exception("wechat: the dialogue failed")
            return SORRY
        if not messages:
            return None
        if len(messages) > 1:
            rest = asyncio.get_running_loop().create_future()
            rest.set_result(messages[1:])
            self._spawn(self._send_later(msg.from_user, rest, delay=FOLLOW_UP_DELAY))
        return messages[0]

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _send_later(self, openid: str, pending: Any, *, delay: float) -> None:
        try:
            messages = await pending
        except Exception:  # noqa: BLE001 - the dialogue failed; nothing to send, and the error is logged
            log.exception("wechat: the dialogue failed for a message answered late")
            return
        if delay:
            await asyncio.sleep(delay)
        if self.api is None:
            if messages:
                log.warning("wechat: %d message(s) not delivered: no WECHAT_APP_ID/WECHAT_APP_SECRET for 客服消息",
                            len(messages))
            return
        for text in messages:
            try:
                await self.api.send_text(openid, text)
            except Exception as e:  # noqa: BLE001 - log and go on: the resident can ask again
                log.warning("wechat: 客服消息 failed: %s", e)
                return

    async def drain(self) -> None:
        """Wait for answers still being sent (shutdown)."""
        if self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)


def build_app(settings: Settings, engine: Engine, *, redis: Any | None = None, api: Any | None = None) -> web.Application:
    server = CallbackServer(settings, engine, redis=redis, api=api)
    app = web.Application(client_max_size=MAX_BODY)
    app[KEYS] = server
    app.router.add_get(settings.wechat_path, server.verify_url)
    app.router.add_post(settings.wechat_path, server.on_post)
    if settings.sms_callback_key:  # replies to reminder texts (TD) arrive here too
        from sms import replies

        app.router.add_post(replies.PATH, replies.handler(settings.sms_callback_key, engine))

    async def on_cleanup(_: web.Application) -> None:
        await server.drain()

    app.on_cleanup.append(on_cleanup)
    return app
