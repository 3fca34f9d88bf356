"""`yibao chat --channel wechat`: the WeChat adapter in the terminal.

Each line goes through the same path as a callback (wechat.dialogue: numbered choices, per-openid
state, the dialogue core) and the answer prints as the service account would show it: plain text
with numbered lines. A number picks a choice, as in WeChat. No WeChat account or network is needed.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO

from bot.registry.chats import WECHAT, Chat
from bot.settings import Settings
from wechat.messages import Inbound

OPENID = "o-terminal-user"
EXIT_WORDS = {"exit", "quit", "q", "退出", "再见"}


async def run_terminal(settings: Settings, *, locality: str | None = None, stdin: TextIO | None = None,
                       out: TextIO | None = None) -> None:
    from bot.registry import profiles
    from bot.registry.db import open_db
    from bot.registry.ids import mask_in_text
    from bot.terminal import _prepare_data
    from wechat.dialogue import WeChatDialogue
    from wechat.store import DialogueStore

    stdin, out = stdin or sys.stdin, out or sys.stdout
    engine = await asyncio.to_thread(open_db, settings)
    await asyncio.to_thread(_prepare_data, engine, out)
    if locality is not None:
        await asyncio.to_thread(profiles.remember_place, Chat(WECHAT, OPENID), locality, None, engine=engine)
    dialogue = WeChatDialogue(settings, engine, DialogueStore(engine))
    interactive = stdin.isatty()
    out.write("医保助手（微信公众号版，终端试用）：输入问题后回车；出现数字选项时回复数字；Ctrl+D 或“退出”结束。\n")
    out.flush()
    events = [Inbound("gh_terminal", OPENID, int(time.time()), "event", event="subscribe")]
    while True:
        for msg in events:
            for text in await dialogue.answer(msg):
                out.write(f"公众号：{text}\n\n")
        events = []
        if interactive:
            out.write("您：")
        out.flush()
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        text = line.strip()
        if text.lower() in EXIT_WORDS:
            break
        if not text:
            continue
        if not interactive:
            out.write(f"您：{mask_in_text(text)}\n")  # the transcript never keeps an ID number
        events = [Inbound("gh_terminal", OPENID, int(time.time()), "text", content=text)]
    if interactive:
        out.write("\n")
    out.flush()
