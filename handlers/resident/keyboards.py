"""Neutral choices from the dialogue core as Telegram inline keyboards, and back.

The callback data is the choice value behind one short prefix; staff and admin routers own other
prefixes. It is untrusted (a client can forge it): the core checks every value before using it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup

from bot.conversation import Choice

PREFIX = "d|"


def markup(rows: Sequence[Sequence[Choice]]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return _markup(tuple(tuple(row) for row in rows if row))


@functools.lru_cache(maxsize=512)
def _markup(rows: tuple[tuple[Choice, ...], ...]) -> InlineKeyboardMarkup:
    """Built once per set of choices: the same menus recur in nearly every reply, and building aiogram's
    models button by button is a good part of a reply's CPU. Never mutated after construction."""
    return InlineKeyboardMarkup(inline_keyboard=[
        [InlineKeyboardButton(text=c.label, callback_data=PREFIX + c.value) for c in row] for row in rows
    ])


def choice_of(callback_data: str | None) -> str | None:
    """The choice value in a button's callback data, or None when the button is not the dialogue's."""
    if not callback_data or not callback_data.startswith(PREFIX):
        return None
    return callback_data[len(PREFIX):]
