"""Facts in a normalised message: categories, age, dates, month, amount, flags, ID number and name.

Each extractor is a small rule over the normalised text (see normalize.py): digits are Arabic,
characters simplified, filler gone. Category words come from the policy vocabulary and the packs,
resolved to codes by `bot.policy.resolve_category`, so the NLU never keeps its own mapping of
official names; it adds only the spoken forms and homophone typos the documents never use.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal

from bot import clock
from bot.policy import all_packs, resolve_category, vocabulary

# Spoken forms and homophone slips that no document uses (the official names come from the packs).
_SPOKEN_CATEGORY = {
    "残疾": "disabled",  # 残疾证, 残疾二级, 家里有个残疾的
    "残废": "disabled",
    "军属": "youfu",
    "烈属": "youfu",
    "底保": "dibao",  # dī bǎo typed with the wrong character
    "低包": "dibao",
    "五包": "tekun",
    "双女": "two_daughters",
}
_NEGATED = re.compile(r"(?:不是|不属于|没有|非)$")


@functools.cache
def _category_pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    words: dict[str, str] = {}
    candidates: list[str] = []
    for code, entry in vocabulary().items():
        candidates += [entry.name_zh, *entry.synonyms]
        words.setdefault(code, code)
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
    return re.compile("|".join(re.escape(n) for n in names)), found


def categories(text: str) -> tuple[str, ...]:
    """Category codes in order of mention; a category after 不是/非 is dropped (我不是低保户)."""
    pattern, words = _category_pattern()
    codes: list[str] = []
    for m in pattern.finditer(text):
        if _NEGATED.search(text[max(0, m.start() - 3) : m.start()]):
            continue
        code = words[m.group(0)]
        if code not in codes:
            codes.append(code)
    return tuple(codes)


# ---- age ------------------------------------------------------------------------------------
_AGE_NEARLY = re.compile(r"(?:快|将近|马上|眼看)(?:要)?(\d{2,3})(?:岁|周岁)?(?:了)?")
_AGE_PATTERNS = (
    re.compile(r"(\d{1,3})(?:周岁|岁)"),
    re.compile(r"(\d{2,3})(?:多|来)(?:岁)?"),
    re.compile(r"年龄(?:是)?(\d{1,3})"),
    re.compile(r"(?<![\d.])(\d{2,3})(?:了|的老|老人|老头|老太|高龄)"),
    # 今年81 / 俺娘80 / 我爸73: a two-digit number right after a person or 今年, no unit after it.
    re.compile(
        r"(?:今年|我|俺|爸|妈|娘|爹|老伴|奶奶|爷爷|老汉|老头|婆婆|公公)(\d{2})(?![\d.]|块|元|月|号|日|年|天|个)"
    ),
)


def age(text: str) -> tuple[int | None, tuple[int, int] | None]:
    """The age stated (years) and where it was read. 快60了 means not yet 60: 59."""
    m = _AGE_NEARLY.search(text)
    if m and 1 < int(m.group(1)) <= 120:
        return int(m.group(1)) - 1, m.span(1)
    best: tuple[int, tuple[int, int]] | None = None
    for pattern in _AGE_PATTERNS:
        m = pattern.search(text)
        if m and 0 <= int(m.group(1)) <= 120 and (best is None or m.start() < best[1][0]):
            best = (int(m.group(1)), m.span(1))
    return (best[0], best[1]) if best else (None, None)


# ---- dates and months ---------------------------------------------------------------------
_DATE = re.compile(
    r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*(?:日|号)"
    r"|(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})"
)
_BIRTH_AFTER = re.compile(r"^.{0,3}(?:出生|生的|生日|生人)")
_MONTH = re.compile(r"(?<![\d个])(\d{1,2})\s*月(?:份)?(?!\s*\d{1,2}\s*(?:日|号))")


def _infer_year(month: int, day: int) -> dt.date | None:
    """A day and month without a year: the nearest such date to today (residents talk about the
    campaign around now: in November, 2月28号 is next February and 12月30号 this December)."""
    today = clock.today()
    options = []
    for year in (today.year - 1, today.year, today.year + 1):
        try:
            options.append(dt.date(year, month, day))
        except ValueError:
            continue
    return min(options, key=lambda d: abs((d - today).days)) if options else None


def dates(text: str) -> tuple[tuple[dt.date, ...], dt.date | None, list[tuple[int, int]]]:
    """(dates mentioned, birth date if one is said to be a birth, spans used)."""
    found: list[dt.date] = []
    birth: dt.date | None = None
    spans: list[tuple[int, int]] = []
    for m in _DATE.finditer(text):
        year, month, day = (m.group(1), m.group(2), m.group(3)) if m.group(2) else m.group(4, 5, 6)
        try:
            date = dt.date(int(year), int(month), int(day)) if year else _infer_year(int(month), int(day))
        except ValueError:
            continue
        if date is None:
            continue
        spans.append(m.span())
        if birth is None and _BIRTH_AFTER.match(text[m.end() :]):
            birth = date  # a birth date is not a payment date: kept out of `dates`
        elif date not in found:
            found.append(date)
    return tuple(found), birth, spans


def month(text: str, used: list[tuple[int, int]]) -> int | None:
    """A month named without a day (3月份补交, 12月底): 1..12."""
    for m in _MONTH.finditer(text):
        if any(s <= m.start() < e for s, e in used):
            continue
        value = int(m.group(1))
        if 1 <= value <= 12:
            return value
    return None


# ---- money ----------------------------------------------------------------------------------
_MONEY_UNIT = re.compile(r"(\d+(?:\.\d+)?)\s*(?:元|块钱|块|圆)")
_MONEY_VERB = re.compile(
    r"(?:交|缴|是|付|补|返|花|出|收)(?:了)?(\d{2,4}(?:\.\d+)?)(?![\d.]|岁|月|号|日|年|天|个|多岁|周岁)"
)
_MONEY_CONTEXT = re.compile(r"医保|交|缴|钱|费|一年|一个人|是吗|对吗|对不对")
_MONEY_BARE = re.compile(r"(?<![\d.])(\d{3,4})(?![\d.]|岁|月|号|日|年|天|个|周岁|多岁)")


def amount(text: str, used: list[tuple[int, int]]) -> Decimal | None:
    """A sum of money: 60元, 380块, 交350, or a bare 100..5000 (医保350一年是吗)."""
    for pattern in (_MONEY_UNIT, _MONEY_VERB, _MONEY_BARE):
        for m in pattern.finditer(text):
            if any(s <= m.start(1) < e for s, e in used):
                continue
            value = Decimal(m.group(1))
            if pattern is _MONEY_BARE and not (100 <= value <= 5000 and _MONEY_CONTEXT.search(text)):
                continue
            return value
    return None


# ---- flags ----------------------------------------------------------------------------------
_MIGRANT = re.compile(
    r"打工|务工|打公|农民工|返乡|外出|出去干活|在外(?:面|地)?(?:上班|干活|挣钱)"
    r"|(?:过年|春节|过了年|年后|年底)(?:才|再)?回|回家过年|回来过年"
)
_NEWBORN = re.compile(
    r"刚出生|新出生|新生儿|新生(?!入学|报到)|刚生|婴儿|宝宝|满月|出生证|落地参保|生下来|生完孩子|生了(?:小孩|孩子|娃)"
    r"|(?:小孩|孩子|娃|孙子|孙女|外孙|二胎|闺女|儿子)[^,，。]{0,14}出生|出生的(?:小孩|孩子|娃)"
)
_STUDENT = (
    ("vocational", re.compile(r"中专|中职|职高|技校|职业高中|职业学校|卫校")),
    ("university", re.compile(r"大学|研究生|本科|大专|高校|大中专|读研|硕士|博士")),
    ("school", re.compile(r"小学|初中|高中|中学|幼儿园|托儿所|中小学|上学的孩子|学龄")),
)
_HUKOU_ELSEWHERE = re.compile(
    r"外地户口|外省户口|外市户口|户口不在|户籍不在|不是本地户口|不是本地人|户口在外|户口迁|没有户口|没户口"
    r"|异地户籍|非本地户籍|外地人|是外地的|我是外地|外地的人|嫁过来|外来人员"
    r"|户口在(?!这|本地|家|村|咱|我们|当地|老家)[\u4e00-\u9fff]{2,3}"
)
_REFUND_REASONS = (
    (
        "death",
        re.compile(
            r"去世|过世|死了|死亡|人没了|不在了|病故|逝世|火化|走了|人死"
            r"|(?:爹|娘|爸|妈|老伴|老人|父亲|母亲|奶奶|爷爷|老公|媳妇|丈夫|妻子).{0,5}没了"
        ),
    ),
    ("employee_insurance", re.compile(r"职工医保|职工保险|单位(?:给我|给)?(?:交|缴|买)|上班.{0,4}单位")),
    ("duplicate", re.compile(r"重复|交了两次|两次|交重|交了两遍|多交")),
    (
        "other_city",
        re.compile(
            r"(?:在|到)(?:外地|外省|别的地方|别处|[\u4e00-\u9fff]{2,3}市?)(?:已经)?(?:交|缴|参保)(?:过)?了"
        ),
    ),
)


def migrant(text: str) -> bool:
    return bool(_MIGRANT.search(text))


def newborn(text: str, birth_date: dt.date | None = None) -> bool:
    """A baby: said in words, or a birth date within the last year."""
    if birth_date is not None and 0 <= (clock.today() - birth_date).days <= 366:
        return True
    return bool(_NEWBORN.search(text))


def student(text: str) -> str | None:
    for kind, pattern in _STUDENT:
        if pattern.search(text):
            return kind
    return None


def hukou_elsewhere(text: str) -> bool:
    return bool(_HUKOU_ELSEWHERE.search(text))


def refund_reason(text: str) -> str | None:
    for reason, pattern in _REFUND_REASONS:
        m = pattern.search(text)
        if m and not (reason == "other_city" and m.group(0).startswith(("在这", "在家", "在村", "在镇"))):
            return reason
    return None


def category_words() -> tuple[str, ...]:
    """Every category word we match, for the tokenizer's dictionary."""
    return tuple(_category_pattern()[1])


# ---- ID number and name ---------------------------------------------------------------------
_NAME_LABEL = re.compile(r"^[\s:：,，]*(?:姓名|名字|名字叫|叫|是)?[\s:：]*")
_HAN_RUN = re.compile(r"^[\u4e00-\u9fff]{2,8}")
_LABELLED_BEFORE = re.compile(
    r"(?:姓名|名字叫|名字|我叫|我是)[\s:：]*([\u4e00-\u9fff]{2,4}?)[\s,，]*(?:身份证(?:号码|号)?)?[\s:：]*$"
)
_NOT_NAME_START = frozenset("的是了吗呢吧我你他她这那帮查看交参请在有没要和跟与")


_ID_LIKE = re.compile(r"(?<![0-9])[0-9]{14,20}[Xx]?(?![0-9])")


def find_ids(nfkc_text: str) -> list[str]:
    """ID-number candidates, normalised but not validated (the registry validates and explains)."""
    from bot.registry.ids import find_ids as registry_find_ids
    from bot.registry.ids import normalize as registry_normalize

    found = registry_find_ids(nfkc_text)
    if not found:
        # A mistyped ID (a digit missing or doubled) is still meant as an ID: hand it on so the
        # registry can say what is wrong with it instead of the bot not understanding at all.
        found = [registry_normalize(m.group(0)) for m in _ID_LIKE.finditer(nfkc_text)]
    return found


# What may follow a name typed after an ID number: 王建国交了没有, 张三的, 李四 查一下.
_AFTER_NAME = frozenset("交缴的了吗呢参查看有是在今这身帮医去还能和跟与也都同男女岁我他她家户号今年请谢")


def _name_from(run: str) -> str | None:
    """The name at the start of a run of Chinese characters: the shortest 2-4 character prefix
    after which the text goes on with a particle or verb (王建国交了没有 → 王建国)."""
    if not run or run[0] in _NOT_NAME_START:
        return None
    if len(run) <= 3:
        return run if len(run) >= 2 else None
    for length in (2, 3, 4):
        if length < len(run) and run[length] in _AFTER_NAME and run[length - 1] not in _AFTER_NAME:
            return run[:length]
    return None


def name_near_id(text: str, id_span: tuple[int, int]) -> str | None:
    """The Chinese name typed right after an ID number (or labelled right before it)."""
    after = _NAME_LABEL.sub("", text[id_span[1] :], count=1)
    m = _HAN_RUN.match(after)
    name = _name_from(m.group(0)) if m else None
    if name:
        return name
    before = _LABELLED_BEFORE.search(text[: id_span[0]])
    return before.group(1) if before else None
