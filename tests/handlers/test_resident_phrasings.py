"""Every phrasing of the NLU table sent to the bot: never silence, never the error apology, never a
full ID number echoed, and every reply within the line limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.conversation import render
from bot.registry import ids

PHRASINGS = Path(__file__).resolve().parents[1] / "nlu" / "phrasings.yaml"


def phrasings() -> list[str]:
    if not PHRASINGS.exists():
        return []
    data = yaml.safe_load(PHRASINGS.read_text(encoding="utf-8"))
    texts: list[str] = []
    for group in data.values():
        texts += [str(item["text"]) for item in group]
    return texts


TEXTS = phrasings()


@pytest.mark.skipif(not TEXTS, reason="the NLU phrasing table is not in this tree")
@pytest.mark.parametrize("home", ["wuhe", "tengzhou"])
async def test_every_phrasing_gets_a_sound_reply(talk: Any, home: str) -> None:
    from handlers.middlewares import SORRY_TEXT

    c = talk(800)
    for i, text in enumerate(TEXTS):
        if i % 25 == 0:
            await c.say("/start")
            await c.say(home)
        replies = await c.say(text)
        assert replies, f"no reply to {text!r}"
        for r in replies:
            assert SORRY_TEXT not in r, f"{text!r} failed inside a handler"
            assert len(render.body_lines(r)) <= render.MAX_LINES, (text, r)
            for number in ids.find_ids(text):
                assert number not in r
