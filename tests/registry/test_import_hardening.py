"""Importer holes found by the red-team pass (issue 12): rows dropped by a stale XLSX dimension,
control characters, absurd amounts, unclosed quotes, decompression bombs, and one ID in two
households. Each test here failed on the importers before the fix."""

from __future__ import annotations

import csv
import datetime as dt
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.registry.importers import ImportFileError, import_payments, import_roster
from bot.registry.importers.readers import MAX_CELL_CHARS, MAX_FILE_BYTES

from .data.builders import PAYMENT_HEADER, ROSTER_HEADER, make_id, write_csv, write_xlsx, wuhe_people


@pytest.fixture(autouse=True)
def _today(pinned_today: dt.date) -> None:
    """Every test here runs on 2023-11-20."""


def _errors(path: Path) -> list[dict[str, str]]:
    with open(path.with_name(path.name + ".errors.csv"), encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar())


def _person(seq: int, name: str, household: str) -> list[object]:
    return [make_id(seq, "19800101"), name, household, "户主", "城关镇", "东关村", "", "", ""]


def test_xlsx_with_a_stale_dimension_tag_imports_every_row(engine: Engine, tmp_path: Path) -> None:
    rows = [_person(i, f"居民{i}", f"D{i:03d}") for i in range(1, 57)]
    path = write_xlsx(tmp_path / "stale.xlsx", ROSTER_HEADER, rows)
    # Rewrite the sheet's <dimension> to claim 7 rows and 2 columns, as the red team's file did.
    patched = tmp_path / "patched.xlsx"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(patched, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data, n = re.subn(rb'<dimension ref="[^"]+"', b'<dimension ref="A1:B7"', data)
                assert n == 1
            dst.writestr(item, data)
    report = import_roster(patched, "wuhe", engine=engine)
    assert (report.inserted, report.bad) == (56, 0)
    assert _count(engine, "person") == 56


def test_control_characters_in_roster_text_refuse_the_row(engine: Engine, tmp_path: Path) -> None:
    rows = [
        _person(1, "张\x1b三", "C001"),      # ESC in a name
        _person(2, "李四", "C\x07002"),      # BEL in a household code
        _person(3, "王\u202e五", "C003"),    # a right-to-left override
        _person(4, "赵六\t", "C004"),        # a trailing tab is trimmed as whitespace, as before
        _person(5, "=HYPERLINK(\"http://x\",\"点我\")", "C005"),  # stored as written; exports escape it
    ]
    path = write_csv(tmp_path / "ctl.csv", ROSTER_HEADER, rows)
    report = import_roster(path, "wuhe", engine=engine)
    assert (report.inserted, report.bad) == (2, 3)
    errors = {int(e["行号"]): e for e in _errors(path)}
    assert sorted(errors) == [2, 3, 4]
    assert errors[2]["列"] == "姓名" and "控制字符" in errors[2]["原因"] and errors[2]["值"] == "张\\x1b三"
    assert errors[3]["列"] == "户号" and errors[3]["值"] == "C\\x07002"
    assert errors[4]["值"] == "王\\u202e五"


def test_the_error_report_writes_formula_like_values_as_text(engine: Engine, tmp_path: Path) -> None:
    rows = [[make_id(1, "19800101"), "=1+2", "X1", "户主", "=HYPERLINK(\"http://evil\",\"点我\")", "", "", "", ""],
            [make_id(2, "19800101"), "@SUM(A1)", "X2", "户主", "城关镇", "", "", "", "+1"]]
    path = write_csv(tmp_path / "inj.csv", ROSTER_HEADER, rows)
    assert import_roster(path, "wuhe", engine=engine).bad == 2
    body = path.with_name(path.name + ".errors.csv").read_text("utf-8-sig")
    cells = [c for row in csv.reader(body.splitlines()) for c in row]
    assert "'=HYPERLINK(\"http://evil\",\"点我\")" in cells and "'+1" in cells
    assert not any(c.startswith(("=", "+", "-", "@")) for c in cells)


@pytest.mark.parametrize(
    ("amount", "reason"),
    [("1e308", "大得不合常理"), ("-1e308", "大得不合常理"), ("99999999", "大得不合常理"), ("NaN", "不是数字"),
     ("inf", "不是数字"), ("-Infinity", "不是数字"), ("-380", "负数"), ("1e-400", "与政策不符")],
)
def test_absurd_amounts_are_row_errors(engine: Engine, tmp_path: Path, amount: str, reason: str) -> None:
    import_roster(write_csv(tmp_path / "r.csv", ROSTER_HEADER, wuhe_people()), "wuhe", engine=engine)
    rows = [[make_id(1, "19700305"), "张国强", "2023-11-05", amount, "微信"],
            [make_id(3, "20100101"), "张小明", "2023-11-05", "380", "微信"]]
    path = write_csv(tmp_path / "p.csv", PAYMENT_HEADER, rows)
    report = import_payments(path, 2024, engine=engine)
    assert (report.inserted, report.bad) == (1, 1)
    assert reason in _errors(path)[0]["原因"]


def test_an_unclosed_quote_is_reported_as_such_with_its_lines(engine: Engine, tmp_path: Path) -> None:
    lines = [",".join(ROSTER_HEADER)]
    for i in range(1, 21):
        lines.append(",".join(str(c) for c in _person(i, f"居民{i}", f"Q{i:03d}")))
    lines[4] = lines[4].replace(",户主,", ',"户主,', 1)   # line 5 opens a quote ...
    lines[18] = lines[18].replace(",户主,", ',户主",', 1)  # ... that only line 19 closes
    path = tmp_path / "quote.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    report = import_roster(path, "wuhe", engine=engine)
    assert (report.inserted, report.bad) == (5, 1)
    [error] = _errors(path)
    assert error["行号"] == "5" and "引号没有闭合" in error["原因"] and "第 5–19 行" in error["原因"]
    assert "户号为空" not in error["原因"]


def test_a_quote_left_open_to_the_end_of_a_big_file_is_one_clear_error(engine: Engine, tmp_path: Path) -> None:
    lines = [",".join(ROSTER_HEADER)]
    lines += [",".join(str(c) for c in _person(i, f"居民{i}", f"Q{i:05d}")) for i in range(1, 1200)]
    lines[3] = lines[3].replace(",户主,", ',"户主,', 1)
    path = tmp_path / "open.csv"
    path.write_text("\n".join(lines) + "\n", "utf-8")
    assert path.stat().st_size > MAX_CELL_CHARS
    with pytest.raises(ImportFileError, match="第 4 行起.*引号"):
        import_roster(path, "wuhe", engine=engine)
    assert _count(engine, "person") == 0


def _zip_with(path: Path, member: str, chunks: int, chunk: bytes) -> Path:
    src = write_xlsx(path.with_name("base.xlsx"), ROSTER_HEADER, [_person(1, "甲", "Z1")])
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            if item.filename != member:
                zout.writestr(item, zin.read(item))
        with zout.open(member, "w", force_zip64=True) as fh:
            for _ in range(chunks):
                fh.write(chunk)
    return path


def test_a_zip_bomb_is_refused_before_it_is_expanded(engine: Engine, tmp_path: Path) -> None:
    chunk = b"<si><t>" + b"a" * 1000 + b"</t></si>"
    bomb = _zip_with(tmp_path / "bomb.xlsx", "xl/sharedStrings.xml", MAX_FILE_BYTES // len(chunk) + 10, chunk)
    assert bomb.stat().st_size < 5 * 1024 * 1024
    with pytest.raises(ImportFileError, match="文件太大"):
        import_roster(bomb, "wuhe", engine=engine)


def test_a_gigantic_cell_is_refused(engine: Engine, tmp_path: Path) -> None:
    rows = [_person(1, "甲", "G1"), _person(2, "乙", "G2")]
    # openpyxl (like Excel) cuts a cell at 32,767 characters, so the oversized cell is put in by hand.
    src = write_xlsx(tmp_path / "src.xlsx", ROSTER_HEADER, rows)
    big = tmp_path / "big.xlsx"
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(big, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace("<t>乙</t>".encode(), f"<t>{'乙' * (MAX_CELL_CHARS + 1)}</t>".encode())
            zout.writestr(item, data)
    with pytest.raises(ImportFileError, match="第 3 行有一个超过 32,767 个字符的格子"):
        import_roster(big, "wuhe", engine=engine)
    rows[1][1] = "乙" * (MAX_CELL_CHARS + 1)
    with pytest.raises(ImportFileError, match="第 3 行起有一个超过 32,767 个字符的格子"):
        import_roster(write_csv(tmp_path / "big.csv", ROSTER_HEADER, rows), "wuhe", engine=engine)
    assert _count(engine, "person") == 0


def test_values_longer_than_their_column_are_row_errors(engine: Engine, tmp_path: Path) -> None:
    """PostgreSQL refused the whole file (value too long for varchar(64)) with a traceback."""
    rows = [_person(1, "甲" * 65, "L1"), _person(2, "乙", "L" * 65), _person(3, "丙", "L3")]
    rows[2][6] = "1" * 33
    rows.append(_person(4, "丁", "L4"))
    path = write_csv(tmp_path / "long.csv", ROSTER_HEADER, rows)
    report = import_roster(path, "wuhe", engine=engine)
    assert (report.inserted, report.bad) == (1, 3)
    assert [e["列"] for e in _errors(path)] == ["姓名", "户号", "联系电话"]
    assert all("太长" in e["原因"] for e in _errors(path))


@pytest.mark.parametrize("chunk_rows", [1000, 2])
def test_one_id_in_two_households_is_a_conflict_not_a_move(engine: Engine, tmp_path: Path, chunk_rows: int) -> None:
    rows = [_person(1, "张伟", "H1"), _person(2, "李娜", "H1"), _person(3, "王芳", "H2"),
            _person(1, "张伟", "H2"),   # line 5: the same person again, in another household
            _person(2, "李娜", "H1")]   # line 6: an exact repeat stays harmless
    path = write_csv(tmp_path / "dup.csv", ROSTER_HEADER, rows)
    report = import_roster(path, "wuhe", engine=engine, chunk_rows=chunk_rows)
    assert (report.inserted, report.unchanged, report.bad) == (3, 1, 1)
    [error] = _errors(path)
    assert error["行号"] == "5" and error["列"] == "户号" and "同一身份证号出现在两个户中" in error["原因"]
    assert "H1" in error["原因"] and "H2" in error["原因"]
    assert "同一身份证号出现在两个户中" in report.summary_zh()
    with engine.connect() as conn:
        code = conn.execute(text("SELECT h.code FROM person p JOIN household h ON h.id = p.household_id "
                                 "WHERE p.id_number = :n"), {"n": make_id(1, "19800101")}).scalar()
    assert code == "H1"


def test_a_later_roster_may_still_move_a_person(engine: Engine, tmp_path: Path) -> None:
    """Across files a move is an ordinary update (people marry, households split)."""
    import_roster(write_csv(tmp_path / "a.csv", ROSTER_HEADER, [_person(1, "张伟", "H1")]), "wuhe", engine=engine)
    report = import_roster(write_csv(tmp_path / "b.csv", ROSTER_HEADER, [_person(1, "张伟", "H2")]), "wuhe",
                           engine=engine)
    assert (report.updated, report.bad) == (1, 0)
