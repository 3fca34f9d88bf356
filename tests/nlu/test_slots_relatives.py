"""Whose insurance a message is about."""

from __future__ import annotations

import pytest

from bot.nlu import parse
from bot.nlu.relatives import RELATIONS


@pytest.mark.parametrize(
    ("text", "relation"),
    [
        ("俺娘八十了还交吗", "mother"),
        ("我妈75了", "mother"),
        ("老母亲是低保", "mother"),
        ("我爸今年69", "father"),
        ("俺爹是45年的", "father"),
        ("我爸我妈都70了", "parents"),
        ("俺爹俺娘交多少", "parents"),
        ("父母在老家", "parents"),
        ("老伴是低保", "spouse"),
        ("孩子他爸今年45", "spouse"),  # not a child
        ("我家老头子七十了", "spouse"),
        ("孩子上大学 医保在哪交", "child"),
        ("闺女刚生了", "child"),
        ("我儿子残疾二级", "child"),
        ("俺姑娘在外地上班", "child"),
        ("孙子刚出生怎么参保", "grandchild"),
        ("外孙女几个月了", "grandchild"),
        ("爷爷奶奶都八十多了", "grandparent"),
        ("我哥是五保户", "sibling"),
        ("我儿子的孩子刚出生", "grandchild"),  # a relative's relative
        ("我大姐家的孩子", "other"),
        ("我儿子的媳妇", "other"),
        ("邻居家老人问的", "other"),
        ("村里大娘让我问", "other"),  # 大娘 is not the speaker's mother
        # the speaker, said plainly
        ("俺是58年的", "self"),
        ("我今年70了", "self"),
        ("我是低保户交多少", "self"),
        ("我自己交", "self"),
        ("孩子们都在外地 俺自个咋交医保", "self"),  # the speaker insists on themself
        ("闺女 俺家那口子是残疾 要交多少钱", "spouse"),  # 闺女 addresses the listener
        ("孩子 刚出生怎么交", "child"),
        # the resident speaks of themself first, a relative comes later in the message
        ("俺是五保户在唐河县要交钱吗俺闺女在外打工过年回来能交不", "self"),
        ("我闺女是低保户 我是70岁", "child"),  # the relative first: the first person asked about
        # not said
        ("我想问一下医保多少钱", None),
        ("我是五河的", None),
        ("两女户交多少", None),
        ("独生子女伤残死亡家庭", None),  # a category, not a child
        ("大姐 问一下医保", None),  # a way of addressing someone
    ],
)
def test_relation(text: str, relation: str | None) -> None:
    got = parse(text).slots.relation
    assert got == relation
    assert got is None or got in RELATIONS
