"""Inline keyboards and callback data of the resident bot.

Every CallbackData prefix here starts with "r" (the staff and admin routers own other prefixes).
Callback data is untrusted (a client can forge it), so it only names choices; who a subscription is
for is taken from the chat's own FSM data, never from the callback.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from aiogram.filters.callback_data import CallbackData
from aiogram.types import InlineKeyboardMarkup
from aiogram.utils.keyboard import InlineKeyboardBuilder


class MenuCb(CallbackData, prefix="rm"):
    """A main-menu topic (see MENU)."""

    topic: str


class PlaceCb(CallbackData, prefix="rp"):
    """Place picker: level "prov" (value = province name) or "loc" (value = locality id)."""

    level: str
    value: str


class FactCb(CallbackData, prefix="rf"):
    """Answer to a clarifying question: kind "cat" (value = category code, "none" = ordinary resident),
    "age" (value = an age taken from the pack's age rules) or "refund" (value = refund reason)."""

    kind: str
    value: str


class SubCb(CallbackData, prefix="rs"):
    """Reminder subscription after a status lookup: target "person", "household" or "no"."""

    target: str


# Menu topic -> button label. Labels are questions people ask, not policy text.
MENU: tuple[tuple[str, str], ...] = (
    ("amount", "交多少钱"),
    ("deadline", "什么时候交"),
    ("eligibility", "谁能参保"),
    ("benefit_start", "补交后何时报销"),
    ("newborn", "新生儿"),
    ("refund", "退费"),
    ("payment_info", "怎么交"),
    ("contacts", "联系电话"),
    ("status", "查询参保"),
    ("subscribe", "提醒我"),
)
TOPIC_LABELS = dict(MENU)

# Refund reasons the engine knows, with the words residents use for them.
REFUND_REASONS: tuple[tuple[str, str], ...] = (
    ("death", "参保人去世"),
    ("duplicate", "重复缴费"),
    ("employee_insurance", "参加了职工医保"),
    ("other_city", "在外地参加了居民医保"),
)


def _rows(builder: InlineKeyboardBuilder, width: int, count: int) -> None:
    builder.adjust(*([width] * max(1, (count + width - 1) // width)))


def menu_keyboard(*, with_place: bool = True) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    for topic, label in MENU:
        b.button(text=label, callback_data=MenuCb(topic=topic))
    if with_place:
        b.button(text="换个地方", callback_data=PlaceCb(level="start", value="-"))
    b.adjust(2)
    return b.as_markup()


def provinces_keyboard(provinces: Sequence[str]) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    for prov in provinces:
        b.button(text=prov, callback_data=PlaceCb(level="prov", value=prov))
    _rows(b, 2, len(provinces))
    return b.as_markup()


def localities_keyboard(choices: Iterable[tuple[str, str]]) -> InlineKeyboardMarkup:
    """choices: (locality id, label)."""
    b = InlineKeyboardBuilder()
    for loc_id, label in choices:
        b.button(text=label, callback_data=PlaceCb(level="loc", value=loc_id))
    b.button(text="返回选省份", callback_data=PlaceCb(level="start", value="-"))
    b.adjust(1)
    return b.as_markup()


def facts_keyboard(kind: str, choices: Iterable[tuple[str, str]], width: int = 2) -> InlineKeyboardMarkup:
    """choices: (value, label) for a clarifying question."""
    b = InlineKeyboardBuilder()
    for value, label in choices:
        b.button(text=label, callback_data=FactCb(kind=kind, value=value))
    b.adjust(width)
    return b.as_markup()


def subscribe_keyboard(has_household: bool, *, person: bool = True) -> InlineKeyboardMarkup:
    b = InlineKeyboardBuilder()
    if person:
        b.button(text="提醒此人缴费", callback_data=SubCb(target="person"))
    if has_household:
        b.button(text="提醒全家缴费", callback_data=SubCb(target="household"))
    b.button(text="不用了", callback_data=SubCb(target="no"))
    b.adjust(1)
    return b.as_markup()
