"""`yibao wechat`: serve the callback until SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from bot.settings import Settings

log = logging.getLogger(__name__)


class ConfigError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def check(settings: Settings) -> None:
    """One clear Chinese line for a configuration that cannot work."""
    if not settings.wechat_token:
        raise ConfigError("缺少 WECHAT_TOKEN（公众号后台“服务器配置”里填写的 Token），无法验证微信的回调。")
    if settings.wechat_aes_key:
        from wechat.crypto import CryptoError, aes_key

        try:
            aes_key(settings.wechat_aes_key)
            if settings.wechat_aes_key_previous:
                aes_key(settings.wechat_aes_key_previous)
        except CryptoError:
            raise ConfigError("WECHAT_AES_KEY 不是有效的 EncodingAESKey（应为公众号后台生成的43位字符）。") from None
        if not settings.wechat_app_id:
            raise ConfigError("安全模式需要 WECHAT_APP_ID（公众号的 AppID），请一并设置。")


async def serve(settings: Settings, host: str, port: int, *, set_menu: bool = False,
                ready: asyncio.Event | None = None) -> None:
    from bot.nlu import warm_up
    from bot.registry.db import open_db
    from wechat.api import WeChatAPI
    from wechat.render import custom_menu
    from wechat.server import build_app
    from wechat.store import redis_client

    engine = await asyncio.to_thread(open_db, settings)
    await asyncio.to_thread(warm_up)  # jieba and the gazetteer load before the first 5-second callback
    redis = redis_client(settings.redis_url)
    api = (WeChatAPI(settings, engine=engine, redis=redis)
           if settings.wechat_app_id and settings.wechat_app_secret else None)
    if api is None:
        log.warning("wechat: no WECHAT_APP_ID/WECHAT_APP_SECRET: only passive replies; answers slower than "
                    "%.1f s are lost", settings.wechat_reply_budget_seconds)
    if set_menu:
        if api is None:
            raise ConfigError("设置自定义菜单需要 WECHAT_APP_ID 和 WECHAT_APP_SECRET。")
        await api.create_menu(custom_menu())
        log.info("wechat: custom menu set")
    runner = web.AppRunner(build_app(settings, engine, redis=redis, api=api), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        log.info("wechat: serving callbacks at http://%s:%d%s (%s mode)", host, port, settings.wechat_path,
                 "安全" if settings.wechat_aes_key else "明文")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        if ready is not None:
            ready.set()
        await stop.wait()
    finally:
        await runner.cleanup()
        if api is not None:
            await api.close()
        if redis is not None:
            await redis.aclose()
