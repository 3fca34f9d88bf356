"""Words that sound alike: pinyin without tones, folded over the confusions of voice input and dialect.

Voice input writes what it hears, so a resident who says 低保户 may get 地保户, and 滕州 may come
out as 藤州. Two characters "sound alike" when one of their readings is the same after folding
(tones dropped; n/l, zh/z, ch/c, sh/s, f/h, r/l and in/ing, en/eng, an/ang merged, as many
northern and central speakers and their phones' recognisers do). A `SoundIndex` finds, in any
text, windows that sound like one of its words while keeping at least half of that word's
characters, so an unrelated word that merely rhymes (谈和 for 唐河, 有福 for 优抚) is never taken.

pypinyin is imported on first use, without its phrase dictionary: we look characters up one at a
time, where phrases never apply, and skipping them cuts its import from ~120 ms to ~30 ms.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("r", "l"), ("f", "h"))
_FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"))
_MAX_READINGS = 32  # combinations of heteronym readings kept per indexed word


def fold(syllable: str) -> str:
    """A toneless pinyin syllable with the confusable initials and finals merged (zhang → zan)."""
    for old, new in _INITIALS:
        if syllable.startswith(old):
            syllable = new + syllable[len(old) :]
            break
    for old, new in _FINALS:
        if syllable.endswith(old):
            return syllable[: -len(old)] + new
    return syllable


@functools.cache
def _pinyin() -> Any:
    # Set before the import: the phrase dictionary is loaded (and copied) at import time.
    os.environ.setdefault("PYPINYIN_NO_PHRASES", "1")
    os.environ.setdefault("PYPINYIN_NO_DICT_COPY", "1")
    import pypinyin

    return pypinyin


@functools.lru_cache(maxsize=16384)
def readings(char: str) -> frozenset[str]:
    """Folded readings of one character; empty for anything that is not a Chinese character."""
    if not ("\u4e00" <= char <= "\u9fff"):
        return frozenset()
    pypinyin = _pinyin()
    found = pypinyin.pinyin(char, style=pypinyin.Style.NORMAL, heteronym=True, errors=lambda _: [[]])
    return frozenset(fold(s) for group in found for s in group if s and s.isalpha())


def sounds_alike(a: str, b: str) -> bool:
    """Same length and every character pair shares a folded reading (藤州 ~ 滕州, 地保 ~ 低保)."""
    return len(a) == len(b) and all(readings(x) & readings(y) for x, y in zip(a, b, strict=True))


def _keys(word: str) -> list[tuple[str, ...]]:
    per_char = [sorted(readings(ch)) for ch in word]
    if not all(per_char):
        return []
    return [tuple(k) for k in itertools.islice(itertools.product(*per_char), _MAX_READINGS)]


@dataclass(frozen=True)
class SoundHit:
    start: int
    end: int
    written: str  # the window as the resident wrote it
    words: tuple[str, ...]  # the indexed words it sounds like (more than one: ambiguous)


class SoundIndex:
    """Indexed words (two characters or more) looked up by how a window of text sounds."""

    def __init__(self, words: Iterable[str]) -> None:
        self._by_key: dict[tuple[str, ...], set[str]] = {}
        self._lengths: set[int] = set()
        self._first: set[str] = set()
        for word in words:
            if len(word) < 2:
                continue
            for key in _keys(word):
                self._by_key.setdefault(key, set()).add(word)
                self._first.add(key[0])
                self._lengths.add(len(word))

    def find(self, text: str, taken: Sequence[tuple[int, int]] = ()) -> list[SoundHit]:
        """Windows of `text` that sound like an indexed word without being it, keeping at least half
        its characters; windows overlapping `taken` spans (already read exactly) are skipped."""
        if not self._by_key or not text:
            return []
        blocked = [False] * len(text)
        for start, end in taken:
            for i in range(max(0, start), min(len(text), end)):
                blocked[i] = True
        sounds = [readings(ch) for ch in text]
        hits: list[SoundHit] = []
        for start, first in enumerate(sounds):
            if blocked[start] or not (first & self._first):
                continue
            for length in self._lengths:
                end = start + length
                if end > len(text) or any(blocked[start:end]):
                    continue
                window = text[start:end]
                matched = self._lookup(sounds[start:end])
                close = tuple(
                    sorted(w for w in matched if w != window and _kept(w, window) >= math.ceil(length / 2))
                )
                if close and window not in matched:
                    hits.append(SoundHit(start, end, window, close))
        return hits

    def _lookup(self, sounds: Sequence[frozenset[str]]) -> set[str]:
        if not all(sounds):
            return set()
        found: set[str] = set()
        for key in itertools.islice(itertools.product(*(sorted(s) for s in sounds)), _MAX_READINGS):
            found |= self._by_key.get(key, set())
        return found


def _kept(word: str, window: str) -> int:
    return sum(a == b for a, b in zip(word, window, strict=True))
