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
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"), ("r", "l"), ("f", "h"))
_FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"))


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

    A near spelling keeps at least one character of its word in place, so windows are found from
    the characters they share with a word (保 at offset 1 of 低保户 puts a window one character to
    its left) and only those are compared by sound: a message with none of the words' characters
    costs one dictionary lookup per character.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self._sounds: dict[str, tuple[frozenset[str], ...]] = {}
        self._by_char: dict[str, list[tuple[str, int]]] = {}
        for word in words:
            sounds = tuple(readings(ch) for ch in word)
            if len(word) < 2 or not all(sounds) or word in self._sounds:
                continue
            self._sounds[word] = sounds
            for offset, ch in enumerate(word):
                self._by_char.setdefault(ch, []).append((word, offset))

    def find(self, text: str, taken: Sequence[tuple[int, int]] = ()) -> list[SoundHit]:
        """Windows of `text` that sound like an indexed word without being one, keeping at least half
        its characters; windows overlapping `taken` spans (already read exactly) are skipped."""
        free = [True] * len(text)
        for s, e in taken:
            free[max(0, s) : max(0, e)] = [False] * (min(e, len(text)) - max(0, s))
        found: dict[tuple[int, int], set[str]] = {}
        tried: set[tuple[int, str]] = set()
        for i, ch in enumerate(text):
            if not free[i]:
                continue  # every window through a character already read overlaps that reading
            for word, offset in self._by_char.get(ch, ()):
                start, end = i - offset, i - offset + len(word)
                if start < 0 or end > len(text) or (start, word) in tried:
                    continue
                tried.add((start, word))
                window = text[start:end]
                if window in self._sounds or not all(free[start:end]):
                    continue
                if not all(readings(c) & sound for c, sound in zip(window, self._sounds[word], strict=True)):
                    continue  # most tries end here, at the first character that sounds different
                if len(word) <= 2 or _kept(word, window) * 2 >= len(word):  # two: the one we came from
                    found.setdefault((start, end), set()).add(word)
        return [SoundHit(s, e, text[s:e], tuple(sorted(w))) for (s, e), w in sorted(found.items())]


def _kept(word: str, window: str) -> int:
    return sum(a == b for a, b in zip(word, window, strict=True))
