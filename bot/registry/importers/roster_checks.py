"""The checks of a roster row (花名册), one row at a time or a whole plain chunk at once.

Both give the same values and the same Chinese reasons (tests/registry/test_import_fast_path.py
imports messy files both ways and compares): the columnar pass only settles rows that pass every
check and hands any other row to the row-by-row checks, which say what is wrong.
"""

from __future__ import annotations

import datetime as dt
from itertools import compress
from operator import itemgetter
from typing import Any

from bot.registry.importers.columns import ROSTER_COLUMNS
from bot.registry.importers.common import row_is_blank
from bot.registry.importers.places import Entry, PlaceMatcher, norm
from bot.registry.importers.readers import Block, SpanningRecord
from bot.registry.importers.report import CONFLICT_KEY, ErrorSink, ImportReport
from bot.registry.importers.store import Store
from bot.registry.importers.values import (
    IdChecker,
    control_reason,
    parse_date,
    parse_flag,
    split_categories,
    text,
)
from bot.reports.cells import has_control

COLUMN_ZH = {c.key: c.title for c in ROSTER_COLUMNS}
WHOLE_ROW_ZH = "（整行）"
_NO_CATEGORIES: frozenset[str] = frozenset()
_FLAGS = {"": False, "否": False, "是": True}


class Places:
    """Task-table entries matched loosely (PlaceMatcher); places below them created as named."""

    def __init__(self, store: Store, pack: Any) -> None:
        self.store = store
        self.locality_id = pack.locality.id
        self.level = pack.task_table.level  # "town": a county's table; "village": a town's table
        rows = store.areas(self.locality_id)
        aliases = {e.name: tuple(e.aliases) for e in pack.task_table.entries}
        top = [Entry(r[0], r[1], aliases.get(r[1], ())) for r in rows if r[2] is None]
        self.top = PlaceMatcher(
            top, level_zh="乡镇" if self.level == "town" else "村（社区）", locality_zh=pack.locality.name_zh
        )
        self.children: dict[tuple[int, str], int] = {
            (r[2], norm(r[1])): r[0] for r in rows if r[2] is not None
        }
        self.created = 0

    def resolve(self, town: str, village: str) -> tuple[int | None, str, str]:
        """(area_id, column key, reason) for a row's place cells."""
        if self.level == "village":
            m = self.top.match(village)
            return m.area_id, "village", m.reason_zh
        m = self.top.match(town)
        if m.area_id is None or not village:
            return m.area_id, "town", m.reason_zh
        key = (m.area_id, norm(village))
        area_id = self.children.get(key)
        if area_id is None:
            area_id = self.children[key] = self.store.create_area(
                self.locality_id, m.area_id, "village", key[1]
            )
            self.created += 1
        return area_id, "village", ""


class Categories:
    def __init__(self, pack: Any) -> None:
        self.pack = pack
        self.locality_id = pack.locality.id
        self._cache: dict[str, tuple[frozenset[str], str]] = {}

    def parse(self, raw: str) -> tuple[frozenset[str], str]:
        got = self._cache.get(raw)
        if got is None:
            got = self._cache[raw] = self._parse(raw)
        return got

    def _parse(self, raw: str) -> tuple[frozenset[str], str]:
        from bot.policy import resolve_category

        codes: set[str] = set()
        for word in split_categories(raw):
            code = resolve_category(word, self.locality_id)
            if code is None or self.pack.category(code) is None:
                names = "、".join(c.name_zh for c in self.pack.categories)
                where = self.pack.locality.name_zh
                why = "无法识别" if code is None else f"不是{where}的资助类别"
                return (
                    frozenset(),
                    f"资助类别“{word}”{why}。{where}的资助类别有：{names}；多个类别用“、”分隔，普通居民留空。",
                )
            codes.add(code)
        return frozenset(codes), ""


def conflict_reason(household: str, earlier: str, where: str) -> str:
    return (
        f"{CONFLICT_KEY}：此身份证号在{where}属于户号“{earlier}”，本行是户号“{household}”。"
        "一个人只能属于一户，本行没有导入：请核对后只保留正确的一行。"
    )


# A validated row: the person's columns in the order Store.upsert_people writes them, then where it
# came from and its categories. Plain tuples: up to 1.3 million are built per county file.
NUMBER, NAME, HOUSEHOLD, RELATION, AREA, PHONE, MIGRANT, BIRTH, LINE, CATS, RECOGNISED = range(11)
GoodRow = tuple[str, str, str, str, int, str | None, bool, str, int, frozenset[str], dt.date | None]
# A refused row: (line, column title, value shown, reason, value is an ID number).
BadRow = tuple[int, str, Any, str, bool]


class RowChecks:
    """The checks of one roster row, with the per-value caches that make them cheap: `fast(chunk)`
    settles the clean rows of a plain chunk column by column, `row(line, cells)` checks any other
    row one at a time. Both apply the same rules and give the same values and reasons; `fast` only
    settles rows that pass every check and leaves the rest (None) to `row`."""

    def __init__(self, columns: dict[str, int], places: Places, categories: Categories, xlsx: bool) -> None:
        self.col = columns
        self.width = max(columns.values()) + 1
        self.places = places
        self.categories = categories
        self.xlsx = xlsx
        self.checker = IdChecker()
        self.place_cache: dict[tuple[str, str], tuple[int | None, str, str]] = {}
        self.flag_cache: dict[str, bool | None] = dict(_FLAGS)
        self.date_cache: dict[str, dt.date | None] = {}

    def place(self, town: str, village: str) -> tuple[int | None, str, str]:
        got = self.place_cache.get((town, village))
        if got is None:
            got = self.place_cache[(town, village)] = self.places.resolve(text(town), text(village))
        return got

    def flag(self, raw: str) -> bool | None:
        if raw not in self.flag_cache:
            self.flag_cache[raw] = parse_flag(raw)
        return self.flag_cache[raw]

    def date(self, raw: str) -> dt.date | None:
        if raw not in self.date_cache:
            self.date_cache[raw] = parse_date(raw)
        return self.date_cache[raw]

    # -- a whole plain chunk at once ------------------------------------------------------------
    def fast(self, chunk: Block) -> list[GoodRow | None]:
        """One entry per row of a plain chunk: its validated values, or None for "check it row by
        row" (not clean, short, or failing any check)."""
        rows = chunk.rows
        n = len(rows)
        width, col = self.width, self.col
        usable = [len(r) >= width for r in rows] if min(map(len, rows), default=width) < width else None
        if chunk.clean is not None or usable is not None:
            keep = [
                (chunk.clean is None or chunk.clean[k]) and (usable is None or usable[k]) for k in range(n)
            ]
            picked = [k for k in range(n) if keep[k]]
            rows = [rows[k] for k in picked]
        else:
            picked = None
        out: list[GoodRow | None] = [None] * n
        if not rows:
            return out
        cols = list(zip(*rows, strict=False))
        empty = ("",) * len(rows)

        def column(key: str) -> tuple[str, ...]:
            pos = col.get(key)
            return cols[pos] if pos is not None else empty

        numbers, names, households = column("id_number"), column("name"), column("household")
        relations, towns, villages = column("relation"), column("town"), column("village")
        phones, raw_cats, migrants = column("phone"), column("category"), column("migrant")
        ok = self.checker.certainly_valid(list(numbers)).tolist()
        # Places are resolved (and new villages created) only for rows that got this far, as row()
        # does: a village named only by rows with a bad ID is not created. Every lookup below is
        # done once per distinct value and mapped over the column in C.
        pairs = list(zip(towns, villages, strict=True))
        eligible = [good and name != "" and hh != "" for good, name, hh in zip(ok, names, households, strict=True)]
        resolved = {pair: self.place(*pair)[0] for pair in dict.fromkeys(compress(pairs, eligible))}
        areas = [resolved[pair] if go else None for pair, go in zip(pairs, eligible, strict=True)]
        parsed = {c: self.categories.parse(c) if c else _NO_REASON for c in set(raw_cats)}
        cat_values = list(map(parsed.__getitem__, raw_cats))
        if "migrant" in col:
            flag_of = {m: self.flag(m) for m in set(migrants)}
            flags = list(map(flag_of.__getitem__, migrants))
        else:
            flags = [False] * len(rows)
        recognised: list[dt.date | None] = [None] * len(rows)
        if "recognised_on" in col:
            recognised = [self.date(r) if r else None for r in column("recognised_on")]
            bad_dates = [bool(r) and d is None for r, d in zip(column("recognised_on"), recognised, strict=True)]
        else:
            bad_dates = None
        if not "".join(phones).isascii():
            phones = tuple(p if p.isascii() else text(p) for p in phones)
        too_long = None
        if (max(map(len, names)) > 64 or max(map(len, households)) > 64 or max(map(len, relations)) > 32
                or max(map(len, phones)) > 32 or max(map(len, villages)) > 64):
            too_long = [len(a) > 64 or len(b) > 64 or len(c) > 32 or len(d) > 32 or len(e) > 64
                        for a, b, c, d, e in zip(names, households, relations, phones, villages, strict=True)]
        if any(has_control(p) for p in phones if not p.isascii()):
            too_long = [bool(tl) or has_control(p) for tl, p in zip(too_long or [False] * len(rows), phones, strict=True)]
        # The rows that passed every check, built by one comprehension over the columns.
        bad = [
            area is None or cat[1] != "" or flag is None
            for area, cat, flag in zip(areas, cat_values, flags, strict=True)
        ]
        for extra in (bad_dates, too_long):
            if extra is not None:
                bad = [a or b for a, b in zip(bad, extra, strict=True)]
        lines = chunk.lines if picked is None else [chunk.lines[k] for k in picked]
        built = [
            None if no else (number, name, hh, rel, area, phone or None, flag,
                             f"{number[6:10]}-{number[10:12]}-{number[12:14]}", line, cat[0], rec)
            for no, number, name, hh, rel, area, phone, flag, line, cat, rec in zip(
                bad, numbers, names, households, relations, areas, phones, flags, lines, cat_values,
                recognised, strict=True,
            )
        ]
        if picked is None:
            return built
        for k, got in zip(picked, built, strict=True):
            out[k] = got
        return out

    # -- one row ----------------------------------------------------------------------------------
    def row(self, line: int, cells: Any) -> GoodRow | BadRow | None:
        """The row's values, the reason it is refused, or None for a blank row."""
        col = self.col
        if cells.__class__ is SpanningRecord:
            return (line, WHOLE_ROW_ZH, cells.start, cells.reason_zh(), False)
        if self.xlsx:
            cells = [c.strip() if c.__class__ is str else text(c) for c in cells]
        if len(cells) < self.width:
            cells = [*cells, *([""] * (self.width - len(cells)))]
        raw_id = cells[col["id_number"]].strip()
        if not raw_id and row_is_blank(cells):
            return None
        number, reason = self.checker.check(raw_id)
        if reason:
            return (line, COLUMN_ZH["id_number"], raw_id, reason, True)
        name = cells[col["name"]].strip()
        if " " in name or "\u3000" in name:
            name = "".join(name.split())
        if not name:
            return (line, COLUMN_ZH["name"], "", "姓名为空：请填写与身份证一致的姓名。", False)
        household = cells[col["household"]].strip()
        if not household:
            return (line, COLUMN_ZH["household"], "", "户号为空：请填写户号（同一户的成员户号相同）。", False)
        i_town, i_village = col.get("town"), col.get("village")
        town = cells[i_town] if i_town is not None else ""
        village = cells[i_village] if i_village is not None else ""
        area_id, which, reason = self.place(town, village)
        if area_id is None:
            return (line, COLUMN_ZH[which], town if which == "town" else village, reason, False)
        cats: frozenset[str] = _NO_CATEGORIES
        if "category" in col:
            raw_cat = cells[col["category"]].strip()
            if raw_cat:
                cats, reason = self.categories.parse(raw_cat)
                if reason:
                    return (line, COLUMN_ZH["category"], raw_cat, reason, False)
        migrant = False
        if "migrant" in col:
            raw_mig = cells[col["migrant"]]
            flag = self.flag(raw_mig)
            if flag is None:
                return (line, COLUMN_ZH["migrant"], raw_mig, "外出务工一栏应填“是”或“否”（也可留空表示否）。", False)
            migrant = flag
        recognised_on = None
        i_rec = col.get("recognised_on")
        if i_rec is not None and cells[i_rec].strip():
            recognised_on = self.date(cells[i_rec].strip())
            if recognised_on is None:
                return (line, "认定日期", cells[i_rec], bad_date_reason(cells[i_rec]), False)
        i_phone, i_rel = col.get("phone"), col.get("relation")
        phone = cells[i_phone].strip() if i_phone is not None else ""
        if phone and not phone.isascii():
            phone = text(phone)
        relation = cells[i_rel].strip() if i_rel is not None else ""
        # Stored text may not hold control characters (edges were stripped above as whitespace).
        if has_control(f"{name}{household}{relation}{town.strip()}{village.strip()}{phone}"):
            column = next(
                k for k, v in (("name", name), ("household", household), ("relation", relation),
                               ("town", town.strip()), ("village", village.strip()), ("phone", phone))
                if has_control(v)
            )
            return (line, COLUMN_ZH[column], cells[col[column]], control_reason(COLUMN_ZH[column]), False)
        if len(name) > 64 or len(household) > 64 or len(relation) > 32 or len(phone) > 32 or len(village.strip()) > 64:
            column, value, limit = next(
                (k, v, n) for k, v, n in (("name", name, 64), ("household", household, 64),
                                          ("relation", relation, 32), ("phone", phone, 32),
                                          ("village", village.strip(), 64))
                if len(v) > n
            )
            return (line, COLUMN_ZH[column], value[:20] + "…",
                    f"{COLUMN_ZH[column]}太长：最多 {limit} 个字，本行有 {len(value)} 个。请核对这一格。", False)
        birth = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
        return (number, name, household, relation, area_id, phone or None, migrant, birth, line, cats, recognised_on)


_NO_REASON: tuple[frozenset[str], str] = (frozenset(), "")


def validate_chunk(chunk: Block, checks: RowChecks, sink: ErrorSink, report: ImportReport) -> dict[str, GoodRow]:
    """The chunk's good rows by ID number (first appearance order; an exact repeat counts as
    unchanged, a repeat with another name or household is refused). Refusals go to the sink in
    line order."""
    fast = checks.fast(chunk) if chunk.plain else [None] * len(chunk.rows)
    errors: list[BadRow] = []
    if all(g is not None for g in fast):
        good_rows: list[GoodRow] = fast  # type: ignore[assignment]
    else:
        good_rows = []
        for k, settled in enumerate(fast):
            got = settled if settled is not None else checks.row(chunk.lines[k], chunk.rows[k])
            if got is None:
                continue
            if len(got) == 5:
                errors.append(got)  # type: ignore[arg-type]
            else:
                good_rows.append(got)  # type: ignore[arg-type]
    numbers = [g[NUMBER] for g in good_rows]
    if len(set(numbers)) == len(numbers):
        good = dict(zip(numbers, good_rows, strict=True))
    else:
        good = {}
        for g in good_rows:
            earlier = good.get(g[NUMBER])
            if earlier is not None:
                if earlier[NAME] != g[NAME]:
                    errors.append((
                        g[LINE], COLUMN_ZH["name"], g[NAME],
                        f"同一身份证号在本文件第 {earlier[LINE]} 行的姓名是“{earlier[NAME]}”，与本行不一致：请核对是哪一行写错。",
                        False,
                    ))
                    continue
                if earlier[HOUSEHOLD] != g[HOUSEHOLD]:
                    errors.append((
                        g[LINE], COLUMN_ZH["household"], g[HOUSEHOLD],
                        conflict_reason(g[HOUSEHOLD], earlier[HOUSEHOLD], f"本文件第 {earlier[LINE]} 行"), False,
                    ))
                    continue
                report.unchanged += 1  # an exact repeat: the later row stands for both
            good[g[NUMBER]] = g
    errors.sort(key=itemgetter(0))
    for line, column, value, reason, is_id in errors:
        sink.add(line, column, value, reason, is_id=is_id)
    return good


def bad_date_reason(value: str) -> str:
    return f"日期“{value}”无法识别：请写成 2023-11-05、2023/11/5、20231105 或 2023年11月5日 这样的格式。"
