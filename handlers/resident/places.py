"""Places the bot knows (from the policy packs) and remembering the resident's place.

The list of places comes only from `bot.policy.all_packs()` / `gazetteer()`: adding a pack adds a place.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot import clock

_NOT_PLACES = frozenset({"中国", "全国", "本地", "外地", "当地", "老家", "城里", "乡下", "农村", "城镇"})


@dataclass(frozen=True)
class Place:
    locality_id: str
    name: str  # locality name, e.g. 五河县
    label: str  # with its parent, e.g. 五河县（安徽蚌埠市）
    province: str


def _packs() -> list[Any]:
    from bot.policy import all_packs

    newest: dict[str, Any] = {}
    for pack in all_packs():
        cur = newest.get(pack.locality.id)
        if cur is None or pack.coverage_year > cur.coverage_year:
            newest[pack.locality.id] = pack
    return list(newest.values())


def get_pack(locality_id: str | None) -> Any | None:
    if not locality_id:
        return None
    from bot.policy import get_pack as _get

    return _get(locality_id)


def place_of(pack: Any) -> Place:
    loc = pack.locality
    parent = "".join(p for p in (getattr(loc, "province", ""), getattr(loc, "city", "")) if p)
    district = getattr(loc, "county", None) or ""
    if district and district not in parent:
        parent += district
    label = f"{loc.name_zh}（{parent}）" if parent else loc.name_zh
    return Place(loc.id, loc.name_zh, label, getattr(loc, "province", "") or "")


def covered_places() -> list[Place]:
    return sorted((place_of(p) for p in _packs()), key=lambda p: (p.province, p.locality_id))


def provinces() -> list[str]:
    seen: list[str] = []
    for place in covered_places():
        if place.province not in seen:
            seen.append(place.province)
    return seen


def places_in(province: str) -> list[Place]:
    return [p for p in covered_places() if p.province == province]


def place_name(locality_id: str | None) -> str:
    pack = get_pack(locality_id)
    return pack.locality.name_zh if pack is not None else (locality_id or "")


def covered_list_zh() -> str:
    return "、".join(p.label for p in covered_places())


def unknown_place_in(text: str) -> str | None:
    """A place named in the text that we have no policy for (called only when the NLU found no known
    place). Place names are jieba's `ns` words; a place someone merely works or studies in
    ("在上海打工") is not the place the question is about."""
    if not text or any(w in text for w in _HOME_WORDS):
        return None
    known = _known_names()
    words = list(_pos_tokenizer().cut(text, HMM=False))
    for i, w in enumerate(words):
        name = w.word
        if not w.flag.startswith("ns") or len(name) < 2 or name in _NOT_PLACES:
            continue
        if name in known or any(k in name or name in k for k in known if len(k) >= 2):
            continue
        after = "".join(x.word for x in words[i + 1 : i + 4])
        if any(after.startswith(c) for c in _ELSEWHERE_CONTEXT):
            continue
        return name
    return None


_ELSEWHERE_CONTEXT = ("打工", "务工", "上班", "工作", "上学", "读书", "上大学", "念书", "做生意", "回来", "回不",
                      "交了", "交过", "参保了", "参加了", "买了")
# Words saying the question is about the resident's own place, whatever other place is mentioned.
_HOME_WORDS = ("老家", "这边", "我们这", "咱这", "本地", "户口所在")


@lru_cache(maxsize=1)
def _pos_tokenizer() -> Any:
    """jieba part-of-speech tagging on the NLU's tokenizer (its dictionary is loaded once per process);
    jieba's default one, quietly, if the NLU does not offer it."""
    import logging

    import jieba
    import jieba.posseg

    jieba.setLogLevel(logging.WARNING)
    try:
        from bot.nlu.tokens import _tokenizer

        return jieba.posseg.POSTokenizer(_tokenizer())
    except ImportError:
        return jieba.posseg.dt


@lru_cache(maxsize=1)
def _known_names() -> frozenset[str]:
    names: set[str] = set()
    try:
        from bot.policy import gazetteer

        for entry in gazetteer():
            name = getattr(entry, "name", None) or (entry[0] if isinstance(entry, tuple) else None)
            if name:
                names.add(str(name))
    except Exception:  # noqa: BLE001 - the gazetteer only prevents false alarms
        pass
    for pack in _packs():
        loc = pack.locality
        names.update(n for n in (loc.name_zh, *loc.aliases, getattr(loc, "county", None)) if n)
    return frozenset(names)


def area_id_for(session: Any, locality_id: str, name: str | None) -> int | None:
    """Registry area (town or village) of this locality with this name, if the registry has it."""
    if not name or session is None:
        return None
    try:
        from sqlmodel import select

        from bot.registry.models import Area

        row = session.exec(select(Area).where(Area.locality_id == locality_id, Area.name == name)).first()
        return row.id if row is not None else None
    except Exception:  # noqa: BLE001 - a missing registry must not stop the policy answer
        return None


def area_name(session: Any, area_id: int | None) -> str | None:
    if area_id is None or session is None:
        return None
    try:
        from bot.registry.models import Area

        row = session.get(Area, area_id)
        return row.name if row is not None else None
    except Exception:  # noqa: BLE001
        return None


def remember(session: Any, profile: Any, locality_id: str, area_id: int | None = None) -> None:
    """Store the place in the chat's profile (the session middleware commits)."""
    if profile is None:
        return
    profile.locality_id = locality_id
    profile.area_id = area_id
    if hasattr(profile, "updated_at"):
        profile.updated_at = clock.now().replace(tzinfo=None)
    if session is not None:
        session.add(profile)
