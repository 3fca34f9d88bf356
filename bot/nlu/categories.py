"""Subsidy categories in a message: said, denied (不是低保), or said with a near spelling (地保户).

Category words come from the policy vocabulary and the packs, resolved to codes by
`bot.policy.resolve_category`, so the NLU never keeps its own mapping of official names; it adds
only spoken forms that no document uses. Misheard words (地保户, 低宝, 五保护) are read by sound
(phonetic.py), not from a list of typos, and each is reported as a correction.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from bot.nlu.phonetic import SoundIndex, sounds_alike
from bot.nlu.tokens import inside_other_word
from bot.policy import all_packs, resolve_category, vocabulary

# Spoken forms that no document uses (the official names come from the packs).
_SPOKEN_CATEGORY = {
    "残疾": "disabled",  # 残疾证, 残疾二级, 家里有个残疾的
    "残废": "disabled",
    "军属": "youfu",
    "烈属": "youfu",
    "双女": "two_daughters",
    # Short spoken forms (那监测呢, 脱贫的交多少): the names residents shorten.
    "监测": "jiance",
    "脱贫": "tuopin",
    "返贫": "fanpin",
    "优抚": "youfu",
    "独女": "one_daughter",
    "两女": "two_daughters",
}
# A denial right before the word: 不是低保, 也不是五保户, 没有残疾证, 非低保, 没评上低保.
_DENIED_BEFORE = re.compile(
    r"(?:不是|不属于|不算|并非|非|没有|没|没评上|没评|没批|没吃|没办|没申请|评不上|不够)(?:个|什么)?$"
)
# A question that merely contains a denial: 是不是低保, 有没有残疾证, 算不算五保户.
_QUESTION_BEFORE = re.compile(r"(?:是不是|有没有|算不算|属不属于|是否|够不够|能不能|吃没吃|评没评)(?:个|什么)?$")
# A denial right after: 低保没批下来, 五保户被取消了.
_DENIED_AFTER = re.compile(r"^(?:户|人员|对象|证)?(?:没批|没评上|没办下来|没下来|被取消|取消了|被撤|退出了|没有了)")


# A disability graded 三级/四级 beside the word: the packs subsidise 重度残疾人 and none says which grades
# that is, so such a mention is not read as the category (the dialogue says so instead of a figure).
_MILD_GRADE = re.compile(r"[三四34]\s*级")


@dataclass(frozen=True)
class CategoryReading:
    categories: tuple[str, ...]  # said and not denied, in order of mention
    denied: tuple[str, ...]  # denied and never said plainly
    corrections: tuple[tuple[str, str], ...]  # (as written, as read): (地保户, 低保户)
    unsure: tuple[str, ...] = ()  # said, but in a form the documents do not settle (三级残疾)


@functools.cache
def _words() -> tuple[re.Pattern[str], dict[str, str], SoundIndex]:
    candidates: list[str] = []
    for entry in vocabulary().values():
        candidates += [entry.name_zh, *entry.synonyms]
    for pack in all_packs():
        for cat in pack.categories:
            candidates += [cat.name_zh, *cat.synonyms]
    found: dict[str, str] = {}
    for word in candidates:
        if "（" in word or "(" in word or len(word) < 2:
            continue
        code = resolve_category(word)
        if code:
            found.setdefault(word, code)
    for word, code in _SPOKEN_CATEGORY.items():
        found.setdefault(word, code)
    names = sorted(found, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(n) for n in names))
    return pattern, found, SoundIndex(found)


def category_words() -> tuple[str, ...]:
    """Every category word we match, for the tokenizer's dictionary."""
    return tuple(_words()[1])


def _mentions(text: str) -> list[tuple[int, int, str, str | None]]:
    """(start, end, code, read_as) of every mention; read_as is set for a near spelling."""
    pattern, words, sounds = _words()
    mentions: list[tuple[int, int, str, str | None]] = []
    for m in pattern.finditer(text):
        # A longer word heard around an exact one: 五保护 is 五保户 misheard, not 五保 and 护.
        longer = next((w for w in _longer(m.group(0)) if sounds_alike(text[m.start() : m.start() + len(w)], w)), None)
        if longer and not inside_other_word(text, m.start(), m.start() + len(longer)):
            mentions.append((m.start(), m.start() + len(longer), words[longer], longer))
        else:
            mentions.append((m.start(), m.end(), words[m.group(0)], None))
    taken = [(s, e) for s, e, _, _ in mentions]
    for hit in sorted(sounds.find(text, taken), key=lambda h: (h.start - h.end, h.start)):  # longest first
        codes = {words[w] for w in hit.words}
        if len(codes) != 1 or any(s < hit.end and hit.start < e for s, e in taken):
            continue  # sounds like two different categories, or overlaps a longer reading
        if inside_other_word(text, hit.start, hit.end):
            continue  # an ordinary word that sounds like a category (无保 in 无保险)
        taken.append((hit.start, hit.end))
        mentions.append((hit.start, hit.end, codes.pop(), min(hit.words, key=len)))
    return sorted(mentions)


@functools.cache
def _longer(word: str) -> tuple[str, ...]:
    """Category words that begin with `word` and are longer, longest first (五保 → 五保户, 五保老人)."""
    words = _words()[1]
    return tuple(sorted((w for w in words if w.startswith(word) and w != word), key=len, reverse=True))


def read(text: str) -> CategoryReading:
    """Categories said, categories denied, and the near spellings read."""
    said: list[str] = []
    denied: list[str] = []
    unsure: list[str] = []
    corrections: list[tuple[str, str]] = []
    for start, end, code, read_as in _mentions(text):
        before = text[max(0, start - 5) : start]
        if code == "disabled" and "重度" not in text[start:end] and (
                _MILD_GRADE.search(text[max(0, start - 4) : start]) or _MILD_GRADE.search(text[end : end + 5])):
            if code not in unsure:
                unsure.append(code)
            continue
        is_denied = not _QUESTION_BEFORE.search(before) and (
            bool(_DENIED_BEFORE.search(before)) or bool(_DENIED_AFTER.match(text[end : end + 6]))
        )
        target = denied if is_denied else said
        if code not in target:
            target.append(code)
        if read_as and (text[start:end], read_as) not in corrections:
            corrections.append((text[start:end], read_as))
    return CategoryReading(tuple(said), tuple(c for c in denied if c not in said), tuple(corrections),
                           tuple(c for c in unsure if c not in said))
