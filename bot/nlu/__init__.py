"""Understanding residents' messages offline: intent and slots (place, categories, age, dates, ...).

    from bot.nlu import parse, parse_place, normalize, INTENTS
    p = parse("五河县低保户交多少钱")      # Parsed(intent="amount", confidence=..., slots=Slots(...))
    p.slots.locality, p.slots.categories   # "wuhe", ("dibao",)

Built on jieba (tokens, person names), rapidfuzz (typos in places and key phrases) and zhconv
(traditional → simplified); place names come from `bot.policy.gazetteer()`, category words from
the policy vocabulary. No network, no model download.
"""

from __future__ import annotations

from bot.nlu.intents import INTENTS
from bot.nlu.normalize import normalize
from bot.nlu.parse import Parsed, Slots, parse
from bot.nlu.places import PlaceMatch, parse_place
from bot.nlu.tokens import warm_up

__all__ = ["INTENTS", "Parsed", "PlaceMatch", "Slots", "normalize", "parse", "parse_place", "warm_up"]
