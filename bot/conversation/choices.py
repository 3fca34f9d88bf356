"""Choice values: short strings "<kind>:<value>" that only the dialogue core reads.

A value comes back from the messenger when a resident picks a choice. It is untrusted (a client can
forge it), so it only names an option; `parse` returns None for anything malformed, and the core
checks the option against the pack before using it.
"""

from __future__ import annotations

KINDS = {
    "t": "topic",  # t:amount
    "c": "category",  # c:dibao, c:none (an ordinary resident)
    "a": "age",  # a:60
    "p": "province",  # p:安徽省
    "l": "locality",  # l:wuhe
    "r": "refund",  # r:death
    "m": "month",  # m:2024-03, m:ontime
    "w": "town",  # w:滨湖镇
    "s": "subscribe",  # s:person, s:household, s:no
    "x": "action",  # x:menu, x:place, x:lookup
}
MAX_BYTES = 60  # Telegram allows 64 bytes of callback data; the adapter adds a short prefix


def _value(kind: str, value: str) -> str:
    out = f"{kind}:{value}"
    if len(out.encode()) > MAX_BYTES:
        raise ValueError(f"choice value too long: {out!r}")
    return out


def topic_value(topic: str) -> str:
    return _value("t", topic)


def category_value(code: str) -> str:
    return _value("c", code)


def age_value(age: int) -> str:
    return _value("a", str(age))


def province_value(province: str) -> str:
    return _value("p", province)


def locality_value(locality_id: str) -> str:
    return _value("l", locality_id)


def refund_value(reason: str) -> str:
    return _value("r", reason)


def month_value(month: str) -> str:
    return _value("m", month)


def town_value(town: str) -> str:
    return _value("w", town)


def subscribe_value(target: str) -> str:
    return _value("s", target)


def action_value(action: str) -> str:
    return _value("x", action)


def parse(raw: str | None) -> tuple[str, str] | None:
    """(kind name, value) of a choice value, or None when it is not one of ours."""
    if not raw or ":" not in raw or len(raw.encode()) > MAX_BYTES:
        return None
    kind, _, value = raw.partition(":")
    name = KINDS.get(kind)
    if name is None or not value:
        return None
    return name, value
