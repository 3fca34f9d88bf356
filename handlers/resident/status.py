"""Status check ("am I enrolled?"): an ID number (and a name), by the 查询参保 button or typed at any
time. The ID is validated, the resident's message holding it is deleted where the API allows,
lookups are rate-limited and audited (masked ID only), and the answer shows the masked ID only."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import re
import unicodedata
from typing import Any

from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from bot import clock
from bot.registry import ids
from handlers.resident import keyboards, places, render
from handlers.resident.asking import policy_day
from handlers.resident.conversation import drop_pending
from handlers.resident.states import Lookup
from handlers.resident.understanding import Says, understand

router = Router(name="resident.status")
log = logging.getLogger(__name__)

ACTION = "status"  # counted by audit.lookup_allowed
# Digit runs that look like an attempt at an ID number (also wrong lengths, so we can say why).
_ID_ATTEMPT = re.compile(r"[0-9０-９][0-9０-９ \-]{12,24}[0-9０-９Xxｘ]")
_NAME = re.compile(r"[\u4e00-\u9fff·]{2,12}")
_NOT_NAME = re.compile(
    r"查询|查一下|查查|帮我|参保|身份证|号码|姓名|名字|我叫|叫做|是否|有没有|缴费|交费|医保|情况|请|麻烦|谢谢|您好|你好|一下"
)

ASK_ID = "请发送参保人的身份证号和姓名，例如：身份证号 张三。\n为保护隐私，我查完会删除您发的这条消息。"


def id_attempt(text: str | None) -> str | None:
    if not text:
        return None
    found = ids.find_ids(text)
    if found:
        return found[0]
    m = _ID_ATTEMPT.search(text)
    return m.group(0) if m else None


def name_in(text: str, id_raw: str | None) -> str | None:
    """The person's name in a message, if any (NLU slot first, else a short Chinese run)."""
    text = unicodedata.normalize("NFKC", text)
    rest = text.replace(id_raw, " ") if id_raw else text
    u = understand(rest)
    if u.name:
        return u.name
    rest = _NOT_NAME.sub(" ", rest)
    names = [n.strip("·") for n in _NAME.findall(rest) if 2 <= len(n.strip("·")) <= 12]
    return names[0] if len(names) == 1 else None


class HoldsId(Filter):
    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        raw = id_attempt(message.text)
        return {"id_raw": raw} if raw else False


@router.callback_query(keyboards.MenuCb.filter(F.topic == "status"))
async def status_button(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if query.message is not None:
        await ask_id(query.message, state)


async def ask_id(message: Message, state: FSMContext) -> None:
    await drop_pending(state)
    await state.set_state(Lookup.id_number)
    await message.answer(ASK_ID)


async def _delete(message: Message) -> None:
    # Telegram refuses deleting some messages (too old, no rights); the lookup goes on regardless.
    with contextlib.suppress(Exception):
        await message.delete()


@router.message(Lookup.id_number, F.text)
@router.message(HoldsId())
async def id_message(message: Message, state: FSMContext, id_raw: str | None = None, **data: Any) -> None:
    text = message.text or ""
    raw = id_raw or id_attempt(text)
    if raw is None:
        # In the "send your ID" state but no number here: the resident moved on.
        await state.set_state(None)
        raise SkipHandler
    await _delete(message)
    check = ids.validate(raw)
    if not check.ok:
        await state.set_state(Lookup.id_number)
        await message.answer(f"{check.reason_zh}\n请重新发送身份证号（可以连同姓名一起发）。")
        return
    name = name_in(text, raw)
    if not name:
        await state.set_state(Lookup.name)
        await state.update_data(lookup_id=check.number)
        note = f"{check.note_zh}\n" if check.note_zh else ""
        await message.answer(f"{note}收到身份证号 {check.masked}。请再发一下参保人的姓名。")
        return
    await lookup(message, state, check.number, name, **data)


@router.message(Says("status"))
async def status_words(message: Message, state: FSMContext) -> None:
    """"我的医保交上了没有" without a number: ask for it."""
    await ask_id(message, state)


@router.message(Lookup.name, F.text)
async def name_message(message: Message, state: FSMContext, **data: Any) -> None:
    number = (await state.get_data()).get("lookup_id")
    text = (message.text or "").strip()
    name = name_in(text, None)
    if not number or not name:
        if understand(text).topic is not None or text.startswith("/"):
            await _forget_id(state)
            raise SkipHandler
        await message.answer("请只发参保人的姓名（汉字），例如：张三。")
        return
    await lookup(message, state, number, name, **data)


async def _forget_id(state: FSMContext) -> None:
    await state.set_state(None)
    await state.update_data(lookup_id=None)


async def lookup(message: Message, state: FSMContext, number: str, name: str, session: Any = None,
                 settings: Any = None, **_: Any) -> None:
    from bot.registry import audit, status_service

    await _forget_id(state)
    chat_id = message.chat.id
    if not audit.lookup_allowed(session, chat_id, settings):
        audit.record(session, chat_id=chat_id, actor="resident", action=ACTION, id_number=number,
                     outcome=audit.OUTCOME_RATE_LIMITED)
        window = dt.timedelta(seconds=int(getattr(settings, "lookup_window_seconds", 0) or 0))
        minutes = max(1, window // dt.timedelta(minutes=1)) if settings else None
        limit = getattr(settings, "lookup_limit", None)
        rule = f"每个聊天{minutes}分钟内最多查{limit}次，" if minutes and limit else ""
        await message.answer(f"查询太频繁了。为保护个人信息，{rule}请过一会儿再查。谢谢理解！")
        return
    try:
        result = await status_service.check_status(session, number, name, settings=settings)
    except status_service.ServiceUnavailable as exc:
        audit.record(session, chat_id=chat_id, actor="resident", action=ACTION, id_number=number,
                     outcome="unavailable")
        await message.answer(exc.message_zh)
        return
    outcome = "not_found" if not result.found else ("enrolled" if result.enrolled else "unpaid")
    audit.record(session, chat_id=chat_id, actor="resident", action=ACTION, id_number=number, outcome=outcome)
    if not result.found:
        await message.answer(not_found_text(result, number, session))
        return
    await message.answer(found_text(result, number))
    if result.enrolled and result.household_id is None:
        return  # nothing left to remind this person of
    await state.update_data(last_lookup={
        "person_id": result.person_id,
        "household_id": result.household_id,
        "masked": result.masked_id,
        "name": result.name,
    })
    await message.answer(
        "需要我在缴费截止前提醒吗？（随时发 /unsubscribe 可取消）",
        reply_markup=keyboards.subscribe_keyboard(result.household_id is not None, person=not result.enrolled),
    )


def not_found_text(result: Any, number: str, session: Any) -> str:
    masked = getattr(result, "masked_id", None) or ids.mask(number)
    return (
        f"没有查到 {masked} 这个姓名的参保记录。\n"
        "请核对身份证号和姓名是否正确（姓名要和身份证上一致）。\n"
        "信息无误仍查不到的，请联系村（社区）干部核实。"
    )


def found_text(result: Any, number: str) -> str:
    masked = result.masked_id or ids.mask(number)
    year = result.year
    if result.enrolled:
        lines = [
            f"{masked} {result.name}：已参加{year}年度城乡居民医保。",
            f"缴费日期：{render.day(result.paid_on)}，金额 {render.money(result.amount)} 元。",
        ]
        if result.benefit_start:
            lines.append(f"待遇开始：{render.day(result.benefit_start)}。")
        return render.compose(lines, None)
    return unpaid_text(result, number, masked)


def unpaid_text(result: Any, number: str, masked: str) -> str:
    """Unpaid: what this person owes (engine, with their categories and birth date), by when, how."""
    from bot.policy import engine
    from bot.policy.engine import Person

    today = clock.today()
    lines: list[str | None] = [f"{masked} {result.name}：{result.year}年度还没有缴费。"]
    pack = places.get_pack(result.locality_id)
    if pack is None:
        lines.append("请联系村（社区）干部办理缴费。")
        return render.compose(lines, None)
    born: dt.date | None
    try:
        born = ids.birth_date(number)
    except ValueError:
        born = None
    person = Person(categories=tuple(result.categories or ()), birth_date=born, migrant=bool(result.migrant))
    cits: list[Any] = []
    due = _ask(engine.amount, pack, person, policy_day(pack, today, amount=True))
    dl = _ask(engine.deadline, pack, person, policy_day(pack, today))
    if due is None:
        pass
    elif getattr(due, "ok", False):
        j = render.fields(due)
        if j.get("pay_first"):
            lines.append(f"应缴：先缴 {render.money(j.get('personal'))} 元，之后补助 {render.money(j.get('reimbursed_later'))} 元。")
        else:
            lines.append(f"应缴：个人 {render.money(j.get('personal'))} 元。")
        cits += list(due.citations or [])
    else:
        lines.append(f"应缴金额：{due.refusal}")
    if dl is not None and getattr(dl, "ok", False):
        j = render.fields(dl)
        if j.get("missed"):
            lines.append(f"缴费截止 {render.day(j.get('deadline'))}，已经过了。")
            if getattr(dl, "missed_consequence_zh", None):
                lines.append(dl.missed_consequence_zh)
        else:
            extended = "（外出务工人员的延长期限）" if j.get("extended") else ""
            lines.append(f"请在 {render.day(j.get('deadline'))} 前缴费{extended}，还剩 {j.get('days_left')} 天。")
        cits += list(dl.citations or [])
    how = _how_to_pay(pack, policy_day(pack, today))
    if how:
        lines.append(f"怎么交：{how}")
    lines.append(render.year_note(pack, today))
    return render.compose(lines, render.source_line(cits))


def _ask(fn: Any, *args: Any) -> Any:
    """An engine call whose failure must not hide the enrollment status already found."""
    try:
        return fn(*args)
    except Exception:  # noqa: BLE001
        log.exception("policy engine failed while rendering a status answer")
        return None


def _how_to_pay(pack: Any, today: dt.date) -> str | None:
    from bot.policy import engine

    fn = getattr(engine, "payment_info", None)
    ans = _ask(fn, pack, today) if fn is not None else None
    if ans is None or not getattr(ans, "ok", False):
        return None
    lines = render.explanation_lines(ans, 1)
    # One sentence is enough here; the 怎么交 button gives the whole answer.
    return render.first_sentence(lines[0]) if lines else None
