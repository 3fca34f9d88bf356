"""Status check ("am I enrolled?"): an ID number and a name, typed together or one after the other.

The ID number is personal data: the adapter deletes the message holding it where it can, replies show
it masked, the dialogue state keeps it only while waiting for the name (at most `LOOKUP_TTL`), and
every lookup and refusal is audited (masked). Lookups are rate-limited by `bot.registry.audit`.
Only in a private chat: in a group the core answers one line instead.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from bot import clock
from bot.conversation import render
from bot.conversation.choices import subscribe_value
from bot.conversation.deps import Deps
from bot.conversation.model import Choice, Reply
from bot.conversation.places import pack_for
from bot.conversation.state import DialogueState, OpenQuestion
from bot.conversation.topics import policy_day
from bot.registry import ids
from bot.registry.chats import stop_hint

log = logging.getLogger(__name__)

ACTION = "status"  # counted by the audit's lookup limits
ASK_ID = "可以查。请发送参保人的身份证号和姓名，我帮您查是否已参保缴费，例如：身份证号 张三。\n为保护隐私，我查完会删除您发的这条消息。"
# Digit runs that look like an attempt at an ID number (wrong lengths too, so we can say what is wrong).
_ID_ATTEMPT = re.compile(r"[0-9][0-9 \-]{12,24}[0-9Xx]")
_NAME = re.compile(r"[\u4e00-\u9fff·]{2,12}")
# The Chinese run right before an ID number (and a 身份证 label): the name, once the verbs are off.
_BEFORE_ID = re.compile(r"([\u4e00-\u9fff·]{2,10})\s*(?:的)?\s*(?:身份证(?:号码|号)?(?:是)?)?\s*[:：]?\s*$")
_LEADING_WORDS = re.compile(r"^(?:(?:帮|给)?(?:俺|我|咱)?(?:查询|查查|查一下|查下|查|看看|看一下|问问|问一下|一下|俺|我|的|家|娘|妈|爹|爸|老伴)+)")
# "她叫王建军", "名字是李四", "姓名：张三": a name said with its label, anywhere in the message.
_LABELLED = re.compile(r"(?:叫|名字是|名字叫|姓名是|姓名[:：]?)\s*([\u4e00-\u9fff·]{2,4}?)(?=[\s,，。:：]|身份证|$|[0-9])")
_NOT_NAME = re.compile(
    r"查询|查一下|查查|帮我|参保|身份证|号码|姓名|名字|我叫|叫做|是否|有没有|缴费|交费|医保|情况|请|麻烦|谢谢|您好|你好|一下"
    r"|交了|交上|没有|吗|呢|的|了"
)


def id_attempt(text: str | None) -> str | None:
    """The ID number (or an attempt at one) in a message."""
    if not text:
        return None
    text = unicodedata.normalize("NFKC", text)
    found = ids.find_ids(text)
    if found:
        return found[0]
    m = _ID_ATTEMPT.search(text)
    return m.group(0) if m else None


def name_in(text: str, id_raw: str | None, nlu_name: str | None = None) -> str | None:
    """The person's name in a message: the NLU's reading first, else one short run of Chinese."""
    if nlu_name:
        return nlu_name
    text = unicodedata.normalize("NFKC", text)
    labelled = _LABELLED.search(text)
    if labelled:
        return labelled.group(1)
    if id_raw and id_raw in text:
        # "王秀兰 3403…", "帮俺查一下王建军身份证3403…": the name typed right before the number.
        before = _BEFORE_ID.search(text[: text.index(id_raw)])
        if before:
            run = _LEADING_WORDS.sub("", before.group(1))
            if 2 <= len(run) <= 4:
                return run
    rest = text.replace(id_raw, " ") if id_raw else text
    rest = _NOT_NAME.sub(" ", rest)
    names = [n.strip("·") for n in _NAME.findall(rest) if 2 <= len(n.strip("·")) <= 12]
    return names[0] if len(names) == 1 else None


def ask_id(state: DialogueState) -> Reply:
    state.open = OpenQuestion("id", "status")
    return Reply(ASK_ID)


@dataclass(frozen=True)
class Looked:
    """What a status step said, and whom it found (for the dialogue to carry on about that person)."""

    replies: list[Reply]
    found: Any = None  # bot.registry.lookup.StatusResult of a person found
    number: str | None = None  # the ID number looked up (personal data: not kept in the state)


def on_id(state: DialogueState, raw: str, text: str, nlu_name: str | None, deps: Deps) -> Looked:
    """A message holding an ID number (valid or not)."""
    check = ids.validate(raw)
    if not check.ok:
        state.open = OpenQuestion("id", "status")
        return Looked([Reply(f"{check.reason_zh}\n请重新发送身份证号（可以连同姓名一起发）。")])
    name = name_in(text, raw, nlu_name)
    if not name:
        state.hold_id(check.number, clock.now())
        state.open = OpenQuestion("name", "status")
        note = f"{check.note_zh}\n" if check.note_zh else ""
        return Looked([Reply(f"{note}收到身份证号 {check.masked}。请再发一下参保人的姓名。")])
    return look_up(state, check.number, name, deps)


def on_name(state: DialogueState, text: str, deps: Deps) -> Looked | None:
    """The name after an ID number; None when the text is not a name (the resident moved on)."""
    number = state.lookup_id
    name = name_in(text.strip(), None)
    if not number or not name:
        return None
    return look_up(state, number, name, deps)


def look_up(state: DialogueState, number: str, name: str, deps: Deps) -> Looked:
    from bot.registry import audit
    from bot.registry.db import session_scope
    from bot.registry.status_service import ServiceUnavailable, check_status

    state.drop_id()
    state.open = None
    chat_id = deps.chat
    settings = deps.settings
    with session_scope(deps.engine) as session:
        # Per chat, per ID number across all chats, and a ceiling on failed lookups; refusals audited.
        verdict = audit.check_lookup(session, chat_id=chat_id, id_number=number, settings=settings,
                                     action=ACTION)
    if not verdict.allowed:
        return Looked([Reply(verdict.reason_zh or "查询太频繁了，请过一会儿再查。")])
    try:
        result = check_status(number, name, settings=settings, engine=deps.engine)
    except ServiceUnavailable as exc:
        with session_scope(deps.engine) as session:
            audit.record(session, chat_id=chat_id, actor="resident", action=ACTION, id_number=number,
                         outcome="unavailable")
        return Looked([Reply(exc.message_zh)])
    outcome = "not_found" if not result.found else ("enrolled" if result.enrolled else "unpaid")
    with session_scope(deps.engine) as session:
        audit.record(session, chat_id=chat_id, actor="resident", action=ACTION, id_number=number, outcome=outcome)
    if not result.found:
        return Looked([Reply(not_found_text(result, number))])
    replies = [Reply(found_text(result, number))]
    if result.enrolled and result.household_id is None:
        return Looked(replies, result, number)  # nothing left to remind this person of
    state.last_lookup = {"person_id": result.person_id, "household_id": result.household_id,
                         "masked": result.masked_id, "name": result.name}
    replies.append(offer_reply(state.last_lookup, person=not result.enrolled,
                               channel=deps.chat.channel if deps.chat is not None else None))
    return Looked(replies, result, number)


def offer_reply(last: dict[str, Any], *, person: bool = True, channel: str | None = None) -> Reply:
    choices = []
    if person:
        choices.append(Choice("提醒此人缴费", subscribe_value("person")))
    if last.get("household_id") is not None:
        choices.append(Choice("提醒全家缴费", subscribe_value("household")))
    choices.append(Choice("不用了", subscribe_value("no")))
    return Reply(f"需要我在缴费截止前提醒吗？（随时{stop_hint(channel)}可取消）", tuple((c,) for c in choices))


def not_found_text(result: Any, number: str) -> str:
    masked = getattr(result, "masked_id", None) or ids.mask(number)
    return (
        f"没有查到 {masked} 这个姓名的参保记录。\n"
        "请核对身份证号和姓名是否正确（姓名要和身份证上一致）。\n"
        "信息无误仍查不到的，请联系村（社区）干部核实。"
    )


def found_text(result: Any, number: str) -> str:
    masked = result.masked_id or ids.mask(number)
    from bot.registry.history import continuity_zh

    if result.enrolled:
        lines = [
            f"{masked} {result.name}：已参保缴费，已参加{result.year}年度城乡居民医保。",
            f"缴费日期：{render.day(result.paid_on)}，金额 {render.money(result.amount)} 元。",
        ]
        if result.benefit_start:
            lines.append(f"待遇开始：{render.day(result.benefit_start)}。")
        lines += continuity_zh(result)[:1]
        return render.compose(lines, None)
    return unpaid_text(result, number, masked)


def unpaid_text(result: Any, number: str, masked: str) -> str:
    """Unpaid: what this person owes (the engine, with their categories and birth date), by when, how."""
    from bot.policy import engine
    from bot.policy.engine import Person

    today = clock.today()
    lines: list[str | None] = [f"{masked} {result.name}：{result.year}年度还没有缴费。"]
    pack = pack_for(result.locality_id)
    if pack is None:
        lines.append("请联系村（社区）干部办理缴费。")
        return render.compose(lines, None)
    try:
        born: dt.date | None = ids.birth_date(number)
    except ValueError:
        born = None
    person = Person(categories=tuple(result.categories or ()), birth_date=born, migrant=bool(result.migrant))
    due = engine.amount(pack, person, policy_day(pack, today, amount=True))
    dl = engine.deadline(pack, person, policy_day(pack, today))
    on = policy_day(pack, today)
    cits: list[Any] = []
    if due.ok:
        j = render.fields(due)
        if j.get("pay_first"):
            lines.append(f"应缴：先缴 {render.money(j.get('personal'))} 元，之后补助 "
                         f"{render.money(j.get('reimbursed_later'))} 元。")
        else:
            lines.append(f"应缴：个人 {render.money(j.get('personal'))} 元。")
        cits += list(due.citations or [])
    else:
        lines.append(f"应缴金额：{due.refusal}")
    if dl.ok:
        j = render.fields(dl)
        if j.get("missed"):
            lines.append(f"缴费截止 {render.day(j.get('deadline'))}，已经过了。")
            if dl.missed_consequence_zh:
                lines.append(dl.missed_consequence_zh)
        else:
            extended = "（外出务工人员的延长期限）" if j.get("extended") else ""
            lines.append(f"请在 {render.day(j.get('deadline'))} 前缴费{extended}，还剩 {j.get('days_left')} 天。")
        cits += list(dl.citations or [])
    how = engine.payment_info(pack, on)
    first = render.first_line(how) if how.ok else None
    if first:
        lines.append(f"怎么交：{first}")
    lines.append(render.year_note(pack, today, collection=True))
    return render.compose(lines, render.source_line(cits))
