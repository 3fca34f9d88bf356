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


DEV_ROUNDS = load(files("dev2", "dev3"))
# Later blind rounds, tuned on but not all passing (some need clauses no pack models: cadre rewards,
# penalties): their pass rate must not fall below what it is now. Raise the floor when it rises.
DEV_ROUNDS_FLOOR = 0.85


def test_later_blind_rounds_keep_their_pass_rate(chat, world) -> None:
    from bot import clock

    _, people = world
    passed = []
    for conv in DEV_ROUNDS:
        clock.set_today(conv.today)
        passed.append(run(conv, chat(), people).ok)
    rate = sum(passed) / len(passed)
    assert rate >= DEV_ROUNDS_FLOOR, f"{sum(passed)}/{len(passed)} = {rate:.0%} < {DEV_ROUNDS_FLOOR:.0%}"
