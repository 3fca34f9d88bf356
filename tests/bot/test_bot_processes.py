"""Processes: two `yibao webhook` behind one URL share FSM state in Redis; the terminal chat over
stdin; a missing or malformed token."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
from e2e_support import ROOT, Conversation, base_env, expected_amount, free_port, stop, wait_http, yibao

from bot.fakeapi import FakeAPIClient
from bot.registry import ids

pytestmark = pytest.mark.slow


@pytest.mark.redis
async def test_two_webhook_processes_share_conversation_state_in_redis(demo_db, tmp_path) -> None:
    redis_url = os.environ.get("REDIS_URL_TEST")
    if not redis_url:
        pytest.skip("REDIS_URL_TEST not set (run scripts/test.sh or eval scripts/services.sh)")
    db_url, samples = demo_db
    number, name, _ = samples["taoyuan"][0]
    secret = uuid.uuid4().hex
    api_port = free_port()
    base = f"http://127.0.0.1:{api_port}"
    procs = [yibao("fake-api", "--port", str(api_port), env=base_env(db_url), log=tmp_path / "fake.log")]
    urls = []
    try:
        wait_http(f"{base}/_fake/stats", procs[0], tmp_path / "fake.log")
        for name_ in ("a", "b"):
            port = free_port()
            env = base_env(db_url, TELEGRAM_API_BASE=base, REDIS_URL=redis_url, WEBHOOK_SECRET=secret,
                           WEBHOOK_PORT=str(port))
            procs.append(yibao("webhook", env=env, log=tmp_path / f"{name_}.log"))
            wait_http(f"http://127.0.0.1:{port}/healthz", procs[-1], tmp_path / f"{name_}.log")
            urls.append(f"http://127.0.0.1:{port}/webhook")
        async with FakeAPIClient(base) as ctl:
            # The fake posts to A and B in turn, like a load balancer in front of the two processes.
            await ctl.set_webhooks(urls, secret_token=secret)
            conv = Conversation(ctl, 6000 + uuid.uuid4().int % 100_000)
            first = "\n".join(await conv.say(number))  # step 1 (process A): the ID alone -> asks the name
            assert ids.mask(number) in first and number not in first
            second = "\n".join(await conv.say(name))  # step 2 (process B) needs A's FSM state from Redis
            assert ids.mask(number) in second and name in second, second
            stats = await ctl.stats()
            assert stats["webhook_errors"] == 0
        logs = [(tmp_path / f"{n}.log").read_text() for n in ("a", "b")]
        assert all("is handled" in log for log in logs), "each process handled one step"
    finally:
        for p in procs:
            stop(p)


def test_terminal_chat_answers_from_stdin(demo_db) -> None:
    db_url, _ = demo_db
    figure, _ = expected_amount("wuhe", "dibao")
    env = base_env(db_url)
    env.pop("BOT_TOKEN")
    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "chat"], cwd=ROOT, env=env, input="五河县低保户交多少钱\n",
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"{figure}元" in out.stdout.replace(" ", ""), out.stdout
    assert "依据" in out.stdout


@pytest.mark.parametrize("token", ["", "not-a-token", "123456 :abc"])
def test_missing_or_malformed_token_exits_with_one_line(token: str, tmp_path) -> None:
    env = base_env(f"sqlite:///{tmp_path}/none.db", BOT_TOKEN=token)
    out = subprocess.run([sys.executable, "-m", "bot.cli", "run"], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 2
    lines = [line for line in (out.stdout + out.stderr).splitlines() if line.strip()]
    assert len(lines) == 1 and "BOT_TOKEN" in lines[0] and "Traceback" not in out.stderr
    assert not (tmp_path / "none.db").exists()  # refused before touching the database
