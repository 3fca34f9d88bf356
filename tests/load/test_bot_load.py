"""The bot under load: 300 new chats at once against the real `yibao run` (scheduler embedded), while a
reminder wave goes out through the outbox and a roster import writes to the same database.

Asserts what must hold whatever the dialogue's wording: no error reply, no "database is locked"
anywhere, every chat's place stored, the import complete, every reminder sent exactly once. No timings
(bench/bot_throughput.py measures those)."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import pytest
from load_support import (
    ERROR_MARKS,
    IMPORT_LOCALITY,
    PLACES,
    QUESTIONS,
    Inbox,
    all_handled,
    count_people,
    env,
    finished,
    fresh_pg_database,
    outbox_drained,
    prepare,
    problems_in,
    remembered_place,
    start,
    wait_polling,
)

from bot.fakeapi import FakeBotAPI

pytestmark = pytest.mark.slow

CHATS = 300
FIRST_CHAT = 100_000


async def _load(url: str, tmp: Path) -> None:
    from bot.registry import db

    prepared = prepare(url, tmp)
    engine = db.get_engine(url)
    api = FakeBotAPI()
    base = await api.start()
    environ = env(url, base)
    bot_log = tmp / "bot.log"
    bot = start(["run"], environ, bot_log)
    try:
        await wait_polling(api, bot, bot_log)
        inbox = Inbox(api, bot, bot_log)
        pump = asyncio.create_task(inbox.pump())
        places = list(PLACES)
        plan = {FIRST_CHAT + i: places[i % len(places)] for i in range(CHATS)}
        # Everything at once: the chats, the reminder wave being built (then sent by the embedded
        # sender), the roster import, and `campaign list` (a read-then-write that used to fail).
        clis = {name: start(args, environ, tmp / f"{name}.log") for name, args in {
            "campaign-run": ["campaign", "run", "wuhe"],
            "import": ["import", "roster", str(prepared.roster), "--locality", IMPORT_LOCALITY, "--quiet"],
            "campaign-list": ["campaign", "list"],
        }.items()}
        steps = {chat: ["/start", place, *QUESTIONS] for chat, place in plan.items()}
        await asyncio.gather(*(inbox.converse(chat, lines) for chat, lines in steps.items()))
        await all_handled(sum(len(lines) for lines in steps.values()), bot, bot_log)  # the last answers too
        codes = {name: await finished(proc) for name, proc in clis.items()}
        counts = await outbox_drained(engine, bot, bot_log)
        await asyncio.sleep(0.5)  # the pump's last look
        pump.cancel()

        cli_logs = {name: (tmp / f"{name}.log").read_text() for name in clis}
        assert codes == dict.fromkeys(clis, 0), cli_logs
        assert {name: problems_in(text) for name, text in cli_logs.items()} == dict.fromkeys(clis, [])

        apologies = {chat: t for chat in plan for t in inbox.texts[chat] if any(m in t for m in ERROR_MARKS)}
        assert apologies == {}
        assert all(len(inbox.texts[chat]) >= len(steps[chat]) for chat in plan)  # an answer to every message
        stored = {chat: remembered_place(engine, chat) for chat in plan}
        assert stored == {chat: PLACES[place] for chat, place in plan.items()}

        assert count_people(engine, IMPORT_LOCALITY) == prepared.roster_rows
        reminded = Counter(c.chat_id for c in api.sent if c.ok and c.method == "sendMessage"
                           and c.chat_id in set(prepared.subscribers))
        assert counts["sent"] > 0 and counts["failed"] == 0
        assert sum(reminded.values()) == counts["sent"] and set(reminded.values()) == {1}
    finally:
        bot.terminate()
        await finished(bot)
        await api.stop()
        engine.dispose()
    log = bot_log.read_text()
    assert problems_in(log) == [], log[-4000:]


async def test_300_new_chats_at_once_on_sqlite(tmp_path: Path) -> None:
    await _load(f"sqlite:///{tmp_path / 'load.db'}", tmp_path)


@pytest.mark.postgres
async def test_300_new_chats_at_once_on_postgresql(tmp_path: Path) -> None:
    with fresh_pg_database() as url:
        if url is None:
            pytest.skip("DATABASE_URL_PG not set (scripts/test.sh starts PostgreSQL)")
        await _load(url, tmp_path)
