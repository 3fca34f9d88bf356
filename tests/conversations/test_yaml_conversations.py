"""Every YAML conversation in cases/ (ours, one per kind of failure the dialogue must not repeat) and
dev/ (written blind from the documents) passes through the dialogue core. The held-out set in
heldout/ is only measured (score.py), never run here, so nobody tunes on it."""

from __future__ import annotations

import pytest
from runner import files, load, run

CONVERSATIONS = load(files("cases", "dev"))


@pytest.mark.parametrize("conv", CONVERSATIONS, ids=[c.name for c in CONVERSATIONS])
def test_conversation(conv, chat, world) -> None:
    from bot import clock

    _, people = world
    clock.set_today(conv.today)
    result = run(conv, chat(), people)
    assert result.ok, "\n".join(result.failures + ["--- transcript ---", *result.transcript])
