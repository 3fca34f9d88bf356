"""The resident's place: picked with buttons (province -> county or town) or typed at any time
(五河县, 五河, 滕州, a town or village from the task tables), confirmed and stored in the profile."""

from __future__ import annotations

from typing import Any

from aiogram import F, Router
from aiogram.filters import Filter
from aiogram.fsm.context import FSMContext
from aiogram.types import CallbackQuery, Message

from handlers.resident import keyboards, places
from handlers.resident.conversation import answer_pending, ask_place, send_menu
from handlers.resident.understanding import Says, understand

router = Router(name="resident.place")


def confirm_text(loc: str, area: str | None, exact: bool = True) -> str:
    pack = places.get_pack(loc)
    label = places.place_of(pack).label if pack is not None else loc
    text = f"好的，记住了：您在{label}{area or ''}。"
    if not exact:
        text += "\n（这是按相近的地名猜的，不对的话请点“换个地方”或重新发地名。）"
    return text


async def _settle(message: Message, state: FSMContext, session: Any, profile: Any, loc: str,
                  area_name: str | None = None, exact: bool = True) -> None:
    area_id = places.area_id_for(session, loc, area_name)
    places.remember(session, profile, loc, area_id)
    await message.answer(confirm_text(loc, area_name, exact))
    if not await answer_pending(message, state, loc):
        await state.set_state(None)
        await send_menu(message, profile)


@router.callback_query(keyboards.PlaceCb.filter(F.level == "start"))
async def pick_province(query: CallbackQuery, state: FSMContext) -> None:
    await query.answer()
    if query.message is not None:
        await query.message.answer("请选择省份：", reply_markup=keyboards.provinces_keyboard(places.provinces()))


@router.callback_query(keyboards.PlaceCb.filter(F.level == "prov"))
async def pick_locality(query: CallbackQuery, callback_data: keyboards.PlaceCb) -> None:
    await query.answer()
    choices = [(p.locality_id, p.label) for p in places.places_in(callback_data.value)]
    if query.message is None:
        return
    if not choices:
        await query.message.answer(f"这个省暂时没有收录。目前收录的地方：{places.covered_list_zh()}。")
        return
    await query.message.answer("请选择县（市、区）或镇：", reply_markup=keyboards.localities_keyboard(choices))


@router.callback_query(keyboards.PlaceCb.filter(F.level == "loc"))
async def picked(query: CallbackQuery, callback_data: keyboards.PlaceCb, state: FSMContext,
                 session: Any = None, profile: Any = None) -> None:
    await query.answer()
    if query.message is None:
        return
    if places.get_pack(callback_data.value) is None:
        await query.message.answer(f"这个地方暂时没有收录。目前收录的地方：{places.covered_list_zh()}。")
        return
    await _settle(query.message, state, session, profile, callback_data.value)


@router.message(Says("set_place"))
async def typed_place(message: Message, state: FSMContext, understood: Any, session: Any = None,
                      profile: Any = None) -> None:
    if not understood.loc or places.get_pack(understood.loc) is None:
        await unknown_place(message, state, None)
        return
    await _settle(message, state, session, profile, understood.loc, understood.village or understood.town,
                  understood.place_exact)


class NamesUnknownPlace(Filter):
    """A text naming a place we have no policy for (and no place we know)."""

    async def __call__(self, message: Message) -> bool | dict[str, Any]:
        if not message.text or message.text.startswith("/"):
            return False
        u = understand(message.text)
        if u.loc:
            return False
        name = places.unknown_place_in(message.text)
        return {"unknown": name} if name else False


@router.message(NamesUnknownPlace())
async def unknown_place(message: Message, state: FSMContext, unknown: str | None = None) -> None:
    where = f"“{unknown}”" if unknown else "这个地方"
    await message.answer(
        f"抱歉，{where}的医保缴费政策我这里还没有收录，不能乱答。\n"
        f"目前收录的地方：{places.covered_list_zh()}。\n"
        "其他地方请咨询当地村（社区）或医保部门。"
    )
    await ask_place(message, state, None, lead="如果您在上面这些地方参保，请选一下：")
