"""The dialogue's replies as WeChat text: service accounts have no inline buttons, so choices become
numbered lines the resident answers with a number, plus a custom menu (自定义菜单) for the main topics.

    messages, values = render(outcome.replies)
    # messages: texts to send, the first as the passive reply, the rest through 客服消息;
    # values: the choice values, in the order they are numbered (stored with the dialogue state)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.conversation import Choice, Reply

CHOICES_LEAD = "回复数字选择："
# WeChat's limit for a text message is 2048 bytes; stay under it with room for the XML around it.
MAX_BYTES = 2000
SEPARATOR = "\n\n"

UNSUBSCRIBE_KEY = "text:/unsubscribe"  # menu key read as the typed command (no choice value exists)


def _bytes(text: str) -> int:
    return len(text.encode())


def choice_lines(choices: Sequence[Choice], start: int) -> str:
    return CHOICES_LEAD + "".join(f"\n{n}. {c.label}" for n, c in enumerate(choices, start))


def reply_text(reply: Reply, start: int = 1) -> str:
    """One reply as text, its choices numbered from `start`."""
    choices = reply.all_choices()
    return reply.text if not choices else f"{reply.text}\n{choice_lines(choices, start)}"


def render(replies: Sequence[Reply]) -> tuple[list[str], list[str]]:
    """The texts to send (replies packed into as few messages as fit) and the numbered choice values."""
    parts: list[str] = []
    values: list[str] = []
    for reply in replies:
        parts.append(reply_text(reply, len(values) + 1))
        values.extend(c.value for c in reply.all_choices())
    messages: list[str] = []
    for part in parts:
        for piece in _split(part):
            if messages and _bytes(messages[-1]) + _bytes(SEPARATOR) + _bytes(piece) <= MAX_BYTES:
                messages[-1] += SEPARATOR + piece
            else:
                messages.append(piece)
    return messages, values


def _split(text: str) -> list[str]:
    """A text longer than one message, cut at line ends (at characters for a very long line)."""
    if _bytes(text) <= MAX_BYTES:
        return [text]
    out: list[str] = [""]
    for line in text.split("\n"):
        while _bytes(line) > MAX_BYTES:
            cut = MAX_BYTES // 4  # 4 bytes is the longest UTF-8 character
            out.append(line[:cut])
            line = line[cut:]
        candidate = f"{out[-1]}\n{line}" if out[-1] else line
        if _bytes(candidate) <= MAX_BYTES:
            out[-1] = candidate
        else:
            out.append(line)
    return [o for o in out if o]


def picked(text: str, values: Sequence[str]) -> str | None:
    """The choice value a resident's "2" (or "２", "2." ...) picks from the last numbered list."""
    digits = text.strip().rstrip(".。、").translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if digits.isdigit() and 1 <= int(digits) <= len(values):
        return values[int(digits) - 1]
    return None


def strip_choices(text: str) -> str:
    """A rendered message without its numbered lines (tests compare the answers across channels)."""
    out, skipping = [], False
    for line in text.split("\n"):
        if line == CHOICES_LEAD:
            skipping = True
            continue
        if skipping and line[:1].isdigit() and ". " in line:
            continue
        skipping = False
        out.append(line)
    return "\n".join(out)


# ------------------------------------------------------------------------------------- custom menu

MENU_TOP = ("问政策", "更多", "查参保")
MAX_SUB = 5  # WeChat: at most 3 top-level buttons with 5 sub-buttons each


def custom_menu() -> dict[str, Any]:
    """The account's custom menu, from the dialogue's own main menu: every click sends the choice
    value the Telegram button carries (as EventKey), plus 取消提醒."""
    from bot.conversation.menus import menu_choices

    items = [c for row in menu_choices() for c in row]
    personal = [c for c in items if c.value in ("x:lookup", "t:subscribe")]
    topics = [c for c in items if c not in personal]
    columns = [topics[:MAX_SUB], topics[MAX_SUB : 2 * MAX_SUB], personal]
    buttons = []
    for name, column in zip(MENU_TOP, columns, strict=True):
        subs = [{"type": "click", "name": c.label, "key": c.value} for c in column]
        if name == "查参保":
            subs.append({"type": "click", "name": "取消提醒", "key": UNSUBSCRIBE_KEY})
        buttons.append({"name": name, "sub_button": subs[:MAX_SUB]})
    return {"button": buttons}
