"""The importers' ID shortcuts (values.IdChecker: per value and per chunk with numpy) accept exactly
what ids.validate accepts, on valid numbers and on every kind of near miss."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from bot import clock
from bot.registry import ids
from bot.registry.importers.values import IdChecker

TODAY = dt.date(2023, 11, 20)
EDGE_DATES = [dt.date(1900, 1, 1), dt.date(1899, 12, 31), TODAY, TODAY + dt.timedelta(days=1),
              dt.date(2000, 2, 29), dt.date(1996, 2, 29), dt.date(2023, 12, 31)]


def _numbers(rng: random.Random, n: int) -> list[str]:
    out = []
    for i in range(n):
        born = EDGE_DATES[i % len(EDGE_DATES)] if i % 5 == 0 else dt.date(1900, 1, 1) + dt.timedelta(
            days=rng.randrange(0, 45000))
        body = f"{rng.randrange(110000, 660000)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = ids.with_check_digit(body)
        kind = rng.randrange(12)
        if kind == 0:
            number = number[:-1] + rng.choice("0123456789Xx")
        elif kind == 1:
            k = rng.randrange(17)
            number = number[:k] + str((int(number[k]) + rng.randrange(1, 10)) % 10) + number[k + 1 :]
        elif kind == 2:
            number = number[:10] + rng.choice(["1300", "0230", "0229", "0431", "0000", "1232"]) + number[14:]
            number = ids.with_check_digit(number[:17])
        elif kind == 3:
            number = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        elif kind == 4:
            number = number[:8] + "٣" + number[9:]  # an Arabic-Indic digit
        elif kind == 5:
            number = number + rng.choice("0X ")
        elif kind == 6:
            number = number[:6] + "A" + number[7:]
        elif kind == 7:
            number = number[:6] + number[8:17]  # the 15-digit legacy form: valid, but upgraded
        out.append(number)
    return out


@pytest.fixture()
def checker() -> IdChecker:
    clock.set_today(TODAY)
    yield IdChecker()
    clock.set_today(None)


def test_shortcuts_agree_with_ids_validate(checker: IdChecker) -> None:
    raws = _numbers(random.Random(13), 30_000)
    block = checker.certainly_valid(raws).tolist()
    accepted = 0
    for raw, settled in zip(raws, block, strict=True):
        truth = ids.validate(raw)
        number, reason = checker.check(raw)
        assert (number, bool(reason)) == ((truth.number, False) if truth.ok else ("", True)), raw
        plain = truth.ok and truth.number == raw
        assert settled == plain, raw  # never wider than validate, and complete on plain numbers
        accepted += plain
    assert 5_000 < accepted < 25_000  # the sample really holds both kinds


def test_a_chunk_with_odd_values_is_settled_row_by_row(checker: IdChecker) -> None:
    good = ids.with_check_digit("34032219800101001")
    raws = [good, " " + good, "", good.lower(), good + "1", "３" + good[1:], good]
    assert checker.certainly_valid(raws).tolist() == [True, False, False, good[-1] != "X", False, False, True]
