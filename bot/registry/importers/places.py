"""Match the town or village a roster names to an entry of the locality's task table.

Rosters write names loosely (柴胡店 for 柴胡店镇, 荆河 for 荆河街道, a stray space or full-width
bracket), but a wrong guess would put people in another town's figures, so a name is accepted
only when exactly one entry fits, in this order:

1. the same name or one of the entry's aliases (after NFKC and removing spaces);
2. the same name once the administrative suffix is dropped (镇, 乡, 街道, 街道办事处, 社区, 村, 村委会, ...);
3. the only entry whose name starts with, or contains, the given name (at least two characters).

Anything else is refused with the candidates listed (several fit) or with rapidfuzz's closest
names as suggestions (none fits): a typo such as 柴湖店 is never silently corrected.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rapidfuzz import fuzz, process

_SPACE = re.compile(r"\s+")
# Longest first, so 街道办事处 is dropped before 街道.
_SUFFIXES = (
    "街道办事处",
    "村民委员会",
    "居民委员会",
    "办事处",
    "村委会",
    "居委会",
    "街道",
    "社区",
    "镇",
    "乡",
    "村",
)


def norm(name: object) -> str:
    return _SPACE.sub("", unicodedata.normalize("NFKC", str(name or "")))


def core(name: str) -> str:
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class Entry:
    area_id: int
    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Match:
    area_id: int | None
    reason_zh: str = ""


class PlaceMatcher:
    def __init__(self, entries: list[Entry], *, level_zh: str, locality_zh: str) -> None:
        self.entries = entries
        self.level_zh = level_zh  # "乡镇" | "村（社区）": what the column is called in messages
        self.locality_zh = locality_zh
        self._exact: dict[str, list[Entry]] = {}
        self._core: dict[str, list[Entry]] = {}
        for e in entries:
            for n in {norm(e.name), *(norm(a) for a in e.aliases)}:
                self._add(self._exact, n, e)
                self._add(self._core, core(n), e)
        self._cache: dict[str, Match] = {}

    @staticmethod
    def _add(index: dict[str, list[Entry]], key: str, entry: Entry) -> None:
        bucket = index.setdefault(key, [])
        if entry not in bucket:
            bucket.append(entry)

    def match(self, raw: object) -> Match:
        key = norm(raw)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._cache[key] = self._match(key)
        return cached

    def _match(self, name: str) -> Match:
        if not name:
            return Match(
                None, f"{self.level_zh}为空：请填写{self.locality_zh}征缴任务表中的{self.level_zh}名称。"
            )
        for candidates in (self._exact.get(name), self._core.get(core(name))):
            if candidates:
                return self._one(name, candidates)
        c = core(name)
        if len(c) >= 2:
            loose = [
                e
                for e in self.entries
                if any(core(norm(n)).startswith(c) or c in norm(n) for n in (e.name, *e.aliases))
            ]
            if loose:
                return self._one(name, loose)
        return Match(None, self._not_found(name))

    def _one(self, name: str, candidates: list[Entry]) -> Match:
        if len(candidates) == 1:
            return Match(candidates[0].area_id)
        listed = "、".join(e.name for e in candidates[:6])
        return Match(
            None,
            f"{self.level_zh}“{name}”无法确定是哪一个：可能是 {listed}。请写出任务表中的完整名称。",
        )

    def _not_found(self, name: str) -> str:
        names = [e.name for e in self.entries]
        close = process.extract(
            core(name), [core(norm(n)) for n in names], scorer=fuzz.ratio, limit=3, score_cutoff=50
        )
        text = f"{self.level_zh}“{name}”不在{self.locality_zh}的征缴任务表中"
        if close:
            text += f"，您是不是指：{'、'.join(names[i] for _s, _score, i in close)}？请改成任务表中的名称。"
        else:
            text += "。请核对名称，或确认导入时选择的地区（--locality）是否正确。"
        return text
