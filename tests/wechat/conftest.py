"""Fixtures of the WeChat tests: a registry, the fake WeChat platform, our callback server on loopback."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "conversations"))

from world import build  # noqa: E402

from bot import clock  # noqa: E402
from bot.settings import Settings  # noqa: E402
from wechat.api import WeChatAPI  # noqa: E402
from wechat.fake import FakeWeChat  # noqa: E402
from wechat.server import KEYS, build_app  # noqa: E402

TODAY = dt.date(2023, 11, 20)
TOKEN, APP_ID, SECRET = "yibao-test-token", "wx0123456789abcdef", "fake-secret"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
OLD_KEY = "ZYXWVUTSRQPONMLKJIHGFEDCBA9876543210zyxwvut"


@dataclass
class WeChatWorld:
    fake: FakeWeChat
    settings: Settings
    engine: Any
    people: dict[str, str]
    app: web.Application
    api: WeChatAPI | None

    @property
    def server(self) -> Any:
        return self.app[KEYS]


def wechat_settings(base: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(wechat_token=TOKEN, wechat_app_id=APP_ID, wechat_app_secret=SECRET,
                                  wechat_aes_key=AES_KEY, wechat_api_base=base, redis_url=None, status_api_url=None,
                                  lookup_limit=5, lookup_window_seconds=600)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture()
async def start_wechat(tmp_path: Path) -> AsyncIterator[Callable[..., Any]]:
    """start_wechat(aes=True, with_api=True, **settings) -> WeChatWorld, served on a free port."""
    runners: list[web.AppRunner] = []
    closers: list[Any] = []
    engine, people = build(tmp_path / "wechat.db", TODAY)

    async def start(*, aes: bool = True, fake_key: str | None = None, with_api: bool = True,
                    **overrides: Any) -> WeChatWorld:
        fake = FakeWeChat(token=TOKEN, app_id=APP_ID, app_secret=SECRET,
                          aes_key=(fake_key or AES_KEY) if aes else None)
        base = await fake.start()
        closers.append(fake.stop)
        settings = wechat_settings(base, **({} if aes else {"wechat_aes_key": None}), **overrides)
        api = WeChatAPI(settings, engine=engine) if with_api else None
        if api is not None:
            closers.append(api.close)
        app = build_app(settings, engine, api=api)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        fake.callback_url = f"http://127.0.0.1:{port}{settings.wechat_path}"
        return WeChatWorld(fake, settings, engine, people, app, api)

    try:
        yield start
    finally:
        for runner in runners:
            await runner.cleanup()
        for close in closers:
            await close()
        clock.set_today(None)
        engine.dispose()
