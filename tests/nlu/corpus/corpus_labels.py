"""The label schema of the resident-message corpus: loading and checking entries.

One home for what a valid entry is, shared by split.py (which refuses to write a bad entry) and the
corpus test. The schema is the one in README.md; this module knows nothing of bot.nlu on purpose: the
corpus is written and checked independently of the rules it measures.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from bot.policy import gazetteer

CORPUS_DIR = Path(__file__).resolve().parent
DEV_FILE = CORPUS_DIR / "dev.yaml"
HELDOUT_FILE = CORPUS_DIR / "heldout" / "heldout.yaml"
VOCABULARY_FILE = CORPUS_DIR.parents[2] / "bot" / "policy" / "vocabulary.yaml"

INTENTS = (
    "amount", "deadline", "eligibility", "benefit_start", "newborn", "refund", "how_to_pay", "contact",
    "pay_first", "status", "subscribe", "unsubscribe", "reimbursement", "incentive", "set_place",
    "greeting", "thanks", "help", "unknown",
)
LOCALITIES = ("taoyuan", "wuhe", "tengzhou", "tanghe")
RELATIONS = (
    "self", "mother", "father", "parents", "spouse", "child", "grandchild", "grandparent", "sibling", "other",
)
STUDENT_KINDS = ("school", "vocational", "university")
REFUND_REASONS = ("death", "duplicate", "employee_insurance", "other_city")
DATE_SLOTS = ("birth_date", "paid_on", "died_on")
INT_SLOTS = {"age": (0, 120), "birth_year": (1900, 2023), "month": (1, 12), "amount": (1, 100_000)}
FLAG_SLOTS = ("migrant", "newborn", "hukou_elsewhere", "has_id", "dates_relative")
SLOT_ORDER = (
    "locality", "town", "village", "unknown_place", "categories", "not_categories", "relation", "age",
    "birth_year", "birth_date", "paid_on", "died_on", "dates_relative", "month", "amount", "migrant",
    "newborn", "student", "hukou_elsewhere", "refund_reason", "has_id",
)
# A run of 15 or more digits (spaces allowed between groups, an X as the check character) is an
# attempt at an ID number, whether or not it is a valid one.
_ID_ATTEMPT = re.compile(r"\d(?:\s?[\dXx]){14,}")


class LabelError(ValueError):
    """An entry that does not follow the schema; the message says which and why."""


def category_codes() -> frozenset[str]:
    return frozenset(yaml.safe_load(VOCABULARY_FILE.read_text(encoding="utf-8")))


def _places() -> tuple[dict[str, str], dict[str, str], frozenset[str]]:
    towns: dict[str, str] = {}
    villages: dict[str, str] = {}
    names: set[str] = set()
    for place in gazetteer():
        names.add(place.name)
        if place.kind == "town":
            towns[place.canonical] = place.locality_id
        elif place.kind == "village":
            villages[place.canonical] = place.locality_id
    return towns, villages, frozenset(names)


def normalized(text: str) -> str:
    """The form used to find duplicates: full-width folded, spaces dropped."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def mentions_id_number(text: str) -> bool:
    return bool(_ID_ATTEMPT.search(unicodedata.normalize("NFKC", text)))


class Checker:
    """Checks entries against the schema; built once because the gazetteer and vocabulary are read once."""

    def __init__(self) -> None:
        self.codes = category_codes()
        self.towns, self.villages, self.place_names = _places()

    def check(self, entry: Any) -> None:
        if not isinstance(entry, dict) or set(entry) - {"text", "intents", "slots"}:
            raise LabelError(f"an entry has exactly text, intents and optionally slots: {entry!r}")
        text = entry.get("text")
        if not isinstance(text, str) or not text.strip():
            raise LabelError(f"text must be a non-empty string: {entry!r}")
        intents = entry.get("intents")
        if not isinstance(intents, list) or not intents:
            raise LabelError(f"{text}: intents must be a non-empty list")
        for intent in intents:
            if intent not in INTENTS:
                raise LabelError(f"{text}: unknown intent {intent!r}")
        if len(set(intents)) != len(intents):
            raise LabelError(f"{text}: an intent is listed twice")
        slots = entry.get("slots", {})
        if not isinstance(slots, dict) or ("slots" in entry and not slots):
            raise LabelError(f"{text}: slots must be a non-empty mapping when present")
        for key, value in slots.items():
            self._check_slot(text, key, value, slots)
        if slots.get("has_id", False) != mentions_id_number(text):
            raise LabelError(f"{text}: has_id must be true exactly when the text holds an ID-like number")

    def _check_slot(self, text: str, key: str, value: Any, slots: dict[str, Any]) -> None:
        if key not in SLOT_ORDER:
            raise LabelError(f"{text}: unknown slot {key!r}")
        bad = LabelError(f"{text}: bad value for {key}: {value!r}")
        if key == "locality" and value not in LOCALITIES:
            raise bad
        if key == "town" and self.towns.get(value) != slots.get("locality"):
            raise LabelError(f"{text}: town {value!r} is not a task-table name of {slots.get('locality')}")
        if key == "village" and self.villages.get(value) != slots.get("locality"):
            raise LabelError(f"{text}: village {value!r} is not a task-table name of {slots.get('locality')}")
        if key == "unknown_place" and (not isinstance(value, str) or value in self.place_names):
            raise bad
        if key in ("categories", "not_categories") and (
            not isinstance(value, list) or not value or not set(value) <= self.codes
        ):
            raise bad
        if key == "relation" and value not in RELATIONS:
            raise bad
        if key == "student" and value not in STUDENT_KINDS:
            raise bad
        if key == "refund_reason" and value not in REFUND_REASONS:
            raise bad
        if key in DATE_SLOTS and not isinstance(value, dt.date):
            raise bad
        if key in INT_SLOTS:
            low, high = INT_SLOTS[key]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise bad
        if key in FLAG_SLOTS and value is not True:
            raise LabelError(f"{text}: {key} is written only when true")
        if key == "dates_relative" and not any(d in slots for d in DATE_SLOTS):
            raise LabelError(f"{text}: dates_relative needs a date slot")


def load(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    entries = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    if not isinstance(entries, list):
        raise LabelError(f"{path}: the file must hold a list of entries")
    return entries


def canonical(entry: dict[str, Any]) -> dict[str, Any]:
    """The entry with its keys in the documented order (text, intents, slots in SLOT_ORDER)."""
    out: dict[str, Any] = {"text": entry["text"], "intents": list(entry["intents"])}
    slots = entry.get("slots") or {}
    if slots:
        out["slots"] = {key: slots[key] for key in SLOT_ORDER if key in slots}
    return out
