"""Replies to our texts (Tencent Cloud SMS 回复短信 callback): "TD" and the like opt the number out.

The provider POSTs JSON, one reply or a list of them:
    {"extend": "", "mobile": "13800000000", "nationcode": "86", "sign": "...", "text": "TD", "time": 1700000000}
It signs nothing, so the URL carries a secret (SMS_CALLBACK_KEY: /sms/reply?key=...); `yibao wechat`
serves it beside the WeChat callback when the key is set. Any other reply is acknowledged and ignored.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any

from aiohttp import web

from bot.registry.chats import SMS, Chat
from scheduler.channels.recipients import mobile

log = logging.getLogger(__name__)

PATH = "/sms/reply"
OPT_OUT_WORDS = frozenset({"TD", "T", "退订", "退", "取消"})


def is_opt_out(text: str) -> bool:
    return text.strip().upper().rstrip("。.!！") in OPT_OUT_WORDS


def record(replies: list[dict[str, Any]], engine: Any) -> int:
    """Store the opt-outs among `replies`; returns how many new ones."""
    from bot.registry import optouts

    new = 0
    for reply in replies:
        phone = mobile(str(reply.get("mobile", "")))
        if phone and is_opt_out(str(reply.get("text", ""))):
            new += optouts.opt_out(Chat(SMS, phone), "replied TD", engine=engine)
    return new


def handler(key: str, engine: Any) -> Any:
    async def on_reply(request: web.Request) -> web.Response:
        if not hmac.compare_digest(request.query.get("key", "").encode(), key.encode()):
            return web.json_response({"result": 1, "errmsg": "forbidden"}, status=403)
        try:
            data = json.loads(await request.read())
        except ValueError:
            return web.json_response({"result": 1, "errmsg": "not JSON"}, status=400)
        replies = data if isinstance(data, list) else [data]
        new = await asyncio.to_thread(record, [r for r in replies if isinstance(r, dict)], engine)
        if new:
            log.info("sms: %d number(s) opted out by reply", new)
        return web.json_response({"result": 0, "errmsg": "OK"})

    return on_reply
