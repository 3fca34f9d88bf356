"""Scoring the phrasing table: one place for the test and for anyone re-measuring by hand."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from bot.nlu import parse

TABLE = Path(__file__).with_name("phrasings.yaml")
# Compared on every phrasing (absent means "none"): a place or category the resident did not say
# is as wrong as one missed. The other slots are compared only where the table lists them.
ALWAYS = {"locality": None, "town": None, "village": None, "categories": []}


@dataclass(frozen=True)
class Outcome:
    text: str
    expected_intent: str
    got_intent: str
    wrong_slots: dict[str, tuple[Any, Any]]  # slot -> (expected, got)

    @property
    def ok(self) -> bool:
        return self.expected_intent == self.got_intent and not self.wrong_slots


def load() -> dict[str, list[dict[str, Any]]]:
    return yaml.safe_load(TABLE.read_text("utf-8"))


def _same(key: str, expected: Any, got: Any) -> bool:
    if key == "categories":
        return set(expected or []) == set(got or [])
    if key == "dates":
        return [d if isinstance(d, dt.date) else dt.date.fromisoformat(d) for d in expected] == list(got)
    if key == "birth_date":
        return (expected if isinstance(expected, dt.date) else dt.date.fromisoformat(expected)) == got
    if key == "amount":
        return got is not None and Decimal(str(expected)) == got
    return expected == got


def score(entry: dict[str, Any]) -> Outcome:
    parsed = parse(entry["text"])
    wrong: dict[str, tuple[Any, Any]] = {}
    expected = {**ALWAYS, **{k: v for k, v in entry.items() if k not in ("text", "intent")}}
    for key, want in expected.items():
        got = getattr(parsed.slots, key)
        if not _same(key, want, got):
            wrong[key] = (want, got)
    return Outcome(entry["text"], entry["intent"], parsed.intent, wrong)


def accuracy(outcomes: list[Outcome]) -> float:
    return sum(o.ok for o in outcomes) / len(outcomes) if outcomes else 0.0


def report(name: str, outcomes: list[Outcome], show_failures: bool = True) -> str:
    lines = [f"{name}: {accuracy(outcomes):.1%} ({sum(o.ok for o in outcomes)}/{len(outcomes)})"]
    failures = [o for o in outcomes if not o.ok]
    if failures and show_failures:
        confusion = Counter(
            (o.expected_intent, o.got_intent) for o in failures if o.expected_intent != o.got_intent
        )
        if confusion:
            lines.append(
                "  intent confusions (expected -> got: count): "
                + ", ".join(f"{e}->{g}: {n}" for (e, g), n in confusion.most_common())
            )
        slot_errors = Counter(k for o in failures for k in o.wrong_slots)
        if slot_errors:
            lines.append("  wrong slots: " + ", ".join(f"{k}: {n}" for k, n in slot_errors.most_common()))
        for o in failures:
            detail = "; ".join(f"{k} want {w!r} got {g!r}" for k, (w, g) in o.wrong_slots.items())
            lines.append(f"  ✗ {o.text} | intent want {o.expected_intent} got {o.got_intent} | {detail}")
    return "\n".join(lines)
