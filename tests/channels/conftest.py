"""Fixtures of the channel tests: a migrated registry, the three fakes (Bot API, WeChat, SMS), settings
pointing at them, and a pinned clock inside 五河's collection period."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bot import clock
from bot.fakeapi import FakeBotAPI
from bot.registry import db
from bot.settings import get_settings
from sms.fake import FakeSms
from wechat.fake import FakeWeChat

DAYTIME = datetime(2023, 12, 24, 10, 0, tzinfo=clock.TZ)  # 五河 D-7, outside quiet hours
BOT_TOKEN = "123456:TEST-channels"
WX = dict(token="chan-token", app_id="wxchannels0000001", app_secret="chan-secret")


@contextmanager
def database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A database URL: a SQLite file, or a new PostgreSQL database (dropped afterwards)."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'channels.db'}"
        return
    base = os.environ.get("DATABASE_URL_PG")
    if not base:
        pytest.skip("DATABASE_URL_PG not set: PostgreSQL tests need a server (scripts/test.sh starts one)")
    with db.scratch_database(base, "yibao_channels") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    with database(request.param, tmp_path) as url:
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
        eng = db.get_engine(url)
        db.ensure_schema(eng)
        with db.session_scope(eng) as session:
            db.seed_localities(session)
        clock.set_now(DAYTIME)
        try:
            yield eng
        finally:
            clock.set_now(None)
            eng.dispose()
            get_settings.cache_clear()


@pytest.fixture()
async def fakes(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[dict[str, Any]]:
    """The three fakes started, and the environment (hence get_settings()) pointing at them."""
    api, wx, sms = FakeBotAPI(), FakeWeChat(**WX), FakeSms(secret_id="AKIDfake", daily_limit=10)
    base = await api.start()
    wx_base = await wx.start()
    endpoint = await sms.start()
    env = {
        "BOT_TOKEN": BOT_TOKEN, "TELEGRAM_API_BASE": base,
        "WECHAT_TOKEN": WX["token"], "WECHAT_APP_ID": WX["app_id"], "WECHAT_APP_SECRET": WX["app_secret"],
        "WECHAT_API_BASE": wx_base, "WECHAT_TEMPLATE_ID": "TPL-reminder-1",
        "SMS_LOCALITIES": "wuhe", "SMS_SECRET_ID": "AKIDfake", "SMS_SECRET_KEY": "fake-key",
        "SMS_SDK_APP_ID": "1400000000", "SMS_SIGN_NAME": "五河医保", "SMS_TEMPLATE_ID": "1234567",
        "SMS_ENDPOINT": endpoint, "SMS_PROTOCOL": "http",
        "QUIET_HOURS_START": "00:00", "QUIET_HOURS_END": "00:00", "SEND_RATE_PER_SECOND": "200",
        "WECHAT_SEND_RATE_PER_SECOND": "200", "SMS_SEND_RATE_PER_SECOND": "200", "REDIS_URL": "",
    }
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    get_settings.cache_clear()
    try:
        yield {"telegram": api, "wechat": wx, "sms": sms, "env": env}
    finally:
        await api.stop()
        await wx.stop()
        await sms.stop()
        get_settings.cache_clear()
