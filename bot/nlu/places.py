"""Place names in free text, from the policy engine's gazetteer (never a list of our own).

Exact names first (longest first: 五河县 before 五河), then the name without its 镇/乡/村/街道 suffix
(people say 鲍沟的, 在姜屯), then near spellings: names that sound alike (藤州, 吴河, 城官镇, 张店真:
voice input, see phonetic.py) and one-character typos (五和县, 滨胡镇, 桃东材) found with rapidfuzz.
A guess that fits two different places is refused, not picked; every guess records the name it
was read as, so the bot can say 按“滕州”理解.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import extract

from bot.nlu.phonetic import SoundIndex, sounds_alike
from bot.nlu.tokens import inside_other_word
from bot.nlu.unknown_places import is_place
from bot.policy import gazetteer

_SUFFIXES = ("回族乡", "街道", "社区", "镇", "乡", "村")
# Stems that are everyday words, so they are not taken as a place without their suffix.
_COMMON_STEMS = frozenset(
    {"光明", "古城", "城郊", "东城", "龙泉", "黑龙", "城关", "临港", "大新", "新集", "小溪"}
)
_HAN = re.compile(r"^[\u4e00-\u9fff]+$")
_SUFFIX_CHARS = frozenset("县市区镇乡村道")  # last characters of place names (街道, 社区 end in 道, 区)
_PARTICLES = frozenset("的了吗呢啊呀吧人这那里边")
_SHORT_MESSAGE = 8  # characters: a message this short may be nothing but a (mistyped) place


@dataclass(frozen=True)
class PlaceMatch:
    """A place named in the text: locality id, and the task-table town or village when named."""

    locality: str
    town: str | None = None
    village: str | None = None
    kind: str = "locality"  # the most specific level named: locality | town | village
    name: str = ""  # canonical name of the most specific place (e.g. 柴胡店 for 柴胡店镇)
    matched: str = ""  # the text as the resident wrote it (after normalisation)
    exact: bool = True  # False when found by typo tolerance
    score: float = 1.0
    corrections: tuple[tuple[str, str], ...] = ()  # (as written, as read) for each near spelling


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    locality: str
    kind: str
    canonical: str
    exact: bool
    score: float
    read_as: str = ""  # the gazetteer name a near spelling was read as ("" when exact)


@dataclass(frozen=True)
class _Index:
    exact: dict[str, tuple[tuple[str, str, str], ...]]  # name -> ((locality, kind, canonical), ...)
    pattern: re.Pattern[str]
    fuzzy_by_len: dict[int, tuple[list[str], list[tuple[str, str, str]]]]
    gazetteer_names: frozenset[str]
    sounds: SoundIndex  # full names (and the localities' short names) by how they sound


def _stem(name: str) -> str | None:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return None


@functools.cache
def _index() -> _Index:
    exact: dict[str, list[tuple[str, str, str]]] = {}
    stems: dict[str, list[tuple[str, str, str]]] = {}
    for place in gazetteer():
        entry = (place.locality_id, place.kind, place.canonical)
        exact.setdefault(place.name, [])
        if entry not in exact[place.name]:
            exact[place.name].append(entry)
        stem = _stem(place.name)
        if place.kind != "locality" and stem and stem not in _COMMON_STEMS:
            stems.setdefault(stem, [])
            if entry not in stems[stem]:
                stems[stem].append(entry)
    for stem, entries in stems.items():
        exact.setdefault(stem, entries)
    names = sorted(exact, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(n) for n in names))
    fuzzy: dict[int, tuple[list[str], list[tuple[str, str, str]]]] = {}
    for place in gazetteer():
        # Only names of three or more characters: one wrong character in two is a different word.
        if len(place.name) >= 3 and _HAN.match(place.name):
            bucket = fuzzy.setdefault(len(place.name), ([], []))
            bucket[0].append(place.name)
            bucket[1].append((place.locality_id, place.kind, place.canonical))
    real = frozenset(p.name for p in gazetteer())
    # Heard names: full names, plus the two-character names of whole localities (滕州, 五河), which
    # residents say alone. A town's stem alone (湖阳, 城关) is too often an ordinary word (胡杨, 城管).
    heard = [p.name for p in gazetteer() if _HAN.match(p.name) and (len(p.name) >= 3 or p.kind == "locality")]
    return _Index({k: tuple(v) for k, v in exact.items()}, pattern, fuzzy, real, SoundIndex(heard))


def _choose(entries: tuple[tuple[str, str, str], ...], default_locality: str | None) -> tuple | None:
    if len({e for e in entries}) == 1:
        return entries[0]
    local = [e for e in entries if e[0] == default_locality]
    return local[0] if len(set(local)) == 1 else None


def _exact_hits(text: str, default_locality: str | None) -> tuple[list[_Hit], list[tuple[int, int]]]:
    index = _index()
    hits: list[_Hit] = []
    covered: list[tuple[int, int]] = []
    for m in index.pattern.finditer(text):
        covered.append((m.start(), m.end()))
        chosen = _choose(index.exact[m.group(0)], default_locality)
        if chosen is None:
            continue  # ambiguous between localities: refuse rather than guess
        loc, kind, canonical = chosen
        score = 1.0 if m.group(0) in index.gazetteer_names else 0.9  # a stem is a little less sure
        hits.append(_Hit(m.start(), m.end(), loc, kind, canonical, True, score))
    return hits, covered


def _fuzzy_hits(text: str, covered: list[tuple[int, int]], default_locality: str | None) -> list[_Hit]:
    """Names read through one wrong character. Windows are taken where a typo in a name is likely
    to be seen: ending in a place suffix (五和县, 滨胡镇), or anywhere in a short message that may
    be only a place (桃东材). Long free text is not scanned window by window."""
    index = _index()
    free = [True] * len(text)
    for start, end in covered:
        for i in range(start, end):
            free[i] = False
    short = len(text) <= _SHORT_MESSAGE
    hits: list[_Hit] = []
    ends = range(len(text)) if short else [i for i, ch in enumerate(text) if ch in _SUFFIX_CHARS and free[i]]
    for length, (names, entries) in index.fuzzy_by_len.items():
        for end in ends:
            start = end - length + 1
            window = text[start : end + 1]
            if start < 0 or not all(free[start : end + 1]) or not _HAN.match(window):
                continue
            found = extract(window, names, scorer=Levenshtein.distance, score_cutoff=1, limit=None)
            if not found or any(score == 0 for _, score, _ in found):
                continue  # nothing close, or an exact name here was already taken (or refused)
            # One character off from several names: the one that also sounds alike is closer
            # (吴河县 is one character from 五河县 and 唐河县, but sounds only like 五河县).
            found = [f for f in found if sounds_alike(window, names[f[2]])] or found
            chosen = _choose(tuple({entries[i] for _, _, i in found}), default_locality)
            if not _suffix_is_a_word(window, names, found):
                read_as = min(names[i] for _, _, i in found)
                hits.append(_guess(start, start + length, chosen, read_as, window))
    for heard in index.sounds.find(text, covered):
        if inside_other_word(text, heard.start, heard.end):
            continue  # an ordinary word that happens to sound like a place (世外桃源)
        entries = tuple({e for word in heard.words for e in index.exact[word]})
        hits.append(_guess(heard.start, heard.end, _choose(entries, default_locality), min(heard.words), heard.written))
    return _agreed(hits)


def _guess(start: int, end: int, chosen: tuple | None, read_as: str, written: str) -> _Hit:
    """A near-spelling hit; `chosen` None means it fits several places, or the text is the name of
    another real place (郑州市 is not a typo for 滕州市): kept only to refuse overlapping guesses."""
    if is_place(written) or is_place(_stem(written) or ""):
        chosen = None
    loc, kind, canonical = chosen if chosen is not None else ("", "", "")
    return _Hit(start, end, loc, kind, canonical, exact=False, score=0.8, read_as=read_as)


def _agreed(hits: list[_Hit]) -> list[_Hit]:
    """One hit per span; overlapping guesses for different places (or one that fits several places)
    are all refused: a guess is taken only when every reading of that stretch of text agrees."""
    hits = sorted(hits, key=lambda h: (h.start, -h.end))
    kept: list[_Hit] = []
    refused: list[_Hit] = []
    for hit in hits:
        overlapping = [k for k in kept + refused if k.start < hit.end and hit.start < k.end]
        if not overlapping:
            (kept if hit.locality else refused).append(hit)
        elif not hit.locality or any((k.locality, k.canonical) != (hit.locality, hit.canonical) for k in overlapping):
            refused += [k for k in overlapping if k in kept] + [hit]
            kept = [k for k in kept if k not in overlapping]
    return kept


def _suffix_is_a_word(window: str, names: list[str], found: list) -> bool:
    """A "typo" in the last character is usually no typo: 光明的未来 is not 光明村, 城郊的房子 not
    城郊乡. Such a guess is kept only for an uncommon stem followed by a non-particle (桃东材)."""
    if any(names[i][:-1] != window[:-1] for _, _, i in found):
        return False
    return window[:-1] in _COMMON_STEMS or window[-1] in _PARTICLES


def find_places(text: str, default_locality: str | None = None) -> list[_Hit]:
    """Every place mention in normalised text, in order of appearance."""
    if not text:
        return []
    hits, covered = _exact_hits(text, default_locality)
    hits += _fuzzy_hits(text, covered, default_locality)
    return sorted(hits, key=lambda h: h.start)


def combine(hits: list[_Hit], text: str) -> PlaceMatch | None:
    """One place from several mentions: the first mention's locality, and the first town and
    village named within that locality (五河县小溪镇 → wuhe, 小溪镇)."""
    if not hits:
        return None
    locality = hits[0].locality
    mine = [h for h in hits if h.locality == locality]
    town = next((h for h in mine if h.kind == "town"), None)
    village = next((h for h in mine if h.kind == "village"), None)
    top = village or town or mine[0]
    return PlaceMatch(
        locality=locality,
        town=town.canonical if town else None,
        village=village.canonical if village else None,
        kind=top.kind,
        name=top.canonical,
        matched=text[mine[0].start : mine[-1].end],
        exact=all(h.exact for h in mine),
        score=min(h.score for h in mine),
        corrections=corrections(mine, text),
    )


def corrections(hits: list[_Hit], text: str) -> tuple[tuple[str, str], ...]:
    """(as written, as read) for the hits read through a near spelling: (藤州, 滕州)."""
    out: list[tuple[str, str]] = []
    for hit in hits:
        pair = (text[hit.start : hit.end], hit.read_as)
        if not hit.exact and hit.read_as and pair not in out:
            out.append(pair)
    return tuple(out)


def parse_place(text: str, default_locality: str | None = None) -> PlaceMatch | None:
    """The place a message names, or None (nothing found, or an ambiguous guess refused)."""
    from bot.nlu.normalize import normalize

    normalised = normalize(text)
    return combine(find_places(normalised, default_locality), normalised)


def place_words() -> tuple[str, ...]:
    """Every place name and stem we match, for the tokenizer's dictionary."""
    return tuple(_index().exact)
