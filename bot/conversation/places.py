"""The places the bot covers, as the dialogue names and offers them.

The list comes only from the policy packs: adding a pack adds a place. `pack_for` is the one way the
dialogue turns a locality id into its pack (the newest one; the engine picks the year by date).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from bot.policy import all_packs, get_pack


@dataclass(frozen=True)
class CoveredPlace:
    locality_id: str
    name: str  # locality name, e.g. 五河县
    label: str  # with its parents, e.g. 五河县（安徽省蚌埠市）
    province: str


def pack_for(locality_id: str | None) -> Any | None:
    """The newest pack of a locality id, or None."""
    return get_pack(locality_id) if locality_id else None


@functools.cache
def covered() -> tuple[CoveredPlace, ...]:
    newest: dict[str, Any] = {}
    for pack in all_packs():
        newest[pack.locality.id] = pack  # all_packs is sorted by year: the last one is the newest
    places = []
    for pack in newest.values():
        loc = pack.locality
        parent = "".join(p for p in (getattr(loc, "province", ""), getattr(loc, "city", "")) if p)
        label = f"{loc.name_zh}（{parent}）" if parent else loc.name_zh
        places.append(CoveredPlace(loc.id, loc.name_zh, label, getattr(loc, "province", "") or ""))
    return tuple(sorted(places, key=lambda p: (p.province, p.locality_id)))


def provinces() -> list[str]:
    return list(dict.fromkeys(p.province for p in covered()))


def in_province(province: str) -> list[CoveredPlace]:
    return [p for p in covered() if p.province == province]


def name(locality_id: str | None) -> str:
    pack = pack_for(locality_id)
    return pack.locality.name_zh if pack is not None else (locality_id or "")


def label(locality_id: str) -> str:
    return next((p.label for p in covered() if p.locality_id == locality_id), name(locality_id))


def covered_list_zh() -> str:
    return "、".join(p.label for p in covered())


def towns(locality_id: str) -> list[str]:
    """Task-table towns (or villages) of a locality, as printed in its document."""
    pack = pack_for(locality_id)
    return [e.name for e in pack.task_table.entries] if pack is not None else []
