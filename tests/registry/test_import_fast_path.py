"""The speed paths of issue 13 change nothing but speed:

* plain CSV blocks split with str.split give exactly the rows and line numbers the csv module gives
  (blocks made tiny so that rows, CRLF pairs and the switch to the csv module fall on block edges);
* the columnar checks of a plain chunk accept, refuse and store exactly what the row-by-row checks
  do, for rosters and payments with every kind of bad cell the equivalence generator makes;
* KnownIds never answers "not registered" for an ID number that is.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from bot.policy import get_pack
from bot.registry import db, ids
from bot.registry.importers import import_payments, import_roster, payments, readers, roster_checks
from bot.registry.importers.columns import ROSTER_COLUMNS
from bot.registry.importers.known import KnownIds, as_ints
from bot.registry.importers.readers import SpanningRecord, open_table

from .data.builders import ROSTER_HEADER, write_csv
from .data.generated import generate
from .test_import_equivalence import _digest, _errors

# -- reading ------------------------------------------------------------------------------------


def _reference_rows(path: Path, encoding: str) -> list[tuple[int, Any]]:
    """The body as the importers read it before issue 13: csv.reader, physical line numbers."""
    out: list[tuple[int, Any]] = []
    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh)
        last = 0
        for cells in reader:
            first, last = last + 1, reader.line_num
            if last > first and any("\n" in c or "\r" in c for c in cells):
                out.append((first, SpanningRecord(first, last, ",".join(cells)[:30])))
            else:
                out.append((last, cells))
    return out[1:]  # the header is line 1 in these files


def _lines(rng: random.Random, n: int, *, quote_at: int | None, lone_cr_at: int | None) -> list[str]:
    header = ",".join(ROSTER_HEADER)
    out = [header]
    for i in range(n):
        cells = [f"{340322198001010000 + i}", rng.choice(["王伟", "李 娜", " 张敏", "刘\x07静", "陈\u3000洋", "x"]),
                 f"H{i // 3}", rng.choice(["户主", "子", ""]), "城关镇", rng.choice(["东村", "", "西\t村"]),
                 "", rng.choice(["", "低保"]), rng.choice(["是", "否", ""])]
        line = ",".join(cells)
        if i % 17 == 5:
            line = ""  # a blank line
        elif i % 23 == 7:
            line = line[: rng.randrange(len(line))]  # a short row
        if quote_at is not None and i == quote_at:
            line = line.replace(",户主,", ',"户,\n主",', 1).replace(",子,", ',"子, 二",', 1) or '"a","b"'
        if lone_cr_at is not None and i == lone_cr_at:
            line += "\r"
        out.append(line)
    return out


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("variant", ["plain", "crlf", "quote-mid-file", "lone-cr", "no-final-newline"])
@pytest.mark.parametrize("block", [64, 300, 1 << 20])
def test_plain_blocks_read_exactly_like_the_csv_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encoding: str, variant: str, block: int
) -> None:
    monkeypatch.setattr(readers, "BLOCK_BYTES", block)
    rng = random.Random(f"{encoding}{variant}{block}")
    lines = _lines(rng, 200, quote_at=120 if variant == "quote-mid-file" else None,
                   lone_cr_at=90 if variant == "lone-cr" else None)
    ending = "\r\n" if variant == "crlf" else "\n"
    content = ending.join(lines) + ("" if variant == "no-final-newline" else ending)
    path = tmp_path / "r.csv"
    path.write_bytes(content.encode(encoding))
    table = open_table(path, ROSTER_COLUMNS, ("id_number", "name", "household", "town"))
    got = list(table.rows)
    assert got == _reference_rows(path, "utf-8-sig" if encoding.startswith("utf-8") else encoding)
    assert table.position() == path.stat().st_size


def test_clean_flags_mark_exactly_the_printable_rows_without_spaces(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ROSTER_HEADER, [
        ["1", "王伟"], ["2", "李 娜"], ["3", "刘\x1b静"], ["4", "陈\u3000洋"], ["5", "周\u202e杰"], ["6", "孙磊"],
    ])
    table = open_table(path, ROSTER_COLUMNS, ("id_number",))
    [block] = list(table.chunks(100))
    assert block.plain and block.clean == [True, False, False, False, False, True]


def test_a_chunk_is_plain_only_when_all_its_rows_are(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(readers, "BLOCK_BYTES", 256)
    rows = [[str(i), f"名{i}", f"H{i}"] for i in range(40)]
    rows[30][1] = "有,逗号"  # quoted by csv.writer: the csv module reads from that block on
    path = write_csv(tmp_path / "r.csv", ROSTER_HEADER, rows)
    table = open_table(path, ROSTER_COLUMNS, ("id_number",))
    chunks = list(table.chunks(10))
    assert [len(c.rows) for c in chunks] == [10, 10, 10, 10]
    assert chunks[0].plain and not chunks[-1].plain
    assert [r for c in chunks for r in c.rows] == [r for _line, r in _reference_rows(path, "utf-8")]


# -- columnar checks against row-by-row checks --------------------------------------------------


def _wipe(engine: Engine) -> None:
    """An empty registry again (localities and task-table areas re-seeded)."""
    with engine.begin() as conn:
        for table in ("payment", "category_membership", "chat_link", "person", "household", "staff",
                      "invite_code", "chat_profile", "area"):
            conn.execute(text(f"DELETE FROM {table}"))
    with db.session_scope(engine) as session:
        db.seed_localities(session)


def _outcomes(engine: Engine, files: list[tuple[str, Path, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, path, call in files:
        report = call(path)
        out[label] = ([report.inserted, report.updated, report.unchanged, report.bad], _errors(path))
    out["database"] = _digest(engine)
    return out


def _files(tmp: Path, engine: Engine) -> list[tuple[str, Path, Any]]:
    files: list[tuple[str, Path, Any]] = []
    for locality, year, seed in (("wuhe", 2024, 11), ("tengzhou", 2023, 12), ("tanghe", 2023, 13)):
        towns = [e.name for e in get_pack(locality).task_table.entries]
        gen = generate(locality, towns, 600, seed=seed)
        # The generator's "1,234.5" gets quoted, which would send the whole file to the csv module.
        pays = [[("1234.5" if c == "1,234.5" else c) for c in row] for row in gen.payments]
        roster_path = write_csv(tmp / f"{locality}-roster.csv", gen.roster_header, gen.roster)
        pay_path = write_csv(tmp / f"{locality}-payments.csv", gen.payment_header, pays)
        files.append((f"{locality} roster", roster_path,
                      lambda p, loc=locality: import_roster(p, loc, engine=engine, chunk_rows=250)))
        files.append((f"{locality} roster again", roster_path,
                      lambda p, loc=locality: import_roster(p, loc, engine=engine, chunk_rows=170)))
        files.append((f"{locality} payments", pay_path,
                      lambda p, y=year: import_payments(p, y, engine=engine, chunk_rows=230)))
    return files


def test_columnar_checks_accept_and_refuse_exactly_what_the_row_checks_do(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pinned_today: dt.date
) -> None:
    files = _files(tmp_path, engine)
    fast = _outcomes(engine, files)
    with monkeypatch.context() as m:  # every row through the row-by-row checks
        m.setattr(roster_checks.RowChecks, "fast", lambda self, chunk: [None] * len(chunk.rows))
        m.setattr(payments._RowChecks, "fast", lambda self, chunk: [None] * len(chunk.rows))
        _wipe(engine)
        slow = _outcomes(engine, files)
    assert fast == slow
    counts = {label: value[0] for label, value in fast.items() if label != "database"}
    # The files really exercise both: rows settled column by column, and rows refused.
    assert all(c[0] > 100 and c[3] > 10 for label, c in counts.items() if "again" not in label)


def test_the_columnar_checks_settle_the_clean_rows(tmp_path: Path, pinned_today: dt.date,
                                                   monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    """Guard against a fast path that silently settles nothing (and so proves nothing above)."""
    settled: list[int] = []
    real = roster_checks.RowChecks.fast

    def counting(self: Any, chunk: Any) -> list[Any]:
        out = real(self, chunk)
        settled.append(sum(g is not None for g in out))
        return out

    monkeypatch.setattr(roster_checks.RowChecks, "fast", counting)
    towns = [e.name for e in get_pack("wuhe").task_table.entries]
    gen = generate("wuhe", towns, 400, seed=5)
    report = import_roster(write_csv(tmp_path / "r.csv", gen.roster_header, gen.roster), "wuhe", engine=engine)
    assert sum(settled) > 0.6 * report.rows


# -- KnownIds -------------------------------------------------------------------------------------


def _id(rng: random.Random) -> str:
    return ids.with_check_digit(f"{rng.randrange(110000, 660000)}19{rng.randrange(10, 99)}0{rng.randrange(1, 9)}1"
                                f"{rng.randrange(0, 9)}{rng.randrange(1000):03d}")


def test_known_ids_never_miss_a_registered_or_written_number() -> None:
    rng = random.Random(7)
    registered = [_id(rng) for _ in range(5000)]
    known = KnownIds([registered[:3000], registered[3000:]])
    written: list[str] = []
    for _ in range(12):
        batch = [_id(rng) for _ in range(rng.randrange(1, 900))]
        known.add(batch)
        written += batch
    assert all(known.maybe(registered)) and all(known.maybe(written))
    strangers = [n for n in (_id(rng) for _ in range(3000)) if n not in set(registered) | set(written)]
    assert not any(known.maybe(strangers))


def test_known_ids_fall_back_to_asking_the_database_for_odd_numbers() -> None:
    assert as_ints(["34032219800101001X", "340322198001010010"]).tolist() == [34032219800101001] * 2
    assert as_ints(["３４０３２２１９８００１０１００１Ｘ"]) is None and as_ints(["12345"]) is None
    known = KnownIds([["340322198001010010", "legacy-number"]])
    assert not known.exact and known.maybe(["110101199001010011"]) == [True]
