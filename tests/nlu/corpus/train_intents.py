"""Train the intent classifier (bot/nlu/classifier.py) and write its weights to
bot/nlu/data/intent_model.npz, from the development corpus and the tuned phrasing table. Never from the
held-out set.

    .venv/bin/python tests/nlu/corpus/train_intents.py          # retrain and rewrite the weights
    .venv/bin/python tests/nlu/corpus/train_intents.py --check  # exit 1 if the shipped weights differ
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import yaml

from bot.nlu.classifier import IntentModel

ROOT = Path(__file__).resolve().parents[3]
DEV = ROOT / "tests" / "nlu" / "corpus" / "dev.yaml"
PHRASINGS = ROOT / "tests" / "nlu" / "phrasings.yaml"
OUT = ROOT / "bot" / "nlu" / "data" / "intent_model.npz"
# The phrasing table's intent names differ in two places from the corpus's.
RENAME = {"contacts": "contact", "payment_info": "how_to_pay"}


def examples() -> list[tuple[str, str]]:
    """(text, first intent) of every development and phrasing-table message, each text once."""
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for entry in yaml.safe_load(DEV.read_text("utf-8")):
        text = str(entry["text"])
        if text not in seen:
            seen.add(text)
            out.append((text, str(entry["intents"][0])))
    for group in yaml.safe_load(PHRASINGS.read_text("utf-8")).values():
        for entry in group:
            text = str(entry["text"])
            if text not in seen:
                seen.add(text)
                out.append((text, RENAME.get(str(entry["intent"]), str(entry["intent"]))))
    return out


def train() -> IntentModel:
    pairs = examples()
    return IntentModel.train([t for t, _ in pairs], [i for _, i in pairs])


def same(a: IntentModel, b: IntentModel) -> bool:
    return a.grams == b.grams and a.labels == b.labels and np.allclose(a.weights, b.weights, atol=1e-4)


def main() -> int:
    fresh = train()
    if "--check" in sys.argv:
        return 0 if OUT.exists() and same(fresh, IntentModel.load(OUT.read_bytes())) else 1
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_bytes(fresh.save())
    print(f"wrote {OUT.relative_to(ROOT)}: {len(fresh.grams)} features, {len(fresh.labels)} intents")
    return 0


if __name__ == "__main__":
    sys.exit(main())
