"""Counts of the resident-message corpus by intent, place and register, for docs and review.

    .venv/bin/python tests/nlu/corpus/corpus_stats.py

Registers are found by rough text markers, not labelled: a message may have several or none. They
describe the corpus's spread; they are not labels to be predicted.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import zhconv

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus_labels as labels  # noqa: E402  (sibling module; this file also runs as a script)

DIALECT = ("俺", "咋", "啥", "中不中", "恁", "咱", "木有", "弄啥嘞", "得劲", "嘞", "哩", "多钱", "照不照",
           "掏钱不", "交钱不", "中不", "可中", "咋整", "咋弄", "木见", "赶趟", "娃", "妮儿", "嫲嫲")
# Near spellings of the kind voice input produces (place, category and insurance words).
VOICE_ERRORS = ("地保", "藤州", "藤洲", "疼州", "唐和", "堂河", "五保护", "吴河", "五和", "午河", "桃源", "陶园",
                "城官", "医宝", "交废", "会光", "吕四", "东平集", "托湖", "礼南", "双中庙", "头埔", "朱鼎",
                "申级", "源谭", "湖洋", "郭摊", "少拜四", "姜囤", "木十", "双忠妙", "低宝", "残急",
                "街到", "张店真", "鲍沟真", "一保", "滕洲", "湖杨", "新吉", "小西镇", "北新", "龙羊", "毕点",
                "桐寨埠", "上吞", "东留集", "桃溪", "界和", "接道", "保线", "退废", "新生而", "地报", "滴保",
                "免废", "大新真", "西杨斋", "桃圆")
FORMAL = ("请问", "您好", "是否", "标准", "如何", "咨询", "何时", "周岁")
CN_NUMBER = re.compile(r"[一二三四五六七八九十两]+(?:十|百)[一二三四五六七八九]?|[零一二三四五六七八九]{2}年|正好[一二三四五六七八九十]")
PUNCT = re.compile(r"[，。？！、；：,.?!;:]")


def registers(entry: dict[str, Any]) -> list[str]:
    text = entry["text"]
    found = []
    if any(w in text for w in DIALECT):
        found.append("dialect")
    if any(w in text for w in VOICE_ERRORS) or re.search(r"[监脱双独]测?护", text):
        found.append("voice-input near spelling")
    if zhconv.convert(text, "zh-hans") != text:
        found.append("traditional characters")
    if re.search(r"[０-９]", text):
        found.append("full-width digits")
    if CN_NUMBER.search(text):
        found.append("Chinese numerals")
    if len(text) >= 50:
        found.append("long (50+ chars)")
    if len(text) >= 20 and not PUNCT.search(text) and " " not in text:
        found.append("run-on voice text (no breaks)")
    if len(entry["intents"]) > 1:
        found.append("several questions")
    if any(w in text for w in FORMAL):
        found.append("formal")
    if len(text) <= 6:
        found.append("very short (<=6 chars)")
    return found


def place(entry: dict[str, Any]) -> str:
    slots = entry.get("slots") or {}
    if "locality" in slots:
        return slots["locality"]
    return "unknown_place" if "unknown_place" in slots else "(no place)"


def report() -> str:
    parts = {"dev": labels.load(labels.DEV_FILE), "heldout": labels.load(labels.HELDOUT_FILE)}
    every = parts["dev"] + parts["heldout"]
    lines = [f"total {len(every)}: " + ", ".join(f"{k} {len(v)}" for k, v in parts.items())]
    for title, counter in (
        ("intent", Counter(i for e in every for i in e["intents"])),
        ("place", Counter(place(e) for e in every)),
        ("register", Counter(r for e in every for r in registers(e))),
        ("slot", Counter(k for e in every for k in (e.get("slots") or {}))),
    ):
        lines.append(f"\n{title}:")
        lines += [f"  {name:32} {n:5}" for name, n in counter.most_common()]
    return "\n".join(lines)


if __name__ == "__main__":
    print(report())
