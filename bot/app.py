"""Dispatcher assembly and the two ways of serving it (long polling, webhook).

`build_dispatcher` is the one place routers and middlewares are wired, so `yibao run`,
`yibao webhook`, the terminal chat and the tests all run the same bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hmac
import json
import logging
import re
import time
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.base import BaseSession
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.methods import TelegramMethod
from aiogram.types import BotCommand, Update
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web
from pydantic import ValidationError

from bot.settings import Settings

log = logging.getLogger(__name__)

BOT_COMMANDS = (
    ("start", "开始，选择您所在的地区"),
    ("menu", "常见问题菜单"),
    ("help", "使用说明和提问示例"),
    ("unsubscribe", "取消缴费提醒"),
    ("stop", "停止所有提醒"),
)


class TokenError(Exception):
    """BOT_TOKEN missing or malformed; `message` is the one line shown to the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_token(token: str | None) -> str:
    """The token, stripped, or TokenError with a clear line (never echoing the token: it is a secret)."""
    from aiogram.utils.token import TokenValidationError, validate_token

    if not token or not token.strip():
        raise TokenError(
            "未设置 BOT_TOKEN：请在环境变量或 .env 中设置从 @BotFather 获得的令牌"
            "（形如 123456789:AAE...）；不用令牌试用请运行 yibao chat。"
        )
    token = token.strip()
    try:
        validate_token(token)
    except TokenValidationError:
        raise TokenError(
            "BOT_TOKEN 格式不正确：应为“数字:字母数字串”（形如 123456789:AAE...），请检查是否复制完整。"
        ) from None
    return token


def make_bot(settings: Settings, *, session: BaseSession | None = None) -> Bot:
    """A Bot for settings.bot_token, talking to settings.telegram_api_base when set.

    Raises TokenError before any network or database work."""
    token = check_token(settings.bot_token)
    if session is None:
        from aiogram.client.session.aiohttp import AiohttpSession
        from aiogram.client.telegram import TelegramAPIServer

        base = (settings.telegram_api_base or "").rstrip("/")
        session = AiohttpSession(api=TelegramAPIServer.from_base(base)) if base else AiohttpSession()
    return Bot(token, session=session)


def _routers() -> list[Router]:
    """The routers in contract order: staff commands before the resident dialogue, which takes every
    message left. A broken import fails here, loudly: a bot without its resident router must not start."""
    from handlers import admin, resident, staff

    routers = [admin.router, staff.router, resident.router]
    for router in routers:
        # Routers are module-level singletons and aiogram lets a router have only one parent;
        # a process that builds a second dispatcher (tests, benchmarks) detaches them first.
        router._parent_router = None
    return routers


def build_dispatcher(
    settings: Settings,
    *,
    storage: BaseStorage | None = None,
    engine: Any = None,
    events_isolation: BaseEventIsolation | None = None,
    flood_guard: bool = True,
) -> Dispatcher:
    """The bot: routers in contract order behind the update middlewares.

    `engine` defaults to `bot.registry.db.open_db(settings)` (schema migrated, localities seeded);
    `storage` to MemoryStorage (one process). Pass a RedisStorage and its isolation for several processes.
    """
    from handlers.middlewares import setup_middlewares

    if engine is None:
        from bot.registry.db import open_db

        engine = open_db(settings)
    dp = Dispatcher(storage=storage or MemoryStorage(), events_isolation=events_isolation)
    dp["engine"] = engine  # workflow data: every handler may take `engine`
    setup_middlewares(dp, settings, flood_guard=flood_guard)
    dp.include_routers(*_routers())
    return dp


def make_storage(settings: Settings) -> tuple[BaseStorage, BaseEventIsolation]:
    """FSM storage and event isolation: Redis (shared by several processes) when REDIS_URL is set,
    else in-memory with per-chat locks."""
    if settings.redis_url:
        from aiogram.fsm.storage.base import DefaultKeyBuilder
        from aiogram.fsm.storage.redis import RedisStorage

        storage = RedisStorage.from_url(settings.redis_url, key_builder=DefaultKeyBuilder(with_destiny=True))
        return storage, storage.create_isolation()
    return MemoryStorage(), SimpleEventIsolation()


async def set_bot_commands(bot: Bot) -> None:
    """Publish the command menu; a failure here is logged, not fatal."""
    try:
        await bot.set_my_commands([BotCommand(command=c, description=d) for c, d in BOT_COMMANDS])
    except Exception as e:  # noqa: BLE001 - the bot works without a menu
        log.warning("setMyCommands failed: %s", e)


# The Bot API methods this bot calls (handlers, staff reports, start-up); see pin_response_models.
USED_METHODS = ("SendMessage", "SendDocument", "SendPhoto", "DeleteMessage", "AnswerCallbackQuery",
                "EditMessageText", "EditMessageReplyMarkup", "SendChatAction", "GetMe", "GetUpdates",
                "SetMyCommands", "SetWebhook", "DeleteWebhook")
_pinned_models: list[Any] = []


def pin_response_models() -> None:
    """Keep aiogram's parsed-response models alive for the methods this bot calls.

    aiogram validates every answer as `Response[<return type>]`, a pydantic generic model that pydantic
    caches only weakly; under allocation churn the garbage collector drops the class and the next reply
    rebuilds it (about 6 ms of CPU, profiled: one reply in three during a 1,000-update burst, ~1.8 ms per
    update on average). A strong reference keeps the cache hit."""
    from aiogram import methods

    if _pinned_models:
        return
    for name in USED_METHODS:
        method = getattr(methods, name, None)
        if method is not None:
            _pinned_models.append(methods.Response[method.__returning__])


def warm_up() -> None:
    """Load the policy packs and the NLU dictionaries (jieba) before the first update needs them, not
    during it: otherwise the first resident waits seconds for jieba and the pack quote checks. Also pins
    aiogram's response models (pin_response_models)."""
    from bot.nlu import warm_up as nlu_warm_up
    from bot.policy import all_packs

    pin_response_models()
    all_packs()
    nlu_warm_up()
    # What is loaded now lives as long as the process (jieba's dictionary, the packs, the models:
    # ~240k objects). Frozen, the collector stops walking them: a full collection took ~140 ms and
    # came every few hundred updates under load, a stall that every chat waiting at the time felt.
    gc.freeze()


SHUTDOWN_GRACE_SECONDS = 20.0  # on SIGTERM, updates already being handled get this long to finish


class _UpdateGate:
    """Outermost update middleware. An update that arrives while the warm-up still runs waits for it
    (once loaded, this is one check per update; a failed warm-up is logged and updates go on, whatever
    was not loaded then loads on first use). It also counts the updates in flight, so a shutdown lets
    them finish (their replies, their commits) before the bot's HTTP session is closed."""

    def __init__(self, ready: asyncio.Future[None]) -> None:
        self.ready = ready
        self.in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def __call__(self, handler: Any, event: Any, data: dict[str, Any]) -> Any:
        self.in_flight += 1
        self._idle.clear()
        try:
            if not self.ready.done():
                with contextlib.suppress(Exception):  # logged by _warm_up_in_background
                    await asyncio.shield(self.ready)
            return await handler(event, data)
        finally:
            self.in_flight -= 1
            if self.in_flight == 0:
                self._idle.set()

    async def drained(self, grace: float) -> None:
        """Until no update is being handled, or `grace` seconds (then the rest is cut off, logged)."""
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            log.warning("shutting down with %d updates still being handled", self.in_flight)


def _gate_updates(dp: Dispatcher, ready: asyncio.Future[None]) -> _UpdateGate:
    """Put the gate before every other update middleware (so no update holds a database session or a
    lock while it waits for the warm-up)."""
    gate = _UpdateGate(ready)
    outer = dp.update.outer_middleware
    others = list(outer)
    for m in others:
        outer.unregister(m)
    outer.register(gate)
    for m in others:
        outer.register(m)
    return gate


def _warm_up_in_background() -> asyncio.Task[None]:
    async def run() -> None:
        started = time.perf_counter()
        try:
            await asyncio.to_thread(warm_up)
        except Exception:
            log.exception("warm-up failed; packs and NLU load on first use instead")
            raise
        log.info("warm-up done in %.1f s (policy packs, NLU dictionaries)", time.perf_counter() - started)

    return asyncio.create_task(run(), name="warm-up")


async def _logged(step: Any, what: str) -> None:
    try:
        await step
    except Exception:
        log.exception("%s failed to start; the bot runs without it", what)


async def run_polling(settings: Settings, *, with_scheduler: bool = True) -> None:
    """`yibao run`: long polling in one process, the scheduler alongside (the embedded default).

    Start-up does only what polling needs before the first getUpdates (schema check, dispatcher); the
    warm-up (jieba, packs), the scheduler and the command menu start alongside, and an update that
    arrives before the warm-up has finished waits for it (see _UpdateGate). On SIGTERM, polling stops
    and the updates being handled finish before the HTTP session closes."""
    from bot.registry.db import open_db

    bot = make_bot(settings)
    storage, isolation = make_storage(settings)
    engine = await asyncio.to_thread(open_db, settings)  # migrate/seed if needed: blocking, off the loop
    dp = build_dispatcher(settings, storage=storage, events_isolation=isolation, engine=engine)
    ready = _warm_up_in_background()
    gate = _gate_updates(dp, ready)
    background: list[asyncio.Task[Any]] = [ready, asyncio.create_task(set_bot_commands(bot), name="commands")]
    scheduler = None
    if with_scheduler:
        from scheduler.service import EmbeddedScheduler

        scheduler = EmbeddedScheduler(settings, bot, engine=engine)
        background.append(asyncio.create_task(_logged(scheduler.start(), "scheduler"), name="scheduler-start"))
    try:
        await dp.start_polling(bot, allowed_updates=dp.resolve_used_update_types(), polling_timeout=10,
                               close_bot_session=False)
    finally:
        await gate.drained(SHUTDOWN_GRACE_SECONDS)
        for task in background:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await task
        if scheduler is not None:
            await scheduler.shutdown()
        await storage.close()
        await bot.session.close()


# Telegram sends the secret given to setWebhook in this header with every update.
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram accepts 1-256 characters of A-Z a-z 0-9 _ -; we ask for at least 32 so that it cannot
# be guessed (secrets.token_urlsafe(32) gives 43).
_SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{32,256}")
_HOW_TO_SET_SECRET = (
    "可用 python3 -c \"import secrets; print(secrets.token_urlsafe(32))\" 生成，写入 .env 的 WEBHOOK_SECRET=...，"
    "每个 yibao webhook 进程和 --set-webhook 用同一个值"
)


class WebhookSecretError(Exception):
    """WEBHOOK_SECRET missing or unfit; `message` is the one line shown to the operator."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check_webhook_secret(secret: str | None) -> str:
    """The secret, stripped, or WebhookSecretError. Without a secret anybody who finds the URL could
    post forged updates (cancel a resident's reminders, use up lookups, ask for staff lists), so the
    webhook does not start without one; the line never echoes the value."""
    if not secret or not secret.strip():
        raise WebhookSecretError(
            f"未设置 WEBHOOK_SECRET：没有它任何人都能伪造消息，webhook 不会启动。请设置一个 32 位以上的随机串（{_HOW_TO_SET_SECRET}）。"
        )
    secret = secret.strip()
    if not _SECRET_SHAPE.fullmatch(secret):
        raise WebhookSecretError(
            f"WEBHOOK_SECRET 不合格：须为 32–256 位，只含字母、数字、_ 和 -（Telegram 的要求）。{_HOW_TO_SET_SECRET}。"
        )
    return secret


def secret_matches(given: str, expected: str) -> bool:
    """Constant-time comparison of the header with the secret. Bytes, not str: `compare_digest`
    raises TypeError on non-ASCII str, which would turn a forged header into a 500."""
    return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), expected.encode("utf-8"))


def _describe_bad_update(exc: BaseException) -> str:
    """What was wrong with a refused update, without any of its content (the log must not carry a
    resident's text or ID number): field paths for a validation error, the position for bad JSON."""
    if isinstance(exc, ValidationError):
        where = sorted({".".join(str(p) for p in err["loc"]) or "<root>" for err in exc.errors()})
        more = f" (+{len(where) - 3})" if len(where) > 3 else ""
        return f"{exc.error_count()} invalid field(s): {', '.join(where[:3])}{more}"
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON (line {exc.lineno}, column {exc.colno})"
    if isinstance(exc, RecursionError):
        return "JSON nested too deeply"
    return f"unreadable body ({type(exc).__name__})"


class SignedUpdateHandler(SimpleRequestHandler):
    """Accepts an update only with the right secret header (401 otherwise, nothing acted on), and
    only a well-formed one (400 and one masked log line otherwise, never a 500 or a traceback).
    Accepted updates are answered at once and handled in the background, like aiogram's own."""

    def verify_secret(self, telegram_secret_token: str, bot: Bot) -> bool:
        return bool(self.secret_token) and secret_matches(telegram_secret_token, self.secret_token)

    async def handle(self, request: web.Request) -> web.Response:
        bot = await self.resolve_bot(request)
        if not self.verify_secret(request.headers.get(SECRET_HEADER, ""), bot):
            log.warning("webhook: refused a request without the right secret header from %s", request.remote)
            return web.Response(status=401, text="Unauthorized")
        try:
            body = await request.read()
            update = Update.model_validate(bot.session.json_loads(body), context={"bot": bot})
        except (ValueError, ValidationError, RecursionError) as exc:
            # ValueError covers bad JSON and bad UTF-8; nothing of the body goes into the line.
            log.warning("webhook: refused a malformed update (400): %s", _describe_bad_update(exc))
            return web.Response(status=400, text="Bad Request")
        task = asyncio.create_task(self._feed(bot, update))
        self._background_feed_update_tasks.add(task)
        task.add_done_callback(self._background_feed_update_tasks.discard)
        return web.json_response({}, dumps=bot.session.json_dumps)

    async def _feed(self, bot: Bot, update: Update) -> None:
        try:
            result = await self.dispatcher.feed_update(bot, update, **self.data)
            if isinstance(result, TelegramMethod):
                await self.dispatcher.silent_call_request(bot=bot, result=result)
        except Exception as exc:  # noqa: BLE001 - the error guard answered the user; just record it
            log.error("webhook: update %s failed: %s", update.update_id, type(exc).__name__)


def build_webhook_app(settings: Settings, *, dp: Dispatcher, bot: Bot) -> Any:
    """The aiohttp application serving `dp` at settings.webhook_path for signed updates only.

    Raises WebhookSecretError when settings.webhook_secret is missing or unfit: an endpoint that
    accepts unsigned updates is never built."""
    from aiogram.webhook.aiohttp_server import setup_application

    secret = check_webhook_secret(settings.webhook_secret)
    app = web.Application()
    SignedUpdateHandler(dispatcher=dp, bot=bot, secret_token=secret).register(
        app, path=settings.webhook_path
    )

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app.router.add_get("/healthz", health)
    setup_application(app, dp, bot=bot)
    return app


async def run_webhook(settings: Settings, *, set_webhook_url: str | None = None) -> None:
    """`yibao webhook`: serve the dispatcher over HTTP; several processes may share one token.

    The process registers the webhook with Telegram only when asked (`set_webhook_url`): with several
    processes behind a load balancer exactly one deployment step should do that."""
    secret = check_webhook_secret(settings.webhook_secret)  # before any network or database work
    bot = make_bot(settings)
    storage, isolation = make_storage(settings)
    dp = build_dispatcher(settings, storage=storage, events_isolation=isolation)
    app = build_webhook_app(settings, dp=dp, bot=bot)
    await asyncio.to_thread(warm_up)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.webhook_host, settings.webhook_port)
    await site.start()
    log.info("webhook listening on http://%s:%s%s", settings.webhook_host, settings.webhook_port,
             settings.webhook_path)
    try:
        if set_webhook_url:
            await bot.set_webhook(set_webhook_url, secret_token=secret,
                                  allowed_updates=dp.resolve_used_update_types())
            await set_bot_commands(bot)
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()  # runs the dispatcher's shutdown hooks (closes the bot session)
        await storage.close()
