"""Roster (花名册) import: people, households, places and subsidy categories of one locality.

One file is one database transaction: a crash or Ctrl-C part-way leaves the database exactly as
it was before the file (docs/import-formats.md). Rows are read, validated and written in chunks,
so memory stays flat whatever the file size; each chunk first reads back the people it names, so
new, changed and unchanged rows are told apart and only new or changed ones are written.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import Connection, Engine

from bot.registry.importers.columns import ROSTER_COLUMNS
from bot.registry.importers.common import Progress, gc_paused, pack_for, prepare_engine, row_is_blank
from bot.registry.importers.places import Entry, PlaceMatcher, norm
from bot.registry.importers.readers import SpanningRecord, Table, open_table
from bot.registry.importers.report import CONFLICT_KEY, ErrorSink, ImportReport
from bot.registry.importers.store import PersonRow, Store, store_for
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
# Rows per read-validate-write round: larger than the payments importer's, since each round costs
# a few fixed queries and executemany calls; a 50,000-row chunk still holds only a few tens of MB.
ROSTER_CHUNK_ROWS = 50_000


class _Good(NamedTuple):
    line: int
    row: PersonRow
    categories: frozenset[str]
    recognised_on: dt.date | None


_NO_CATEGORIES: frozenset[str] = frozenset()
_FLAGS = {"": False, "否": False, "是": True}


class _Places:
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


class _Categories:
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


def import_roster(
    path: str | Path,
    locality: str,
    *,
    engine: Engine | None = None,
    progress: Progress | None = None,
    chunk_rows: int = ROSTER_CHUNK_ROWS,
) -> ImportReport:
    """Import a roster CSV/XLSX into the registry for `locality` (pack id or Chinese name).

    Raises `ImportFileError` (with `.message_zh`) when the file as a whole cannot be used; bad rows
    are counted and written to `<file>.errors.csv` instead.
    """
    started = time.perf_counter()
    path = Path(path)
    pack = pack_for(locality)
    engine = prepare_engine(engine)
    place_column = "town" if pack.task_table.level == "town" else "village"
    table = open_table(path, ROSTER_COLUMNS, ("id_number", "name", "household", place_column))
    report = ImportReport("roster", path, encoding=table.encoding)
    sink = ErrorSink(path)
    try:
        with gc_paused(), engine.connect() as conn, _foreign_keys_deferred(conn) as fk_deferred, conn.begin():
            store = store_for(conn)
            store.fk_deferred = fk_deferred
            store.begin_bulk(pack.locality.id)
            places = _Places(store, pack)
            categories = _Categories(pack)
            seen = _SeenInFile(store.max_person_id())
            for chunk in _chunks(table, chunk_rows, progress):
                _import_chunk(chunk, table, store, places, categories, pack.locality.id, sink, report, seen)
            store.finish()
            report.areas_created = places.created
    except BaseException:
        sink.discard()
        raise
    return report.close(sink, started)


class _SeenInFile:
    """Which registered people this file has already written (so a later chunk naming the same ID
    in another household is a conflict, not a silent move): every person id above the watermark
    taken before the first row, plus a bitmap of the existing people it updated (1 bit per id)."""

    def __init__(self, watermark: int) -> None:
        self.watermark = watermark
        self._bits = bytearray()

    def add(self, person_id: int) -> None:
        byte = person_id >> 3
        if byte >= len(self._bits):
            self._bits.extend(bytes(byte + 1 - len(self._bits) + 4096))
        self._bits[byte] |= 1 << (person_id & 7)

    def __contains__(self, person_id: int) -> bool:
        if person_id > self.watermark:
            return True
        byte = person_id >> 3
        return byte < len(self._bits) and bool(self._bits[byte] & (1 << (person_id & 7)))


def _conflict(household: str, earlier: str, where: str) -> str:
    return (
        f"{CONFLICT_KEY}：此身份证号在{where}属于户号“{earlier}”，本行是户号“{household}”。"
        "一个人只能属于一户，本行没有导入：请核对后只保留正确的一行。"
    )


@contextmanager
def _foreign_keys_deferred(conn: Connection) -> Iterator[bool]:
    """SQLite: foreign_keys=OFF for this connection while the file loads (a per-row lookup of the
    household and area of every person); Store.finish() checks the written tables once before
    commit instead. The pragma only takes effect outside a transaction, hence before BEGIN; it is
    restored before the connection goes back to the pool, whatever happens."""
    if conn.dialect.name != "sqlite":
        yield False
        return
    db = conn.connection.driver_connection
    if db.in_transaction:
        yield False
        return
    db.execute("PRAGMA foreign_keys=OFF")
    try:
        yield True
    finally:
        db.execute("PRAGMA foreign_keys=ON")


def _chunks(table: Table, size: int, progress: Progress | None):  # noqa: ANN202 - generator of row lists
    chunk: list[tuple[int, list[Any]]] = []
    rows = 0
    for item in table.rows:
        chunk.append(item)
        if len(chunk) >= size:
            rows += len(chunk)
            yield chunk
            chunk = []
            if progress:
                progress(table.position(), table.total, rows)
    if chunk:
        rows += len(chunk)
        yield chunk
    if progress:
        progress(table.total or table.position(), table.total, rows)


def _import_chunk(
    chunk: list[tuple[int, list[Any]]],
    table: Table,
    store: Store,
    places: _Places,
    categories: _Categories,
    locality_id: str,
    sink: ErrorSink,
    report: ImportReport,
    seen: _SeenInFile,
) -> None:
    col = table.columns
    i_id, i_name, i_hh, i_rel = col["id_number"], col["name"], col["household"], col.get("relation")
    i_town, i_village, i_phone = col.get("town"), col.get("village"), col.get("phone")
    i_cat, i_mig, i_rec = col.get("category"), col.get("migrant"), col.get("recognised_on")
    checker = IdChecker()
    width = max(col.values()) + 1
    xlsx = table.unit == "rows"
    good: dict[str, _Good] = {}
    place_cache: dict[tuple[str, str], tuple[int | None, str, str]] = {}
    # The loop below runs once per person (1.3 million times for a county): cells are used as the
    # csv module gives them (only stripped); NFKC and other normalisation happen in the cached
    # place/category/flag lookups and on the rare non-ASCII phone or ID. Plain ID numbers are
    # settled for the whole chunk at once; the rest go through checker.check one by one.
    settled = checker.certainly_valid(
        [c[i_id] if c.__class__ is list and len(c) > i_id and c[i_id].__class__ is str else "" for _l, c in chunk]
    ).tolist()
    for position, (line, cells) in enumerate(chunk):
        if cells.__class__ is SpanningRecord:
            sink.add(line, WHOLE_ROW_ZH, cells.start, cells.reason_zh())
            continue
        if xlsx:
            cells = [c.strip() if c.__class__ is str else text(c) for c in cells]
        if len(cells) < width:
            cells = [*cells, *([""] * (width - len(cells)))]
        raw_id = cells[i_id].strip()
        if not raw_id and row_is_blank(cells):
            continue
        number, reason = (raw_id, "") if settled[position] else checker.check(raw_id)
        if reason:
            sink.add(line, COLUMN_ZH["id_number"], raw_id, reason, is_id=True)
            continue
        name = cells[i_name].strip()
        if " " in name or "\u3000" in name:
            name = "".join(name.split())
        if not name:
            sink.add(line, COLUMN_ZH["name"], "", "姓名为空：请填写与身份证一致的姓名。")
            continue
        household = cells[i_hh].strip()
        if not household:
            sink.add(line, COLUMN_ZH["household"], "", "户号为空：请填写户号（同一户的成员户号相同）。")
            continue
        town = cells[i_town] if i_town is not None else ""
        village = cells[i_village] if i_village is not None else ""
        place = place_cache.get((town, village))
        if place is None:
            place = place_cache[(town, village)] = places.resolve(text(town), text(village))
        area_id, which, reason = place
        if area_id is None:
            sink.add(line, COLUMN_ZH[which], town if which == "town" else village, reason)
            continue
        cats: frozenset[str] = _NO_CATEGORIES
        if i_cat is not None:
            raw_cat = cells[i_cat].strip()
            if raw_cat:
                cats, reason = categories.parse(raw_cat)
                if reason:
                    sink.add(line, COLUMN_ZH["category"], raw_cat, reason)
                    continue
        migrant = False
        if i_mig is not None:
            raw_mig = cells[i_mig]
            flag = _FLAGS.get(raw_mig)
            if flag is None:
                flag = parse_flag(raw_mig)
                if flag is None:
                    sink.add(
                        line, COLUMN_ZH["migrant"], raw_mig, "外出务工一栏应填“是”或“否”（也可留空表示否）。"
                    )
                    continue
            migrant = flag
        recognised_on = None
        if i_rec is not None and cells[i_rec].strip():
            recognised_on = parse_date(cells[i_rec].strip())
            if recognised_on is None:
                sink.add(line, "认定日期", cells[i_rec], _bad_date(cells[i_rec]))
                continue
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
            sink.add(line, COLUMN_ZH[column], cells[col[column]], control_reason(COLUMN_ZH[column]))
            continue
        if len(name) > 64 or len(household) > 64 or len(relation) > 32 or len(phone) > 32 or len(village.strip()) > 64:
            column, value, limit = next(
                (k, v, n) for k, v, n in (("name", name, 64), ("household", household, 64),
                                          ("relation", relation, 32), ("phone", phone, 32),
                                          ("village", village.strip(), 64))
                if len(v) > n
            )
            sink.add(line, COLUMN_ZH[column], value[:20] + "…",
                     f"{COLUMN_ZH[column]}太长：最多 {limit} 个字，本行有 {len(value)} 个。请核对这一格。")
            continue
        birth = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
        row = PersonRow(number, name, household, relation, area_id, phone or None, migrant, birth)
        earlier = good.get(number)
        if earlier is not None:
            if earlier.row.name != name:
                sink.add(
                    line,
                    COLUMN_ZH["name"],
                    name,
                    f"同一身份证号在本文件第 {earlier.line} 行的姓名是“{earlier.row.name}”，与本行不一致：请核对是哪一行写错。",
                )
                continue
            if earlier.row.household != household:
                sink.add(
                    line, COLUMN_ZH["household"], household,
                    _conflict(household, earlier.row.household, f"本文件第 {earlier.line} 行"),
                )
                continue
            report.unchanged += 1  # an exact repeat: the later row stands for both
        good[number] = _Good(line, row, cats, recognised_on)
    if not good:
        return
    existing = store.existing_people(list(good))
    to_write: list[_Good] = []
    category_changes: list[tuple[_Good, frozenset[str]]] = []
    for number, g in good.items():
        old = existing.get(number)
        if old is None:
            report.inserted += 1
            to_write.append(g)
            if g.categories:
                category_changes.append((g, frozenset()))
        elif old.name != g.row.name:
            sink.add(
                g.line,
                COLUMN_ZH["name"],
                g.row.name,
                f"该身份证号已登记（或在本文件前面出现）的姓名是“{old.name}”，与本行不一致：同一身份证号不能对应两个姓名，请核对。",
            )
        elif old.person_id in seen and old.household != g.row.household:
            sink.add(
                g.line, COLUMN_ZH["household"], g.row.household,
                _conflict(g.row.household, old.household or "", "本文件前面的行中"),
            )
        elif old.same_as(g.row, g.categories) and g.recognised_on is None:
            report.unchanged += 1
        else:
            report.updated += 1
            seen.add(old.person_id)
            to_write.append(g)
            if old.categories != g.categories or g.recognised_on is not None:
                category_changes.append((g, old.categories))
    if not to_write:
        return
    households: dict[str, int] = {}
    for g in to_write:
        # The household sits where its head lives; otherwise where its first listed member does.
        if g.row.relation == "户主" or g.row.household not in households:
            households[g.row.household] = g.row.area_id
    store.upsert_households(locality_id, list(households.items()))
    report.households_written += len(households)
    store.upsert_people(locality_id, [g.row for g in to_write])
    if category_changes:
        pids = store.person_ids([g.row.id_number for g, _old in category_changes])
        add: list[tuple[int, str, dt.date | None]] = []
        remove: list[tuple[int, str]] = []
        for g, old in category_changes:
            pid = pids[g.row.id_number]
            add.extend((pid, code, g.recognised_on) for code in sorted(g.categories - old) or ())
            if g.recognised_on is not None:
                add.extend((pid, code, g.recognised_on) for code in sorted(g.categories & old))
            remove.extend((pid, code) for code in sorted(old - g.categories))
        store.set_categories(add, remove)


def _bad_date(value: str) -> str:
    return f"日期“{value}”无法识别：请写成 2023-11-05、2023/11/5、20231105 或 2023年11月5日 这样的格式。"
