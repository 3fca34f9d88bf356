"""parse() never raises. The fuzzing drives the readers without parse's last-resort guard, so a
reader's bug fails here instead of being swallowed."""

from __future__ import annotations

import json
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.nlu import INTENTS, parse
from bot.nlu.parse import _parse

# Characters the readers care about, so random text often looks like a message.
_WORDS = [
    "俺娘", "我爸", "孩子他爸", "老伴", "58年的", "五八年", "七十多", "八十好几", "快六十了", "满", "周岁", "岁",
    "三百八", "380", "块", "交", "交的", "交了", "去世", "走的", "出生", "生的", "上礼拜", "前天", "大前天",
    "过了年", "腊月", "正月", "初八", "明年", "去年", "今年", "年底", "一月份", "3月份", "10月8号", "12月",
    "号", "日", "不是", "没有", "低保", "地保户", "五保护", "残疾证", "滕州", "藤州", "吴河", "城官镇", "张店真",
    "北京", "郑州市", "在上海打工", "断保", "两年", "补交了", "连续", "没报销", "职工医保", "居住证", "刚评上",
    "身份证", "34032219550312214X", " ", "，", "？", "0", "9", "十", "百", "千", "零", "〇", "年", "月",
]  # fmt: skip
_TEXT = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(_WORDS), max_size=14).map("".join),
    st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=3)), max_size=12).map("".join),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT, st.sampled_from([None, "wuhe", "tengzhou", "tanghe", "taoyuan"]))
def test_readers_never_raise(text: str, default_locality: str | None) -> None:
    parsed = _parse(text, default_locality)
    assert parsed.intent in INTENTS
    assert 0.0 <= parsed.confidence <= 1.0
    slots = parsed.slots
    assert all(isinstance(c, str) for c in slots.categories + slots.not_categories)
    assert not set(slots.categories) & set(slots.not_categories)
    assert slots.age is None or 0 <= slots.age <= 120
    # JSON-safe once dates and Decimals are written as strings
    json.dumps(slots.to_dict(), default=str)


def test_parse_guard_turns_a_reader_bug_into_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    parse_module = sys.modules["bot.nlu.parse"]  # the module (bot.nlu.parse is also the function)

    def broken(text: str) -> None:
        raise RuntimeError("reader bug")

    monkeypatch.setattr(parse_module.numbers, "age", broken)
    parsed = parse("我今年70了", default_locality="wuhe")
    assert parsed.intent == "unknown" and parsed.slots.locality == "wuhe"


def test_non_string_input() -> None:
    for value in (None, 123, b"\xe4\xbd\xa0", ["低保"]):
        assert parse(value).intent in INTENTS  # type: ignore[arg-type]
