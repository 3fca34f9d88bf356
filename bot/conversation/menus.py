"""The fixed replies of the dialogue: greeting, menu, asking for the place, not understood."""

from __future__ import annotations

from bot.conversation import places
from bot.conversation.choices import action_value, locality_value, topic_value
from bot.conversation.model import Choice, Reply

GREETING = "您好！我是城乡居民医保缴费小助手，可以帮您查交多少钱、什么时候交、自己是否已参保。"

# Menu topic -> button label. Labels are the questions people ask, not policy text.
TOPIC_LABELS: dict[str, str] = {
    "amount": "交多少钱",
    "deadline": "什么时候交",
    "eligibility": "谁能参保",
    "benefit_start": "补交后何时报销",
    "newborn": "新生儿",
    "refund": "退费",
    "how_to_pay": "怎么交",
    "contact": "联系电话",
}
EXAMPLES = ("低保户交多少钱", "什么时候截止交费", "三月份补交什么时候能报销")


def menu_choices() -> tuple[tuple[Choice, ...], ...]:
    items = [Choice(label, topic_value(topic)) for topic, label in TOPIC_LABELS.items()]
    items += [Choice("查询参保", action_value("lookup")), Choice("提醒我", topic_value("subscribe")),
              Choice("换个地方", action_value("place"))]
    return tuple(tuple(items[i : i + 2]) for i in range(0, len(items), 2))


def where_now(locality: str | None) -> str:
    if locality and places.pack_for(locality) is not None:
        return f"当前地区：{places.label(locality)}。"
    return "还没选地区。"


def menu(locality: str | None, lead: str | None = None) -> Reply:
    text = f"{where_now(locality)}点下面的按钮，或直接打字问我。"
    return Reply(f"{lead}\n{text}" if lead else text, menu_choices())


def place_choices() -> tuple[tuple[Choice, ...], ...]:
    return tuple((Choice(p.label, locality_value(p.locality_id)),) for p in places.covered())


def ask_place(lead: str = "请问您在哪个县（市）参保？") -> Reply:
    example = places.covered()[0].name if places.covered() else "县名"
    return Reply(f"{lead}\n点一下下面的地方，或直接发地名（比如“{example}”）。", place_choices())


def unknown_place(name: str | None) -> Reply:
    where = f"“{name}”" if name else "这个地方"
    return Reply(
        f"抱歉，{where}的医保缴费政策我这里还没有收录，不能乱答。\n"
        f"目前收录的地方：{places.covered_list_zh()}。\n"
        "其他地方请咨询当地村（社区）或医保部门。如果您在上面这些地方参保，请点一下：",
        place_choices(),
    )


def not_understood(locality: str | None) -> Reply:
    prefix = places.name(locality) if locality and places.pack_for(locality) else ""
    examples = "\n".join(f"· {prefix}{e}" if i == 0 else f"· {e}" for i, e in enumerate(EXAMPLES))
    return Reply(f"没太明白您的意思。可以这样问我：\n{examples}\n{where_now(locality)}", menu_choices())


def can_answer(locality: str) -> Reply:
    """A place was named with a question the bot does not know: say what it can answer there."""
    topics = "、".join(TOPIC_LABELS.values())
    return Reply(f"关于{places.name(locality)}，我能回答：{topics}，还能查询是否已参保。您想问哪个？",
                 menu_choices())


THANKS = Reply("不客气！还有问题随时问我。", menu_choices())
PRIVATE_ONLY = "为保护个人信息，查询参保和订阅提醒请私聊我。"
