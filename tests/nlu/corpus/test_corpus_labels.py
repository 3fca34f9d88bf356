"""The resident-message corpus keeps its schema, its size and its split.

These tests check the labels' form only; they never run the bot's language code on the corpus (that
measure belongs to the NLU evaluation, and only it may read the held-out set's results).
"""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def _module(name: str, file: str):
    spec = importlib.util.spec_from_file_location(name, HERE / file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # split.py imports corpus_labels by name: let it find this one
    spec.loader.exec_module(module)
    return module


labels = _module("corpus_labels", "corpus_labels.py")
split = _module("corpus_split", "split.py")


@pytest.fixture(scope="module")
def parts() -> dict[str, list[dict]]:
    return {"dev": labels.load(labels.DEV_FILE), "heldout": labels.load(labels.HELDOUT_FILE)}


@pytest.fixture(scope="module")
def checker():
    return labels.Checker()


def test_corpus_is_large_enough_and_split_about_70_30(parts: dict[str, list[dict]]) -> None:
    total = len(parts["dev"]) + len(parts["heldout"])
    assert total >= 1200
    assert 0.25 <= len(parts["heldout"]) / total <= 0.35


def test_every_entry_follows_the_schema(parts: dict[str, list[dict]], checker) -> None:
    for entry in parts["dev"] + parts["heldout"]:
        checker.check(entry)


def test_no_message_appears_twice_even_across_the_split(parts: dict[str, list[dict]]) -> None:
    counts = Counter(labels.normalized(e["text"]) for e in parts["dev"] + parts["heldout"])
    assert [text for text, n in counts.items() if n > 1] == []


def test_each_message_sits_in_the_set_its_seeded_draw_chose(parts: dict[str, list[dict]]) -> None:
    assert not any(split.is_heldout(e["text"]) for e in parts["dev"])
    assert all(split.is_heldout(e["text"]) for e in parts["heldout"])


def test_files_are_exactly_what_split_py_writes() -> None:
    assert split.main(["--check"]) == 0


def test_every_intent_and_locality_is_measured_by_the_heldout_set(parts: dict[str, list[dict]]) -> None:
    held = parts["heldout"]
    assert {i for e in held for i in e["intents"]} == set(labels.INTENTS)
    assert {e.get("slots", {}).get("locality") for e in held} >= set(labels.LOCALITIES)


@pytest.mark.parametrize(
    ("entry", "why"),
    [
        ({"text": "交多少", "intents": ["price"]}, "unknown intent"),
        ({"text": "交多少", "intents": []}, "non-empty list"),
        ({"text": "低保交多少", "intents": ["amount"], "slots": {"categories": ["poor"]}}, "bad value"),
        ({"text": "善南街道交多少", "intents": ["amount"], "slots": {"locality": "wuhe", "town": "善南街道"}},
         "task-table name"),
        ({"text": "五河交多少", "intents": ["amount"], "slots": {"unknown_place": "五河"}}, "bad value"),
        ({"text": "查 340322195507123421", "intents": ["status"]}, "has_id"),
        ({"text": "查一下", "intents": ["status"], "slots": {"has_id": True}}, "has_id"),
        ({"text": "上周交的", "intents": ["status"], "slots": {"dates_relative": True}}, "needs a date"),
        ({"text": "俺七十", "intents": ["amount"], "slots": {"age": "七十"}}, "bad value"),
        ({"text": "交多少", "intents": ["amount"], "slots": {"whose": "self"}}, "unknown slot"),
    ],
)
def test_the_checker_rejects_what_the_schema_forbids(entry: dict, why: str, checker) -> None:
    with pytest.raises(labels.LabelError, match=why):
        checker.check(entry)
