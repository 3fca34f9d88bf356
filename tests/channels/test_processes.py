"""End to end through the real processes: `yibao wechat` answering signed, encrypted callbacks pushed
by the fake WeChat platform, and `yibao scheduler` delivering a wave over Telegram, WeChat and SMS
to the three fakes (each run in this test's event loop, on loopback)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bot"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from channel_world import build as build_world  # noqa: E402
from e2e_support import free_port, stop, yibao  # noqa: E402
from test_campaign_channels import received  # noqa: E402

from bot.registry.models import ChatLink  # noqa: E402
from scheduler import campaigns  # noqa: E402
from scheduler.models import OutboxMessage  # noqa: E402
from wechat.fake import FakeWeChat  # noqa: E402
from wechat.render import CHOICES_LEAD, strip_choices  # noqa: E402

pytestmark = pytest.mark.slow
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"


def process_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "STATUS_API_URL", "BOT_TOKEN")}
    env.update({"LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"})
    env.update(extra)
    return env


async def wait_for(check: Any, proc: Any, log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"process exited ({proc.returncode}):\n{log.read_text()[-3000:]}")
        if await check():
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out:\n{log.read_text()[-3000:]}")


async def test_wechat_process_answers_encrypted_callbacks(tmp_path, fakes) -> None:  # noqa: ANN001
    from bot.conversation import DialogueState, Incoming, handle
    from bot.conversation.deps import Deps
    from bot.registry import db
    from bot.settings import Settings

    url = f"sqlite:///{tmp_path / 'wx.db'}"
    engine = db.get_engine(url)
    db.ensure_schema(engine)
    fake = FakeWeChat(token="proc-token", app_id="wxproc000000001", app_secret="proc-secret", aes_key=AES_KEY)
    base = await fake.start()
    port = free_port()
    fake.callback_url = f"http://127.0.0.1:{port}/wechat"
    env = process_env({"DATABASE_URL": url, "YIBAO_TODAY": "2023-11-20", "WECHAT_TOKEN": "proc-token",
                       "WECHAT_APP_ID": "wxproc000000001", "WECHAT_APP_SECRET": "proc-secret",
                       "WECHAT_AES_KEY": AES_KEY, "WECHAT_API_BASE": base})
    log = tmp_path / "wechat.log"
    proc = yibao("wechat", "--host", "127.0.0.1", "--port", str(port), "--set-menu", env=env, log=log)
    try:
        async def up() -> bool:
            return "serving callbacks" in log.read_text()

        await wait_for(up, proc, log)
        assert [i.kind for i in fake.sent] == ["menu"]  # --set-menu pushed the custom menu first
        said = ["五河县低保户交多少钱", "什么时候截止", "那滕州呢"]
        wechat = [strip_choices("\n\n".join(await fake.say("o-proc", text))) for text in said]
        # The same messages straight into the dialogue core, as the Telegram adapter sends them.
        from bot import clock

        clock.set_today(__import__("datetime").date(2023, 11, 20))
        deps, state, core = Deps(Settings(database_url=url), engine, 4242), DialogueState(), []
        for text in said:
            out = handle(state, Incoming(text=text, address="4242"), deps)
            state = out.state
            core.append("\n\n".join(r.text for r in out.replies))
        clock.set_today(None)
        assert wechat == core
        assert CHOICES_LEAD in (fake.messages_to("o-proc")[0].text or "")
        refused = [await fake.push_text("o-proc", "五河县交多少钱", forge=True),
                   await fake.push_text("o-proc", "五河县交多少钱", stale=True)]
        assert [p.status for p in refused] == [403, 403]
        ok = await fake.push_text("o-proc", "五河县交多少钱")
        replay = await fake.push_text("o-proc", "x", replay=True)
        assert (ok.status, replay.status) == (200, 403)
    finally:
        stop(proc)
        await fake.stop()
        engine.dispose()


async def test_scheduler_process_delivers_a_wave_once_across_channels(engine, fakes, tmp_path) -> None:  # noqa: ANN001
    with Session(engine) as s:
        expect = build_world(s)
        campaigns.run_due(s, "wuhe")
        s.commit()
    fakes["wechat"].unfollowed.add("o-unfollowed")
    env = process_env({**fakes["env"], "DATABASE_URL": engine.url.render_as_string(hide_password=False), "YIBAO_TODAY": "2023-12-24"})
    log = tmp_path / "scheduler.log"
    proc = yibao("scheduler", env=env, log=log)

    def left() -> int:
        with Session(engine) as s:
            return s.exec(select(func.count()).select_from(OutboxMessage)
                          .where(OutboxMessage.status.in_(("pending", "sending")))).one()

    try:
        async def drained() -> bool:
            return left() == 0

        await wait_for(drained, proc, log)
    finally:
        stop(proc)
    wanted = Counter(v for v in expect.where.values() if v is not None)
    assert received(fakes) == wanted
    with Session(engine) as s:
        assert not s.exec(select(ChatLink).where(ChatLink.address == "o-unfollowed")).one().active
