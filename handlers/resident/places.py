"""Places the bot knows (from the policy packs) and remembering the resident's place.

The list of places comes only from `bot.policy.all_packs()` / `gazetteer()`: adding a pack adds a place.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot import clock

# A Chinese place name ending in an administrative suffix ("合肥市", "金寨县", "三河镇").
_PLACE_SHAPE = re.compile(r"([\u4e00-\u9fff]{1,8}?(?:省|市|县|区|旗|镇|乡|街道))")
_NOT_PLACES = ("城市", "城区", "市区", "社区", "地区", "本县", "本市", "外县", "外市", "县里", "市里", "乡镇", "镇上")


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
    """A place-shaped name in the text that is not one we cover (called only when NLU found no place)."""
    known = set()
    try:
        from bot.policy import gazetteer

        for entry in gazetteer():
            name = entry[0] if isinstance(entry, tuple) else getattr(entry, "name", None)
            if name:
                known.add(name)
    except Exception:  # noqa: BLE001 - the gazetteer is only a guard against false alarms
        pass
    for m in _PLACE_SHAPE.finditer(text or ""):
        name = m.group(1)
        if any(w in name for w in _NOT_PLACES) or len(name) < 2:
            continue
        if name in known or any(k and (k in name or name in k) for k in known):
            continue
        return name
    return None


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
