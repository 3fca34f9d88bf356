"""jieba, loaded once and lazily, with our place and category words in its dictionary.

A private `jieba.Tokenizer` so the words we add never change segmentation for other code. Used
where a substring test is not enough: a lone 退 (refund) must not be read inside 退休, 退伍 or 退订,
and a near spelling must not be read inside an ordinary word (桃源 in 世外桃源, 无保 in 无保险).
Also the part-of-speech tags that find places we do not cover (unknown_places.py). Loading the
dictionary takes about a second, so it happens on first use or, in the bot, at `warm_up()`.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

# Words that must stay whole so that 退 inside them is not read as "refund".
_KEEP_WHOLE = ("退休", "退伍", "退役", "退订", "退出", "退回", "退费", "退钱", "退款", "退保", "退还", "减退")


@functools.cache
def tokenizer() -> Any:
    import jieba  # imported here: loading it is the slow part of the NLU's start-up

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    from bot.nlu.categories import category_words
    from bot.nlu.places import place_words

    for word in (*place_words(), *category_words(), *_KEEP_WHOLE):
        tokenizer.add_word(word, freq=200_000)
    return tokenizer


def words(text: str) -> list[str]:
    """Dictionary segmentation (no HMM guessing of unknown words: fast and predictable)."""
    return list(_segments(text))


@functools.lru_cache(maxsize=256)
def _segments(text: str) -> tuple[str, ...]:
    return tuple(tokenizer().lcut(text, HMM=False))


def inside_other_word(text: str, start: int, end: int) -> bool:
    """True when text[start:end] is part of a dictionary word that reaches outside it: a word of
    two characters or more that crosses its edge or contains it (世外桃源 around 桃源)."""
    position = 0
    for word in _segments(text):
        w_start, w_end = position, position + len(word)
        position = w_end
        if w_end <= start or w_start >= end or len(word) < 2:
            continue
        if w_start < start or w_end > end:
            return True
    return False
