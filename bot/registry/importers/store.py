"""Bulk writes for the importers, one class per backend, all inside the caller's transaction.

SQLite: `executemany` of INSERT ... ON CONFLICT DO UPDATE on the driver connection (the C loop
binds and steps each row without SQLAlchemy's per-row work). PostgreSQL: each chunk is COPYed
into a temporary staging table and merged with one INSERT ... SELECT ... ON CONFLICT statement,
or, for a new locality's people under the bulk load's exclusive lock, COPYed straight into person.
Look-ups send their keys as one parameter (a JSON array on SQLite, an array on PostgreSQL).

Rows arrive already validated and classified by the importer, so only new or changed rows are
written; the upserts still use ON CONFLICT so a concurrent writer cannot make them fail.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import repeat
from operator import itemgetter
from typing import Any, NamedTuple

from sqlalchemy import Connection

# SQLite's default limit on host parameters is 32766 (3.32+); stay well below it.
IN_BATCH = 5000


# A validated roster row starts with these fields, in this order (roster.GoodRow; plain tuples,
# built 1.3 million times per county file): id_number, name, household code, relation, area_id,
# phone or None, migrant, birth_date (ISO date read off the ID number).
PersonRow = Sequence[Any]


class Existing(NamedTuple):
    """A registered person as the roster importer compares them with a row (a plain tuple: up to
    1.3 million are read back when a county sends its roster again). Fields 1..6 line up with a
    validated row's name .. migrant (roster._COMPARED)."""

    person_id: int
    name: str
    household: str | None
    relation: str
    area_id: int | None
    phone: str | None
    migrant: bool
    categories: frozenset[str]


@dataclass(frozen=True)
class PayTarget:
    person_id: int
    name: str
    birth_date: dt.date
    migrant: bool
    locality_id: str | None
    categories: tuple[str, ...]


def _batches(items: Sequence[Any], size: int = IN_BATCH) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _person_columns(rows: list[PersonRow], household_ids: dict[str, int]) -> list[Sequence[Any]]:
    """The person table's eight columns of `rows`, household codes resolved, in ID-number order.

    ID-number order: the unique index then grows mostly at its end instead of at a random page per
    row (measured 1.7 s -> 1.4 s for 264 k rows). Columns, not row tuples: the writers zip them
    back into rows in C (a parameter tuple built per row in Python cost ~0.2 s per 264 k rows).
    """
    if not rows:
        return [()] * 8
    cols = list(zip(*sorted(rows, key=itemgetter(0)), strict=False))[:8]
    cols[2] = list(map(household_ids.get, cols[2]))
    return cols


def _payment_params(rows: list[tuple[int, int, dt.date, Decimal, str, str]]) -> Iterable[tuple[Any, ...]]:
    """SQLite parameters of payment rows, in person order (so the dedupe index, which starts with
    the person, grows at its end rather than at a random page), converted column by column in C."""
    if not rows:
        return ()
    pids, years, dates, amounts, channels, sources = zip(*sorted(rows, key=itemgetter(0)), strict=True)
    return zip(pids, years, map(dt.date.isoformat, dates), map(float, amounts), channels, sources, strict=True)


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value)[:10])


class Store:
    """Backend-neutral operations; subclasses provide the SQL."""

    P = "?"  # parameter marker
    BATCH = IN_BATCH  # values per look-up query

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.db = conn.connection.driver_connection
        self.cur = self.db.cursor()

    # -- reading ------------------------------------------------------------------------------
    def _in(self, n: int) -> str:
        return ",".join([self.P] * n)

    def _member(self, column: str, batch: Sequence[Any]) -> tuple[str, list[Any]]:
        """`column IN (...)` for one batch (each backend overrides this with one parameter)."""
        return f"{column} IN ({self._in(len(batch))})", list(batch)

    def existing_people(self, id_numbers: Sequence[str]) -> dict[str, Existing]:
        rows: list[Any] = []
        for batch in _batches(id_numbers, self.BATCH):
            where, params = self._member("p.id_number", batch)
            # Values as the importer builds them (relation '' not NULL, migrant a bool), so that
            # an unchanged person compares equal as a tuple.
            self.cur.execute(
                "SELECT p.id_number, p.id, p.name, h.code, COALESCE(p.relation, ''), p.area_id, p.phone, "
                f"p.migrant FROM person p LEFT JOIN household h ON h.id = p.household_id WHERE {where}",
                params,
            )
            rows.extend(self.cur.fetchall())
        if not rows:
            return {}
        numbers, pids, names, codes, relations, areas, phones, migrants = zip(*rows, strict=True)
        cats = {pid: frozenset(codes) for pid, codes in self._categories(pids).items()}
        people = zip(pids, names, codes, relations, areas, phones, map(bool, migrants),
                     map(cats.get, pids, repeat(frozenset())), strict=True)
        return dict(zip(numbers, map(Existing._make, people), strict=True))

    def _categories(self, person_ids: Sequence[int]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for batch in _batches(person_ids, self.BATCH):
            where, params = self._member("person_id", batch)
            self.cur.execute(f"SELECT person_id, category FROM category_membership WHERE {where}", params)
            for pid, code in self.cur.fetchall():
                out.setdefault(pid, []).append(code)
        return out

    def person_ids(self, id_numbers: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for batch in _batches(id_numbers, self.BATCH):
            where, params = self._member("id_number", batch)
            self.cur.execute(f"SELECT id_number, id FROM person WHERE {where}", params)
            out.update(self.cur.fetchall())
        return out

    def pay_people(self, id_numbers: Sequence[str]) -> dict[str, tuple[int, str, Any, Any, str | None]]:
        """ID number -> (person id, name, birth date as stored, migrant, locality) for payments."""
        out: dict[str, tuple[int, str, Any, Any, str | None]] = {}
        for batch in _batches(id_numbers, self.BATCH):
            where, params = self._member("p.id_number", batch)
            self.cur.execute(
                "SELECT p.id_number, p.id, p.name, p.birth_date, p.migrant, COALESCE(h.locality_id, a.locality_id) "
                "FROM person p LEFT JOIN household h ON h.id = p.household_id LEFT JOIN area a ON a.id = p.area_id "
                f"WHERE {where}",
                params,
            )
            out.update((row[0], row[1:]) for row in self.cur.fetchall())
        return out

    def categories_of(self, person_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
        """Person id -> the person's category codes, sorted (only people who have any)."""
        return {pid: tuple(sorted(codes)) for pid, codes in self._categories(person_ids).items()}

    def areas(self, locality_id: str) -> list[tuple[int, str, int | None, str]]:
        self.cur.execute(
            f"SELECT id, name, parent_id, level FROM area WHERE locality_id = {self.P} ORDER BY id",
            [locality_id],
        )
        return [tuple(r) for r in self.cur.fetchall()]

    def registered_ids(self, batch: int = 100_000) -> Iterable[list[str]]:
        """Every registered ID number, in batches (a server-side cursor on PostgreSQL: flat memory)."""
        cur = self._stream_cursor()
        cur.execute("SELECT id_number FROM person")
        while rows := cur.fetchmany(batch):
            yield [r[0] for r in rows]
        cur.close()

    def _stream_cursor(self) -> Any:
        return self.db.cursor()

    def max_person_id(self) -> int:
        """The highest person id before this import wrote anything (ids only grow within it)."""
        self.cur.execute("SELECT max(id) FROM person")
        return int(self.cur.fetchone()[0] or 0)

    def count_people(self) -> int:
        self.cur.execute("SELECT count(*) FROM person")
        return int(self.cur.fetchone()[0])

    # -- writing ------------------------------------------------------------------------------
    def create_area(self, locality_id: str, parent_id: int | None, level: str, name: str) -> int:
        self.cur.execute(
            f"INSERT INTO area (locality_id, level, name, parent_id) VALUES ({self._in(4)}) RETURNING id",
            [locality_id, level, name, parent_id],
        )
        return int(self.cur.fetchone()[0])

    def set_categories(
        self, add: list[tuple[int, str, dt.date | None]], remove: list[tuple[int, str]]
    ) -> None:
        if remove:
            self.cur.executemany(
                f"DELETE FROM category_membership WHERE person_id = {self.P} AND category = {self.P}", remove
            )
        if add:
            self.cur.executemany(
                f"INSERT INTO category_membership (person_id, category, recognised_on) VALUES ({self._in(3)}) "
                "ON CONFLICT (person_id, category) DO UPDATE SET recognised_on = "
                "COALESCE(excluded.recognised_on, category_membership.recognised_on)",
                [(pid, code, self._date(on)) for pid, code, on in add],
            )

    def _date(self, value: dt.date | None) -> Any:
        return value

    def upsert_households(self, locality_id: str, items: list[tuple[str, int]]) -> dict[str, int]:
        """Create or move the households (code, area id); returns code -> household id for all of them."""
        raise NotImplementedError

    def upsert_people(
        self, rows: list[PersonRow], household_ids: dict[str, int], *, all_new: bool = False
    ) -> None:
        """Write `rows` (household codes resolved through `household_ids`); `all_new`: none of them
        is registered yet (no other session can register them meanwhile either, see begin_bulk)."""
        raise NotImplementedError

    def insert_payments(self, rows: list[tuple[int, int, dt.date, Decimal, str, str]]) -> int:
        raise NotImplementedError

    def begin_bulk(self, locality_id: str) -> None:
        """Called once at the start of a roster import (before any row is written)."""

    def finish(self) -> None:
        """Called once before the transaction commits."""


class SQLiteStore(Store):
    P = "?"
    BATCH = 100_000  # one JSON parameter per query (see _member)

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        # The connection's page cache stays at its 64 MB default (bot.registry.db): 128 MB was no
        # faster for the 1.3 M-row roster (14.4 s vs 15.0 s) and took the import's peak memory to
        # 400 MB; the OS page cache holds the rest of the file.
        self.fk_deferred = False  # set by the importer when it turned foreign_keys off

    def _date(self, value: dt.date | None) -> Any:
        return value.isoformat() if value else None

    def upsert_households(self, locality_id: str, items: list[tuple[str, int]]) -> dict[str, int]:
        self.cur.executemany(
            "INSERT INTO household (locality_id, code, area_id) VALUES (?, ?, ?) "
            "ON CONFLICT (locality_id, code) DO UPDATE SET area_id = excluded.area_id "
            "WHERE household.area_id IS NOT excluded.area_id",
            [(locality_id, code, area) for code, area in items],
        )
        # Read back once per chunk (one query) rather than by a sub-select per person.
        return self.household_ids(locality_id, [code for code, _area in items])

    def _member(self, column: str, batch: Sequence[Any]) -> tuple[str, list[Any]]:
        # One JSON array parameter instead of a placeholder per value (binding thousands of
        # parameters cost more than the look-up itself).
        return f"{column} IN (SELECT value FROM json_each(?))", [json.dumps(list(batch), ensure_ascii=False)]

    def household_ids(self, locality_id: str, codes: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for batch in _batches(codes, 100_000):
            where, params = self._member("code", batch)
            self.cur.execute(f"SELECT code, id FROM household WHERE locality_id = ? AND {where}", [locality_id, *params])
            out.update(self.cur.fetchall())
        return out

    def upsert_people(
        self, rows: list[PersonRow], household_ids: dict[str, int], *, all_new: bool = False
    ) -> None:
        self.cur.executemany(
            "INSERT INTO person (id_number, name, household_id, relation, area_id, phone, migrant, birth_date) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (id_number) DO UPDATE SET name = excluded.name, household_id = excluded.household_id, "
            "relation = excluded.relation, area_id = excluded.area_id, phone = excluded.phone, "
            "migrant = excluded.migrant",
            zip(*_person_columns(rows, household_ids), strict=True),
        )

    def insert_payments(self, rows: list[tuple[int, int, dt.date, Decimal, str, str]]) -> int:
        before = self.db.total_changes
        self.cur.executemany(
            "INSERT INTO payment (person_id, coverage_year, paid_on, amount, channel, source_file) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            _payment_params(rows),
        )
        return self.db.total_changes - before

    def begin_bulk(self, locality_id: str) -> None:
        # A locality's first roster is a bulk load into an index that would otherwise be updated
        # one random page at a time for every row: when the locality has nobody yet, drop the
        # plain (non-unique) indexes of person and household and rebuild each with one sorted
        # pass in finish(). DDL is transactional in SQLite, so a crash or Ctrl-C rolls the drop
        # back with the rows, and other connections keep reading the committed, indexed tables.
        # Unique indexes stay: they enforce ID-number and household-code uniqueness and serve the
        # importer's own lookups.
        self.cur.execute(
            "SELECT 1 FROM person WHERE area_id IN (SELECT id FROM area WHERE locality_id = ?) LIMIT 1",
            [locality_id],
        )
        if self.cur.fetchone() is not None:
            return
        self.cur.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('person', 'household') "
            "AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE%' ORDER BY name"
        )
        self._rebuild = self.cur.fetchall()
        for name, _sql in self._rebuild:
            self.cur.execute(f'DROP INDEX "{name}"')

    def finish(self) -> None:
        for _name, sql in getattr(self, "_rebuild", ()):
            self.cur.execute(sql)
        self._rebuild = []
        if getattr(self, "fk_deferred", False):
            # The import ran with foreign_keys=OFF (see roster.import_roster); one check of the
            # tables it wrote replaces the per-row checks, and a violation aborts the transaction.
            for table in ("household", "person", "category_membership"):
                self.cur.execute(f"PRAGMA foreign_key_check({table})")
                bad = self.cur.fetchone()
                if bad is not None:
                    raise RuntimeError(f"foreign key check failed after import: {tuple(bad)}")


class PostgresStore(Store):
    P = "%s"

    def __init__(self, conn: Connection) -> None:
        super().__init__(conn)
        # The import is one transaction that can simply be run again: not waiting for the WAL flush
        # at commit is safe for it (a crash right after commit loses the whole file or nothing, never
        # part of it), and spares the fsync of a large transaction.
        self.cur.execute("SET LOCAL synchronous_commit = off")
        # The import's statements are simple scans, joins and sorts run once per chunk: compiling
        # them (JIT, on by default above a cost the big ones pass) costs more than it saves, and
        # sorts and hashes of a 50,000-row chunk fit in memory with a little more than 4 MB.
        self.cur.execute("SET LOCAL jit = off")
        self.cur.execute("SET LOCAL work_mem = '64MB'")
        # ON COMMIT DROP: the staging tables vanish with the transaction, whatever happens.
        self.cur.execute(
            "CREATE TEMP TABLE stage_person (id_number text, name text, household_id int, relation text, "
            "area_id int, phone text, migrant boolean, birth_date date) ON COMMIT DROP"
        )
        self.cur.execute("CREATE TEMP TABLE stage_household (code text, area_id int) ON COMMIT DROP")
        self.cur.execute(
            "CREATE TEMP TABLE stage_payment (person_id int, coverage_year int, paid_on date, amount numeric(10,2), "
            "channel text, source_file text) ON COMMIT DROP"
        )

    _bulk = False  # person is locked exclusively by begin_bulk until commit

    # Tables whose plain indexes and foreign keys a locality's first roster rebuilds after the load.
    BULK_TABLES = ("person", "household", "category_membership")

    def begin_bulk(self, locality_id: str) -> None:
        # As on SQLite (see SQLiteStore.begin_bulk): a locality's first roster loads into tables
        # without their plain indexes and foreign keys, which are rebuilt in finish() with one pass
        # each (a foreign key is then checked by one join instead of a trigger and a row lock per
        # inserted row). DDL is transactional: a crash or kill rolls it back with the rows. The
        # cost: DROP takes an ACCESS EXCLUSIVE lock, so other sessions' reads of these tables wait
        # until the file commits. The locks are taken up front, all at once and without waiting
        # (_bulk_locks); when others hold them, the file loads the ordinary way instead.
        self.cur.execute(
            "SELECT 1 FROM person WHERE area_id IN (SELECT id FROM area WHERE locality_id = %s) LIMIT 1",
            [locality_id],
        )
        if self.cur.fetchone() is not None:
            return
        tables = list(self.BULK_TABLES)
        self.cur.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(%s) AND i.indexdef NOT LIKE 'CREATE UNIQUE%%' ORDER BY i.indexname",
            [tables],
        )
        self._rebuild_indexes = self.cur.fetchall()
        self.cur.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.confrelid::regclass::text "
            "FROM pg_constraint c WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[]) ORDER BY c.conname",
            [tables],
        )
        fks = self.cur.fetchall()
        referenced = sorted({row[3] for row in fks} - set(tables))
        if not self._bulk_locks(tables, referenced):
            self._rebuild_indexes = []
            return
        self._rebuild_fks = [row[:3] for row in fks]
        self._bulk = any(table == "person" for table, _n, _d in self._rebuild_fks)
        for table, name, _definition in self._rebuild_fks:
            self.cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _sql in self._rebuild_indexes:
            self.cur.execute(f'DROP INDEX "{name}"')

    def _bulk_locks(self, tables: list[str], referenced: list[str], attempts: int = 5) -> bool:
        """Lock the bulk load's tables (ACCESS EXCLUSIVE) and the tables their foreign keys point to
        (SHARE ROW EXCLUSIVE, what dropping and adding the keys takes) in one go, never waiting.

        Taking them one DDL statement at a time while waiting deadlocked with a reader holding one
        table and asking for the next (the load test, about one run in twenty). NOWAIT means this
        session never waits in such a cycle; a busy moment is retried a few times, and then the
        file is loaded the ordinary way (indexes and keys in place), which needs no such locks."""
        from psycopg.errors import LockNotAvailable

        quoted = ", ".join(f'"{t}"' for t in tables)
        for attempt in range(attempts):
            self.cur.execute("SAVEPOINT bulk_locks")
            try:
                self.cur.execute(f"LOCK TABLE {quoted} IN ACCESS EXCLUSIVE MODE NOWAIT")
                if referenced:
                    others = ", ".join(f'"{t}"' for t in referenced)
                    self.cur.execute(f"LOCK TABLE {others} IN SHARE ROW EXCLUSIVE MODE NOWAIT")
            except LockNotAvailable:
                self.cur.execute("ROLLBACK TO SAVEPOINT bulk_locks")
                time.sleep(0.05 * 2**attempt)
                continue
            self.cur.execute("RELEASE SAVEPOINT bulk_locks")
            return True
        return False

    def finish(self) -> None:
        for _name, sql in getattr(self, "_rebuild_indexes", ()):
            self.cur.execute(sql)
        for table, name, definition in getattr(self, "_rebuild_fks", ()):
            # Validated here, by one join per constraint: a violation aborts the whole file.
            self.cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        self._rebuild_indexes, self._rebuild_fks = [], []

    def _stream_cursor(self) -> Any:
        return self.db.cursor(name="registered_ids")

    BATCH = 50_000

    def _member(self, column: str, batch: Sequence[Any]) -> tuple[str, list[Any]]:
        # One array parameter: psycopg need not parse thousands of placeholders. Plain values (ID
        # numbers, row ids) go as one array literal, which spares psycopg dumping each element in
        # Python (half the time of a 20,000-person look-up).
        if all(v.__class__ is int for v in batch):
            return f"{column} = ANY(%s::int[])", ["{" + ",".join(map(str, batch)) + "}"]
        joined = "".join(batch) if all(v.__class__ is str for v in batch) else ""
        # (An unquoted NULL would be read as a null element.)
        if joined.isascii() and joined.isalnum() and all(v and v.upper() != "NULL" for v in batch):
            return f"{column} = ANY(%s::text[])", ["{" + ",".join(batch) + "}"]
        return f"{column} = ANY(%s)", [list(batch)]

    def upsert_households(self, locality_id: str, items: list[tuple[str, int]]) -> dict[str, int]:
        # COPY + one set-based merge instead of a round trip per household. Sorted so two
        # importers touching the same households lock them in the same order. New and moved
        # households come back from RETURNING; only unchanged ones (an update) are looked up.
        self.cur.execute("TRUNCATE stage_household")
        with self.cur.copy("COPY stage_household (code, area_id) FROM STDIN") as copy:
            for item in items:
                copy.write_row(item)
        self.cur.execute(
            "INSERT INTO household (locality_id, code, area_id) "
            "SELECT DISTINCT ON (code) %s, code, area_id FROM stage_household ORDER BY code "
            "ON CONFLICT (locality_id, code) DO UPDATE SET area_id = excluded.area_id "
            "WHERE household.area_id IS DISTINCT FROM excluded.area_id RETURNING code, id",
            [locality_id],
        )
        ids = dict(self.cur.fetchall())
        missing = [code for code, _area in items if code not in ids]
        for batch in _batches(missing, 50_000):
            self.cur.execute("SELECT code, id FROM household WHERE locality_id = %s AND code = ANY(%s)",
                             [locality_id, list(batch)])
            ids.update(self.cur.fetchall())
        return ids

    def set_categories(
        self, add: list[tuple[int, str, dt.date | None]], remove: list[tuple[int, str]]
    ) -> None:
        if remove:
            self.cur.execute(
                "DELETE FROM category_membership c USING unnest(%s::int[], %s::text[]) AS d(pid, code) "
                "WHERE c.person_id = d.pid AND c.category = d.code",
                [[r[0] for r in remove], [r[1] for r in remove]],
            )
        if add:
            self.cur.execute(
                "INSERT INTO category_membership (person_id, category, recognised_on) "
                "SELECT DISTINCT ON (pid, code) pid, code, rec FROM unnest(%s::int[], %s::text[], %s::date[]) "
                "AS a(pid, code, rec) ORDER BY pid, code "
                "ON CONFLICT (person_id, category) DO UPDATE SET recognised_on = "
                "COALESCE(excluded.recognised_on, category_membership.recognised_on)",
                [[a[0] for a in add], [a[1] for a in add], [a[2] for a in add]],
            )

    def upsert_people(
        self, rows: list[PersonRow], household_ids: dict[str, int], *, all_new: bool = False
    ) -> None:
        columns = "(id_number, name, household_id, relation, area_id, phone, migrant, birth_date)"
        direct = all_new and self._bulk
        if direct:
            # New people while this transaction holds the bulk load's exclusive lock on person
            # (nobody else can insert the same ID meanwhile): COPY straight into the table.
            target = f"person {columns}"
        else:
            self.cur.execute("TRUNCATE stage_person")
            target = f"stage_person {columns}"
        with self.cur.copy(f"COPY {target} FROM STDIN") as copy:
            # Row by row on purpose: the server's COPY is the slower side, and psycopg sends each
            # 32 KB as it fills, so formatting the next rows overlaps the server's work (one text
            # built up front was slower: 0.85-1.0 s against 0.53 s for 264 k rows).
            for row in zip(*_person_columns(rows, household_ids), strict=True):
                copy.write_row(row)
        if not direct:
            self.cur.execute(
                f"INSERT INTO person {columns} SELECT * FROM stage_person ORDER BY id_number "
                "ON CONFLICT (id_number) DO UPDATE SET name = excluded.name, household_id = excluded.household_id, "
                "relation = excluded.relation, area_id = excluded.area_id, phone = excluded.phone, "
                "migrant = excluded.migrant"
            )

    def person_ids(self, id_numbers: Sequence[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        for batch in _batches(id_numbers, 50_000):
            self.cur.execute("SELECT id_number, id FROM person WHERE id_number = ANY(%s)", [list(batch)])
            out.update(self.cur.fetchall())
        return out

    def insert_payments(self, rows: list[tuple[int, int, dt.date, Decimal, str, str]]) -> int:
        self.cur.execute("TRUNCATE stage_payment")
        with self.cur.copy(
            "COPY stage_payment (person_id, coverage_year, paid_on, amount, channel, source_file) FROM STDIN"
        ) as copy:
            for row in rows:
                copy.write_row(row)
        self.cur.execute(
            "INSERT INTO payment (person_id, coverage_year, paid_on, amount, channel, source_file) "
            "SELECT DISTINCT ON (person_id, coverage_year, paid_on, amount, channel) * FROM stage_payment "
            "ON CONFLICT DO NOTHING"
        )
        return self.cur.rowcount


def store_for(conn: Connection) -> Store:
    name = conn.dialect.name
    if name == "sqlite":
        return SQLiteStore(conn)
    if name == "postgresql":
        return PostgresStore(conn)
    raise ValueError(f"unsupported database backend: {name}")
