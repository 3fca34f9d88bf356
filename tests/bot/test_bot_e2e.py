"""End to end: the real `yibao run` process long-polls the fake Bot API over HTTP.

Figures are checked against the policy engine and the registry, not typed in here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from e2e_support import (
    LOCALITIES,
    ROOT,
    Conversation,
    base_env,
    expected_amount,
    free_port,
    money,
    stop,
    wait_http,
    wait_polling,
    yibao,
)

from bot.conversation import render
from bot.fakeapi import FakeAPIClient
from bot.registry import ids

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def running_bot(demo_db, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    db_url, _ = demo_db
    tmp: Path = tmp_path_factory.mktemp("run")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    api_log, bot_log = tmp / "fake.log", tmp / "bot.log"
    api = yibao("fake-api", "--port", str(port), env=base_env(db_url), log=api_log)
    bot = None
    try:
        wait_http(f"{base}/_fake/stats", api, api_log)
        bot = yibao("run", "--no-scheduler", env=base_env(db_url, TELEGRAM_API_BASE=base), log=bot_log)
        wait_polling(base, bot, bot_log)  # ready once it polls
        yield base
    finally:
        if bot is not None:
            stop(bot)
            log = bot_log.read_text()
            # No update may have failed (the error guard logs each one it catches).
            assert "ERROR handlers.errors" not in log, log[-4000:]
        stop(api)


@pytest.mark.parametrize("loc", LOCALITIES)
async def test_conversation_per_locality_by_buttons(running_bot: str, loc: str) -> None:
    figure, pack = expected_amount(loc, "dibao")
    dibao_name = next(c.name_zh for c in pack.categories if c.code == "dibao")
    async with FakeAPIClient(running_bot) as ctl:
        conv = Conversation(ctl, 5000 + LOCALITIES.index(loc))
        greeting = await conv.say("/start")
        assert greeting and all(t for t in greeting)
        await conv.click(pack.locality.name_zh)
        await conv.click("交多少钱")
        answer = "\n".join(await conv.click(render.short_category(dibao_name)))
        assert f"{figure}元" in answer.replace(" ", ""), answer
        lines = answer.splitlines()
        assert lines[-1].startswith("依据"), answer
        assert len(lines) <= 7


async def test_free_text_question_names_the_place(running_bot: str) -> None:
    figure, _ = expected_amount("wuhe", "dibao")
    async with FakeAPIClient(running_bot) as ctl:
        conv = Conversation(ctl, 5100)
        answer = "\n".join(await conv.say("五河县低保户交多少钱"))
        assert f"{figure}元" in answer.replace(" ", ""), answer


async def test_status_check_wrong_id_wrong_name_and_found(running_bot: str, demo_db) -> None:
    _, samples = demo_db
    number, name, paid = samples["wuhe"][0]
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    reason = ids.validate(bad).reason_zh
    async with FakeAPIClient(running_bot) as ctl:
        conv = Conversation(ctl, 5200)
        reply = "\n".join(await conv.say(f"{bad} {name}"))
        assert reason in reply
        assert bad not in reply and number not in reply
        assert any(c["method"] == "deleteMessage" and c["status"] == 200 for c in conv.last)

        reply = "\n".join(await conv.say(f"{number} 王不对"))
        assert ids.mask(number) in reply and number not in reply
        assert "没有查到" in reply and name not in reply

        from sqlmodel import Session

        from bot.registry.db import get_engine
        from bot.registry.lookup import status

        with Session(get_engine(demo_db[0])) as s:
            truth = status(s, number, name)
        assert truth.found
        reply = "\n".join(await conv.say(f"{number} {name}"))
        assert ids.mask(number) in reply and number not in reply
        if truth.enrolled:
            assert f"{money(truth.amount)} 元" in reply or f"{money(truth.amount)}元" in reply, reply


async def test_sixth_lookup_in_ten_minutes_is_politely_refused(running_bot: str, demo_db) -> None:
    from bot.settings import Settings

    limit = Settings().lookup_limit
    _, samples = demo_db
    number, name, _ = samples["tanghe"][0]
    async with FakeAPIClient(running_bot) as ctl:
        conv = Conversation(ctl, 5300)
        for _ in range(limit):
            reply = "\n".join(await conv.say(f"{number} {name}"))
            assert "频繁" not in reply and ids.mask(number) in reply
        reply = "\n".join(await conv.say(f"{number} {name}"))
        assert "频繁" in reply and f"{limit}次" in reply
        assert number not in reply


# A few YAML conversations (tests/conversations/cases) through the real process and the fake Bot API:
# the adapter and the in-process core must give the same answers.
E2E_CONVERSATIONS = ("two-questions-in-one", "follow-up-place-keeps-category", "hospital-reimbursement-honest",
                     "stated-amount-checked-taoyuan")


@pytest.mark.parametrize("name", E2E_CONVERSATIONS)
async def test_yaml_conversation_through_the_real_process(running_bot: str, name: str) -> None:
    import re
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "conversations"))
    from runner import files, load

    conv = next(c for c in load(files("cases")) if c.name == name)
    async with FakeAPIClient(running_bot) as ctl:
        chat = Conversation(ctl, 5400 + E2E_CONVERSATIONS.index(name))
        for n, turn in enumerate(conv.turns, start=1):
            reply = "\n".join(await chat.say(turn["say"]) if "say" in turn else await chat.click(turn["press"]))
            for pattern in turn.get("expect") or []:
                assert re.search(pattern, reply), (name, n, pattern, reply)
            for pattern in turn.get("forbid") or []:
                assert not re.search(pattern, reply), (name, n, pattern, reply)
