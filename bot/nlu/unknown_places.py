"""Places of China that no policy pack covers (北京, 合肥, 郑州市, a neighbouring county such as 固镇).

The names come from the administrative-division table python-stdnum ships to read ID numbers
(`cn/loc`: every province, prefecture and county, with former names), so no list of places is kept
here. Full names (固镇县, 郑州市) are always places; without its 市/县/区 a province's or
prefecture's name is still one (合肥, 郑州), but a county's only where jieba's dictionary also tags
it as a place name: many county names are ordinary words without their suffix (合作市, 大方县,
和平区, 光明区). A place someone merely works or studies in (在上海打工) is not the place the
question is about, and neither is anything said next to 老家/这边 (the resident's own place).
The provinces, cities and counties that contain a covered place are known, not unknown: 安徽, 南阳.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from bot.nlu.tokens import inside_other_word
from bot.policy import all_packs, gazetteer

_NOT_PLACES = frozenset({"中国", "全国", "本地", "外地", "当地", "老家", "城里", "乡下", "农村", "城镇", "外省", "本省"})
# Words after a place saying the person is only there for work or school, or paid there already.
_ELSEWHERE_CONTEXT = (
    "打工", "务工", "上班", "工作", "上学", "读书", "上大学", "念书", "做生意", "回来", "回不", "交了", "交过",
    "参保了", "参加了", "买了",
)  # fmt: skip
# Words saying the question is about the resident's own place, whatever other place is mentioned.
_HOME_WORDS = ("老家", "这边", "我们这", "咱这", "本地", "户口所在")
_FORMER = re.compile(r"^\[[^\]]*\]")  # [-1983]: the years a name was in use
_SUFFIX = re.compile(r"(?:特别行政区|维吾尔自治区|壮族自治区|回族自治区|自治区|自治州|自治县|地区|省|市|县|区|盟|旗)$")
_GENERIC = frozenset({"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "郊区", "矿区", "城区", "市区"})


def _divisions(prefixes: list[Any], depth: int = 0) -> Iterator[tuple[int, str]]:
    """(level 0 province / 1 prefecture / 2 county, name) of every entry in stdnum's table, whose
    rows are a province's two digits, then four more: xx00 for a prefecture, others for counties."""
    for _length, low, _high, props, children in prefixes:
        level = 0 if depth == 0 else 1 if low.endswith("00") else 2
        for value in props.values():
            # A renamed division lists every name with its years: "[1983-2003]东市区,[2004-]龙子湖区".
            for name in value.split(","):
                yield level, _FORMER.sub("", name).strip()
        yield from _divisions(children, depth + 1)


@functools.cache
def _jieba_place_words() -> frozenset[str]:
    """Words jieba's dictionary tags `ns` (place name): one regular-expression pass over the file
    (~70 ms) instead of loading its whole part-of-speech table (~0.5 s)."""
    from bot.nlu.tokens import tokenizer

    with tokenizer().get_dict_file() as f:
        dictionary = f.read().decode("utf-8")
    return frozenset(re.findall(r"^(\S+) \d+ ns\S*\s*$", dictionary, flags=re.MULTILINE))


@functools.cache
def _names() -> frozenset[str]:
    from stdnum import numdb

    jieba_places = _jieba_place_words()
    names: set[str] = set()
    for level, name in _divisions(numdb.get("cn/loc").prefixes):
        if name in _GENERIC or len(name) < 2:
            continue
        names.add(name)
        stem = _SUFFIX.sub("", name)
        if len(stem) >= 2 and stem != name and (level < 2 or stem in jieba_places):
            names.add(stem)
    return frozenset(names)


@functools.cache
def _known() -> tuple[str, ...]:
    names = {place.name for place in gazetteer()}
    for pack in all_packs():
        loc = pack.locality
        names.update(n for n in (loc.name_zh, *loc.aliases, loc.province, loc.city, loc.county) if n)
    return tuple(n for n in names if len(n) >= 2)


def is_place(word: str) -> bool:
    """A real place name of China (full or, as above, without its suffix)."""
    return word in _names()


def warm_up() -> None:
    _names()


def unknown_place(text: str) -> str | None:
    """The first place named in normalised text that no pack covers, or None. Call it only when no
    known place was found in the text."""
    if not text or any(word in text for word in _HOME_WORDS):
        return None
    names, longest, firsts = _names(), _longest(), _first_characters()
    i = 0
    while i < len(text):
        # The longest name starting here (合肥市 before 合肥); most messages have none at all.
        end = None
        if text[i] in firsts:
            end = next((e for e in range(min(len(text), i + longest), i + 1, -1) if text[i:e] in names), None)
        if end is None:
            i += 1
            continue
        name = text[i:end]
        if (
            name not in _NOT_PLACES
            and not any(k in name or name in k for k in _known())
            and not text[end:].lstrip().startswith(_ELSEWHERE_CONTEXT)
            and not inside_other_word(text, i, end)  # 中山 in 中山装 is clothing
        ):
            return name
        i = end
    return None


@functools.cache
def _longest() -> int:
    return max(map(len, _names()))


@functools.cache
def _first_characters() -> frozenset[str]:
    return frozenset(name[0] for name in _names())
