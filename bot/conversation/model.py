"""What goes into the dialogue and what comes out of it, with no messenger in sight.

An adapter (Telegram handlers, the WeChat callback, the terminal) turns its update into an `Incoming`,
calls `bot.conversation.handle`, and renders each `Reply`: the text, and the `choices` as whatever the
channel offers (inline buttons, numbered lines). Choice values are short ASCII-prefixed strings that the
core alone interprets; an adapter passes them back untouched when the resident picks one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.conversation.state import DialogueState


@dataclass(frozen=True)
class Choice:
    label: str  # what the resident sees, Chinese
    value: str  # what comes back in Incoming.choice (at most 60 bytes, fits Telegram's callback data)


@dataclass(frozen=True)
class Reply:
    text: str
    choices: tuple[tuple[Choice, ...], ...] = ()  # rows of choices

    def all_choices(self) -> list[Choice]:
        return [c for row in self.choices for c in row]


@dataclass(frozen=True)
class Incoming:
    """One message from a resident: typed text, or the value of a choice they picked."""

    text: str | None = None
    choice: str | None = None
    channel: str = "telegram"
    address: str = ""  # the chat on that channel (Telegram chat id, WeChat openid) as a string
    user_id: str | None = None
    private: bool = True  # a one-to-one chat; personal data is never shown elsewhere


@dataclass
class Outcome:
    replies: list[Reply]
    state: DialogueState
    # The adapter should delete the resident's message where it can (it held an ID number).
    delete_incoming: bool = False
    # Audit and place writes already happened (committed) inside `handle`; these are for logs/tests.
    events: list[str] = field(default_factory=list)
