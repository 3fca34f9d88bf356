"""Near spellings of places and categories: voice-input errors read by sound, typos by shape, and
ordinary words or ambiguous guesses left alone."""

from __future__ import annotations

import pytest

from bot.nlu import categories as categories_module
from bot.nlu import parse
from bot.nlu import places as places_module
from bot.nlu.phonetic import SoundIndex, fold, readings, sounds_alike
from bot.policy.loader import Place

# The voice-input errors we expect: (as written, slot, value, (as written, as read) or None when
# the name is read exactly through its stem).
VOICE_INPUT_ERRORS = [
    ("地保户交多少", "categories", ("dibao",), ("地保户", "低保户")),
    ("地保", "categories", ("dibao",), ("地保", "低保")),
    ("底保", "categories", ("dibao",), ("底保", "低保")),
    ("低宝户要交钱吗", "categories", ("dibao",), ("低宝户", "低保户")),
    ("低包户", "categories", ("dibao",), ("低包户", "低保户")),
    ("五保护交多少", "categories", ("tekun",), ("五保护", "五保户")),
    ("五包户", "categories", ("tekun",), ("五包户", "五保户")),
    ("藤州七十岁老人交多少", "locality", "tengzhou", ("藤州", "滕州")),
    ("滕洲", "locality", "tengzhou", ("滕洲", "滕州")),
    ("唐和县低保户", "locality", "tanghe", ("唐和县", "唐河县")),
    ("唐和", "locality", "tanghe", ("唐和", "唐河")),
    ("唐合的", "locality", "tanghe", ("唐合", "唐河")),
    ("吴河县", "locality", "wuhe", ("吴河县", "五河县")),
    ("我是吴河的", "locality", "wuhe", ("吴河", "五河")),
    ("五合县", "locality", "wuhe", ("五合县", "五河县")),
    ("舞河的低保", "locality", "wuhe", ("舞河", "五河")),
    ("桃源镇", "locality", "taoyuan", ("桃源镇", "桃园镇")),
    ("俺是桃源的", "locality", "taoyuan", ("桃源", "桃园")),
    ("城官镇的", "town", "城关镇", ("城官镇", "城关镇")),
    ("善难街道的", "town", "善南街道", ("善难街道", "善南街道")),
    ("张店真的", "town", "张店镇", None),  # 张店 is read exactly (the town's stem); 真 is left over
    ("五和县", "locality", "wuhe", ("五和县", "五河县")),  # a typo by shape and by sound
    ("滨胡镇低保交多少", "town", "滨湖镇", ("滨胡镇", "滨湖镇")),
]


@pytest.mark.parametrize(("text", "slot", "value", "correction"), VOICE_INPUT_ERRORS)
def test_voice_input_errors(text: str, slot: str, value: object, correction: tuple[str, str] | None) -> None:
    slots = parse(text).slots
    assert getattr(slots, slot) == value
    if correction is None:
        assert slots.corrections == ()
    else:
        assert correction in slots.corrections
        if slot != "categories":
            assert slots.place_exact is False


@pytest.mark.parametrize(
    "text",
    [
        "光明的未来",
        "这是座古城",
        "城管真厉害",  # 城管 is not 城关
        "两国谈和",  # sounds like 唐河 but keeps none of its characters
        "有福气",  # 优抚 by sound, no character kept
        "世外桃源",  # 桃源 inside an idiom
        "我们这里无保险",  # 无保 inside 无保险
        "郑州市的能交吗",  # a real city one character from 滕州市
        "我五号交的",
        "无核葡萄",
        "吴老师你好",
        "跳舞的河边",
        "保护环境",
        "地方上的事",
        "低头走路",
        "今天天气怎么样",
    ],
)
def test_ordinary_words_are_not_near_names(text: str) -> None:
    slots = parse(text).slots
    assert slots.locality is None and slots.town is None and slots.village is None
    assert slots.categories == ()
    assert slots.corrections == ()


def test_exact_names_record_no_correction() -> None:
    slots = parse("滕州市低保户交多少").slots
    assert slots.locality == "tengzhou" and slots.categories == ("dibao",)
    assert slots.corrections == () and slots.place_exact


def test_a_place_sounding_like_two_places_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = (
        Place("唐河县", "tanghe", "locality", "唐河县"),
        Place("龙潭镇", "tanghe", "town", "龙潭镇"),
        Place("滕州市", "tengzhou", "locality", "滕州市"),
        Place("龙滩镇", "tengzhou", "town", "龙滩镇"),
    )
    monkeypatch.setattr(places_module, "gazetteer", lambda: fake)
    places_module._index.cache_clear()
    try:
        assert parse("龙坛镇的").slots.town is None  # tán: as close to 龙潭镇 as to 龙滩镇
        assert parse("龙潭镇的").slots.town == "龙潭镇"  # the exact name is still read
        assert parse("龙坛镇的", default_locality="tanghe").slots.town == "龙潭镇"  # the chat's own place decides
    finally:
        places_module._index.cache_clear()


def test_a_word_sounding_like_two_categories_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(categories_module._SPOKEN_CATEGORY, "低包", "orphan")
    categories_module._words.cache_clear()
    try:
        slots = parse("低宝").slots  # 低保 (dibao) and 低包 (orphan) are equally close
        assert slots.categories == () and slots.corrections == ()
        assert parse("低保").slots.categories == ("dibao",)
    finally:
        categories_module._words.cache_clear()


# ---- the sound model ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("syllable", "folded"),
    [("zhang", "zan"), ("chen", "cen"), ("shan", "san"), ("nan", "lan"), ("ning", "lin"), ("feng", "hen"),
     ("ren", "len"), ("xing", "xin"), ("teng", "ten"), ("di", "di"), ("liang", "lian")],
)  # fmt: skip
def test_fold(syllable: str, folded: str) -> None:
    assert fold(syllable) == folded


def test_sounds_alike() -> None:
    assert sounds_alike("藤州", "滕州")
    assert sounds_alike("地保", "低保")  # tones ignored
    assert sounds_alike("善难", "善南")  # n/l and an/ang folded: shàn nán ~ shàn nán
    assert sounds_alike("城官", "城关")
    assert not sounds_alike("郑州", "滕州")
    assert not sounds_alike("五河", "五河县")
    assert readings("a") == frozenset() and readings("。") == frozenset()


def test_sound_index_keeps_half_the_characters() -> None:
    index = SoundIndex(["唐河", "低保户"])
    assert [h.words for h in index.find("唐和")] == [("唐河",)]
    assert index.find("谈和") == []  # sounds alike, keeps no character
    assert index.find("唐河") == []  # the word itself is not a near spelling
    assert [h.written for h in index.find("地保户", taken=[(0, 1)])] == []  # overlaps text already read
