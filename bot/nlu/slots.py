"""Facts in a normalised message that are yes/no or a kind: migrant, newborn, student, 户籍 elsewhere,
employee insurance, 居住证, newly recognised, refund reason; and the ID number with the name beside it.

Each extractor is a small rule over the normalised text (see normalize.py): digits are Arabic,
characters simplified, filler gone. Numbers are read in numbers.py, dates in when.py, categories
in categories.py, relatives in relatives.py, the insurance history in history.py.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

from bot import clock

# ---- flags ----------------------------------------------------------------------------------
_MIGRANT = re.compile(
    r"打工|务工|打公|农民工|返乡|外出|出去干活|在外(?:面|地)?(?:上班|干活|挣钱)"
    r"|(?:过年|春节|过了年|年后|年底)(?:才|再)?回|回家过年|回来过年"
)
_NEWBORN = re.compile(
    r"刚出生|新出生|新生儿|新生(?!入学|报到)|刚生|婴儿|宝宝|满月|出生证|落地参保|生下来|生完孩子|生了(?:小孩|孩子|娃)"
    r"|双胞胎|龙凤胎|生了(?:个|一个|俩)|添了(?:个|一个)|刚添|坐月子|月子里"
    r"|(?:小孩|孩子|娃|孙子|孙女|外孙|二胎|闺女|儿子)[^,，。]{0,14}出生|出生的(?:小孩|孩子|娃)"
    # days or months old: 出生90多天了, 三个月大的孩子 (the 90-day rule depends on it)
    r"|出生(?:才|刚|已经|都)?(?:\d{1,3}|几)(?:多)?(?:天|个月)|(?:\d{1,2}|几)(?:多)?(?:天|个月)大"
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
    r"|(?:老家|户口|户籍)(?:是|在)(?!这|本地|家|村|咱|我们|当地)[\u4e00-\u9fff]{2,3}(?:的|省|市|县|人)"
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


# Covered by employee insurance (职工医保) now: 在单位交, 有职工医保, 单位给交. Not 没有职工医保, nor a
# question about it (职工医保和居民医保有什么区别).
_EMPLOYEE = re.compile(
    r"(?:有|交着?|缴着?|参加了?|买了?|上了|上着|办了|在单位(?:交|缴|买|参保)(?:的)?)(?:城镇)?职工(?:医保|医疗保险|保险)"
    r"|单位(?:给|帮)(?:我|俺|他|她|我们|俺们)?(?:交|缴|买|上)|在单位(?:交|缴|买|上|参保)(?:了|的|着)?(?:医保|保险)?"
)
_EMPLOYEE_DENIED = re.compile(r"(?:没|没有|不是|不交|不缴|停了|断了)$")
_RESIDENCE_PERMIT = re.compile(r"(?:有|办了?|办好了|拿着|拿到了?|持有?|领了)(?:个)?居住证")
_RESIDENCE_DENIED = re.compile(r"(?:没|没有|没办|不能)$")
# Recognised as a 低保/特困/... member only lately: 刚评上低保, 新认定的, 年后才认定. Verbs that say
# "recognised" on their own, and verbs that do only beside a category (刚办下来 may be a birth
# certificate; 低保刚办下来 is a recognition).
_NEWLY = r"(?:刚|刚刚|新|才|最近|后来才|年后才|今年才|这个月才|上个月才)(?:被)?"
_NEWLY_RECOGNISED = re.compile(
    _NEWLY + r"(?:评上|评为|认定|纳入|定为|确定为|识别为|列为|列入)|新认定|新纳入|新增(?:的)?(?:低保|特困|五保|监测)"
)
_NEWLY_GRANTED = re.compile(
    r"(?:低保|五保|特困|监测|脱贫|残疾|优抚)[^ ]{0,4}" + _NEWLY + r"(?:批下来|批了|办下来|办上|吃上|享受上)"
    r"|" + _NEWLY + r"(?:批下来|批了|办下来|办上|吃上|享受上)(?:的)?(?:低保|五保|特困)"
)


def employee_insured(text: str) -> bool:
    for m in _EMPLOYEE.finditer(text):
        if not _EMPLOYEE_DENIED.search(text[max(0, m.start() - 3) : m.start()]):
            return True
    return False


def residence_permit(text: str) -> bool:
    for m in _RESIDENCE_PERMIT.finditer(text):
        if not _RESIDENCE_DENIED.search(text[max(0, m.start() - 2) : m.start()]):
            return True
    return False


def newly_recognised(text: str) -> bool:
    return bool(_NEWLY_RECOGNISED.search(text) or _NEWLY_GRANTED.search(text))


def migrant(text: str) -> bool:
    return bool(_MIGRANT.search(text))


def newborn(text: str, birth_date: dt.date | None = None, birth_year: int | None = None) -> bool:
    """A baby: a birth date within the last year, or said in words, unless the birth date or year
    says otherwise (孩子21年出生的 is a toddler, not a newborn)."""
    if birth_date is not None:
        return 0 <= (clock.today() - birth_date).days <= 366
    if birth_year is not None and birth_year < clock.today().year - 1:
        return False
    return bool(_NEWBORN.search(text))


def student(text: str) -> str | None:
    for kind, pattern in _STUDENT:
        if pattern.search(text):
            return kind
    return None


def hukou_elsewhere(text: str, known_places: Sequence[tuple[int, int]] = ()) -> bool:
    """Registered elsewhere. 户口在X counts only when X is not a place we cover: 户口在五河县朱顶镇
    is a 五河 resident (working away), not an outsider."""
    for m in _HUKOU_ELSEWHERE.finditer(text):
        # 户口在五河县朱顶镇, 老家是五河的: registered in a place we cover, not elsewhere.
        if m.group(0)[:2] in ("户口", "老家", "户籍") and any(start == m.start() + 3 for start, _ in known_places):
            continue
        return True
    return False


def refund_reason(text: str) -> str | None:
    for reason, pattern in _REFUND_REASONS:
        m = pattern.search(text)
        if m and not (reason == "other_city" and m.group(0).startswith(("在这", "在家", "在村", "在镇"))):
            return reason
    return None


# ---- ID number and name ---------------------------------------------------------------------
_NAME_LABEL = re.compile(r"^[\s:：,，]*(?:姓名|名字|名字叫|叫|是)?[\s:：]*")
_HAN_RUN = re.compile(r"^[\u4e00-\u9fff]{2,8}")
_LABELLED_BEFORE = re.compile(
    r"(?:姓名|名字叫|名字|我叫|我是)[\s:：]*([\u4e00-\u9fff]{2,4}?)[\s,，]*(?:身份证(?:号码|号)?)?[\s:：]*$"
)
_NOT_NAME_START = frozenset("的是了吗呢吧我你他她这那帮查看交参请在有没要和跟与")


_ID_LIKE = re.compile(r"(?<![0-9])[0-9]{14,20}[Xx]?(?![0-9])")


def find_id_spans(nfkc_text: str) -> list[tuple[int, int, str]]:
    """ID-number candidates with where they were typed: (start, end, normalised number), not validated
    (the registry validates and explains). The registry's one detector first; a mistyped ID (a digit
    missing or doubled) is still meant as an ID, so the registry can say what is wrong with it."""
    from bot.registry import ids as registry_ids

    found = [(s.start, s.end, s.number) for s in registry_ids.find_id_spans(nfkc_text)]
    if not found:
        found = [(m.start(), m.end(), registry_ids.normalize(m.group(0))) for m in _ID_LIKE.finditer(nfkc_text)]
    return found


def find_ids(nfkc_text: str) -> list[str]:
    """ID-number candidates, normalised but not validated."""
    return [number for _, _, number in find_id_spans(nfkc_text)]


# What may follow a name typed after an ID number: 王建国交了没有, 张三的, 李四 查一下.
_AFTER_NAME = frozenset("交缴的了吗呢参查看有是在今这身帮医去还能和跟与也都同男女岁我他她家户号今年请谢")


def _name_from(run: str) -> str | None:
    """The name at the start of a run of Chinese characters: the shortest 2-4 character prefix
    after which the text goes on with a particle or verb (王建国交了没有 → 王建国)."""
    if not run or run[0] in _NOT_NAME_START:
        return None
    if len(run) <= 3:
        return run if len(run) >= 2 else None
    for length in range(2, min(4, len(run) - 1) + 1):
        if run[length] in _AFTER_NAME and run[length - 1] not in _AFTER_NAME:
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
