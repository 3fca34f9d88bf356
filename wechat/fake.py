"""A fake of the WeChat platform for tests and demos: a real HTTP server on loopback.

It plays both sides of WeChat:
- the API our code calls (`WECHAT_API_BASE`): `/cgi-bin/token`, 客服消息 `/cgi-bin/message/custom/send`,
  `/cgi-bin/message/template/send`, `/cgi-bin/message/subscribe/bizsend`, `/cgi-bin/menu/create`;
  tokens expire on request (40001), users can unfollow (43004) or be outside the 48-hour window
  (45015), the next calls can fail with any errcode;
- the platform pushing user messages to our callback URL, signed (and in 安全模式 encrypted) exactly
  as WeChat does: `await fake.push_text(openid, "五河县交多少钱")` returns the passive reply's text;
  `stale=True` or `replay=True` send a callback our server must refuse.

    fake = FakeWeChat(token="t", app_id="wx1", aes_key=KEY)
    base = await fake.start()          # WECHAT_API_BASE=base
    fake.callback_url = "http://127.0.0.1:8099/wechat"
    replies = await fake.say("o-user-1", "五河县低保户交多少钱")
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from wechat import crypto
from wechat.messages import build, parse_fields

ACCOUNT = "gh_fake_account"


@dataclass
class Sent:
    seq: int
    kind: str  # passive | custom | template | subscribe | menu
    openid: str | None
    text: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    errcode: int = 0
    at: float = field(default_factory=time.time)

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "openid": self.openid, "text": self.text, "data": self.data,
                "errcode": self.errcode, "at": self.at}


@dataclass
class Pushed:
    status: int
    body: str
    reply: str | None  # the passive reply's text content, decrypted


class FakeWeChat:
    def __init__(self, *, token: str, app_id: str, app_secret: str = "fake-secret", aes_key: str | None = None,
                 callback_url: str | None = None) -> None:
        self.token, self.app_id, self.app_secret, self.aes_key = token, app_id, app_secret, aes_key
        self.callback_url = callback_url
        self.crypto = crypto.MessageCrypto(app_id, aes_key) if aes_key else None
        self.reply_crypto = self.crypto  # the key replies are read with (differs in a key rotation test)
        self.sent: list[Sent] = []
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.unfollowed: set[str] = set()
        self.outside_window: set[str] = set()
        self.failures: list[int] = []  # errcodes the next send calls answer with
        self._seq = itertools.count(1)
        self._msg_ids = itertools.count(10_000_000_000)
        self._last_push: tuple[dict[str, str], bytes] | None = None
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.base_url = ""

    # ---- lifecycle --------------------------------------------------------------------------------

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom)
        app.router.add_post("/cgi-bin/message/template/send", self._template)
        app.router.add_post("/cgi-bin/message/subscribe/bizsend", self._subscribe)
        app.router.add_post("/cgi-bin/menu/create", self._menu)
        app.router.add_get("/_fake/sent", self._ctl_sent)
        app.router.add_post("/_fake/push", self._ctl_push)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base_url = f"http://{host}:{bound}"
        return self.base_url

    async def stop(self) -> None:
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # ---- the API ----------------------------------------------------------------------------------

    def expire_tokens(self) -> None:
        """Every token issued so far becomes invalid (WeChat's 40001 on the next call)."""
        self.valid_tokens.clear()

    def _record(self, kind: str, openid: str | None, text: str | None = None, data: dict[str, Any] | None = None,
                errcode: int = 0) -> Sent:
        item = Sent(next(self._seq), kind, openid, text, data or {}, errcode)
        self.sent.append(item)
        return item

    async def _token(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("appid") != self.app_id or q.get("secret") != self.app_secret:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        self.tokens_issued += 1
        value = f"TOKEN-{self.tokens_issued}-{secrets.token_hex(4)}"
        self.valid_tokens.add(value)
        return web.json_response({"access_token": value, "expires_in": 7200})

    async def _checked(self, request: web.Request) -> tuple[dict[str, Any] | None, web.Response | None]:
        if request.query.get("access_token") not in self.valid_tokens:
            return None, web.json_response({"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"})
        try:
            payload = json.loads(await request.read())
        except ValueError:
            return None, web.json_response({"errcode": 47001, "errmsg": "data format error"})
        if self.failures:
            code = self.failures.pop(0)
            self._record("failed", payload.get("touser"), errcode=code)
            return None, web.json_response({"errcode": code, "errmsg": "fake failure"})
        if payload.get("touser") in self.unfollowed:
            return None, web.json_response({"errcode": 43004, "errmsg": "require subscribe"})
        return payload, None

    async def _custom(self, request: web.Request) -> web.Response:
        payload, error = await self._checked(request)
        if error is not None:
            return error
        assert payload is not None
        if payload["touser"] in self.outside_window:
            return web.json_response({"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"})
        self._record("custom", payload["touser"], text=payload.get("text", {}).get("content"))
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    async def _templated(self, request: web.Request, kind: str) -> web.Response:
        payload, error = await self._checked(request)
        if error is not None:
            return error
        assert payload is not None
        data = {k: v.get("value") for k, v in (payload.get("data") or {}).items()}
        data["template_id"] = payload.get("template_id")
        item = self._record(kind, payload["touser"], data=data)
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": item.seq})

    async def _template(self, request: web.Request) -> web.Response:
        return await self._templated(request, "template")

    async def _subscribe(self, request: web.Request) -> web.Response:
        return await self._templated(request, "subscribe")

    async def _menu(self, request: web.Request) -> web.Response:
        payload, error = await self._checked(request)
        if error is not None:
            return error
        self._record("menu", None, data=payload)
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    # ---- pushing callbacks ------------------------------------------------------------------------

    def _message(self, openid: str, fields: dict[str, str | int]) -> bytes:
        base: dict[str, str | int] = {"ToUserName": ACCOUNT, "FromUserName": openid, "CreateTime": int(time.time())}
        return build({**base, **fields}).encode()

    async def push(self, openid: str, fields: dict[str, str | int], *, stale: bool = False, replay: bool = False,
                   forge: bool = False) -> Pushed:
        """POST one callback as WeChat would; `stale`: signed ten minutes ago; `replay`: the previous
        callback again, byte for byte; `forge`: signed with a wrong token."""
        if self.callback_url is None:
            raise RuntimeError("callback_url is not set")
        if replay:
            if self._last_push is None:
                raise RuntimeError("nothing to replay")
            query, body = self._last_push
        else:
            timestamp = str(int(time.time()) - (600 if stale else 0))
            nonce = str(secrets.randbelow(10**9))
            plain = self._message(openid, fields)
            token = "forged-" + self.token if forge else self.token
            query = {"timestamp": timestamp, "nonce": nonce, "openid": openid,
                     "signature": crypto.signature(token, timestamp, nonce)}
            if self.crypto is not None:
                encrypted = self.crypto.encrypt(plain)
                body = build({"ToUserName": ACCOUNT, "Encrypt": encrypted}).encode()
                query.update(encrypt_type="aes", msg_signature=crypto.signature(token, timestamp, nonce, encrypted))
            else:
                body = plain
            self._last_push = (query, body)
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        async with self._http.post(self.callback_url, params=query, data=body,
                                   headers={"Content-Type": "text/xml"}) as resp:
            text = await resp.text()
            status = resp.status
        reply = self._read_reply(text) if status == 200 and text not in ("", "success") else None
        if reply is not None:
            self._record("passive", openid, text=reply)
        return Pushed(status, text, reply)

    def _read_reply(self, body: str) -> str:
        fields = parse_fields(body)
        if self.crypto is not None:
            encrypted = fields.get("Encrypt", "")
            if not crypto.signature_ok(fields.get("MsgSignature"), self.token, fields.get("TimeStamp", ""),
                                       fields.get("Nonce", ""), encrypted):
                raise AssertionError("reply signature does not verify")
            fields = parse_fields((self.reply_crypto or self.crypto).decrypt(encrypted))
        if fields.get("MsgType") != "text":
            raise AssertionError(f"unexpected reply type {fields.get('MsgType')!r}")
        return fields.get("Content", "")

    async def push_text(self, openid: str, text: str, **kw: Any) -> Pushed:
        return await self.push(openid, {"MsgType": "text", "Content": text, "MsgId": next(self._msg_ids)}, **kw)

    async def push_click(self, openid: str, key: str, **kw: Any) -> Pushed:
        return await self.push(openid, {"MsgType": "event", "Event": "CLICK", "EventKey": key}, **kw)

    async def push_event(self, openid: str, event: str, **kw: Any) -> Pushed:
        return await self.push(openid, {"MsgType": "event", "Event": event}, **kw)

    def messages_to(self, openid: str, after: int = 0, kinds: tuple[str, ...] = ("passive", "custom")) -> list[Sent]:
        return [s for s in self.sent if s.openid == openid and s.seq > after and s.kind in kinds]

    async def say(self, openid: str, text: str, *, settle: float = 0.6) -> list[str]:
        """A user's message and every text the account sent back (passive reply, then 客服消息)."""
        mark = self.sent[-1].seq if self.sent else 0
        pushed = await self.push_text(openid, text)
        if pushed.status != 200:
            raise AssertionError(f"callback refused: {pushed.status} {pushed.body}")
        await asyncio.sleep(settle)
        return [s.text or "" for s in self.messages_to(openid, mark)]

    # ---- controls over HTTP (for a fake run as its own process) ------------------------------------

    async def _ctl_sent(self, request: web.Request) -> web.Response:
        after = int(request.query.get("after", "0"))
        return web.json_response([s.to_json() for s in self.sent if s.seq > after])

    async def _ctl_push(self, request: web.Request) -> web.Response:
        data = await request.json()
        pushed = await self.push_text(data["openid"], data["text"])
        return web.json_response({"status": pushed.status, "reply": pushed.reply})
