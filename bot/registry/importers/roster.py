"""Roster (花名册) import: people, households, places and subsidy categories of one locality.

One file is one database transaction: a crash or Ctrl-C part-way leaves the database exactly as
it was before the file (docs/import-formats.md). Rows are read, validated (roster_checks) and
written in chunks, so memory stays flat whatever the file size; each chunk first reads back the
registered people it names (only those KnownIds says may exist), so new, changed and unchanged rows
are told apart and only new or changed ones are written.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import compress
from operator import eq, itemgetter, not_
from pathlib import Path

from sqlalchemy import Connection, Engine

from bot.registry.importers.columns import ROSTER_COLUMNS
from bot.registry.importers.common import Progress, chunks_with_progress, gc_paused, pack_for, prepare_engine
from bot.registry.importers.known import KnownIds
from bot.registry.importers.readers import Block, open_table
from bot.registry.importers.report import ErrorSink, ImportReport
from bot.registry.importers.roster_checks import (
    AREA,
    CATS,
    COLUMN_ZH,
    HOUSEHOLD,
    LINE,
    MIGRANT,
    NAME,
    NUMBER,
    PHONE,
    RECOGNISED,
    RELATION,
    Categories,
    GoodRow,
    Places,
    RowChecks,
    conflict_reason,
    validate_chunk,
)
from bot.registry.importers.store import Store, store_for

# Rows per read-validate-write round: each round costs a few fixed queries and executemany calls;
# a 50,000-row chunk still holds only a few tens of MB.
ROSTER_CHUNK_ROWS = 50_000
_NO_CATEGORIES: frozenset[str] = frozenset()
# What must equal a registered person's Existing[1:] (name, household, relation, area, phone,
# migrant, categories) for a row to be unchanged, plus the recognition date, which must be blank.
_COMPARED = itemgetter(NAME, HOUSEHOLD, RELATION, AREA, PHONE, MIGRANT, CATS, RECOGNISED)
_MISSING = object()  # equal to no row: the person is not registered


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
            places = Places(store, pack)
            checks = RowChecks(table.columns, places, Categories(pack), xlsx=table.unit == "rows")
            seen = _SeenInFile(store.max_person_id())
            known = KnownIds(store.registered_ids())
            for chunk in chunks_with_progress(table, chunk_rows, progress):
                _import_chunk(chunk, checks, store, pack.locality.id, sink, report, seen, known)
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


def _import_chunk(
    chunk: Block,
    checks: RowChecks,
    store: Store,
    locality_id: str,
    sink: ErrorSink,
    report: ImportReport,
    seen: _SeenInFile,
    known: KnownIds,
) -> None:
    good = validate_chunk(chunk, checks, sink, report)
    if not good:
        return
    numbers = list(good)
    maybe = [n for n, hit in zip(numbers, known.maybe(numbers), strict=True) if hit]
    existing = store.existing_people(maybe) if maybe else {}
    to_write: list[GoodRow]
    category_changes: list[tuple[GoodRow, frozenset[str]]]
    if not existing:
        # A new locality's roster: every row is a new person (the common case of a big file).
        to_write = list(good.values())
        report.inserted += len(to_write)
        category_changes = [(g, _NO_CATEGORIES) for g in to_write if g[CATS]]
    else:
        to_write, category_changes = [], []
        rows = list(good.values())
        olds = list(map(existing.get, good))
        # Most rows of a roster sent again are unchanged: settle those in one pass of tuple
        # comparisons in C (name, household, relation, area, phone, migrant, categories, and no
        # recognition date) and leave the loop below only the new and changed ones.
        same = list(map(eq, map(_COMPARED, rows), [_MISSING if o is None else (*o[1:], None) for o in olds]))
        report.unchanged += sum(same)
        for g, old in compress(zip(rows, olds, strict=True), map(not_, same)):
            if old is None:
                report.inserted += 1
                to_write.append(g)
                if g[CATS]:
                    category_changes.append((g, frozenset()))
            elif old.name != g[NAME]:
                sink.add(
                    g[LINE],
                    COLUMN_ZH["name"],
                    g[NAME],
                    f"该身份证号已登记（或在本文件前面出现）的姓名是“{old.name}”，与本行不一致：同一身份证号不能对应两个姓名，请核对。",
                )
            elif old.person_id in seen and old.household != g[HOUSEHOLD]:
                sink.add(
                    g[LINE], COLUMN_ZH["household"], g[HOUSEHOLD],
                    conflict_reason(g[HOUSEHOLD], old.household or "", "本文件前面的行中"),
                )
            else:  # (unchanged rows were settled above)
                report.updated += 1
                seen.add(old.person_id)
                to_write.append(g)
                if old.categories != g[CATS] or g[RECOGNISED] is not None:
                    category_changes.append((g, old.categories))
    if not to_write:
        return
    known.add([g[NUMBER] for g in to_write])
    # The household sits where its head lives; otherwise where its first listed member does.
    households: dict[str, int] = {}
    for g in to_write:
        if g[HOUSEHOLD] not in households:
            households[g[HOUSEHOLD]] = g[AREA]
    households.update((g[HOUSEHOLD], g[AREA]) for g in to_write if g[RELATION] == "户主")
    household_ids = store.upsert_households(locality_id, list(households.items()))
    report.households_written += len(households)
    store.upsert_people(to_write, household_ids, all_new=not existing)
    if category_changes:
        pids = store.person_ids([g[NUMBER] for g, _old in category_changes])
        add: list[tuple[int, str, dt.date | None]] = []
        remove: list[tuple[int, str]] = []
        for g, old in category_changes:
            pid = pids[g[NUMBER]]
            add.extend((pid, code, g[RECOGNISED]) for code in sorted(g[CATS] - old) or ())
            if g[RECOGNISED] is not None:
                add.extend((pid, code, g[RECOGNISED]) for code in sorted(g[CATS] & old))
            remove.extend((pid, code) for code in sorted(old - g[CATS]))
        store.set_categories(add, remove)


