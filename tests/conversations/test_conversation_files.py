"""The blind conversation files are well formed, their patterns can fail, and the split is the seeded one.

These tests do not run the bot (the conversation runner does); they keep the files honest: a pattern
that matches an empty or a non-answer reply tests nothing, a typo in a regex would fail at run time, a
conversation moved between dev/ and heldout/ by hand would leak the held-out set into tuning.

dev2/ and dev3/ are further development sets, each written blind later by another hand, with no held-out
counterpart: they get every check on shape and patterns, their names must be unique across all sets, their
presses are limited to offered choices, and the seeded split leaves them alone.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).resolve().parent
SPLIT_SETS = ("dev", "heldout")  # dealt by split.py from one pool
DEV_ONLY_SETS = ("dev2", "dev3")  # development only, outside the split
SETS = (*SPLIT_SETS, *DEV_ONLY_SETS)
PLACEHOLDERS = ("{paid_id}", "{paid_name}", "{unpaid_id}", "{unpaid_name}")
# What the runner substitutes; values here only need to be distinct and regex-safe after escaping.
SAMPLE_VALUES = {
    "{paid_id}": "PAIDIDNUMBER",
    "{paid_name}": "PAIDNAME",
    "{unpaid_id}": "UNPAIDIDNUMBER",
    "{unpaid_name}": "UNPAIDNAME",
}
NAME_RE = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Replies that answer nothing: every turn's expectations must fail on each of them.
NON_ANSWERS = (
    "",
    "没太明白您的意思，可以换个说法吗？",
    "好的，记住了。",
)


def _load(set_name: str) -> list[tuple[Path, dict]]:
    out = []
    for path in sorted((HERE / set_name).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        assert isinstance(data, dict) and set(data) == {"conversations"}, f"{path.name}: top level must be 'conversations'"
        for conv in data["conversations"]:
            out.append((path, conv))
    return out


ALL = [(s, p, c) for s in SETS for p, c in _load(s)]


def _substitute(text: str, escape: bool) -> str:
    for key, value in SAMPLE_VALUES.items():
        text = text.replace(key, re.escape(value) if escape else value)
    return text


def _ids(item: tuple[str, Path, dict]) -> str:
    return f"{item[0]}/{item[2].get('name', '?')}"


def test_both_sets_exist_with_the_agreed_sizes() -> None:
    counts = {s: sum(1 for x in ALL if x[0] == s) for s in SETS}
    assert counts["heldout"] >= 80 and counts["dev"] >= 40, counts
    assert counts["dev"] * 2 == counts["heldout"], f"a third goes to dev: {counts}"
    assert counts["dev2"] >= 100, counts
    assert counts["dev3"] >= 100, counts


def test_names_are_unique_kebab_case() -> None:
    names = [c.get("name") for _, _, c in ALL]
    bad = [n for n in names if not isinstance(n, str) or not NAME_RE.match(n)]
    assert not bad, f"names must be kebab-case: {bad}"
    dupes = sorted({n for n in names if names.count(n) > 1})
    assert not dupes, f"duplicate names: {dupes}"


def test_theme_files_hold_five_to_fifteen() -> None:
    for set_name in SETS:
        # dev2/ and dev3/ have no held-out twin to share a theme with, so each of their files carries at least eight.
        low = 8 if set_name in DEV_ONLY_SETS else 5
        for path in (HERE / set_name).glob("*.yaml"):
            n = len(yaml.safe_load(path.read_text(encoding="utf-8"))["conversations"])
            assert low <= n <= 15, f"{set_name}/{path.name}: {n} conversations"


@pytest.mark.parametrize("item", ALL, ids=_ids)
def test_conversation_shape(item: tuple[str, Path, dict]) -> None:
    _, path, conv = item
    assert set(conv) == {"name", "why", "turns"}, f"{path.name}: keys {sorted(conv)}"
    assert isinstance(conv["why"], str) and conv["why"].strip(), "why: the clauses the expectations rest on"
    assert isinstance(conv["turns"], list) and conv["turns"]
    for i, turn in enumerate(conv["turns"]):
        where = f"{conv['name']} turn {i + 1}"
        assert set(turn) <= {"say", "press", "expect", "forbid"}, f"{where}: keys {sorted(turn)}"
        assert ("say" in turn) != ("press" in turn), f"{where}: exactly one of say/press"
        said = turn.get("say", turn.get("press"))
        assert isinstance(said, str) and said.strip(), f"{where}: empty message"
        assert i > 0 or "press" not in turn, f"{where}: nothing to press before the first reply"
        expect = turn.get("expect")
        assert isinstance(expect, list) and expect, f"{where}: every turn needs at least one expect"
        forbid = turn.get("forbid", [])
        assert isinstance(forbid, list)
        assert all(isinstance(p, str) and p for p in expect + forbid), f"{where}: patterns are non-empty strings"


@pytest.mark.parametrize("item", ALL, ids=_ids)
def test_placeholders_are_known_and_patterns_compile(item: tuple[str, Path, dict]) -> None:
    _, _, conv = item
    for i, turn in enumerate(conv["turns"]):
        where = f"{conv['name']} turn {i + 1}"
        texts = [turn.get("say", turn.get("press", ""))] + turn["expect"] + turn.get("forbid", [])
        for text in texts:
            # Braces are reserved for placeholders (the runner substitutes them), so no {m,n} quantifiers.
            stray = re.sub("|".join(re.escape(p) for p in PLACEHOLDERS), "", text)
            assert "{" not in stray and "}" not in stray, f"{where}: unknown placeholder or brace in {text!r}"
        for pattern in turn["expect"] + turn.get("forbid", []):
            try:
                re.compile(_substitute(pattern, escape=True))
            except re.error as exc:  # pragma: no cover - the assertion message is the point
                pytest.fail(f"{where}: bad regex {pattern!r}: {exc}")


@pytest.mark.parametrize("item", ALL, ids=_ids)
def test_expectations_fail_on_non_answers(item: tuple[str, Path, dict]) -> None:
    _, _, conv = item
    for i, turn in enumerate(conv["turns"]):
        patterns = [re.compile(_substitute(p, escape=True)) for p in turn["expect"]]
        for reply in NON_ANSWERS:
            assert not all(p.search(reply) for p in patterns), (
                f"{conv['name']} turn {i + 1}: expectations pass on the non-answer {reply!r}"
            )


def test_status_conversations_never_allow_the_full_id() -> None:
    """Where a resident sends an ID placeholder, that turn must forbid it from the reply."""
    for _, _, conv in ALL:
        for i, turn in enumerate(conv["turns"]):
            said = turn.get("say", "")
            for key in ("{paid_id}", "{unpaid_id}"):
                if key in said:
                    assert key in turn.get("forbid", []), f"{conv['name']} turn {i + 1}: forbid {key}"


def test_split_is_the_seeded_one() -> None:
    result = subprocess.run(
        [sys.executable, str(HERE / "split.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_split_ignores_dev_only_sets() -> None:
    """split.py pools dev/ and heldout/ only: dev2/ and dev3/ never feed the held-out set, nor are rewritten by it."""
    spec = importlib.util.spec_from_file_location("conversation_split", HERE / "split.py")
    assert spec and spec.loader
    split = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = split  # dataclasses look their module up while the class is built
    spec.loader.exec_module(split)
    planned = split.planned_files()
    assert {p.parent.name for p in planned} == set(SPLIT_SETS), sorted({p.parent.name for p in planned})
    pooled = {n for theme in split.load_themes().values() for n in theme.blocks}
    dev_only = {c["name"] for s, _, c in ALL if s in DEV_ONLY_SETS}
    assert dev_only, "the development-only sets are loaded"
    assert not pooled & dev_only, sorted(pooled & dev_only)


# Choices a reply can offer, as the product rules imply: places, categories, 普通居民, and three topics.
PRESSABLE = (
    "五河", "桃园", "滕州", "唐河", "普通居民", "联系电话", "什么时候交", "怎么交",
    "特困", "五保", "孤儿", "困境儿童", "低保", "低保边缘", "返贫", "监测", "脱贫", "残疾", "优抚", "计划生育", "两女户", "独女户",
)


@pytest.mark.parametrize("set_name", DEV_ONLY_SETS)
def test_dev_only_presses_only_offered_choices_and_few(set_name: str) -> None:
    turns = [t for s, _, c in ALL if s == set_name for t in c["turns"]]
    assert turns, f"{set_name}/ holds no turns"
    presses = [t["press"] for t in turns if "press" in t]
    unknown = sorted({p for p in presses if p not in PRESSABLE})
    assert not unknown, f"press labels no reply is meant to offer: {unknown}"
    assert len(presses) <= 0.2 * len(turns), f"{len(presses)} presses in {len(turns)} turns"


def test_heldout_readme_says_not_for_tuning() -> None:
    text = (HERE / "heldout" / "README.md").read_text(encoding="utf-8")
    assert "tuning" in text and "measur" in text
