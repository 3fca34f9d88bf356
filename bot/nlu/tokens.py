"""jieba, loaded once and lazily, with our place and category words in its dictionary.

A private `jieba.Tokenizer` so the words we add never change segmentation for other code. Used
where a substring test is not enough: a lone 退 (refund) must not be read inside 退休, 退伍 or 退订.
Loading the dictionary takes about a second, so it happens on first use (or at `warm_up()`), and
only messages that contain 退 ever need it.
"""

from __future__ import annotations

import functools
import logging
from typing import Any

# Words that must stay whole so that 退 inside them is not read as "refund".
_KEEP_WHOLE = ("退休", "退伍", "退役", "退订", "退出", "退回", "退费", "退钱", "退款", "退保", "退还", "减退")


@functools.cache
def _tokenizer() -> Any:
    import jieba  # imported here: loading it is the slow part of the NLU's start-up

    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    from bot.nlu.places import place_words
    from bot.nlu.slots import category_words

    for word in (*place_words(), *category_words(), *_KEEP_WHOLE):
        tokenizer.add_word(word, freq=200_000)
    return tokenizer


def warm_up() -> None:
    """Load everything now (jieba's dictionary, the gazetteer) rather than on the first message."""
    _tokenizer()
    from bot.nlu.parse import parse

    parse("五河县低保户交多少钱")


def words(text: str) -> list[str]:
    """Dictionary segmentation (no HMM guessing of unknown words: fast and predictable)."""
    return _tokenizer().lcut(text, HMM=False)
