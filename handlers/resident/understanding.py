"""What a resident's message says: NLU parse (bot.nlu) mapped onto the bot's topics, cached per text.

The NLU owns the language; this module only maps its intent names onto what the resident routers
answer, and offers aiogram filters so each router takes the messages of its own concern.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from aiogram.filters import Filter
from aiogram.types import Message

from handlers.resident.asking import TOPICS, facts_from_slots

log = logging.getLogger(__name__)

# NLU intent name -> topic. Several spellings so the mapping survives small renames in the NLU.
_INTENT_TOPIC = {
    "amount": "amount", "how_much": "amount",
    "deadline": "deadline", "when": "deadline", "payment_period": "deadline",
    "eligibility": "eligibility", "who_can_enroll": "eligibility", "enroll_where": "eligibility",
    "benefit_start": "benefit_start", "late_payment": "benefit_start",
    "newborn": "newborn",
    "refund": "refund",
    "payment_info": "payment_info", "how_to_pay": "payment_info", "payment_channels": "payment_info",
    "where_to_pay": "payment_info", "channels": "payment_info",
    "contacts": "contacts", "contact": "contacts", "phone": "contacts",
    "pay_first": "pay_first", "explain_pay_first": "pay_first",
    "summary": "summary", "policy_summary": "summary",
    "status": "status", "check_status": "status", "lookup": "status",
    "subscribe": "subscribe", "remind": "subscribe",
    "unsubscribe": "unsubscribe", "stop": "unsubscribe",
    "set_place": "set_place", "place": "set_place", "parse_place": "set_place",
    "greeting": "greeting", "hello": "greeting",
    "menu": "menu", "help": "menu",
}


@dataclass(frozen=True)
class Understood:
    topic: str | None  # a TOPICS entry, or status/subscribe/unsubscribe/set_place/greeting/menu, or None
    loc: str | None  # locality named in the text (not the profile's)
    town: str | None = None
    village: str | None = None
    name: str | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    confidence: float = 0.0
    place_exact: bool = True  # False when the NLU read the place through a typo


def _slot(slots: Any, key: str) -> Any:
    return slots.get(key) if isinstance(slots, dict) else getattr(slots, key, None)


@lru_cache(maxsize=2048)
def _parse(text: str) -> Understood:
    try:
        from bot.nlu import parse

        parsed = parse(text)
    except Exception:  # noqa: BLE001 - a parser failure must end in the menu, never in silence
        log.exception("NLU failed on a message of %d characters", len(text))
        return Understood(topic=None, loc=None)
    slots = getattr(parsed, "slots", None) or {}
    intent = str(getattr(parsed, "intent", "") or "")
    topic = _INTENT_TOPIC.get(intent)
    facts = facts_from_slots(slots)
    for key in ("town", "village"):
        if _slot(slots, key):
            facts[key] = _slot(slots, key)
    return Understood(
        topic=topic,
        loc=_slot(slots, "locality"),
        town=_slot(slots, "town"),
        village=_slot(slots, "village"),
        name=_slot(slots, "name"),
        facts=facts,
        confidence=float(getattr(parsed, "confidence", 0.0) or 0.0),
        place_exact=bool(_slot(slots, "place_exact") if _slot(slots, "place_exact") is not None else True),
    )


_CLEAN = re.compile(r"\s+")


def understand(text: str | None) -> Understood:
    """Parse without a default locality: the profile's place is applied by the caller, so the cache
    is shared by every chat."""
    return _parse(_CLEAN.sub(" ", (text or "").strip())[:500])


class Says(Filter):
    """Passes text messages whose topic is one of `topics`; hands the parse on as `understood`."""

    def __init__(self, *topics: str) -> None:
        self.topics = set(topics)

    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        if not message.text or message.text.startswith("/"):
            return False
        u = understand(message.text)
        return {"understood": u} if u.topic in self.topics else False


QUESTION_TOPICS = frozenset(TOPICS)
