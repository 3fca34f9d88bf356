"""Carry a pack forward to next year's notice: keep, change or flag every cited value.

`carry_forward` is pure (texts in, draft mapping and checklist out); `bot/commands/policy_cmds.py`
reads and writes the files. Each cited item of the old pack is looked up in the new document (see
`text.Matcher`):

* **kept**: its sentence is there unchanged; its values stay.
* **changed**: a sentence of the same shape has other figures; every value printed in the sentence
  takes the figure at the same place, and the quote becomes the new sentence.
* **missing**: nothing matches; the old value and quote stay, so `yibao policy check` also fails on
  the quote until a person fixes it.

Values a quote does not print (derived: a refund cut-off equal to the benefit start, an age band
printed only in the clause of its help) are recomputed from the value they equal, or listed for
review. Notes written by the encoder that mention figures which changed are listed for review, and
the task table's mismatch note is dropped when the new rows add up to the printed total. Every
changed, missing or review item goes into the draft's `review` section, which the schema refuses
(`bot.policy.schema.ReviewItem`), so a draft cannot be used until a person has gone through them.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from bot.policy.carry.paths import CITED_KEYS, cited_items, is_cited, value_path, walk
from bot.policy.carry.text import FIGURE, Found, Matcher, Shape, nearest_sentence, squash_norm
from bot.policy.carry.values import Reading, locate, reread
from bot.policy.vocab import squash

TEXT_VALUE_KEYS = ("value", "phone")
# Strings that are identifiers or enumerations, never prose a figure could go stale in.
NOT_PROSE = {*CITED_KEYS, *TEXT_VALUE_KEYS, "source", "id", "code", "kind", "division_code", "rule",
             "reference", "level", "reasons", "student", "includes", "aliases", "synonyms", "field"}
TOP_LEVEL_FIXED = ("schema_version", "coverage_year")


@dataclass
class Change:
    field: str
    old: Any
    new: Any
    quote: str
    locator: str
    derived_from: str | None = None
    note: str | None = None


@dataclass
class Missing:
    field: str
    old_quote: str
    locator: str
    hint: str | None = None  # the new document's sentence most like the old quote


@dataclass
class Review:
    field: str
    old: Any
    note: str
    suggested: Any = None


@dataclass
class CarryResult:
    draft: dict[str, Any]
    from_pack: str
    kept: int = 0
    changed: list[Change] = field(default_factory=list)
    missing: list[Missing] = field(default_factory=list)
    review: list[Review] = field(default_factory=list)


@dataclass
class _Item:
    path: str
    node: dict[str, Any]
    shape: Shape
    found: Found | None  # None: cites another document, not looked up


def _value_keys(node: dict[str, Any]) -> list[str]:
    keys = []
    for key, value in node.items():
        if key in CITED_KEYS or isinstance(value, (dict, list, bool)) or value is None:
            continue
        if isinstance(value, (int, float, Decimal, dt.date)) or (
            key in TEXT_VALUE_KEYS and isinstance(value, str) and FIGURE.search(value)
        ):
            keys.append(key)
    return keys


def _kind(value: Any) -> str:
    return "date" if isinstance(value, dt.date) else "number"


def _shift_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


class _Carry:
    def __init__(self, raw: dict[str, Any], old_text: str, new_text: str, year: int, source_name: str):
        self.old_year = int(raw["coverage_year"])
        self.delta = year - self.old_year
        self.loc_id = str(raw["locality"]["id"])
        self.matcher = Matcher(old_text, new_text)
        self.draft = copy.deepcopy(raw)
        self.result = CarryResult(self.draft, f"{self.loc_id}-{self.old_year}")
        self.sources: dict[tuple[str, Any], list[tuple[str, Any]]] = {}
        self.pending: list[tuple[_Item, str]] = []
        self.items: dict[str, _Item] = {}
        self.draft["coverage_year"] = year
        self._documents(source_name)

    # ------------------------------------------------------------ documents

    def _documents(self, source_name: str) -> None:
        docs = self.draft["documents"]
        main_key = "main" if "main" in docs else next(iter(docs))
        previous = copy.deepcopy(docs[main_key])
        self.prev_key = f"{self.loc_id}-{self.old_year}"
        new_docs: dict[str, Any] = {"main": docs[main_key]}
        new_docs["main"]["source"] = source_name
        for _path, node in cited_items(previous):
            node["doc"] = self.prev_key  # its own number, title, date are quoted from the old text
        new_docs[self.prev_key] = previous
        for key, doc in docs.items():
            if key != main_key:
                new_docs.setdefault(key, doc)
        self.draft["documents"] = new_docs
        self.skip_prefixes = tuple(f"documents.{k}." for k in new_docs if k != "main")

    def _drop_unused_documents(self) -> None:
        """Older documents kept from earlier carries go once nothing outside `documents` cites them."""
        docs = self.draft["documents"]
        used = {str(node.get("doc", "main")) for path, node in cited_items(self.draft)
                if not path.startswith("documents.")}
        for key in [k for k in docs if k not in ("main", self.prev_key) and k not in used]:
            del docs[key]

    # ------------------------------------------------------------ the three groups

    def run(self) -> CarryResult:
        for path, node in cited_items(self.draft):
            if path.startswith(self.skip_prefixes):
                continue
            self._item(path, node)
        self._derived()
        self._drop_unused_documents()
        self._uncited_numbers()
        self._mismatch_note()
        self._stale_prose()
        self._schema_check()
        return self.result

    def _item(self, path: str, node: dict[str, Any]) -> None:
        shape = Shape.of(str(node["quote"]))
        if node.get("doc", "main") != "main":
            item = _Item(path, node, shape, None)
            self.items[path] = item
            self.result.review.append(Review(
                path, node["quote"],
                f"这一项引用的是另一份文件（{node['doc']}），不是新通知；请确认它今年是否仍然有效。"))
            for key in _value_keys(node):
                self._source(node[key], value_path(path, key), node[key])
            return
        found = self.matcher.find(str(node["quote"]))
        item = _Item(path, node, shape, found)
        self.items[path] = item
        keys = _value_keys(node)
        if found.status == "missing":
            hint = nearest_sentence(str(node["quote"]), self.matcher.new)
            self.result.missing.append(Missing(path, str(node["quote"]), str(node["locator"]), hint))
            for key in keys:
                self._source(node[key], value_path(path, key), None)
            return
        old_quote = str(node["quote"])
        assert found.new_quote is not None and found.candidate is not None
        if squash_norm(old_quote) != squash_norm(found.new_quote) or not self._loader_finds(old_quote):
            node["quote"] = found.new_quote
        if found.status == "kept":
            self.result.kept += 1
            for key in keys:
                if locate(node[key], shape) is None:
                    self.pending.append((item, key))
                else:
                    self._source(node[key], value_path(path, key), node[key])
            return
        any_value_changed = False
        for key in keys:
            old = node[key]
            reading = locate(old, shape)
            if reading is None:
                self.pending.append((item, key))
                continue
            new, note = self._reread(old, reading, found, value_path(path, key))
            self._source(old, value_path(path, key), new)
            if new is None or new == old:
                continue
            node[key] = new
            any_value_changed = True
            self.result.changed.append(Change(
                value_path(path, key), old, new, str(node["quote"]), str(node["locator"]), note=note))
        if not any_value_changed:
            diffs = "、".join(
                f"{a}→{b}" for a, b in dict.fromkeys(zip(shape.figures, found.candidate.figures, strict=True))
                if a != b)
            self.result.changed.append(Change(
                f"{path}.quote", old_quote, node["quote"], str(node["quote"]), str(node["locator"]),
                note=f"句中的数字变了（{diffs}），本项的值没有变；请确认句子的意思没有变。"))

    def _loader_finds(self, quote: str) -> bool:
        # The loader compares quotes without NFKC: a kept quote spelled in other widths must be replaced.
        return squash(quote) in self._new_raw_squashed

    @cached_property
    def _new_raw_squashed(self) -> str:
        return squash(self.matcher.new.raw)

    def _reread(self, old: Any, reading: Reading, found: Found, where: str) -> tuple[Any, str | None]:
        assert found.candidate is not None
        got = reread(old, reading, found.candidate.figures)
        if got.invalid or got.ambiguous:
            shown = "、".join(str(v) for v in got.ambiguous)
            self.result.review.append(Review(
                where, old, got.invalid or f"新句子里同一个数对应了不同的新值（{shown}），请人工确定。"))
            return None, None
        new = got.value
        notes = []
        if reading.kind == "date" and any(at.year is None for at in reading.places):
            new = _shift_years(new, self.delta)
            notes.append(f"句中没有写年份，按顺延{self.delta}年推算，请核对。")
        if found.others:
            alts = "；".join(self.matcher.new.raw_slice(c.start, c.end) for c in found.others[:3])
            notes.append(f"新文件中还有同样句式的句子：{alts}。请确认选中的是对的。")
        return new, " ".join(notes) or None

    def _source(self, old: Any, path: str, new: Any) -> None:
        if isinstance(old, (dt.date, int, float, Decimal)) and not isinstance(old, bool):
            self.sources.setdefault((_kind(old), old), []).append((path, new))

    # ------------------------------------------------------------ derived values

    def _derived(self) -> None:
        for item, key in self.pending:
            old = item.node[key]
            where = value_path(item.path, key)
            cands = [(p, n) for p, n in self.sources.get((_kind(old), old), []) if p != where]
            if isinstance(old, str):
                self.result.review.append(Review(
                    where, old, "这个值里的数字不在它的引文里，请按新文件核对。"))
                continue
            if cands and all(n is not None for _p, n in cands) and len({n for _p, n in cands}) == 1:
                new = cands[0][1]
                if new != old:
                    item.node[key] = new
                    self.result.changed.append(Change(
                        where, old, new, str(item.node["quote"]), str(item.node["locator"]),
                        derived_from=cands[0][0],
                        note=f"引文没有直接写出这个值，按它等于的 {cands[0][0]} 重新推算。"))
                continue
            if cands:
                why = "它等于的值在新文件中找不到或有分歧（" + "、".join(p for p, _n in cands) + "）"
            else:
                why = "引文没有直接写出这个值，也找不到它由哪个值推出"
            suggested = _shift_years(old, self.delta) if isinstance(old, dt.date) else None
            if suggested is not None:
                item.node[key] = suggested
            self.result.review.append(Review(
                where, old,
                f"{why}；" + (f"草稿中暂按顺延{self.delta}年填为 {suggested}，" if suggested else "草稿中仍是旧值，")
                + "请按新文件核对。",
                suggested=suggested))

    def _uncited_numbers(self) -> None:
        """Numbers outside cited items (an age band's ages): read them from the cited clauses below."""
        for path, value, container, key in list(walk(self.draft)):
            if (
                not isinstance(container, dict) or is_cited(container) or isinstance(value, bool)
                or not isinstance(value, (int, float, Decimal, dt.date))
                or path in TOP_LEVEL_FIXED or path.startswith(self.skip_prefixes)
            ):
                continue
            parent = path.rsplit(".", 1)[0]
            news = []
            for item_path, item in self.items.items():
                if not item_path.startswith(parent + ".") or item.found is None:
                    continue
                reading = locate(value, item.shape)
                if reading is None:
                    continue
                if item.found.status == "missing":
                    news.append(None)
                elif item.found.status == "kept":
                    news.append(value)
                else:
                    assert item.found.candidate is not None
                    got = reread(value, reading, item.found.candidate.figures)
                    news.append(got.value if not (got.ambiguous or got.invalid) else None)
            distinct = set(news)
            if len(distinct) == 1 and None not in distinct:
                new = distinct.pop()
                if new != value:
                    container[key] = new
                    self.result.changed.append(Change(
                        path, value, new, "", "", derived_from=parent,
                        note="这个值不是引文本身的值，按同一项下引文中的数字改写。"))
                continue
            self.result.review.append(Review(
                path, value, "这个值没有自己的引文，新文件中也找不到确定的对应数字，请按新文件核对。"))

    def _mismatch_note(self) -> None:
        table = self.draft.get("task_table") or {}
        note = table.get("total_mismatch_note")
        if not note:
            return
        rows = sum(int(e.get("target") or 0) for e in table.get("entries", []))
        printed = (table.get("total") or {}).get("value")
        if rows == printed:
            del table["total_mismatch_note"]
            self.result.changed.append(Change(
                "task_table.total_mismatch_note", note, None, "", "", derived_from="task_table.entries",
                note=f"新文件各行相加等于合计 {printed}，旧的不一致说明已删去。"))
        else:
            self.result.review.append(Review(
                "task_table.total_mismatch_note", note,
                f"新文件各行相加为 {rows}，合计印为 {printed}；请核对新文件，确属原文如此再改写这条说明，否则改正数字后删去它。"))

    def _stale_prose(self) -> None:
        stale = {str(self.old_year), str(self.old_year - 1)}
        for change in self.result.changed:
            if isinstance(change.old, (int, float, Decimal)) and not isinstance(change.old, bool):
                stale.add(str(change.old))
            elif isinstance(change.old, dt.date):
                stale.add(str(change.old.year))
        flagged = {r.field for r in self.result.review}
        for path, value, container, key in walk(self.draft):
            if (
                not isinstance(value, str) or key in NOT_PROSE or not isinstance(key, str)
                or path.startswith(self.skip_prefixes) or path in flagged
                or isinstance(container, list)
            ):
                continue
            hits = sorted({m.group() for m in FIGURE.finditer(value)} & stale)
            if hits:
                self.result.review.append(Review(
                    path, value, f"这段说明写有旧的数字（{'、'.join(hits)}），请按新文件改写或删去。"))

    def _schema_check(self) -> None:
        from bot.policy.schema import PolicyPack

        try:
            PolicyPack.model_validate(self.draft)
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "<root>"
                self.result.review.append(Review(
                    where, None, "草稿没有通过校验：" + err["msg"].removeprefix("Value error, ")))


def carry_forward(raw: dict[str, Any], old_text: str, new_text: str, *, year: int, source_name: str) -> CarryResult:
    """Draft of `raw` (a pack as loaded from YAML) for `year`, read against the new document's text."""
    return _Carry(raw, old_text, new_text, year, source_name).run()
