"""Intent from weighted keyword patterns, slot evidence and a little typo tolerance.

Each rule adds evidence for one intent with a weight; the strongest evidence wins, and equal
evidence goes to what the message asks first. Weights encode priority: an ID number means a status
check whatever else is said (1.5); specific combinations (student + where, late payment + 报销)
outrank the single phrases they contain (1.1-1.3); a bare category or age means "how much" only
when nothing else is asked (0.55). Rules match a "matching form" of the normalised text in which
dialect and variant spellings are folded (缴→交, 啥→什么, 咋→怎么, 俺→我).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from rapidfuzz.distance import Levenshtein
from rapidfuzz.process import cdist

INTENTS: tuple[str, ...] = (
    "amount", "deadline", "eligibility", "benefit_start", "newborn", "refund", "how_to_pay", "contact",
    "pay_first", "status", "set_place", "subscribe", "unsubscribe", "reimbursement", "incentive", "task",
    "staff_rules",
    "help", "greeting", "thanks", "unknown",
)  # fmt: skip
# Intents that ask a question the dialogue answers (the others steer the conversation).
QUESTIONS: frozenset[str] = frozenset({
    "amount", "deadline", "eligibility", "benefit_start", "newborn", "refund", "how_to_pay", "contact",
    "pay_first", "reimbursement", "incentive", "task", "staff_rules",
})  # fmt: skip

_FOLD = (
    ("缴", "交"), ("啥", "什么"), ("咋", "怎么"), ("哪里", "哪"), ("哪儿", "哪"), ("俺", "我"), ("咱", "我"),
    ("多长时间", "多久"), ("什么时间", "什么时候"), ("几时", "什么时候"), ("何时", "什么时候"),
    ("时侯", "时候"), ("医疗保险", "医保"), ("合作医疗", "医保"), ("新农合", "医保"), ("医宝", "医保"),
    ("医包", "医保"), ("日其", "日期"), ("载止", "截止"), ("截至", "截止"), ("能不能", "能"), ("可不可以", "能"),
    ("可以", "能"), ("交不了", "不能交"),
)  # fmt: skip


def matching_form(text: str) -> str:
    for old, new in _FOLD:
        text = text.replace(old, new)
    return text


# Whether a subsidy still applies to this person ("还能享受那80的补助不", "还能享受资助吗"): an amount
# question, though the classifier reads 享受 as "when do benefits start" (see `resolve`).
SUBSIDY_STILL = r"(?:享受|拿到?|领到?|得到|有)(?:那|这)?(?:个)?.{0,4}(?:资助|补助|补贴)(?:吗|不|没|么|没有)"

# (intent, weight, pattern). Patterns run on the matching form.
_RULES: tuple[tuple[str, float, str], ...] = (
    # status: is this person enrolled / did the payment go through
    ("status", 1.1, r"查(?:询|一下|一查|下|查|看)?.{0,8}(?:交|参保|缴费|记录|状态|信息|医保)"),
    ("status", 1.0, r"交(?:上|成功|好)?(?:医保)?了(?:吗|没有?|没)$|交(?:上|成功|好)(?:医保)?了?(?:吗|没)"),
    ("status", 1.1, r"没到账|到账了[吗没]|到账没"),
    ("status", 0.95, r"交没交|有没有交|参保了(?:吗|没)|交了没|缴费记录|参保记录|参保状态|参保信息|交上了|交成功"),
    # reminders
    ("subscribe", 1.2, r"提醒|订阅|通知我|告诉我|发消息给我|叫我一声"),
    ("unsubscribe", 1.4, r"(?:取消|关闭|关掉|不要|不需要|别|停止|不用)(?:再)?.{0,6}(?:提醒|通知|订阅|发)|退订|别发了"),
    # refund
    ("refund", 1.0, r"退(?:费|钱|款|保|回|掉|还|给我|吗|不|一次|医保)|(?:能|怎么|要|想)退|要回来|交重了"),
    ("refund", 0.9, r"(?:去世|过世|死了|走了|死亡).{0,12}(?:交|医保).{0,8}(?:怎么办|咋办|还有用)"),
    # pay first, reimbursed later (唐河)
    ("pay_first", 1.4, r"先交.{0,3}(?:后|再)(?:补|返|不)|先交.{0,10}(?:补|返)|补回来|补多少|返给我|返还|返钱|返多少"),
    ("pay_first", 1.4, r"(?:补贴|补助|资助)(?:的钱|款)?.{0,8}(?:什么时候|到账|返|退|打到|给我)|打到哪个卡"),
    ("pay_first", 1.1, r"(?:为什么|怎么).{0,8}先交"),
    # when benefits start after paying (late payment, waiting periods)
    ("benefit_start", 1.1,
     r"(?:补交|补上|补办|补参保|晚交|迟交|后交|漏交|漏保|断保|断交|没交|年后|过了.{0,4}期|再交|\d+月份?交|交的|交完|交了|交)"
     r".{0,14}(?:报销|能报|报吗|生效|享受|待遇|能用|看病|住院|开始用|有效)"),
    ("benefit_start", 1.1, r"(?:补交|补上|补办|晚交|迟交|漏交|断保|断交|再交).{0,6}等.{0,4}(?:\d+个月|多久|几个月)"),
    ("benefit_start", 1.0, r"等待期|什么时候.{0,4}(?:报销|生效|能用|享受)|多久.{0,4}(?:报销|生效|能用)|马上.{0,4}报销"
     r"|(?:要|得)?等(?:多久|多长时间|几个月|多少天)|哪天(?:开始)?(?:能用|享受|生效|报销)|能用到(?:什么时候|哪天|几月)"
     r"|管到(?:什么时候|哪天|几月)|有效期"),
    # deadline / payment period
    ("deadline", 1.0,
     r"截止|最后一天|最后期限|最晚|到什么时候|交到什么时候|到哪天|到几号|几号截止|什么时候(?:结束|开始交|交|收|开始收)"
     r"|交费时间|交费期|还有几天|还有多久|来得及|来不及|赶趟|赶得上|赶得及|错过|过期|还能交|能补交[吗不]|交还中|交行不行|交到头|开始收"
     r"|不能交了|交晚了|晚了怎么办|(?:之前|以前)(?:必须|要|得)交"
     r"|(?:过完年|过了年|年后|春节后|过年后).{0,6}交|交.{0,3}还(?:行|能行|可以)[吗不]"
     r"|(?:过年|春节|年底|过完年)(?:才|再)?回(?:来|家)?.{0,8}(?:交|缴)"
     r"|晚(?:点|些|一点|几天|一些)交|推迟|延期|宽限|缓交|能不能等|等.{0,4}回来(?:再)?交|几号到几号|到几号"),
    # how and where to pay
    ("how_to_pay", 1.0,
     r"(?:在|去|到)?哪.{0,2}(?:交|办理|缴费)(?!得?(?:多|少|贵|便宜|高|低|一样))|在那交|怎么交|如何交|交给谁|谁收.{0,4}钱|微信|支付宝|手机上|网上|线上|app"
     r"|爱山东|皖事通|税务|渠道|二维码|扫码|公众号|小程序|银行|现金|代交|帮.{0,6}交|怎么操作|流程|交费的地方|卫生室"
     r"|(?:村里|村部|村委|镇上|乡里|家门口|当面|线下).{0,4}(?:能)?交|不会(?:弄|用|玩|操作)(?:手机|智能机|微信)|没有?(?:智能)?手机"),
    # contacts
    ("contact", 1.05,
     r"电话|联系方式|联系人|联系|号码|咨询|热线|人工|客服|找谁|谁管|负责人|办公|投诉|打给谁"),
    # who may enroll, and where
    ("eligibility", 1.0,
     r"能参保|能不能参保|在哪参保|参保条件|谁能参加|能参加|有资格|符合条件|居住证|港澳台|外国人|外籍|怎么参保|能入"),
    ("eligibility", 1.2,
     r"职工医保.{0,8}(?:还能|能)(?:交|参|买)|职工医保.{0,12}(?:还要|还用|要不要|用不用)交|还能交居民|退休的?.{0,4}能"),
    ("eligibility", 1.0, r"能(?:在这|在本地|在当地|交这边|交这里)|能交.{0,6}居民医保"),
    ("eligibility", 1.3,
     r"(?:职工医保|职工保险|单位的医保).{0,12}(?:交不起|不交了|停了|断了|停交|暂停).{0,12}(?:居民|农村|新农合)"
     r"|(?:改|转|换)(?:交|成|到|参加)?(?:居民医保|农村医保|新农合)"),
    # whether a subsidy still applies ("还能享受那80的补助不"): the amount for this person
    ("amount", 1.3, SUBSIDY_STILL),
    # how much
    ("amount", 1.0,
     r"多少钱|交多少|多少一年|一年多少|多少一个|要多少|出多少|多钱|好多钱|收多少|费用|标准|多少$|是多少|免费|免交|全免"
     r"|不用交|用交|要交[吗么]|还交|交不交|交钱[吗不]|交医保[吗不]|要不要交|交不起|优惠|补贴[吗么]|有补贴|补贴多少"
     r"|照顾|减免|涨|三百多|便宜|贵|谁出|自己交|个人交|交钱吧|多少前|不用交钱|要交钱|交医保$"),
    # payouts the collection documents do not set: reimbursement rates, hospital and outpatient payouts
    ("reimbursement", 1.3,
     r"报销(?:比例|标准|范围|多少|几成|百分之|比率)|(?:能|可以|给)报(?:销)?(?:多少|几成|百分之|百分比)|报(?:多少|几成)"
     r"|(?:住院|门诊|看病|拿药|买药|手术|生孩子|大病|慢性病|慢病|特殊病).{0,8}(?:报销|能报|报多少|怎么报|给报|报不报|全报|都报|报吗|报几)"
     r"|(?:全报|全部报销|百分百报|能报一半)"
     r"|大病保险|大病医保|异地就医|异地报销|外地看病|起付线|封顶线|最高(?:能)?报|门诊统筹|两病|慢性病"
     # using the insurance when ill, which a collection document does not cover either
     r"|医保卡|电子医保|医保码|药店|个人账户|定点(?:医院|药店)"),
    # 2025 incentives: continuous enrolment and years without claims raise the serious-illness cap
    ("incentive", 1.25,
     r"连续.{0,8}(?:好处|奖励|激励|优惠|提高|多报)|(?:没|不)(?:有)?(?:报销|看病|用过).{0,10}(?:奖励|好处|激励|提高|多报)"
     r"|零报销|大病.{0,6}(?:额度|封顶|限额).{0,6}(?:提高|增加)"),
    # collection targets (task tables): cadres ask them, residents sometimes too
    ("task", 1.3, r"任务数|目标任务|参保任务|征缴任务|筹资任务|任务(?:是|有)?多少|任务(?:分配|分解)|完成(?:多少|百分之|目标)"
     r"|户籍人口|参保率(?:要|得)?(?:到|达到)|(?:全县|全市|全镇|总共|一共).{0,4}(?:多少人|任务)"),
    # rewards and penalties for villages, towns and cadres: internal assessment, not a resident's question
    ("staff_rules", 1.35,
     r"(?:村|乡镇|镇里|干部|包村|卫生院|负责人|社保协办员).{0,14}(?:奖励|奖多少|奖金|罚|处罚|扣(?:钱|分|多少)|通报|约谈|考核|考评)"
     r"|(?:奖励|处罚|罚款|扣钱|通报批评|约谈).{0,8}(?:村|乡镇|干部|卫生院)|完不成.{0,6}(?:罚|咋办|怎么办)|超额.{0,6}奖"),
    # greetings and help
    ("greeting", 0.9, r"^(?:你好|您好|在吗|在不在|早上好|上午好|下午好|晚上好|hello|hi|嗨|哈喽|喂)[啊呀吗呢]?$"),
    ("greeting", 0.3, r"你好|您好"),
    ("thanks", 0.95, r"^(?:好的|好|行|中|嗯|知道了|明白了|晓得了|懂了)?(?:谢谢|多谢|感谢|谢了|谢谢你|谢谢您|麻烦了|辛苦了)"
     r"(?:你|您|啦|了|哈|啊|呀)*$|^(?:好的|好嘞|知道了|明白了|晓得了|懂了|收到|行|中|中中)(?:了|啦|哈|啊)?$"),
    ("help", 0.95, r"帮助|菜单|怎么用|能干什么|能做什么|有什么功能|哪些功能|能问什么|不会用|机器人|^help$|^/start|^/help"),
)  # fmt: skip

# Out of scope: other insurances. The message is unknown unless it also says 医保.
# Words that say "this is my place" (我是五河的, 换成唐河).
_SET_PLACE = re.compile(r"换成|切换|改成|改为|地址|我是|我在(?!外|城里|工地|厂里)|我住|住在|我家住|我家在|我们是|搬到")
_OTHER_INSURANCE = re.compile(r"养老保险|养老金|车险|商业保险|意外险|社保卡|股票|天气")

# Short phrases whose one-character typos are still recognised when nothing else matched.
_FUZZY_PHRASES: dict[str, str] = {
    "多少钱": "amount", "交多少": "amount", "什么时候截止": "deadline", "截止日期": "deadline",
    "怎么交": "how_to_pay", "在哪交": "how_to_pay", "电话多少": "contact", "联系电话": "contact",
    "先交后补": "pay_first", "新生儿": "newborn", "能参保吗": "eligibility",
    "什么时候能报销": "benefit_start", "怎么参保": "eligibility",
}  # fmt: skip


@functools.cache
def _compiled() -> tuple[tuple[str, float, re.Pattern[str]], ...]:
    return tuple((intent, weight, re.compile(p)) for intent, weight, p in _RULES)


@dataclass(frozen=True)
class Decision:
    intent: str
    confidence: float
    scores: Mapping[str, float]


def _add(scores: dict[str, tuple[float, int]], intent: str, weight: float, position: int) -> None:
    best, pos = scores.get(intent, (0.0, 10_000))
    if weight > best or (weight == best and position < pos):
        scores[intent] = (weight, position)


def decide(text: str, slots: Any, has_place: bool, place_only: bool) -> Decision:
    """Pick the intent for normalised `text` given the slots already found."""
    form = matching_form(text)
    scores: dict[str, tuple[float, int]] = {}
    if slots.get("id_number"):
        _add(scores, "status", 1.5, 0)
    for intent, weight, pattern in _compiled():
        m = pattern.search(form)
        if m:
            _add(scores, intent, weight, m.start())
    _slot_evidence(form, slots, scores)
    if "退" in form and "refund" not in scores:
        from bot.nlu.tokens import words

        if "退" in words(form):  # a lone 退, not 退休/退伍/退订
            _add(scores, "refund", 0.8, form.index("退"))
    if has_place:
        # A place alone sets the place; with a setting verb it does unless something is asked.
        weight = 0.95 if place_only else 0.85 if _SET_PLACE.search(form) else 0.45
        if not place_only and any(w >= 0.55 for w, _ in scores.values()):
            weight = min(weight, 0.5)
        _add(scores, "set_place", weight, 0)
    if _OTHER_INSURANCE.search(form) and "医保" not in form and not slots.get("categories"):
        return Decision("unknown", 0.6, {})
    if not scores or max(w for w, _ in scores.values()) < 0.5:
        fuzzy = _fuzzy(form)
        if fuzzy:
            _add(scores, fuzzy, 0.6, 0)
    if not scores or max(w for w, _ in scores.values()) < 0.3:
        return Decision("unknown", 0.0, {})
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1][0], kv[1][1]))
    intent, (top, _) = ranked[0]
    second = ranked[1][1][0] if len(ranked) > 1 else 0.0
    confidence = min(1.0, top) * (1.0 - 0.5 * (second / top if top else 0.0))
    return Decision(intent, round(max(0.05, confidence), 2), {k: v[0] for k, v in scores.items()})


def _slot_evidence(form: str, slots: Any, scores: dict[str, tuple[float, int]]) -> None:
    if slots.get("newborn"):
        _add(scores, "newborn", 1.25, 0)
    if slots.get("student") and re.search(r"哪|还是|在家|家里|学校|老家|参保|参加|怎么交|户口|跟谁|和谁|随谁|随父母|一起交", form):
        _add(scores, "eligibility", 1.2, 0)
    if slots.get("hukou_elsewhere"):
        strong = re.search(r"(?:能|还能).{0,8}(?:交|参保|参加)|参保|在哪", form)
        _add(scores, "eligibility", 1.2 if strong else 0.6, 0)
    if slots.get("migrant"):
        _add(scores, "deadline", 0.5, 0)
    if slots.get("refund_reason"):
        _add(scores, "refund", 0.5, 0)
    if slots.get("amount") is not None:
        _add(scores, "amount", 0.7, 0)
    if slots.get("categories") or slots.get("age") is not None:
        _add(scores, "amount", 0.55, 0)


@functools.cache
def _fuzzy_by_length() -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for phrase in _FUZZY_PHRASES:
        out.setdefault(len(phrase), []).append(phrase)
    return out


def _fuzzy(form: str) -> str | None:
    """A key phrase with one wrong character (多少前, 联系电化), tried only when nothing else matched."""
    best: tuple[int, int, str] | None = None  # (distance, position, phrase)
    for length, phrases in _fuzzy_by_length().items():
        windows = [form[i : i + length] for i in range(len(form) - length + 1)]
        if not windows:
            continue
        dist = cdist(windows, phrases, scorer=Levenshtein.distance, score_cutoff=1, workers=1)
        for row, col in zip(*np.nonzero(dist <= 1), strict=True):
            candidate = (int(dist[row, col]), int(row), phrases[col])
            if best is None or candidate < best:
                best = candidate
    return _FUZZY_PHRASES[best[2]] if best else None


# ---- several questions in one message ---------------------------------------------------------

# Where one question ends and the next may begin: spaces (voice input and elderly typing use them
# for pauses), a question particle followed by more text, and words that announce another question.
_CLAUSE_BREAK = re.compile(r"\s+|(?<=[吗呢吧么嘛])|还有就是|还有|另外|再问一下|再问|顺便问一下|顺便问|顺便|以及|然后呢?")
# Steering intents never count as an extra question in a longer message.
_NOT_A_QUESTION = frozenset({"set_place", "greeting", "thanks", "help", "unknown"})


@dataclass(frozen=True)
class Ask:
    intent: str
    position: int  # where in the normalised text it was asked
    explicit: bool  # a question word asked it (not only a fact such as a category)


# Where a question usually ends in voice input typed with no pause at all ("交多少钱啥时候截止手机上能交不"):
# after these words a new clause may begin.
_ENDERS = re.compile(r"(?:多少钱|几个钱|多钱|多少|吗|么|不|没有|咋办|咋弄|怎么办|行不行|中不中|可以不|截止|到期|来得及|赶趟)(?=[\u4e00-\u9fff]{3})")
_RUN_ON = 12  # characters: a piece this long with no pause may hold several questions


def clauses(text: str) -> list[tuple[int, str]]:
    """(start, clause) pieces of a normalised message: split at pauses and announcing words, and a long
    piece with no pause also after the words questions end with."""
    out: list[tuple[int, str]] = []
    pos = 0
    for m in _CLAUSE_BREAK.finditer(text):
        if m.start() > pos:
            out.append((pos, text[pos : m.start()]))
        pos = max(pos, m.end())
    if pos < len(text):
        out.append((pos, text[pos:]))
    split: list[tuple[int, str]] = []
    for start, piece in out:
        if len(piece) < _RUN_ON:
            split.append((start, piece))
            continue
        at = 0
        for m in _ENDERS.finditer(piece):
            split.append((start + at, piece[at : m.end()]))
            at = m.end()
        split.append((start + at, piece[at:]))
    return [(s, p) for s, p in split if p]


def _explicit(form: str) -> tuple[str, float, int, int] | None:
    """The strongest question pattern in a text: (intent, weight, start, end)."""
    best: tuple[str, float, int, int] | None = None
    for intent, weight, pattern in _compiled():
        m = pattern.search(form)
        if m and (best is None or weight > best[1] or (weight == best[1] and m.start() < best[2])):
            best = (intent, weight, m.start(), m.end())
    return best


EXTRA_NEEDS_MODEL = True


def _confirmed(clause: str, intent: str, model: Any) -> bool:
    """A second question in one message is taken only when the classifier reads its clause the same
    way: a question word alone ("在哪交" inside "医保在哪交" about a student) is not enough."""
    if not EXTRA_NEEDS_MODEL:
        return True
    from bot.nlu import classifier

    return (model or classifier.model()).predict(clause).intent == intent


def _span_of(intent: str, form: str) -> tuple[int, int] | None:
    """Where the strongest pattern of `intent` matched in the whole text."""
    best: tuple[float, int, int] | None = None
    for name, weight, pattern in _compiled():
        if name != intent:
            continue
        m = pattern.search(form)
        if m and (best is None or weight > best[0]):
            best = (weight, m.start(), m.end())
    return (best[1], best[2]) if best else None


def asks(text: str, main: str, *, model: Any = None) -> list[Ask]:
    """Every question in a normalised message, in the order asked.

    The whole-message decision gives the main question; each clause asked explicitly with a question
    word of another intent adds one ("交多少 最晚啥时候交" asks amount, then deadline). A clause inside
    the words that decided the main question adds nothing ("职工医保 还用交吗" is one question about
    employee insurance, not also one about the amount). Facts alone (a category, an age) never add a
    question: "我是低保户 什么时候截止" asks one thing.
    """
    # The matching form keeps the text's length for these folds only where they are one-to-one, so
    # positions are read on the matching form of each piece separately.
    found: list[Ask] = []
    whole = matching_form(text)
    main_span = _span_of(main, whole) if main not in _NOT_A_QUESTION else None
    pieces = clauses(text)
    if len(pieces) > 1:
        for start, clause in pieces:
            form = matching_form(clause)
            hit = _explicit(form)
            if hit is None or hit[0] in _NOT_A_QUESTION or hit[1] < 0.9:
                continue
            if hit[0] != main and main_span is not None:
                at = whole.find(form)
                if at >= 0 and main_span[0] <= at + hit[2] < main_span[1]:
                    continue
            if hit[0] != main and not _confirmed(clause, hit[0], model):
                continue
            if all(a.intent != hit[0] for a in found):
                found.append(Ask(hit[0], start + hit[2], True))
    if main not in _NOT_A_QUESTION and all(a.intent != main for a in found):
        explicit = main_span is not None
        found.append(Ask(main, main_span[0] if main_span else -1, explicit))
    found.sort(key=lambda a: a.position)
    return found


# ---- rules and the classifier together ----------------------------------------------------------

# When a question pattern decided the intent, the classifier overrules it only when it is this sure of
# another intent (its score margin; chosen by cross-validation on the development corpus).
OVERRULE_MARGIN = 0.5
# Without a question pattern, the classifier's guess is taken when at least this sure; otherwise the
# rules' reading stands (a place alone, "那滕州呢": the dialogue then leans on the previous question).
GUESS_MARGIN = 0.1


def resolve(text: str, rule_intent: str, *, has_id: bool = False, model: Any = None) -> str:
    """The message's main intent: an ID number means a status check; a question pattern's intent
    stands unless the classifier is clearly sure of another; otherwise (a place alone, facts alone,
    no pattern at all) the classifier decides."""
    if has_id:
        return "status"
    from bot.nlu import classifier

    chosen = model or classifier.model()
    guess = chosen.predict(text)
    form = matching_form(text)
    explicit = rule_intent not in _NOT_A_QUESTION and _span_of(rule_intent, form) is not None
    if rule_intent == "amount" and re.search(SUBSIDY_STILL, form):
        return rule_intent  # the words name the subsidy: not the benefit period the classifier hears in 享受
    if explicit and (guess.intent == rule_intent or guess.margin <= OVERRULE_MARGIN
                     or rule_intent not in chosen.labels):
        # (An intent the classifier was never taught, such as task targets, is the rules' alone.)
        return rule_intent
    if not explicit and guess.margin < GUESS_MARGIN:
        return rule_intent
    return guess.intent
