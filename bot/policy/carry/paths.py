"""Stable dotted paths for the values of a pack, as written in its YAML.

Mappings give their keys; list items are named by what identifies them rather than by position, so
a path still means the same thing after rows are added or reordered:

* `categories.<code>`, `eligibility.groups.<id>`, `age_rules.rules.<id>`, `eligibility.elsewhere.<id>`
* `financing.government_split.<payer>`, `categories.<code>.help.payers.<name>`
* `payment.channels.<name>`, `task_table.entries.<name>`, `contacts.phones.<phone>`
* `dates.collection` for the period of kind collection (the schema's `Dates.collection`), other
  periods `dates.periods.<label_zh>`
* `dates.special_late.<reason+reason>`, `refunds.rules.<reason+reason>`
* anything else (`payment.how`, `contacts.where_to_ask`, `task_table.goals`, `not_modelled`) by its
  position from 1: `payment.how.1`
A second item with the same name gets `#2`. A value inside a cited item adds its key
(`dates.collection.end`, `task_table.entries.城关镇.target`), except `value` itself
(`financing.personal`, not `financing.personal.value`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

KEY_FIELDS = ("code", "id", "payer", "name", "phone")
CITED_KEYS = ("locator", "quote", "doc")


def is_cited(node: Any) -> bool:
    return isinstance(node, dict) and "quote" in node and "locator" in node


def _item_name(list_path: str, item: Any, position: int) -> str:
    if isinstance(item, dict):
        if list_path == "dates.periods" and item.get("kind") == "collection":
            return "\0collection"
        for key in KEY_FIELDS:
            if isinstance(item.get(key), str) and item[key]:
                return str(item[key])
        if list_path == "dates.periods" and item.get("label_zh"):
            return str(item["label_zh"])
        reasons = item.get("reasons")
        if isinstance(reasons, list) and reasons:
            return "+".join(str(r) for r in reasons)
    return str(position + 1)


def walk(node: Any, path: str = "") -> Iterator[tuple[str, Any, dict | list | None, Any]]:
    """Every node with its stable path, its container and its key (or index) in the container."""
    if isinstance(node, dict):
        for key, child in node.items():
            child_path = f"{path}.{key}" if path else str(key)
            yield child_path, child, node, key
            yield from walk(child, child_path)
    elif isinstance(node, list):
        seen: dict[str, int] = {}
        for i, item in enumerate(node):
            name = _item_name(path, item, i)
            seen[name] = seen.get(name, 0) + 1
            if seen[name] > 1:
                name = f"{name}#{seen[name]}"
            if name.startswith("\0"):
                item_path = f"{path.rsplit('.', 1)[0]}.{name[1:]}"
            else:
                item_path = f"{path}.{name}"
            yield item_path, item, node, i
            yield from walk(item, item_path)


def cited_items(raw: dict) -> list[tuple[str, dict]]:
    """Every cited mapping (one with `locator` and `quote`) with its path."""
    return [(path, node) for path, node, _c, _k in walk(raw) if is_cited(node)]


def value_path(item_path: str, key: str) -> str:
    return item_path if key == "value" else f"{item_path}.{key}"


def lookup(raw: dict, path: str) -> Any:
    """The node at a stable path (tests and tools); KeyError when there is none."""
    for p, node, _c, _k in walk(raw):
        if p == path:
            return node
    raise KeyError(path)
