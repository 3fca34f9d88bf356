"""The WeChat API calls we make: access token, 客服消息 (customer-service messages), template and
subscription messages, the custom menu. aiohttp, base URL from WECHAT_API_BASE (tests: the fake).

Every call carries the shared access token (wechat.token); when WeChat answers 40001/42001/40014
(token invalid or expired, e.g. fetched anew by someone else) the token is refreshed and the call
retried once. Other non-zero `errcode`s raise `WeChatError`, which the callers map to what to do
(scheduler.channels.wechat: blocked, rate-limited, out of the 48-hour window ...).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import aiohttp

from bot.settings import Settings
from wechat.token import AccessTokens, DbTokenStore, RedisTokenStore, Token

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
TIMEOUT = aiohttp.ClientTimeout(total=10)


class WeChatError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg


class WeChatAPI:
    def __init__(self, settings: Settings, *, engine: Any = None, redis: Any = None,
                 http: aiohttp.ClientSession | None = None) -> None:
        if not (settings.wechat_app_id and settings.wechat_app_secret):
            raise ValueError("WECHAT_APP_ID and WECHAT_APP_SECRET are needed to call the WeChat API")
        self.settings = settings
        self.base = settings.wechat_api_base.rstrip("/")
        self._http = http
        self._own_http = http is None
        app_id = settings.wechat_app_id
        store = RedisTokenStore(redis, app_id) if redis is not None else DbTokenStore(engine, app_id)
        self.tokens = AccessTokens(store, self._fetch_token)

    async def http(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(timeout=TIMEOUT)
        return self._http

    async def close(self) -> None:
        if self._own_http and self._http is not None:
            await self._http.close()

    async def _fetch_token(self) -> Token:
        http = await self.http()
        params = {"grant_type": "client_credential", "appid": self.settings.wechat_app_id,
                  "secret": self.settings.wechat_app_secret}
        async with http.get(f"{self.base}/cgi-bin/token", params=params) as resp:
            data = await resp.json(content_type=None)
        if "access_token" not in data:
            raise WeChatError(int(data.get("errcode", -1)), str(data.get("errmsg", "no access_token")))
        return Token(str(data["access_token"]), time.time() + int(data.get("expires_in", 7200)))

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST JSON to `path` with the access token; one retry with a new token when WeChat refuses it."""
        token = await self.tokens.get()
        data = await self._post(path, payload, token)
        if int(data.get("errcode", 0)) in TOKEN_ERRORS:
            log.info("wechat: token refused (%s); refreshing and retrying once", data.get("errcode"))
            token = await self.tokens.refresh(stale=token)
            data = await self._post(path, payload, token)
        code = int(data.get("errcode", 0))
        if code != 0:
            raise WeChatError(code, str(data.get("errmsg", "")))
        return data

    async def _post(self, path: str, payload: dict[str, Any], token: str) -> dict[str, Any]:
        http = await self.http()
        # ensure_ascii=False: WeChat shows \\u escapes in some message types literally.
        body = json.dumps(payload, ensure_ascii=False).encode()
        async with http.post(f"{self.base}{path}", params={"access_token": token}, data=body,
                             headers={"Content-Type": "application/json; charset=utf-8"}) as resp:
            if resp.status >= 500:
                raise WeChatError(-1, f"HTTP {resp.status}")
            return await resp.json(content_type=None)

    # ---- the calls --------------------------------------------------------------------------------

    async def send_text(self, openid: str, text: str) -> dict[str, Any]:
        """客服消息: allowed for 48 hours after the user last wrote to the account."""
        return await self.call("/cgi-bin/message/custom/send",
                               {"touser": openid, "msgtype": "text", "text": {"content": text}})

    async def send_template(self, openid: str, template_id: str, data: dict[str, str], *,
                            kind: str = "template") -> dict[str, Any]:
        """模板消息 (kind "template") or 订阅通知 (kind "subscribe"): outside the 48-hour window."""
        fields = {k: {"value": v} for k, v in data.items()}
        path = "/cgi-bin/message/template/send" if kind == "template" else "/cgi-bin/message/subscribe/bizsend"
        return await self.call(path, {"touser": openid, "template_id": template_id, "data": fields})

    async def create_menu(self, menu: dict[str, Any]) -> dict[str, Any]:
        return await self.call("/cgi-bin/menu/create", menu)
