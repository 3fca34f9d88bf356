"""The resident dialogue: `handle(state, incoming) -> Outcome`, with no messenger inside.

One call takes what the resident sent (text, or a choice they picked) and the stored dialogue state,
and returns the replies and the new state. It reads the NLU, the policy engine and the registry;
every registry write (the place, a subscription, an audit row) is committed inside the call, before
any reply that confirms it reaches the resident. It is synchronous and holds no transaction open
between calls: adapters run it in a worker thread (`asyncio.to_thread`).

The rules of the dialogue:
- Answer first: once the place is known, a question gets the answer that holds for most people, plus
  choices to narrow it; a question is asked back only when no answer is possible without it (the
  place; the payment month for a year that is over; the town for a per-town phone list).
- Read the whole message: every question in it gets its own short answer, in order.
- Follow-ups inherit the state: place, person and topic carry over to the next message; a new place
  replaces the old one; the person carries over unless another one is named.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import Any

from bot import clock
from bot.conversation import choices as choice_values
from bot.conversation import lookup, menus, places, topics
from bot.conversation.deps import Deps
from bot.conversation.facts import CHOSEN, ON_TIME, merge
from bot.conversation.model import Incoming, Outcome, Reply
from bot.conversation.state import TURN_KEYS, DialogueState, OpenQuestion, Place
from bot.conversation.understand import Turn, read
from bot.registry.chats import Chat, stop_hint

log = logging.getLogger(__name__)

_COMMANDS_START = ("/start",)
_COMMANDS_MENU = ("/menu", "/help")
_COMMANDS_STOP = ("/unsubscribe", "/stop")


@dataclass
class _Run:
    """One call's working data."""

    state: DialogueState
    incoming: Incoming
    deps: Deps
    replies: list[Reply] = field(default_factory=list)
    delete_incoming: bool = False
    events: list[str] = field(default_factory=list)
    turn_facts: dict[str, Any] = field(default_factory=dict)  # facts about this message only (TURN_KEYS)

    def say(self, *replies: Reply) -> None:
        self.replies.extend(replies)


def handle(state: DialogueState, incoming: Incoming, deps: Deps | None = None) -> Outcome:
    """The replies to one incoming message and the dialogue state after it."""
    if deps is None:
        deps = Deps.default(_chat(incoming))
    run = _Run(copy.deepcopy(state), incoming, deps)
    run.state.expire(clock.now())
    if not _names_a_place(incoming):
        # The remembered place is read once per dialogue, and not at all when the first message names
        # one (it would be replaced anyway): most new chats' first updates then cost no read.
        _load_place(run)
    if incoming.choice:
        _on_choice(run, incoming.choice)
    elif incoming.text and incoming.text.strip():
        _on_text(run, incoming.text)
    else:
        run.say(menus.not_understood(run.state.locality))
    return Outcome(run.replies, run.state, run.delete_incoming, run.events)


def _names_a_place(incoming: Incoming) -> bool:
    text = (incoming.text or "").strip()
    if not text or incoming.choice or text.startswith("/"):
        return False
    turn = read(text)
    return bool(turn.locality) and not turn.id_number


def _chat(incoming: Incoming) -> Chat | None:
    """The registry's key for the chat the message came from (None when it names none)."""
    try:
        return Chat(incoming.channel, incoming.address)
    except ValueError:
        return None


# ---------------------------------------------------------------------------- place


def _load_place(run: _Run) -> None:
    """The place the chat named in an earlier dialogue (stored in the registry), read once."""
    state = run.state
    if state.profile_loaded or state.place is not None or run.deps.chat is None:
        state.profile_loaded = True
        return
    from bot.registry.profiles import remembered_place

    state.profile_loaded = True
    found = remembered_place(run.deps.chat, engine=run.deps.engine)
    if found is None or places.pack_for(found.locality_id) is None:
        return
    town = found.area_name if found.area_level == "town" else None
    village = found.area_name if found.area_level == "village" else None
    state.place = Place(found.locality_id, town, village, found.area_id)


def _set_place(run: _Run, locality: str, town: str | None = None, village: str | None = None) -> bool:
    """Make this the place of the dialogue (stored before any reply confirms it); True if it changed."""
    state = run.state
    old = state.place
    if old is not None and (old.locality, old.town, old.village) == (locality, town, village):
        return False
    if old is not None and old.locality == locality and not town and not village:
        return False  # "五河" again after 五河县城关镇: keep the town
    area_id = None
    if run.deps.chat is not None:
        from bot.registry.profiles import remember_place

        area_id = remember_place(run.deps.chat, locality, village or town, engine=run.deps.engine)
        run.events.append(f"place:{locality}")
    state.place = Place(locality, town, village, area_id)
    return True


def _place_label(place: Place) -> str:
    return places.label(place.locality) + (place.area_name or "")


# ---------------------------------------------------------------------------- text


def _on_text(run: _Run, text: str) -> None:
    state = run.state
    stripped = text.strip()
    command = stripped.split()[0].split("@")[0].lower() if stripped.startswith("/") else None
    raw_id = lookup.id_attempt(stripped)
    if raw_id is not None and command is not None:
        # "/start 3403…" and the like: the number is personal data in any message; delete it, then
        # read the rest as if the command were not there.
        run.delete_incoming = True
        stripped = stripped.split(maxsplit=1)[1] if len(stripped.split(maxsplit=1)) > 1 else ""
        command = None
    if command in _COMMANDS_START:
        state.open = None
        state.drop_id()
        if state.locality and places.pack_for(state.locality):
            run.say(menus.menu(state.locality, menus.GREETING))
        else:
            run.say(menus.ask_place(f"{menus.GREETING}\n请问您在哪里参保？"))
        return
    if command in _COMMANDS_MENU:
        state.open = None
        run.say(menus.menu(state.locality))
        return
    if command in _COMMANDS_STOP:
        _unsubscribe(run)
        return

    if raw_id is not None:
        run.delete_incoming = True
        if not run.incoming.private:
            run.say(Reply(menus.PRIVATE_ONLY))
            return
        turn = read(stripped)
        _after_lookup(run, lookup.on_id(state, raw_id, stripped, turn.name, run.deps), turn)
        return
    if command is not None:
        run.say(menus.not_understood(state.locality))
        return

    if state.open is not None and state.open.kind == "name" and state.lookup_id:
        looked = lookup.on_name(state, stripped, run.deps)
        if looked is not None:
            _after_lookup(run, looked, None)
            return
        turn = read(stripped)
        if not turn.asks and turn.intent in ("unknown", "status"):
            run.say(Reply("请只发参保人的姓名（汉字），例如：张三。"))
            return
        state.drop_id()
        state.open = None
    _on_turn(run, read(stripped))


def _on_turn(run: _Run, turn: Turn) -> None:
    state = run.state
    intent = turn.intent
    if intent == "status" and not turn.asks:
        _ask_id(run)
        return
    if intent == "subscribe" and not turn.asks:
        _offer_subscription(run)
        return
    if intent == "unsubscribe":
        _unsubscribe(run)
        return

    place_changed = False
    if turn.locality and places.pack_for(turn.locality):
        place_changed = _set_place(run, turn.locality, turn.town, turn.village)
    elif turn.unknown_place and not turn.locality:
        state.open = OpenQuestion("place", turn.asks[0], list(turn.asks[1:])) if turn.asks else None
        run.say(menus.unknown_place(turn.unknown_place))
        return

    if state.open is not None and state.open.kind == "died":
        turn = _as_day_of_death(turn)
    person_facts = {k: v for k, v in turn.facts.items() if k not in TURN_KEYS}
    run.turn_facts = {k: v for k, v in turn.facts.items() if k in TURN_KEYS}
    if person_facts:
        state.person = merge(state.person, person_facts)

    asks = list(turn.asks)
    if run.turn_facts.get("financing") and "amount" not in asks and asks and not turn.follow_up:
        asks = ["amount", *asks]  # "政府给补多少": the financing line is part of the amount answer
    opened = state.open
    if opened is not None and opened.kind == "place" and place_changed and not turn.explicit:
        # The place we asked for, perhaps as "那五河呢": the questions that waited for it.
        asks = [opened.topic, *opened.asks]
    elif state.topics and not turn.explicit and (turn.follow_up or (person_facts and _short(turn.text))):
        # "那滕州呢", "我妈呢": the previous questions again, for the new place or person.
        asks = _again(state.topics, person_facts, place_changed)
    if not asks:
        opened = state.open
        if opened is not None and opened.kind in ("place", "paid", "town") and (place_changed or turn.facts):
            asks = [opened.topic, *opened.asks]
        elif state.topics and (turn.follow_up or turn.facts or place_changed) and intent not in (
                "greeting", "thanks", "help"):
            asks = _again(state.topics, person_facts, place_changed)
        elif intent in topics.TOPICS:
            asks = [intent]
        elif intent == "set_place" or (place_changed and intent != "unknown"):
            if turn.asks_something:
                # A place and a question we could not map: never just "记住了" (the question would vanish).
                run.say(menus.can_answer(state.locality))
            else:
                _confirm_place(run)
            return
        elif intent == "greeting":
            if state.locality:
                run.say(menus.menu(state.locality, menus.GREETING))
            else:
                run.say(menus.ask_place(f"{menus.GREETING}\n请问您在哪里参保？"))
            return
        elif intent == "thanks":
            run.say(menus.THANKS)
            return
        elif intent == "help":
            run.say(menus.menu(state.locality))
            return
        else:
            if state.locality and turn.locality:
                run.say(menus.can_answer(state.locality))
            else:
                run.say(menus.not_understood(state.locality))
            return
    if turn.alternatives and "amount" in asks:
        _answer_each(run, asks, turn.alternatives)
    else:
        _answer(run, asks)
    if state.place is not None:
        # "桃园镇和唐河县的低保户 谁交得少": the same questions for each further place named; the last
        # place answered stays the dialogue's place.
        for locality in turn.other_localities:
            if places.pack_for(locality):
                _set_place(run, locality)
                _answer(run, asks)


def _as_day_of_death(turn: Turn) -> Turn:
    """After "请告诉我是哪天去世的": a date given alone ("12月20号", "腊月初五") is the day of death, in the
    past (said in November, 12月20号 is last December), and the refund is the question."""
    day = turn.facts.get("event_on") or turn.facts.get("paid_on")
    if turn.facts.get("died_on") or not day or day == ON_TIME:
        return turn
    died = dt.date.fromisoformat(day)
    if died > clock.today():
        died = died.replace(year=died.year - 1, day=min(died.day, 28) if died.month == 2 else died.day)
    facts = {k: v for k, v in turn.facts.items() if k not in ("paid_on", "event_on")}
    turn = dataclasses.replace(turn, facts={**facts, "died_on": died.isoformat()})
    return turn if turn.asks else dataclasses.replace(turn, asks=("refund",), explicit=True)


def _answer_each(run: _Run, asks: list[str], people: tuple[dict[str, Any], ...]) -> None:
    """Amounts asked for several people in one message: one answer each, then the other questions; the
    last person asked about stays the dialogue's person."""
    state = run.state
    base = {k: v for k, v in state.person.items() if k not in ("categories", "age", "birth_year", "relation")}
    for facts in people:
        state.person = {**base, **facts}
        _answer(run, ["amount"])
    rest = [a for a in asks if a != "amount"]
    if rest:
        _answer(run, rest)


# Which questions a new fact can change: a follow-up re-asks only those among the previous questions
# ("交多少 最晚啥时候交" then "那低保户呢": the amount again, not the deadline, which 低保 does not move).
_CHANGES: dict[str, frozenset[str]] = {
    "categories": frozenset({"amount", "eligibility", "benefit_start", "refund", "pay_first"}),
    "ordinary": frozenset({"amount"}),
    "age": frozenset({"amount"}),
    "birth_year": frozenset({"amount"}),
    "birth_date": frozenset({"amount", "newborn", "deadline"}),
    "migrant": frozenset({"deadline", "benefit_start"}),
    "newborn": frozenset({"newborn", "amount", "deadline", "benefit_start"}),
    "newborn_late": frozenset({"newborn", "benefit_start"}),
    "student": frozenset({"eligibility"}),
    "hukou_elsewhere": frozenset({"eligibility", "amount"}),
    "employee_insured": frozenset({"eligibility", "refund"}),
    "paid_on": frozenset({"benefit_start", "refund"}),
    "month": frozenset({"benefit_start"}),
    "refund_reason": frozenset({"refund"}),
    "died_on": frozenset({"refund"}),
}


def _again(previous: list[str], facts: dict[str, Any], place_changed: bool) -> list[str]:
    """The previous questions a follow-up re-asks: all of them for a new place or person, else those
    the new facts can change (all of them when none can)."""
    if place_changed or facts.get("relation") or not facts:
        return list(previous)
    touched = set().union(*(_CHANGES.get(k, frozenset()) for k in facts))
    kept = [t for t in previous if t in touched]
    return kept or list(previous)


def _short(text: str) -> bool:
    """A message of a few characters ("监测户", "六十八", "普通的") after an answer is a follow-up."""
    return len(text.replace(" ", "")) <= 8


def _confirm_place(run: _Run) -> None:
    state = run.state
    assert state.place is not None
    run.say(menus.menu(state.locality, f"好的，记住了：您在{_place_label(state.place)}。"))


def _answer(run: _Run, asks: list[str]) -> None:
    """Answer each question in order for the dialogue's place, or ask the place first."""
    state = run.state
    pack = places.pack_for(state.locality)
    if pack is None or state.place is None:
        state.open = OpenQuestion("place", asks[0], asks[1:])
        run.say(menus.ask_place("请问您问的是哪个县（市）的政策？"))
        return
    state.open = None
    state.topics = []
    today = clock.today()
    for topic in dict.fromkeys(asks):
        answer = topics.TOPICS.get(topic)
        if answer is None:
            continue
        got = answer(topics.Ctx(pack, state.place, {**state.person, **run.turn_facts}, today, run.incoming.text or ""))
        replies = [_without_choice(_without_repeated_note(r, run.replies), choice_values.topic_value(topic))
                   for r in got.replies]
        # Two questions one answer covers (新生儿 and 何时享受 for a baby): say it once.
        replies = [r for r in replies if all(r.text != e.text for e in run.replies)]
        run.say(*replies)
        state.topics.append(topic)
        if got.open is not None:
            state.open = got.open


def _without_choice(reply: Reply, value: str) -> Reply:
    """The reply without the choice that would ask the question it just answered."""
    rows = tuple(row for row in (tuple(c for c in r if c.value != value) for r in reply.choices) if row)
    return Reply(reply.text, rows)


def _without_repeated_note(reply: Reply, earlier: list[Reply]) -> Reply:
    """One message answering several questions says which year it is about once, not per answer."""
    lines = reply.text.splitlines()
    if not lines or not lines[0].startswith("提示：") or not any(lines[0] in r.text for r in earlier):
        return reply
    return Reply("\n".join(lines[1:]), reply.choices)


# ---------------------------------------------------------------------------- choices


def _on_choice(run: _Run, raw: str) -> None:
    state = run.state
    parsed = choice_values.parse(raw)
    if parsed is None:
        run.say(menus.menu(state.locality, "这个按钮已失效。"))
        return
    kind, value = parsed
    pack = places.pack_for(state.locality)
    if kind == "topic":
        state.open = None
        if value == "subscribe":
            _offer_subscription(run)
        elif value in topics.TOPICS:
            _answer(run, [value])
        else:
            run.say(menus.menu(state.locality, "这个按钮已失效。"))
        return
    if kind == "locality":
        if places.pack_for(value) is None:
            run.say(menus.unknown_place(None))
            return
        changed = _set_place(run, value) or state.place is not None
        opened = state.open
        if opened is not None and opened.kind == "place":
            _answer(run, [opened.topic, *opened.asks])
        elif changed:
            _confirm_place(run)
        return
    if kind == "province":
        run.say(menus.ask_place())
        return
    if kind == "action":
        if value == "menu":
            state.open = None
            run.say(menus.menu(state.locality))
        elif value == "place":
            run.say(menus.ask_place("请选择您参保的地方："))
        elif value == "lookup":
            _ask_id(run)
        else:
            run.say(menus.menu(state.locality, "这个按钮已失效。"))
        return
    if kind == "subscribe":
        _subscribe(run, value)
        return
    if pack is None:
        run.say(menus.ask_place("请先告诉我您在哪个县（市）参保。"))
        return
    topic = state.topic or "amount"
    if kind == "category":
        # A category narrows an amount, whatever was asked last (a deadline does not change with it).
        topic = topic if topic in ("eligibility", "benefit_start") else "amount"
        if value == "none":
            state.person = merge(state.person, {"ordinary": CHOSEN, "categories": []})
        elif pack.category(value) is not None:
            state.person = merge(state.person, {"categories": [value]})
        else:
            run.say(menus.menu(state.locality, "这个按钮已失效。"))
            return
        _answer(run, [topic if topic in ("amount", "deadline", "benefit_start", "eligibility") else "amount"])
    elif kind == "age" and value.isdigit() and 0 < int(value) < 130:
        state.person = merge(state.person, {"age": int(value)})
        _answer(run, [topic if topic in ("amount", "deadline", "benefit_start") else "amount"])
    elif kind == "refund" and value in dict(topics.render.REFUND_LABELS):
        state.person = merge(state.person, {"refund_reason": value})
        _answer(run, ["refund"])
    elif kind == "month":
        paid = _month_choice(pack, value)
        if paid is None:
            run.say(menus.menu(state.locality, "这个按钮已失效。"))
            return
        state.person = merge(state.person, {"paid_on": paid})
        _answer(run, ["benefit_start"])
    elif kind == "town" and value in places.towns(state.locality or ""):
        assert state.place is not None
        level = pack.task_table.level
        _set_place(run, state.place.locality, value if level == "town" else None,
                   value if level == "village" else None)
        _answer(run, ["contact"])
    else:
        run.say(menus.menu(state.locality, "这个按钮已失效。"))


def _month_choice(pack: object, value: str) -> str | None:
    import datetime as dt

    if value == "ontime":
        return pack.dates.collection.end.isoformat()  # type: ignore[attr-defined]
    try:
        return dt.date.fromisoformat(value + "-01").isoformat()
    except ValueError:
        return None


# ---------------------------------------------------------------------------- status and reminders


def _after_lookup(run: _Run, looked: lookup.Looked, turn: Turn | None) -> None:
    """Say the status, then carry on about the person found: their place becomes the dialogue's and
    what the registry knows of them (categories, migrant, payment, birth year) their facts, under
    what the message itself says; the message's other questions are answered for them."""
    run.say(*looked.replies)
    result = looked.found
    if result is None:
        return
    state = run.state
    if result.locality_id and places.pack_for(result.locality_id) is not None:
        _set_place(run, result.locality_id)
    known: dict[str, Any] = {"relation": "looked_up"}
    if result.categories:
        known["categories"] = list(result.categories)
    if result.migrant:
        known["migrant"] = True
    if result.enrolled and result.paid_on:
        known["paid_on"] = result.paid_on.isoformat()
    if looked.number:
        from bot.registry import ids

        with contextlib.suppress(ValueError):  # a 15-digit or odd number: no birth year, nothing else lost
            known["birth_year"] = ids.birth_date(looked.number).year
    said = {k: v for k, v in (turn.facts if turn else {}).items() if k not in TURN_KEYS}
    state.person = merge(known, said)
    state.topics = ["status"]
    rest = [a for a in (turn.asks if turn else ()) if a in topics.TOPICS]
    if rest:
        _answer(run, rest)


def _ask_id(run: _Run) -> None:
    if not run.incoming.private:
        run.say(Reply(menus.PRIVATE_ONLY))
        return
    run.say(lookup.ask_id(run.state))


def _offer_subscription(run: _Run) -> None:
    if not run.incoming.private:
        run.say(Reply(menus.PRIVATE_ONLY))
        return
    last = run.state.last_lookup
    if not last:
        # Reminders are per person: start with a status check to know whom.
        run.state.open = OpenQuestion("id", "status")
        run.say(Reply("提醒要对应到具体参保人。请先查询参保：发送身份证号和姓名，查完就可以订阅提醒。"))
        return
    offer = lookup.offer_reply(last)
    run.say(Reply(f"要为 {last['masked']} {last['name']} 订阅缴费提醒吗？", offer.choices))


def _subscribe(run: _Run, target: str) -> None:
    from bot.registry import subscriptions

    if target == "no":
        run.say(Reply("好的，不提醒。需要时点菜单里的“提醒我”。"))
        return
    if not run.incoming.private:
        run.say(Reply(menus.PRIVATE_ONLY))
        return
    last = run.state.last_lookup
    if not last or target not in ("person", "household") or run.deps.chat is None:
        run.say(Reply("这个按钮已过期，请先重新查询参保。"))
        return
    household = target == "household" and last.get("household_id") is not None
    new = subscriptions.subscribe(run.deps.chat, person_id=last.get("person_id"),
                                  household_id=last.get("household_id") if household else None,
                                  engine=run.deps.engine)
    if not new:
        run.say(Reply(f"已经订阅过了，截止前会提醒您。{stop_hint(run.incoming.channel)}可取消。"))
        return
    run.events.append(f"subscribed:{target}")
    who = "全家" if household else f"{last['masked']} {last['name']}"
    run.say(Reply(f"好的，已为{who}订阅缴费提醒，截止前会提醒未缴费的人。\n不想收了{stop_hint(run.incoming.channel)}即可。"))


def _unsubscribe(run: _Run) -> None:
    from bot.registry import subscriptions

    if run.deps.chat is None:
        run.say(Reply("您目前没有订阅缴费提醒。"))
        return
    ended = subscriptions.unsubscribe(run.deps.chat, engine=run.deps.engine)
    if ended:
        run.events.append(f"unsubscribed:{ended}")
        run.say(Reply(f"已取消 {ended} 项缴费提醒，以后不再发送。需要时可以重新查询后订阅。"))
    else:
        run.say(Reply("您目前没有订阅缴费提醒。"))
