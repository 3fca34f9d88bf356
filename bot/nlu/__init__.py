"""Understanding residents' messages offline: intent and slots (place, categories, age, dates, ...).

    from bot.nlu import parse, parse_place, normalize, INTENTS
    p = parse("五河县低保户交多少钱")      # Parsed(intent="amount", confidence=..., slots=Slots(...))
    p.slots.locality, p.slots.categories   # "wuhe", ("dibao",)

Built on jieba (tokens, place tags), rapidfuzz (typos in places and key phrases), pypinyin (names
misheard by voice input: 藤州 → 滕州, 地保户 → 低保户) and zhconv (traditional → simplified); place
names come from `bot.policy.gazetteer()`, category words from the policy vocabulary, places we do not
cover from python-stdnum's division table. No network, no model download. What each slot reads:
docs/nlu.md.
"""

from __future__ import annotations

from bot.nlu.intents import INTENTS
from bot.nlu.normalize import normalize
from bot.nlu.parse import Parsed, Slots, parse
from bot.nlu.places import PlaceMatch, parse_place


def warm_up() -> None:
    """Load everything now (jieba's dictionary and its part-of-speech table, the gazetteer, pinyin, the
    intent classifier) rather than on the first message. Here, not in a submodule: every reader must be
    importable first, and no submodule needs to import the parser back."""
    from bot.nlu import classifier, tokens, unknown_places

    tokens.tokenizer()
    unknown_places.warm_up()
    classifier.model()
    parse("五河县低保户交多少钱")


__all__ = ["INTENTS", "Parsed", "PlaceMatch", "Slots", "normalize", "parse", "parse_place", "warm_up"]
