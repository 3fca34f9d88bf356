"""Split the resident-message corpus into a development set and a held-out set.

    .venv/bin/python tests/nlu/corpus/split.py [NEW.yaml ...]   # merge new entries, check, write both files
    .venv/bin/python tests/nlu/corpus/split.py --check           # exit 1 unless both files are as written here

Every message gets its own seeded draw (SEED plus the message's normalised text), and goes to the
held-out set when the draw is below HELDOUT_SHARE. A per-message draw rather than one shuffle of the
whole list, so that adding messages later never moves an existing one between the sets: a message that
was held out stays held out, and nothing tuned on the dev set was ever looked at in held-out form.
Messages already published as examples (PUBLISHED) always go to the dev set.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus_labels as labels  # noqa: E402  (sibling module; this file also runs as a script)

SEED = "yibao-corpus-2023-11-20"
HELDOUT_SHARE = 0.30
# Messages quoted word for word in README.md, issue 10 or the corpus task as examples of what residents
# write. Whoever wrote the rules has seen them, so they cannot measure anything blind: always dev.
PUBLISHED = frozenset(
    labels.normalized(text)
    for text in (
        "五河县低保户交多少钱", "七十岁老人还用交吗", "3月份补交什么时候能报销", "交380对不对",
        "户口在五河县朱顶镇 过年才回去还能交吗", "孩子在湖阳镇中学 医保跟谁一起交", "断保两年现在交要等多久",
        "我交上了没有", "连续交了五年有什么好处", "去年没报销今年有啥奖励", "俺娘是53年的 在滕州 还用交钱不",
        "住院能报多少", "善南街道的", "张店镇的", "朱顶镇", "我是五河的", "六十八了", "藤州", "唐和",
    )
)

HEADER = {
    "dev": "# Development set of the resident-message corpus (schema: tests/nlu/corpus/README.md).\n"
    "# Written by tests/nlu/corpus/split.py; tune rules and models on this file only.\n",
    "heldout": "# HELD-OUT set of the resident-message corpus: measure with it, never tune on it\n"
    "# (see README.md beside this file). Written by tests/nlu/corpus/split.py.\n",
}


def is_heldout(text: str) -> bool:
    if labels.normalized(text) in PUBLISHED:
        return False
    return random.Random(f"{SEED}\x00{labels.normalized(text)}").random() < HELDOUT_SHARE


def merge(sources: list[Path]) -> list[dict[str, Any]]:
    """All entries of the current files and the new ones, checked, without duplicates."""
    checker = labels.Checker()
    seen: dict[str, str] = {}
    entries: list[dict[str, Any]] = []
    for path in [labels.DEV_FILE, labels.HELDOUT_FILE, *sources]:
        for entry in labels.load(path):
            checker.check(entry)
            key = labels.normalized(entry["text"])
            if key in seen:
                raise labels.LabelError(f"{path}: duplicate message {entry['text']!r}")
            seen[key] = entry["text"]
            entries.append(labels.canonical(entry))
    return entries


def render(entries: list[dict[str, Any]], part: str) -> str:
    body = yaml.safe_dump(entries, allow_unicode=True, sort_keys=False, width=10_000)
    return HEADER[part] + body


def split(entries: list[dict[str, Any]]) -> dict[Path, str]:
    held = [e for e in entries if is_heldout(e["text"])]
    dev = [e for e in entries if not is_heldout(e["text"])]
    return {labels.DEV_FILE: render(dev, "dev"), labels.HELDOUT_FILE: render(held, "heldout")}


def main(argv: list[str]) -> int:
    check_only = "--check" in argv
    sources = [Path(a) for a in argv if a != "--check"]
    try:
        outputs = split(merge(sources))
    except (labels.LabelError, OSError, yaml.YAMLError) as exc:
        print(f"语料有误，未写入任何文件：{exc}", file=sys.stderr)
        return 2
    if check_only:
        stale = [p for p, text in outputs.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
        for path in stale:
            print(f"{path} 与 split.py 的划分不一致：请运行 split.py 重新生成", file=sys.stderr)
        return 1 if stale else 0
    for path, text in outputs.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    counts = {p.name: text.count("\n- text: ") + text.startswith("- text: ") for p, text in outputs.items()}
    print(", ".join(f"{name}: {n}" for name, n in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
