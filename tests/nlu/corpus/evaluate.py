"""Measure the bot's understanding on the corpus: `python tests/nlu/corpus/evaluate.py dev|heldout`.

What is measured is what the dialogue acts on (`bot.conversation.understand.read`): the questions it
will answer, in order, and the facts it will use. A message counts as understood when its intents are
exactly the labelled ones (as a set; order is reported separately) and every labelled slot is read
right. Slots the label does not mention are not scored (the corpus labels only what a message states).

For the held-out set only the numbers are printed (use --errors on dev only): it measures, it is not
read for tuning.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
TODAY = dt.date(2023, 11, 20)
SETS = {"dev": HERE / "dev.yaml", "heldout": HERE / "heldout" / "heldout.yaml"}
# Steering intents the dialogue reads from the whole message (not questions it answers).
STEERING = ("status", "subscribe", "unsubscribe", "set_place", "greeting", "thanks", "help", "unknown")


def load(name: str) -> list[dict[str, Any]]:
    return yaml.safe_load(SETS[name].read_text("utf-8")) or []


def predicted_intents(turn: Any) -> list[str]:
    if turn.id_number:
        return ["status"]
    if turn.asks:
        return list(turn.asks)
    return [turn.intent if turn.intent in STEERING else "unknown"]


def _date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def predicted_slots(turn: Any) -> dict[str, Any]:
    f = turn.facts
    out: dict[str, Any] = {
        "locality": turn.locality,
        "town": turn.town,
        "village": turn.village,
        "unknown_place": turn.unknown_place,
        "categories": set(f.get("categories") or ()),
        "not_categories": set(f.get("not_categories") or ()),
        "relation": f.get("relation"),
        "age": f.get("age"),
        "birth_year": f.get("birth_year"),
        "birth_date": _date(f.get("birth_date")),
        "paid_on": _date(f.get("paid_on")),
        "died_on": _date(f.get("died_on")),
        "month": f.get("month"),
        "amount": f.get("amount_stated"),
        "migrant": bool(f.get("migrant")),
        "newborn": bool(f.get("newborn")),
        "student": f.get("student"),
        "hukou_elsewhere": bool(f.get("hukou_elsewhere")),
        "refund_reason": f.get("refund_reason"),
        "has_id": bool(turn.id_number),
    }
    return out


def slot_ok(key: str, want: Any, got: Any, relative: bool) -> bool:
    if key in ("categories", "not_categories"):
        return set(want or ()) == set(got or ())
    if key in ("birth_date", "paid_on", "died_on"):
        w, g = _date(want), _date(got)
        if w is None or g is None:
            return w == g
        return abs((w - g).days) <= (7 if relative else 0)
    if key == "amount":
        try:
            return got is not None and float(want) == float(got)
        except (TypeError, ValueError):
            return False
    if isinstance(want, bool):
        return bool(got) == want
    return want == got


@dataclass
class Score:
    n: int = 0
    intents_ok: int = 0
    order_ok: int = 0
    slots_ok: int = 0
    both_ok: int = 0
    per_slot: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    confusion: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


SLOT_KEYS = ("locality", "town", "village", "unknown_place", "categories", "not_categories", "relation", "age",
             "birth_year", "birth_date", "paid_on", "died_on", "month", "amount", "migrant", "newborn",
             "student", "hukou_elsewhere", "refund_reason", "has_id")


def evaluate(entries: Iterable[dict[str, Any]]) -> Score:
    from bot import clock
    from bot.conversation.understand import read

    clock.set_today(TODAY)
    score = Score()
    for entry in entries:
        text = str(entry["text"])
        try:
            turn = read(text)
        except Exception as exc:  # noqa: BLE001 - a crash is a misread message, counted and shown
            score.n += 1
            score.errors.append(f"{text}\n    CRASH {type(exc).__name__}: {exc}")
            score.confusion[("+".join(entry.get("intents") or []), "CRASH")] += 1
            continue
        want_intents = list(entry.get("intents") or [])
        got_intents = predicted_intents(turn)
        slots = entry.get("slots") or {}
        relative = bool(slots.get("dates_relative"))
        got = predicted_slots(turn)
        score.n += 1
        i_ok = set(want_intents) == set(got_intents)
        score.intents_ok += i_ok
        score.order_ok += want_intents == got_intents
        if not i_ok:
            score.confusion[("+".join(want_intents), "+".join(got_intents))] += 1
        bad_slots = []
        for key, want in slots.items():
            if key == "dates_relative":
                continue
            ok = slot_ok(key, want, got.get(key), relative)
            score.per_slot[key][0] += ok
            score.per_slot[key][1] += 1
            if not ok:
                bad_slots.append(f"{key}: want {want!r} got {got.get(key)!r}")
        # A flag read where the label does not have it is a false positive worth counting too.
        for key in ("migrant", "newborn", "hukou_elsewhere", "has_id"):
            if key not in slots and got.get(key):
                score.per_slot[f"{key} (false +)"][1] += 1
        s_ok = not bad_slots
        score.slots_ok += s_ok
        score.both_ok += i_ok and s_ok
        if not (i_ok and s_ok):
            score.errors.append(f"{text}\n    intents want {want_intents} got {got_intents}"
                                + "".join(f"\n    {b}" for b in bad_slots))
    clock.set_today(None)
    return score


def report(name: str, score: Score, *, errors: bool) -> None:
    pct = lambda a, b: f"{100 * a / max(1, b):.1f} %"  # noqa: E731
    print(f"{name}: {score.n} messages")
    print(f"  intents right (as a set): {score.intents_ok}/{score.n} = {pct(score.intents_ok, score.n)}"
          f"   (in order: {pct(score.order_ok, score.n)})")
    print(f"  labelled slots all right: {score.slots_ok}/{score.n} = {pct(score.slots_ok, score.n)}")
    print(f"  message fully understood: {score.both_ok}/{score.n} = {pct(score.both_ok, score.n)}")
    print("  per slot: " + ", ".join(f"{k} {v[0]}/{v[1]}" for k, v in sorted(score.per_slot.items())))
    if errors:
        print("  most confused intents: " + "; ".join(f"{w}→{g} ×{c}" for (w, g), c in score.confusion.most_common(15)))
        for e in score.errors:
            print("  - " + e)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("sets", nargs="+", choices=sorted(SETS))
    parser.add_argument("--errors", action="store_true", help="print every misread message (dev only)")
    parser.add_argument("--rules-only", action="store_true",
                        help="measure the rules alone (no classifier), for the comparison in docs/nlu.md")
    args = parser.parse_args()
    if args.rules_only:
        from bot.nlu import intents

        intents.resolve = lambda text, rule_intent, *, has_id=False, model=None: "status" if has_id else rule_intent
        intents.EXTRA_NEEDS_MODEL = False
        import bot.conversation.understand as understand

        understand.resolve = intents.resolve
    for name in args.sets:
        report(name, evaluate(load(name)), errors=args.errors and name != "heldout")
    return 0


if __name__ == "__main__":
    sys.exit(main())
