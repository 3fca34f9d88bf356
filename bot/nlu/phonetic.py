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
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("r", "l"), ("f", "h"))
_FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"))
_MAX_KEYS = 64  # reading combinations per word or window (heteronyms: 长 cháng/zhǎng, 和 hé/huó/...)


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


@dataclass(frozen=True)
class SoundHit:
    start: int
    end: int
    written: str  # the window as the resident wrote it
    words: tuple[str, ...]  # the indexed words it sounds like (more than one: ambiguous)


class SoundIndex:
    """Indexed words (two characters or more) looked up by how a window of text sounds.

    A near spelling keeps at least one character of its word in place, so the windows worth
    hearing are those a shared character implies (保 at offset 1 of a three-character word puts a
    window one character to its left); each is looked up once by its folded readings, whatever
    the number of words it could be. A message with none of the words' characters costs one
    dictionary lookup per character.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self._by_sound: dict[tuple[str, ...], set[str]] = {}
        # character -> (offset, length) -> per position, every reading a word there can have: a
        # window whose characters miss one of these cannot sound like any of those words.
        self._windows: dict[str, dict[tuple[int, int], list[set[str]]]] = {}
        self._words: set[str] = set()
        for word in words:
            sounds = [readings(ch) for ch in word]
            if len(word) < 2 or not all(sounds) or word in self._words:
                continue
            self._words.add(word)
            for key in itertools.islice(itertools.product(*sounds), _MAX_KEYS):
                self._by_sound.setdefault(key, set()).add(word)
            for offset, ch in enumerate(word):
                heard = self._windows.setdefault(ch, {}).setdefault((offset, len(word)), [set() for _ in word])
                for position, sound in enumerate(sounds):
                    heard[position] |= sound

    def find(self, text: str, taken: Sequence[tuple[int, int]] = ()) -> list[SoundHit]:
        """Windows of `text` that sound like an indexed word without being one, keeping at least half
        its characters; windows overlapping `taken` spans (already read exactly) are skipped."""
        free = [True] * len(text)
        for s, e in taken:
            for i in range(max(0, s), min(e, len(text))):
                free[i] = False
        hits: list[SoundHit] = []
        tried: set[tuple[int, int]] = set()
        for i, ch in enumerate(text):
            if not free[i]:
                continue  # every window through a character already read overlaps that reading
            for (offset, length), heard in self._windows.get(ch, {}).items():
                start, end = i - offset, i - offset + length
                if start < 0 or end > len(text) or (start, end) in tried:
                    continue
                if not all(readings(c) & h for c, h in zip(text[start:end], heard, strict=True)):
                    continue  # most windows end here, at the first character that sounds different
                tried.add((start, end))
                window = text[start:end]
                if window in self._words or not all(free[start:end]):
                    continue
                close = sorted(w for w in self._heard(window) if _kept(w, window) * 2 >= len(w))
                if close:
                    hits.append(SoundHit(start, end, window, tuple(close)))
        return sorted(hits, key=lambda h: (h.start, h.end))

    def _heard(self, window: str) -> set[str]:
        sounds = [readings(ch) for ch in window]
        if not all(sounds):
            return set()
        found: set[str] = set()
        for key in itertools.islice(itertools.product(*sounds), _MAX_KEYS):
            found |= self._by_sound.get(key, set())
        return found


def _kept(word: str, window: str) -> int:
    return sum(a == b for a, b in zip(word, window, strict=True))
