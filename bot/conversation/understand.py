"""One resident message read for the dialogue: the questions asked, in order, the facts about the
person, the place, and whether it is a follow-up of the previous answer ("那低保户呢").

The language itself is the NLU's (`bot.nlu`); this module only arranges its output for the dialogue
and adds the few cues that make sense only in a conversation (follow-up markers, "普通居民").
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from bot import clock
from bot.conversation.facts import ON_TIME
from bot.nlu import categories as category_words
from bot.nlu import parse
from bot.nlu.intents import QUESTIONS, asks, clauses, resolve
from bot.nlu.numbers import count

# A message that leans on the previous answer: "那低保户呢", "要是过了90天呢", "我妈呢", "换成滕州".
_FOLLOW_UP = re.compile(r"^(?:那|那么|那要是|要是|如果|假如|换成|换了|还有|那如果|那我|那俺)|呢(?:\s|$)"
                        r"|也一样|一样吗|一样不|同样吗|也这样|也是这样")
# "An ordinary resident": no subsidy category (一般低保户 is 唐河's name for 低保, not "ordinary").
_ORDINARY = re.compile(r"普通(?:居民|人|老百姓|群众|农民|家庭|的|户)?|一般(?:人|居民|群众|老百姓|农户|家庭)(?!低保)"
                       r"|(?:啥|什么)(?:身份|都)(?:也)?(?:不是|没有)|没有(?:任何)?(?:身份|补助|资助)|没(?:啥|什么)身份")
# A newborn enrolled after the window: "要是过了90天才办呢", "超过三个月了".
_NEWBORN_LATE = re.compile(r"(?:过了|超过|超了|晚了|错过了?).{0,3}(?:90|九十)\s*天|(?:90|九十)\s*天(?:以后|之后|后|以上)"
                           r"|(?:超过|过了)\s*(?:3|三)\s*个月"
                           # a baby three months old or more: 四个多月了, 5个月大, 半岁了
                           r"|(?:[3-9]|1[0-1]|[三四五六七八九十]|十一)\s*个\s*(?:多)?\s*月(?:了|大|多)|半岁")
# Asking about the financing (total, government share) rather than what one person pays.
_FINANCING = re.compile(r"(?:政府|财政|国家|中央|省里|省级|省|市里|市级|县里|县级|县财政|乡镇)(?:里|级)?(?:补助|补贴|补|出|给|拿|承担)"
                        r"|筹资|总共多少|一共多少|总额|总共.{0,4}钱"
                        r"|^(?:那)?(?:中央|省里|省级|省|市里|市级|县里|县级)(?:的|财政)?(?:呢)?$")
_ALSO = re.compile(r"也是|也吃|也算|也评上|还是个|又是|同时是|也有|还有.{0,2}(?:证|身份)|两样|两个都|都占")
# "过了咋办" after a deadline: the deadline missed, not a death (过了 alone also means 过世). Only a short
# message that names nobody.
_MISSED = re.compile(r"^(?:那|要是|如果|万一|可)?(?:已经)?(?:过了|过期了|晚了|没赶上|赶不上|没来得及|来不及了?|错过了?)"
                     r"(?:时间|日子|期限|截止(?:日期|时间)?)?(?:了)?(?:咋办|怎么办|咋整|怎么弄|咋弄|呢|还能交吗|还能交不)$")
# Question words: a message that names a place and has one of them is never answered with a bare "记住了".
_QUESTION_WORDS = re.compile(r"[吗嘛么呢？?]|咋|怎么|什么|啥|多少|哪|几|能不能|可不可以|是不是|行不行|中不中"
                             r"|(?<!要)不\s*$|[了过]没(?:有)?\s*$")  # "能直接报不", "交了没"
# How many people the household has, asked about as a whole: "俺家5口人 一共交多少", "一家五口".
_HOUSEHOLD = re.compile(r"(?:一家|全家|俺家|我家|咱家|家里|家|一户)(?:人)?(?:一共|总共|共|有)?\s*"
                        r"(\d{1,2}|[一二两三四五六七八九十]{1,2})\s*(?:口人|口|个人)"
                        r"|(?<![\d.])(\d{1,2}|[一二两三四五六七八九十]{1,2})\s*口人")
# A payment the resident did not make: "去年年底没交上" names no payment date.
_NOT_PAID = re.compile(r"没(?:有)?(?:交|缴)|未(?:交|缴)|忘了(?:交|缴)|漏(?:交|缴)")
# Paid within the collection period: "按时交了哪天开始享受".
_ON_TIME = re.compile(r"按时|按期|准时|集中(?:缴费)?期(?:内|里)|截止前|到期前")
# "那73的呢": a bare age in a follow-up.
_BARE_AGE = re.compile(r"(?<![\d.])(\d{1,3})\s*(?:岁|周岁)?\s*(?:的|了)?\s*(?:呢|吗|嘞)?\s*$")
# Groups the documents let pay after the period with benefits from the next day.
_SPECIAL_LATE = (
    ("veteran", re.compile(r"退伍|退役|复员|转业|部队.{0,4}回来|当兵.{0,4}回来|随军")),
    ("released", re.compile(r"刑满|出狱|监狱.{0,4}出来|劳改.{0,4}回来|放出来")),
    ("mental", re.compile(r"精神(?:障碍|病|分裂)")),
    ("new_aid", re.compile(r"退捕渔民|退捕")),
)
# A baby N months old: its birth year (for the fees that depend on it).
_BABY_AGE = re.compile(r"(\d{1,2}|[一二两三四五六七八九十]|十一|十二)\s*个\s*(?:多)?\s*月(?:了|大|多)")
_CN_MONTHS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
              "十一": 11, "十二": 12}


def _months_ago(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 - months
    return dt.date(index // 12, index % 12 + 1, 1)


# "今年生的", "去年生的孩子": a baby's birth year.
_THIS_YEAR_BABY = re.compile(r"(?:今年|去年)(?:刚)?(?:出生|生)(?:的)?")
# Leaving a job ends employee insurance: "九月份辞职了" starts a break (in months to today).
_QUIT = re.compile(r"(?:(\d{1,2})\s*月份?)?(?:辞职|离职|失业|下岗|不干了|厂子倒闭|被辞)")
# A break in employee insurance: "职工医保断了一个月" (桃园's cross-system rule counts its months).
_BREAK = re.compile(r"(?:断|停|中断|断交|停交|断缴|没交)了?\s*(\d{1,2}|半)\s*(?:多)?\s*个?\s*(?:多)?月")
_BEFORE = re.compile(r"没过(?:元旦|新年|年)|元旦(?:前|以前|之前)")
_JUST_BROKE = re.compile(r"(?:上个月|这个月|刚)(?:刚)?(?:断|停)")
# Newly recognised for aid: "12月份评上低保了", "被认定为监测户".
_RECOGNISED = re.compile(r"评上|评为|认定(?:为|成)?|纳入|批下来|办下来|定成")
# The day of the recognition itself: a date right before the word ("去年12月20号评上的").
_RECOGNISED_DAY = re.compile(r"(?:号|日|月份?|底|初)(?:的时候)?(?:才|刚|就)?(?:被)?(?:评上|评为|认定|纳入|批下来|办下来|定成)")
# A message that may ask about several people: two categories, or several ages ("分别", "各", "一家").
_SEVERAL = re.compile(r"分别|各交|各自|各是|都交多少|一家|全家|家里.{0,3}口人|老两口|(?:\d{1,3}).*(?:\d{1,3})")
_EACH = re.compile(r"分别|各(?:交|自|是|要)")
# Where another person begins in run-on text: "俺爹今年六十八了俺娘七十一了".
_KIN_START = re.compile(r"(?=(?:俺|我|咱)(?:家)?(?:爹|娘|爸|妈|老伴|老头|儿子|闺女|孙子|孙女|媳妇|婆婆|公公|自己|自个))")
# The resident corrects what they said: "哦不对 他六十八", "不是五河 是桃园", "说错了".
_CORRECTING = re.compile(r"不对|说错|记错|搞错|弄错|打错|写错|不是.{1,8}是")
# A place named only to be denied ("不是五河 是桃园"): taken out before reading the message.
_DENIED_PLACE = re.compile(r"不是([\u4e00-\u9fff]{2,8}?)(?=[\s，,。]|是|而是|$)")
# Where someone is registered or comes from: 户口在河北, 老家是山东的 (a format string for the name).
_HOME_OF = r"(?:户口|户籍|老家)(?:是|在)?{0}"
# "是河南的" alone may be where one lives (俺是北京的 = I ask about Beijing); it is a home elsewhere only
# beside a covered place or with words of registration (户口没迁过来).
_FROM_OF = r"(?:是|来自|从){0}(?:的|人|嫁|娶|来)"
_REGISTRATION = re.compile(r"户口|户籍|迁|嫁过来|娶过来")


def _is_home(place: str, text: str, locality: str | None) -> bool:
    name = re.escape(place)
    if re.search(_HOME_OF.format(name), text):
        return True
    return bool(re.search(_FROM_OF.format(name), text)) and (locality is not None or bool(_REGISTRATION.search(text)))
# A place the speaker says they are from: "俺是河南的", "老家是山东的".
_FROM = re.compile(r"(?:我|俺|咱)(?:们)?(?:是|老家是|老家在|户口是)([\u4e00-\u9fff]{2,4}?)(?:的|人|省|市)")
_PERSON_SLOTS = (
    "relation", "age", "birth_year", "migrant", "newborn", "student", "hukou_elsewhere", "residence_permit",
    "employee_insured", "newly_recognised", "month", "refund_reason", "uninsured_years", "paid_back_years",
    "continuous_years", "no_claims",
)  # fmt: skip


@dataclass(frozen=True)
class Turn:
    text: str  # the normalised text (ID numbers removed)
    intent: str  # the whole message's intent (steering intents included)
    asks: tuple[str, ...]  # the questions asked, in order
    explicit: bool  # a question word asked at least one of them
    facts: dict[str, Any] = field(default_factory=dict)
    locality: str | None = None
    town: str | None = None
    village: str | None = None
    unknown_place: str | None = None
    follow_up: bool = False
    id_number: str | None = None
    name: str | None = None
    corrections: tuple[tuple[str, str], ...] = ()
    # Several people asked about in one message ("低保户交多少 五保户呢", "俺爹七十六 俺娘六十四 分别交多少"):
    # the facts of each, in order.
    alternatives: tuple[dict[str, Any], ...] = ()
    asks_something: bool = False  # question words in the message, mapped to a question or not
    # Further places asked about alongside `locality` ("五河和滕州 哪个交得多"): answered each in turn.
    other_localities: tuple[str, ...] = ()


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def _facts(slots: Any, text: str) -> dict[str, Any]:
    facts: dict[str, Any] = {}
    for key in _PERSON_SLOTS:
        value = slots.get(key)
        if value not in (None, False, "", (), []):
            facts[key] = list(value) if isinstance(value, tuple) else value
    if slots.get("categories"):
        facts["categories"] = list(slots.get("categories"))
        if _ALSO.search(text):
            facts["also"] = True  # "他也是低保": another category of the same person, added
    if slots.get("not_categories"):
        facts["not_categories"] = list(slots.get("not_categories"))
    if slots.get("unsure_categories"):
        facts["unsure_categories"] = list(slots.get("unsure_categories"))
    born = slots.get("birth_date")
    if born:
        facts["birth_date"] = _iso(born)
        if slots.get("month") == born.month and born.day == 1:
            facts["birth_month_only"] = True  # "9月出生的": the 1st was assumed, the day was not said
    paid = slots.get("paid_on") or (slots.get("dates") or (None,))[0]
    if paid and not _NOT_PAID.search(text):
        facts["paid_on"] = _iso(paid)
    if _ON_TIME.search(text) and not facts.get("paid_on"):
        facts["paid_on"] = ON_TIME
    old = _BABY_AGE.search(text)
    if facts.get("newborn") and old and "birth_year" not in facts:
        raw = old.group(1)
        months = int(raw) if raw.isdigit() else _CN_MONTHS.get(raw, 0)
        if 0 < months <= 12:
            facts["birth_year"] = _months_ago(clock.today(), months).year
    if _THIS_YEAR_BABY.search(text) and facts.get("newborn") is not False:
        facts.setdefault("birth_year", clock.today().year if "今年" in text else clock.today().year - 1)
        facts["newborn"] = True
    for reason, pattern in _SPECIAL_LATE:
        if pattern.search(text):
            facts["special_late_reason"] = reason
            break
    brk = _BREAK.search(text)
    quit_ = _QUIT.search(text)
    months = (0 if brk.group(1) == "半" else int(brk.group(1))) if brk else (1 if _JUST_BROKE.search(text) else None)
    if "半年" in text and ("断" in text or "停" in text):
        months = 6
    if months is None and quit_ and quit_.group(1) and 1 <= int(quit_.group(1)) <= 12:
        months = (clock.today().month - int(quit_.group(1))) % 12
    if quit_:
        facts.pop("employee_insured", None)  # they had it; they do not any more
        if facts.get("refund_reason") == "employee_insurance":
            facts.pop("refund_reason")
    if months is not None:
        facts["coverage_break_months"] = months
        if "职工" in text or "单位" in text or "厂" in text or quit_:
            facts["special_late_reason"] = "cross_system"
    if _RECOGNISED.search(text) and (slots.get("categories") or facts.get("newly_recognised")):
        facts["newly_recognised"] = True
        if facts.get("refund_reason") in (None, "duplicate"):
            facts["refund_reason"] = "new_aid"  # 多交的: the difference refunded to someone newly aided
        said = {d for d in (*(slots.get("dates") or ()), slots.get("paid_on")) if d is not None}
        if len(said) == 1 and _RECOGNISED_DAY.search(text):
            facts["recognised_on"] = _iso(next(iter(said)))
    event = next((d for d in (slots.get("dates") or ()) if _iso(d) != facts.get("paid_on")), None)
    if event is not None:
        facts["event_on"] = _iso(event)
    died = slots.get("died_on")
    if died:
        if _BEFORE.search(text) and (died.month, died.day) == (1, 1):
            died = died - dt.timedelta(days=1)  # "没过元旦就走了": the day before New Year at the latest
        facts["died_on"] = _iso(died)
        if slots.get("died_until"):
            facts["died_until"] = _iso(slots.get("died_until"))  # only the month was said
    if facts.get("refund_reason") == "employee_insurance":
        facts["employee_insured"] = True  # the words that name the reason say the person has it
    if slots.get("amount") is not None and slots.get("amount") >= 20:
        # Nobody pays a few yuan: "两样能加一块不" is not an amount of 1.
        facts["amount_stated"] = str(slots.get("amount"))
    if _ORDINARY.search(text) and not facts.get("categories"):
        facts["ordinary"] = True
    size = _household_size(text)
    if size:
        facts["household_size"] = size
    if _FINANCING.search(text) and not size:  # "一家五口一共多少" is a household's total, not the financing
        facts["financing"] = True
    if facts.get("ordinary") and len(text.replace(" ", "")) <= 8:
        # "就是普通的" answering the narrowing question: as if the 普通居民 choice were pressed.
        facts["ordinary"] = "chosen"
    late = _NEWBORN_LATE.search(text)
    # A baby is said in words, or a late-enrolment phrase that only a baby's rule has (过了90天).
    if late and (facts.get("newborn") or "90" in late.group(0) or "九十" in late.group(0)):
        facts["newborn_late"] = True
        facts["newborn"] = True
    return facts


def _from_elsewhere(text: str, locality: str) -> bool:
    """ "俺是河南的 在滕州打工": the speaker names a home that is not the place asked about (nor its
    province, city or one of its towns)."""
    m = _FROM.search(text)
    if not m:
        return False
    home = m.group(1)
    from bot.nlu.unknown_places import is_place

    if not is_place(home):
        return False  # "俺是监测户个人…": not a place at all
    from bot.policy import get_pack

    pack = get_pack(locality)
    if pack is None:
        return False
    loc = pack.locality
    names = [loc.name_zh, *loc.aliases, loc.province or "", loc.city or "", *(e.name for e in pack.task_table.entries)]
    return not any(n and (home in n or n.rstrip("省市县镇乡") in home) for n in names)


def _household_size(text: str) -> int | None:
    m = _HOUSEHOLD.search(text)
    size = count(m.group(1) or m.group(2)) if m else None
    return size if size is not None and 2 <= size <= 20 else None


def _alternatives(text: str) -> tuple[dict[str, Any], ...]:
    """The people of a message that asks about several, each with their own facts.

    A later clause ending in 呢 (or starting with 那) that names other categories asks about another
    person ("低保户交多少 五保户呢"); so does each clause naming a relative or an age when two or more
    ages are given ("俺爹七十六 俺娘六十四 俺自己四十 分别交多少")."""
    people: list[dict[str, Any]] = []
    pieces = [piece for _, chunk in clauses(text) for piece in _KIN_START.split(chunk) if piece]
    for clause in pieces:
        said = category_words.read(clause).categories
        slots = parse(clause).slots if len(clause) >= 2 else None
        age = slots.get("age") if slots else None
        relation = slots.get("relation") if slots else None
        if not said and age is None:
            continue
        facts: dict[str, Any] = {}
        if said:
            facts["categories"] = list(said)
        if age is not None:
            facts["age"] = age
        if relation:
            facts["relation"] = relation
        separate = bool(people) and (clause.endswith("呢") or clause.startswith("那") or age is not None
                                     or (relation and relation != people[-1].get("relation"))
                                     or (bool(said) and _EACH.search(text) is not None))
        if separate or not people:
            people.append(facts)
        else:
            merged = people[-1]
            merged["categories"] = list(dict.fromkeys([*(merged.get("categories") or []), *said]))
    ages = [p["age"] for p in people if "age" in p]
    categories = {tuple(p.get("categories") or ()) for p in people}
    several = len(people) > 1 and (len(set(ages)) > 1 or len(categories) > 1)
    return tuple(people) if several else ()


def _without_denied_places(text: str) -> str:
    """ "不是五河 是桃园": the denied place is not the one asked about (a denied category stays: 不是低保)."""
    from bot.nlu import parse_place

    for m in reversed(list(_DENIED_PLACE.finditer(text))):
        if parse_place(m.group(1)) is not None:
            text = text[: m.start()] + " " + text[m.end() :]
    return text


@functools.lru_cache(maxsize=4096)
def _read(text: str, today: dt.date) -> Turn:
    if "不是" in text:
        text = _without_denied_places(text)
    parsed = parse(text)
    slots = parsed.slots
    norm = parsed.text
    intent = resolve(norm, parsed.intent, has_id=bool(slots.get("id_number")))
    found = asks(norm, intent)
    questions = tuple(a.intent for a in found if a.intent in QUESTIONS)
    asking = bool(_QUESTION_WORDS.search(norm))
    missed = bool(_MISSED.search(norm.replace(" ", ""))) and not slots.get("relation")
    if missed:
        intent, questions = "deadline", ("deadline",)
    facts = _facts(slots, norm)
    follow_up = bool(_FOLLOW_UP.search(norm)) or bool(_CORRECTING.search(norm))
    short = len(norm.replace(" ", "")) <= 8
    bare = _BARE_AGE.search(norm) if (follow_up or short) and "age" not in facts and "amount_stated" not in facts else None
    if bare and 1 <= int(bare.group(1)) <= 110:
        facts["age"] = int(bare.group(1))
    locality = slots.get("locality") if slots.get("place_named") else None
    unknown = slots.get("unknown_place")
    if unknown and _is_home(unknown, norm, locality):
        # "俺儿媳妇是河北的 户口没迁过来": where someone is from, not the place asked about.
        facts["hukou_elsewhere"] = True
        unknown = None
    if locality and not facts.get("hukou_elsewhere") and _from_elsewhere(norm, locality):
        facts["hukou_elsewhere"] = True
    # Slot evidence alone ("低保户", "70岁") is not a question of its own: it is one only when there
    # is no earlier question to apply it to, which the dialogue decides.
    explicit = any(a.explicit for a in found) or missed
    return Turn(
        text=norm,
        intent=intent,
        asks=questions,
        explicit=explicit,
        facts=facts,
        locality=locality,
        town=slots.get("town"),
        village=slots.get("village"),
        unknown_place=unknown,
        follow_up=follow_up and not explicit,
        id_number=slots.get("id_number"),
        name=slots.get("name"),
        corrections=tuple(slots.get("corrections") or ()),
        alternatives=_alternatives(norm) if _SEVERAL.search(norm) or len(facts.get("categories") or ()) > 1 else (),
        other_localities=tuple(slots.get("other_localities") or ()) if locality else (),
        asks_something=asking,
    )


_SPACES = re.compile(r"\s+")


def read(text: str | None) -> Turn:
    """The message as the dialogue needs it (cached per text and day: dates are read relative to today)."""
    return _read(_SPACES.sub(" ", (text or "").strip())[:500], clock.today())
