"""Whose insurance a message is about: the resident, or a relative (俺娘, 我爸, 老伴, 孩子, 孙子, ...).

Kinship words as residents write them, longest first, so 孩子他爸 is the spouse and not a child,
大娘 is somebody else's mother and not the speaker's. Short or double-meaning words (妈, 娘, 哥,
姑娘, 大姐) count only after a possessive (我妈, 俺娘, 我姑娘): alone they are as often a way of
addressing the person one talks to. Father and mother together are "parents". "self" is given
only when the message plainly speaks of the speaker (俺是58年的, 我今年70了, 我是低保户); a bare 我
is not enough (我想问一下).
"""

from __future__ import annotations

import functools
import re

RELATIONS = (
    "self", "mother", "father", "parents", "spouse", "child", "grandchild", "grandparent", "sibling", "other",
)  # fmt: skip

# Words that name the relation on their own.
_PLAIN: dict[str, tuple[str, ...]] = {
    "spouse": (
        "孩子他爸", "孩子他妈", "孩子他娘", "孩子他爹", "孩他爸", "孩他妈", "孩他娘", "孩他爹", "娃他爹", "娃他娘",
        "娃他妈", "娃他爸", "老伴儿", "老伴", "老婆", "媳妇儿", "媳妇", "老公", "丈夫", "妻子", "爱人", "当家的",
    ),
    "mother": ("老母亲", "母亲", "老娘", "妈妈", "老妈", "丈母娘", "岳母", "继母", "后妈"),
    "father": ("老父亲", "父亲", "爸爸", "老爹", "老爸", "老爷子", "岳父", "老丈人", "继父", "后爸"),
    "parents": ("父母亲", "父母", "爸妈", "爹娘", "爹妈", "爸爸妈妈", "二老"),
    "child": (
        "小孩子", "小孩儿", "小孩", "孩子", "孩儿", "娃娃", "娃儿", "闺女", "女儿", "儿子", "子女", "儿女", "大儿子",
        "小儿子", "二儿子", "大闺女", "二闺女", "小闺女", "大女儿", "小女儿",
    ),
    "grandchild": ("外孙子", "外孙女", "外孙", "孙子", "孙女", "孙儿", "孙娃", "重孙子", "重孙女", "重孙"),
    "grandparent": ("爷爷奶奶", "姥姥姥爷", "爷爷", "奶奶", "姥姥", "姥爷", "外公", "外婆"),
    "other": (
        "邻居", "亲戚", "朋友", "别人", "侄子", "侄女", "外甥女", "外甥", "叔叔", "婶子", "婶婶", "大爷", "大娘",
        "大妈", "舅舅", "姑姑", "小姨", "嫂子", "儿媳妇", "儿媳", "女婿", "弟媳", "同事", "老乡",
    ),
}  # fmt: skip
# Words that name the relation only after a possessive (我妈, 俺娘, 我家老头子).
_OWNED: dict[str, tuple[str, ...]] = {
    "spouse": ("那口子", "老头子", "老头儿", "老头", "老太婆", "老婆子", "男人", "婆娘"),
    "mother": ("妈", "娘", "婆婆"),
    "father": ("爸", "爹", "公公"),
    "child": ("姑娘", "娃"),
    "sibling": (
        "哥哥", "姐姐", "弟弟", "妹妹", "大哥", "二哥", "大姐", "二姐", "小妹", "小弟", "兄弟", "姐妹", "哥", "姐",
        "弟", "妹",
    ),
    "other": ("姨", "舅", "叔", "姑"),
}  # fmt: skip
_POSSESSIVE = r"(?:我|俺|咱)(?:们)?(?:家)?(?:的)?"
# Daughters and children counted, not named: 独生子女 and 两个女儿 are categories (独女户, 两女户).
_COUNTED = frozenset({"女儿", "子女", "儿女", "闺女"})
_COUNTED_BEFORE = re.compile(r"(?:独生|两个|一个|俩|两)$")
# One relative's relative: 我儿子的孩子, 俺哥家的孩子.
_OF = re.compile(r"(?:的|家的|家)")
# The speaker plainly speaking of themself.
_SELF = re.compile(
    r"(?:我|俺|本人)(?:自己|本人)?(?:是|今年|已经|都|也是|都已经|今年都)?"
    r"(?:\d{2,4}年(?:的|出生|生)|\d{1,3}(?:岁|周岁|了|多)|快\d|满\d|低保|五保|特困|残疾|脱贫|贫困|监测|优抚|军属|孤儿)"
    r"|(?:我|俺)(?:自己|自个儿|自个)|本人|给自己"
)
# The speaker insisting on themself: 孩子们都在外地 俺自个咋交 is about the speaker.
_MYSELF = re.compile(r"(?:我|俺)(?:自己|自个儿|自个)|本人")
# Words older residents use to address the person they talk to, at the start of a message: 闺女 俺家…
_ADDRESS = re.compile(r"^(?:闺女|姑娘|小伙子?)\s")


@functools.cache
def _pattern() -> tuple[re.Pattern[str], dict[str, str]]:
    relation_of: dict[str, str] = {}
    alternatives: list[str] = []
    for relation, words in _PLAIN.items():
        for word in words:
            relation_of[word] = relation
            alternatives.append(word)
    for relation, words in _OWNED.items():
        for word in words:
            relation_of.setdefault(word, relation)
    owned = sorted((w for ws in _OWNED.values() for w in ws), key=len, reverse=True)
    plain = sorted(alternatives, key=len, reverse=True)
    # Plain words first at each position; an owned word only right after a possessive.
    pattern = "(?P<plain>" + "|".join(map(re.escape, plain)) + ")"
    pattern += "|" + _POSSESSIVE + "(?P<owned>" + "|".join(map(re.escape, owned)) + ")"
    return re.compile(pattern), relation_of


def relation(text: str) -> str | None:
    """The relation of the person asked about, or None when the message does not say."""
    if _MYSELF.search(text):
        return "self"
    pattern, relation_of = _pattern()
    found: list[str] = []
    last_end = -10
    first_at = None
    address = _ADDRESS.match(text)
    for m in pattern.finditer(text, address.end() if address else 0):
        word = m.group("plain") or m.group("owned")
        if word in _COUNTED and _COUNTED_BEFORE.search(text[max(0, m.start() - 2) : m.start()]):
            continue
        relation = relation_of[word]
        if found and _OF.fullmatch(text[last_end : m.start()]):
            # 我儿子的孩子 is a grandchild; 我大姐家的孩子, 我儿子的媳妇 are somebody else.
            found[-1] = "grandchild" if (found[-1], relation) == ("child", "child") else "other"
        else:
            found.append(relation)
            first_at = m.start() if first_at is None else first_at
        last_end = m.end()
    said_of_self = _SELF.search(text)
    if not found:
        return "self" if said_of_self else None
    if said_of_self and first_at is not None and said_of_self.end() <= first_at:
        # "俺是五保户…俺闺女在外打工…": the resident spoke of themselves first; the relative comes later.
        return "self"
    if "father" in found and "mother" in found:
        return "parents"
    return found[0]
