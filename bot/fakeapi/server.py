"""An in-repo fake of the Telegram Bot API (the subset this project uses), served by aiohttp.

The bot under test talks to it over real HTTP exactly as to api.telegram.org
(`{base}/bot{token}/{method}`, form, multipart or JSON bodies), so `yibao run` / `yibao webhook`
can be tested end to end as separate processes. Tests control it either in-process
(`FakeBotAPI` methods) or over HTTP under `/_fake/` when the test drives another process.

Telegram behaviours reproduced on purpose, because the bot and the outbox sender must cope with them:
flood control (429 with `parameters.retry_after`), blocked users (403), server errors (5xx),
"message to delete/edit not found", "message is not modified", 409 for getUpdates while a webhook
is set, the webhook secret header. Webhooks: Telegram has one URL per bot; `set_webhook_targets`
registers several URLs that the fake posts to in turn, simulating a load balancer in front of
several `yibao webhook` processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web

from bot.fakeapi.ratelimit import TokenBucket, retry_after_seconds

log = logging.getLogger(__name__)

TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")

# Methods that deliver something to a chat: these count toward flood limits, can hit a blocked
# user and are the ones `fail_next` breaks.
SENDING_METHODS = frozenset(
    {
        "sendMessage", "sendDocument", "sendPhoto", "sendAudio", "sendVideo", "sendVoice",
        "sendAnimation", "sendSticker", "sendMediaGroup", "sendLocation", "copyMessage", "forwardMessage",
    }
)
# Parameters aiogram sends as JSON text inside form fields.
_JSON_FIELDS = frozenset(
    {
        "reply_markup", "commands", "scope", "allowed_updates", "entities", "caption_entities",
        "link_preview_options", "reply_parameters", "media",
    }
)
_INT_FIELDS = frozenset({"chat_id", "message_id", "offset", "limit", "timeout", "max_connections", "user_id"})
_BOOL_FIELDS = frozenset({"drop_pending_updates", "show_alert", "disable_notification", "allow_paid_broadcast"})


@dataclass
class StoredFile:
    field: str
    filename: str
    data: bytes

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class SentCall:
    """One Bot API call the bot made (getUpdates polls are counted in stats, not recorded)."""

    seq: int
    method: str
    params: dict[str, Any]
    chat_id: int | None
    at: float  # time.time() when answered
    status: int  # HTTP status answered: 200, 429, 403, 5xx, 400, 404
    files: dict[str, StoredFile] = field(default_factory=dict)
    result: Any = None
    error: str | None = None
    at_perf: float = 0.0  # time.perf_counter() when answered, for latency measurements in-process

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def text(self) -> str | None:
        return self.params.get("text") or self.params.get("caption")

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        rm = self.params.get("reply_markup")
        return rm if isinstance(rm, dict) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "method": self.method,
            "params": self.params,
            "chat_id": self.chat_id,
            "at": self.at,
            "status": self.status,
            "error": self.error,
            "files": {k: {"filename": f.filename, "size": f.size} for k, f in self.files.items()},
            "result": self.result,
        }


class ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            out["parameters"] = self.parameters
        return out


def _coerce(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, str):
            if key in _JSON_FIELDS:
                with contextlib.suppress(ValueError):
                    value = json.loads(value)
            elif key in _INT_FIELDS and re.fullmatch(r"-?\d+", value):
                value = int(value)
            elif key in _BOOL_FIELDS:
                value = value.lower() in ("1", "true", "yes")
        out[key] = value
    return out


class FakeBotAPI:
    """The fake server. `await start()` returns the base URL to give the bot as TELEGRAM_API_BASE."""

    def __init__(
        self,
        rate_limit: float | None = None,
        per_chat_limit: float | None = None,
        *,
        burst: float | None = None,
        per_chat_burst: float | None = None,
        token: str | None = None,
        bot_username: str = "yibao_test_bot",
    ) -> None:
        self.token = token  # None: any well-formed token is accepted
        self.bot_username = bot_username
        self.sent: list[SentCall] = []
        self.stats: dict[str, Any] = self._fresh_stats()
        self.base_url: str | None = None
        self._seq = itertools.count(1)
        self._update_ids = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._blocked: set[int] = set()
        self._fail_plan: list[tuple[int, frozenset[str] | None]] = []  # statuses queued by fail_next
        self._messages: dict[int, dict[int, dict[str, Any]]] = defaultdict(dict)
        self._next_mid: dict[int, int] = defaultdict(lambda: 1)
        self._commands: dict[str, list[dict[str, Any]]] = {}
        self._webhook_targets: list[str] = []
        self._webhook_secret: str | None = None
        self._webhook_rr = itertools.count()
        self._webhook_queue: asyncio.Queue[dict[str, Any]] | None = None
        self._webhook_workers: list[asyncio.Task[None]] = []
        self._max_connections = 40
        self._client: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None
        self.configure(rate_limit=rate_limit, per_chat_limit=per_chat_limit, burst=burst,
                       per_chat_burst=per_chat_burst)

    # ------------------------------------------------------------------ configuration and controls

    @staticmethod
    def _fresh_stats() -> dict[str, Any]:
        return {
            "requests": 0,
            "by_method": defaultdict(int),
            "delivered": 0,
            "rate_limited": 0,
            "forbidden": 0,
            "failed_injected": 0,
            "bad_request": 0,
            "webhook_posts": 0,
            "webhook_errors": 0,
        }

    def configure(
        self,
        *,
        rate_limit: float | None = None,
        per_chat_limit: float | None = None,
        burst: float | None = None,
        per_chat_burst: float | None = None,
    ) -> None:
        """Set (or with None, remove) the global and per-chat limits, in messages per second."""
        self.rate_limit = rate_limit
        self.per_chat_limit = per_chat_limit
        self._per_chat_burst = per_chat_burst
        self._global_bucket = TokenBucket(rate_limit, burst) if rate_limit else None
        self._chat_buckets: dict[int, TokenBucket] = {}

    def block(self, chat_id: int, blocked: bool = True) -> None:
        """The user of `chat_id` blocks (or unblocks) the bot: sends answer 403."""
        (self._blocked.add if blocked else self._blocked.discard)(int(chat_id))

    def fail_next(self, n: int = 1, status: int = 500, methods: set[str] | None = None) -> None:
        """The next `n` sending calls (or calls of `methods`) fail with `status`."""
        scope = frozenset(methods) if methods else None
        self._fail_plan.extend([(int(status), scope)] * int(n))

    def reset(self) -> None:
        """Forget recorded calls and counters (not pending updates, blocks or limits)."""
        self.sent.clear()
        self.stats = self._fresh_stats()

    def set_webhook_targets(self, urls: list[str], secret_token: str | None = None) -> None:
        """Deliver updates by POSTing to these URLs in turn (one URL is what Telegram does)."""
        self._webhook_targets = list(urls)
        self._webhook_secret = secret_token
        if urls:
            self._ensure_webhook_workers()

    @property
    def webhook_active(self) -> bool:
        return bool(self._webhook_targets)

    # ------------------------------------------------------------------ updates

    def _user(self, user_id: int, first_name: str) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "zh-hans"}

    def _chat(self, chat_id: int, first_name: str = "测试用户") -> dict[str, Any]:
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": first_name}
        return {"id": chat_id, "type": "group", "title": "测试群"}

    def _new_mid(self, chat_id: int) -> int:
        mid = self._next_mid[chat_id]
        self._next_mid[chat_id] = mid + 1
        return mid

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (an update_id is assigned when missing) and return it."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        if self._webhook_targets:
            self._ensure_webhook_workers()
            assert self._webhook_queue is not None
            self._webhook_queue.put_nowait(update)
        else:
            self._updates.append(update)
            self._notify()
        return update

    def push_text(
        self, chat_id: int, text: str, *, user_id: int | None = None, first_name: str = "测试用户"
    ) -> dict[str, Any]:
        """A user writes `text` in their private chat with the bot."""
        chat_id = int(chat_id)
        mid = self._new_mid(chat_id)
        message: dict[str, Any] = {
            "message_id": mid,
            "date": int(time.time()),
            "chat": self._chat(chat_id, first_name),
            "from": self._user(user_id or abs(chat_id), first_name),
            "text": text,
        }
        if text.startswith("/"):
            cmd = text.split()[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(cmd)}]
        self._messages[chat_id][mid] = message
        return self.push_update({"message": message})

    def push_callback(
        self, chat_id: int, data: str, *, message_id: int | None = None, user_id: int | None = None,
        first_name: str = "测试用户",
    ) -> dict[str, Any]:
        """A user presses an inline button with callback `data` (on `message_id`, default: the bot's
        latest message in that chat carrying an inline keyboard)."""
        chat_id = int(chat_id)
        msgs = self._messages.get(chat_id, {})
        if message_id is None:
            with_kb = [m for m in msgs.values() if m.get("reply_markup") and m.get("from", {}).get("is_bot")]
            message_id = with_kb[-1]["message_id"] if with_kb else None
        message = msgs.get(message_id) if message_id is not None else None
        if message is None:
            message = {"message_id": message_id or 1, "date": int(time.time()), "chat": self._chat(chat_id),
                       "from": self._me(), "text": ""}
        query = {
            "id": str(next(self._seq)),
            "from": self._user(user_id or abs(chat_id), first_name),
            "chat_instance": str(chat_id),
            "data": data,
            "message": message,
        }
        return self.push_update({"callback_query": query})

    def _notify(self) -> None:
        async def _wake() -> None:
            async with self._changed:
                self._changed.notify_all()

        with contextlib.suppress(RuntimeError):  # no running loop: nobody can be waiting
            asyncio.get_running_loop().create_task(_wake())

    # ------------------------------------------------------------------ reading what the bot sent

    def messages(self, chat_id: int | None = None, *, after: int = 0) -> list[SentCall]:
        """Successful sending calls (optionally to one chat, after sequence number `after`)."""
        return [
            c for c in self.sent
            if c.ok and c.method in SENDING_METHODS and c.seq > after and (chat_id is None or c.chat_id == chat_id)
        ]

    def calls(self, method: str | None = None, *, chat_id: int | None = None, after: int = 0) -> list[SentCall]:
        return [
            c for c in self.sent
            if c.seq > after and (method is None or c.method == method) and (chat_id is None or c.chat_id == chat_id)
        ]

    @property
    def last_seq(self) -> int:
        return self.sent[-1].seq if self.sent else 0

    async def wait_for(
        self, predicate: Callable[[list[SentCall]], bool], timeout: float = 10.0
    ) -> list[SentCall]:
        """Wait until `predicate(self.sent)` holds; raise TimeoutError with what was sent otherwise."""
        async def _wait() -> None:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self.sent))

        try:
            await asyncio.wait_for(_wait(), timeout)
        except TimeoutError:
            tail = [f"{c.method} {c.chat_id} {c.status} {str(c.text)[:60]!r}" for c in self.sent[-10:]]
            raise TimeoutError("fake Bot API: condition not met; last calls:\n" + "\n".join(tail)) from None
        return self.sent

    async def wait_messages(
        self, chat_id: int | None = None, *, count: int = 1, after: int = 0, timeout: float = 10.0
    ) -> list[SentCall]:
        """Wait for `count` successful sends (to `chat_id`) after sequence number `after`."""
        await self.wait_for(lambda _: len(self.messages(chat_id, after=after)) >= count, timeout)
        return self.messages(chat_id, after=after)

    # ------------------------------------------------------------------ Bot API methods

    def _me(self) -> dict[str, Any]:
        return {
            "id": self._bot_id,
            "is_bot": True,
            "first_name": "医保助手（测试）",
            "username": self.bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def _bot_message(self, chat_id: int, extra: dict[str, Any]) -> dict[str, Any]:
        mid = self._new_mid(chat_id)
        msg = {"message_id": mid, "date": int(time.time()), "chat": self._chat(chat_id), "from": self._me()}
        msg.update({k: v for k, v in extra.items() if v is not None})
        self._messages[chat_id][mid] = msg
        return msg

    def _file_result(self, params: dict[str, Any], files: dict[str, StoredFile], key: str) -> tuple[str, int]:
        ref = params.get(key)
        if isinstance(ref, str) and ref.startswith("attach://"):
            stored = files.get(ref.removeprefix("attach://"))
        else:
            stored = files.get(key)
        if stored is None and isinstance(ref, str):  # a file_id or URL: nothing uploaded
            return ref, 0
        if stored is None:
            raise ApiError(400, f"Bad Request: there is no {key} in the request")
        return stored.filename, stored.size

    def _message_in(self, params: dict[str, Any], action: str) -> dict[str, Any]:
        chat_id, mid = params.get("chat_id"), params.get("message_id")
        msg = self._messages.get(chat_id, {}).get(mid) if isinstance(chat_id, int) else None
        if msg is None:
            raise ApiError(400, f"Bad Request: message to {action} not found")
        return msg

    def _call(self, method: str, params: dict[str, Any], files: dict[str, StoredFile]) -> Any:  # noqa: C901
        chat_id = params.get("chat_id")
        if method == "getMe":
            return self._me()
        if method == "sendMessage":
            if not params.get("text"):
                raise ApiError(400, "Bad Request: message text is empty")
            return self._bot_message(chat_id, {"text": params["text"], "reply_markup": params.get("reply_markup")})
        if method == "sendDocument":
            name, size = self._file_result(params, files, "document")
            doc = {"file_id": f"doc-{next(self._seq)}", "file_unique_id": f"u{self._bot_id}-{size}",
                   "file_name": name, "file_size": size}
            return self._bot_message(chat_id, {"document": doc, "caption": params.get("caption")})
        if method == "sendPhoto":
            name, size = self._file_result(params, files, "photo")
            photo = [{"file_id": f"photo-{next(self._seq)}", "file_unique_id": f"p{size}", "width": 800,
                      "height": 600, "file_size": size}]
            return self._bot_message(chat_id, {"photo": photo, "caption": params.get("caption")})
        if method in SENDING_METHODS:  # the rest of the family: accepted, recorded
            return self._bot_message(chat_id, {"text": params.get("text") or ""})
        if method == "deleteMessage":
            self._message_in(params, "delete")
            del self._messages[chat_id][params["message_id"]]
            return True
        if method == "editMessageText":
            msg = self._message_in(params, "edit")
            markup = params.get("reply_markup")
            if msg.get("text") == params.get("text") and msg.get("reply_markup") == markup:
                raise ApiError(400, "Bad Request: message is not modified: specified new message content and "
                                    "reply markup are exactly the same as a current content and reply markup "
                                    "of the message")
            msg["text"] = params.get("text")
            if markup is None:
                msg.pop("reply_markup", None)
            else:
                msg["reply_markup"] = markup
            return msg
        if method == "editMessageReplyMarkup":
            msg = self._message_in(params, "edit")
            markup = params.get("reply_markup")
            if msg.get("reply_markup") == markup:
                raise ApiError(400, "Bad Request: message is not modified")
            if markup is None:
                msg.pop("reply_markup", None)
            else:
                msg["reply_markup"] = markup
            return msg
        if method in ("answerCallbackQuery", "sendChatAction", "setChatMenuButton", "setMyDescription",
                      "setMyShortDescription", "close", "logOut"):
            return True
        if method == "setMyCommands":
            self._commands[self._commands_key(params)] = list(params.get("commands") or [])
            return True
        if method == "getMyCommands":
            return self._commands.get(self._commands_key(params), [])
        if method == "deleteMyCommands":
            self._commands.pop(self._commands_key(params), None)
            return True
        if method == "setWebhook":
            url = params.get("url") or ""
            if not url:
                self.set_webhook_targets([])
            else:
                if not url.startswith(("http://", "https://")):
                    raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
                self._max_connections = int(params.get("max_connections") or 40)
                self.set_webhook_targets([url], params.get("secret_token"))
            if params.get("drop_pending_updates"):
                self._updates.clear()
            return True
        if method == "deleteWebhook":
            self.set_webhook_targets([])
            if params.get("drop_pending_updates"):
                self._updates.clear()
            return True
        if method == "getWebhookInfo":
            return {"url": self._webhook_targets[0] if self._webhook_targets else "", "has_custom_certificate": False,
                    "pending_update_count": self._webhook_queue.qsize() if self._webhook_queue else len(self._updates),
                    "max_connections": self._max_connections}
        raise ApiError(404, "Not Found")

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> str:
        scope = params.get("scope") or {"type": "default"}
        return json.dumps([scope, params.get("language_code") or ""], sort_keys=True)

    def _gate(self, method: str, chat_id: int | None) -> None:
        """Injected failures, blocked users and flood control, in that order."""
        for i, (status, scope) in enumerate(self._fail_plan):
            if (scope is None and method in SENDING_METHODS) or (scope is not None and method in scope):
                del self._fail_plan[i]
                self.stats["failed_injected"] += 1
                raise ApiError(status, "Internal Server Error" if status >= 500 else f"Injected error {status}")
        if method not in SENDING_METHODS:
            return
        if chat_id is not None and chat_id in self._blocked:
            self.stats["forbidden"] += 1
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        now = time.monotonic()
        bucket = None
        if self.per_chat_limit and chat_id is not None:
            bucket = self._chat_buckets.get(chat_id)
            if bucket is None:
                bucket = self._chat_buckets[chat_id] = TokenBucket(self.per_chat_limit, self._per_chat_burst)
        # Check the chat bucket before the global one so a refused call consumes nothing.
        if bucket is not None:
            bucket._refill(now)
            if bucket.tokens < 1.0:
                self._too_many((1.0 - bucket.tokens) / bucket.rate)
        if self._global_bucket is not None:
            wait = self._global_bucket.take(now)
            if wait:
                self._too_many(wait)
        if bucket is not None:
            bucket.tokens -= 1.0

    def _too_many(self, wait: float) -> None:
        self.stats["rate_limited"] += 1
        seconds = retry_after_seconds(wait)
        raise ApiError(429, f"Too Many Requests: retry after {seconds}", {"retry_after": seconds})

    # ------------------------------------------------------------------ HTTP

    @property
    def _bot_id(self) -> int:
        return int(self._token_seen.split(":", 1)[0]) if self._token_seen else 123456

    _token_seen: str | None = None

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, StoredFile]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, StoredFile] = {}
        ctype = request.content_type
        if ctype == "multipart/form-data":
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                if part.filename:
                    files[part.name] = StoredFile(part.name, part.filename, bytes(await part.read(decode=False)))
                else:
                    params[part.name] = await part.text()
        elif ctype == "application/json":
            raw = await request.read()
            if raw:
                params.update(json.loads(raw))
        elif request.can_read_body:
            params.update(await request.post())
        return _coerce(params), files

    async def _handle_method(self, request: web.Request) -> web.Response:
        token, method = request.match_info["token"], request.match_info["method"]
        if not TOKEN_RE.match(token) or (self.token is not None and token != self.token):
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        self._token_seen = token
        self.stats["requests"] += 1
        self.stats["by_method"][method] += 1
        try:
            params, files = await self._read_params(request)
        except (ValueError, aiohttp.ClientError) as e:
            return web.json_response({"ok": False, "error_code": 400, "description": f"Bad Request: {e}"},
                                     status=400)
        if method == "getUpdates":
            return await self._get_updates(params)
        chat_id = params.get("chat_id") if isinstance(params.get("chat_id"), int) else None
        record = SentCall(seq=0, method=method, params=params, chat_id=chat_id, at=0.0, status=200, files=files)
        try:
            self._gate(method, chat_id)
            record.result = self._call(method, params, files)
            body: dict[str, Any] = {"ok": True, "result": record.result}
            if method in SENDING_METHODS:
                self.stats["delivered"] += 1
        except ApiError as e:
            record.status, record.error = e.status, e.description
            if e.status == 400:
                self.stats["bad_request"] += 1
            body = e.body()
        await self._record(record)
        return web.json_response(body, status=record.status)

    async def _record(self, record: SentCall) -> None:
        record.seq = next(self._seq)
        record.at = time.time()
        record.at_perf = time.perf_counter()
        self.sent.append(record)
        async with self._changed:
            self._changed.notify_all()

    async def _get_updates(self, params: dict[str, Any]) -> web.Response:
        if self._webhook_targets:
            return web.json_response(
                {"ok": False, "error_code": 409, "description": "Conflict: can't use getUpdates method while "
                 "webhook is active; use deleteWebhook to delete the webhook first"}, status=409)
        offset = int(params.get("offset") or 0)
        limit = max(1, min(100, int(params.get("limit") or 100)))
        timeout = float(params.get("timeout") or 0)
        if offset:
            # Telegram forgets confirmed updates (ids below offset).
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

        def ready() -> list[dict[str, Any]]:
            return [u for u in self._updates if u["update_id"] >= offset][:limit]

        if not ready() and timeout > 0:
            async with self._changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait_for(lambda: bool(ready())), timeout)
        return web.json_response({"ok": True, "result": ready()})

    # ------------------------------------------------------------------ webhook delivery

    def _ensure_webhook_workers(self) -> None:
        if self._webhook_queue is None:
            self._webhook_queue = asyncio.Queue()
        self._webhook_workers = [t for t in self._webhook_workers if not t.done()]
        while len(self._webhook_workers) < self._max_connections:
            self._webhook_workers.append(asyncio.get_running_loop().create_task(self._webhook_worker()))

    async def _webhook_worker(self) -> None:
        assert self._webhook_queue is not None
        while True:
            update = await self._webhook_queue.get()
            try:
                await self._deliver(update)
            finally:
                self._webhook_queue.task_done()

    async def _deliver(self, update: dict[str, Any]) -> None:
        for attempt in range(5):
            if not self._webhook_targets:
                self._updates.append(update)  # webhook removed meanwhile: fall back to getUpdates
                self._notify()
                return
            url = self._webhook_targets[next(self._webhook_rr) % len(self._webhook_targets)]
            headers = {"X-Telegram-Bot-Api-Secret-Token": self._webhook_secret} if self._webhook_secret else {}
            try:
                if self._client is None:
                    self._client = aiohttp.ClientSession()
                async with self._client.post(url, json=update, headers=headers,
                                             timeout=aiohttp.ClientTimeout(total=30)) as resp:
                    self.stats["webhook_posts"] += 1
                    if resp.status < 300:
                        await self._webhook_reply(resp)
                        return
                    log.warning("webhook %s answered %s", url, resp.status)
            except (aiohttp.ClientError, TimeoutError) as e:
                log.warning("webhook %s failed: %s", url, e)
            self.stats["webhook_errors"] += 1
            await asyncio.sleep(0.05 * 2**attempt)

    async def _webhook_reply(self, resp: aiohttp.ClientResponse) -> None:
        """A webhook may answer with one method call in its response body (aiogram does when not
        handling in background); Telegram executes it, so the fake records it as a call."""
        params: dict[str, Any] = {}
        files: dict[str, StoredFile] = {}
        if resp.content_type == "multipart/form-data":
            reader = aiohttp.MultipartReader.from_response(resp)
            async for part in reader:
                if isinstance(part, aiohttp.BodyPartReader) and part.name:
                    if part.filename:
                        files[part.name] = StoredFile(part.name, part.filename, bytes(await part.read()))
                    else:
                        params[part.name] = await part.text()
        elif resp.content_type == "application/json":
            with contextlib.suppress(ValueError):
                params = await resp.json()
        method = params.pop("method", None) if isinstance(params, dict) else None
        if not method:
            return
        params = _coerce(params)
        chat_id = params.get("chat_id") if isinstance(params.get("chat_id"), int) else None
        record = SentCall(seq=0, method=method, params=params, chat_id=chat_id, at=0.0, status=200, files=files)
        try:
            self._gate(method, chat_id)
            record.result = self._call(method, params, files)
        except ApiError as e:
            record.status, record.error = e.status, e.description
        await self._record(record)

    # ------------------------------------------------------------------ control endpoints (/_fake/)

    async def _ctl_update(self, request: web.Request) -> web.Response:
        body = await request.json()
        if "update" in body:
            upd = self.push_update(body["update"])
        elif "callback_data" in body:
            upd = self.push_callback(int(body["chat_id"]), body["callback_data"], message_id=body.get("message_id"))
        else:
            upd = self.push_text(int(body["chat_id"]), str(body["text"]))
        return web.json_response({"ok": True, "update": upd})

    async def _ctl_sent(self, request: web.Request) -> web.Response:
        q = request.query
        after = int(q.get("after", 0))
        chat_id = int(q["chat_id"]) if "chat_id" in q else None
        method = q.get("method")
        count = int(q.get("count", 0))
        wait = float(q.get("wait", 0))

        def matching() -> list[SentCall]:
            return self.calls(method, chat_id=chat_id, after=after)

        if count and wait:
            with contextlib.suppress(TimeoutError):
                await self.wait_for(lambda _: len([c for c in matching() if c.ok]) >= count, wait)
        return web.json_response({"ok": True, "result": [c.to_json() for c in matching()]})

    async def _ctl_block(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.block(int(body["chat_id"]), bool(body.get("blocked", True)))
        return web.json_response({"ok": True})

    async def _ctl_fail(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.fail_next(int(body.get("n", 1)), int(body.get("status", 500)), set(body.get("methods") or []) or None)
        return web.json_response({"ok": True})

    async def _ctl_config(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.configure(rate_limit=body.get("rate_limit"), per_chat_limit=body.get("per_chat_limit"),
                       burst=body.get("burst"), per_chat_burst=body.get("per_chat_burst"))
        return web.json_response({"ok": True})

    async def _ctl_stats(self, request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "result": self.stats_json()})

    async def _ctl_webhooks(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.set_webhook_targets(list(body.get("urls") or []), body.get("secret_token"))
        return web.json_response({"ok": True})

    async def _ctl_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    def stats_json(self) -> dict[str, Any]:
        out = dict(self.stats)
        out["by_method"] = dict(self.stats["by_method"])
        out["pending_updates"] = len(self._updates)
        out["rate_limit"], out["per_chat_limit"] = self.rate_limit, self.per_chat_limit
        out["blocked"] = sorted(self._blocked)
        return out

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_post("/_fake/update", self._ctl_update)
        app.router.add_get("/_fake/sent", self._ctl_sent)
        app.router.add_post("/_fake/block", self._ctl_block)
        app.router.add_post("/_fake/fail_next", self._ctl_fail)
        app.router.add_post("/_fake/config", self._ctl_config)
        app.router.add_get("/_fake/stats", self._ctl_stats)
        app.router.add_post("/_fake/webhooks", self._ctl_webhooks)
        app.router.add_post("/_fake/reset", self._ctl_reset)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        return app

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        """Serve on host:port (0 = a free port) and return the base URL."""
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        real_port = server.sockets[0].getsockname()[1]
        self.base_url = f"http://{host}:{real_port}"
        return self.base_url

    async def stop(self) -> None:
        for task in self._webhook_workers:
            task.cancel()
        for task in self._webhook_workers:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._webhook_workers.clear()
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeBotAPI:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
