"""Write a carried-forward pack as YAML, with its `review` section and a header saying it is a draft.

Short cited items are written on one line (`{value: 410, locator: 二（一）, quote: ...}`) as in the
hand-written packs, so the draft reads like them and a diff against last year's pack stays small.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

import yaml

from bot.policy.carry.forward import CarryResult

FLOW_MAX = 160  # a mapping of scalars shorter than this is written on one line


def plain(value: Any) -> Any:
    """JSON/YAML-friendly scalar: dates ISO, whole Decimals as int."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def review_entries(result: CarryResult) -> list[dict[str, Any]]:
    """The draft's `review` section: one entry per item a person must resolve."""
    out: list[dict[str, Any]] = []
    for c in result.changed:
        entry: dict[str, Any] = {"field": c.field, "kind": "changed", "old": plain(c.old), "new": plain(c.new)}
        if c.quote:
            entry["quote"] = c.quote
        where = f"新文件（{c.locator}）" if c.locator else "新文件"
        if c.field.endswith(".quote"):
            note = f"{where}的句子变了"
        else:
            note = f"{where}：由 {plain(c.old)} " + ("删去" if c.new is None else f"改为 {plain(c.new)}")
        entry["note_zh"] = note + (f"。{c.note}" if c.note else "。") + "核对无误后删去本条。"
        out.append(entry)
    for m in result.missing:
        hint = f"最接近的是：“{m.hint}”。" if m.hint else ""
        out.append({
            "field": m.field, "kind": "missing", "old": m.old_quote,
            "note_zh": f"新文件中找不到原句（{m.locator}）。{hint}请找到对应的句子，改写值和 quote；"
                       "新文件已取消这一项的，删去该项。然后删去本条。",
        })
    for r in result.review:
        entry = {"field": r.field, "kind": "review", "old": plain(r.old), "note_zh": r.note + "处理后删去本条。"}
        if r.suggested is not None:
            entry["new"] = plain(r.suggested)
        out.append(entry)
    return out


class _Dumper(yaml.SafeDumper):
    """Writes repeated values out in full: the loader refuses YAML anchors and aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _is_flat(data: dict[Any, Any]) -> bool:
    return all(not isinstance(v, (dict, list)) or (isinstance(v, list) and all(
        not isinstance(x, (dict, list)) for x in v)) for v in data.values())


def _represent_dict(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.Node:
    flat = _is_flat(data) and not any(isinstance(v, str) and "\n" in v for v in data.values())
    short = flat and len(str(data)) <= FLOW_MAX
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=short)


def _represent_list(dumper: yaml.SafeDumper, data: list[Any]) -> yaml.Node:
    scalars = all(not isinstance(x, (dict, list)) for x in data)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=scalars and len(str(data)) < 80)


def _represent_decimal(dumper: yaml.SafeDumper, data: Decimal) -> yaml.Node:
    return dumper.represent_data(plain(data))


_Dumper.add_representer(dict, _represent_dict)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(Decimal, _represent_decimal)


def dump_draft(result: CarryResult, *, source_name: str, made_on: dt.date) -> str:
    """The draft file's text: a header comment, the pack, and the `review` section last."""
    draft = dict(result.draft)
    entries = review_entries(result)
    if entries:
        draft["review"] = entries
    loc = draft["locality"]
    header = [
        f"# DRAFT {loc['id']}-{draft['coverage_year']}: carried forward from {result.from_pack} by "
        f"`yibao policy new` on {made_on.isoformat()}, read against {source_name}.",
        f"# {loc['name_zh']}{draft['coverage_year']}年度政策包草稿。`review` 中每一条都要有人核对处理并删去；",
        "# 删完后运行 yibao policy check 本文件，通过后连同新文件一起移入 bot/policy/packs/ 与 bot/policy/sources/。",
        "# See docs/policy-packs.md, \"Next year's pack\".",
    ]
    body = yaml.dump(draft, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10**6)
    header.append(f"{UNTOUCHED} {_digest(body)}")
    return "\n".join(header) + "\n" + body


UNTOUCHED = "# untouched-draft-sha256:"


def _digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def is_untouched_draft(text: str) -> bool:
    """True when `text` is a draft exactly as `dump_draft` wrote it (nobody has edited it yet), so
    writing a fresh draft over it loses no one's work."""
    for i, line in enumerate(text.splitlines(keepends=True)):
        if line.startswith(UNTOUCHED):
            body = "".join(text.splitlines(keepends=True)[i + 1:])
            return line[len(UNTOUCHED):].strip() == _digest(body)
        if not line.startswith("#"):
            return False
    return False
