"""Policy packs (one YAML per locality and coverage year) and the engine that answers from them."""

from __future__ import annotations

from bot.policy import engine
from bot.policy.freshness import Currency, currency
from bot.policy.loader import all_packs, gazetteer, get_pack, resolve_category, vocabulary
from bot.policy.schema import PolicyPack

__all__ = [
    "Currency",
    "PolicyPack",
    "all_packs",
    "currency",
    "engine",
    "gazetteer",
    "get_pack",
    "resolve_category",
    "vocabulary",
]
