"""Multi-turn conversation tests written as YAML, run through the dialogue core.

Format (one file may hold several conversations):

    conversations:
      - name: wuhe-amount-then-dibao          # unique
        why: 二（一） 380; 二（二）2 低保 60     # the clauses the expectations rest on
        today: 2023-11-20                     # optional; default 2023-11-20
        turns:
          - say: 五河县今年交多少 最晚啥时候交
            expect: ["380", "12月31"]          # regexes; each must match the replies of this turn
            forbid: ["哪一类"]                  # regexes none of which may match
          - press: 特困                         # the choice whose label contains this text
            expect: ["不用交|全额|0"]

Placeholders {paid_id}, {paid_name}, {unpaid_id}, {unpaid_name} stand for 五河 residents the runner
puts in the registry (generated ID numbers). A driver is anything with `say(text)` and `press(label)`
returning the replies' text; `CoreChat` talks to `bot.conversation.handle` in-process.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import yaml

HERE = Path(__file__).resolve().parent
DEFAULT_TODAY = dt.date(2023, 11, 20)


class Driver(Protocol):
    def say(self, text: str) -> str: ...

    def press(self, label: str) -> str: ...


@dataclass
class Conversation:
    name: str
    turns: list[dict[str, Any]]
    source: str
    why: str = ""
    today: dt.date = DEFAULT_TODAY


@dataclass
class Result:
    conversation: Conversation
    failures: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def load(paths: Iterable[Path]) -> list[Conversation]:
    out: list[Conversation] = []
    for path in sorted(paths):
        data = yaml.safe_load(path.read_text("utf-8")) or {}
        for raw in data.get("conversations") or []:
            today = raw.get("today") or DEFAULT_TODAY
            if isinstance(today, str):
                today = dt.date.fromisoformat(today)
            out.append(Conversation(str(raw["name"]), list(raw["turns"]), path.name, str(raw.get("why") or ""),
                                    today))
    names = [c.name for c in out]
    dupes = {n for n in names if names.count(n) > 1}
    if dupes:
        raise ValueError(f"duplicate conversation names: {sorted(dupes)}")
    return out


def files(*subdirs: str) -> list[Path]:
    return [p for d in subdirs for p in sorted((HERE / d).glob("*.yaml"))]


def _fill(text: str, people: dict[str, str], *, pattern: bool = False) -> str:
    for key, value in people.items():
        text = text.replace("{" + key + "}", re.escape(value) if pattern else value)
    return text


def run(conv: Conversation, driver: Driver, people: dict[str, str]) -> Result:
    result = Result(conv)
    for n, turn in enumerate(conv.turns, start=1):
        if "say" in turn:
            said = _fill(str(turn["say"]), people)
            result.transcript.append(f"您：{said}")
            try:
                reply = driver.say(said)
            except Exception as exc:  # noqa: BLE001 - a crash is one more failure to report
                result.failures.append(f"turn {n}: {type(exc).__name__}: {exc}")
                return result
        else:
            label = str(turn["press"])
            result.transcript.append(f"（点）{label}")
            try:
                reply = driver.press(label)
            except Exception as exc:  # noqa: BLE001
                result.failures.append(f"turn {n}: {type(exc).__name__}: {exc}")
                return result
        result.transcript.append(reply)
        for pattern in turn.get("expect") or []:
            if not re.search(_fill(str(pattern), people, pattern=True), reply):
                result.failures.append(f"turn {n}: expected /{pattern}/")
        for pattern in turn.get("forbid") or []:
            if re.search(_fill(str(pattern), people, pattern=True), reply):
                result.failures.append(f"turn {n}: forbidden /{pattern}/")
    return result


class CoreChat:
    """A resident talking to `bot.conversation.handle` directly, choices shown as labels."""

    def __init__(self, deps: Any, chat_id: int, *, private: bool = True) -> None:
        from bot.conversation import DialogueState

        self.deps, self.chat_id, self.private = deps, chat_id, private
        self.state = DialogueState()
        self.choices: list[Any] = []

    def _send(self, **kwargs: Any) -> str:
        from bot.conversation import Incoming, handle

        out = handle(self.state, Incoming(address=str(self.chat_id), private=self.private, **kwargs), self.deps)
        self.state = out.state
        # `press` picks from the choices of the previous turn only.
        self.choices = [c for r in out.replies for c in r.all_choices()]
        return "\n".join(r.text + "".join(f"\n  [{c.label}]" for c in r.all_choices()) for r in out.replies)

    def say(self, text: str) -> str:
        return self._send(text=text)

    def press(self, label: str) -> str:
        found = [c for c in self.choices if label in c.label]
        if not found:
            raise AssertionError(f"no choice {label!r} in {[c.label for c in self.choices]}")
        return self._send(choice=found[0].value)
