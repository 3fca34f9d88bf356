"""Roster import on SQLite and (with DATABASE_URL_PG) PostgreSQL: formats, every bad-row reason,
idempotency, updates and all-or-nothing files."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.registry import ids
from bot.registry.importers import ImportFileError, import_roster
from bot.registry.importers import store as store_mod

from .data.builders import ROSTER_HEADER, bad_check, make_id, write_csv, write_xlsx, wuhe_people


@pytest.fixture(autouse=True)
def _today(pinned_today: dt.date) -> None:
    """Every test here runs on 2023-11-20 (the registry conftest's pinned day)."""


def _errors(path: Path) -> list[dict[str, str]]:
    with open(path.with_name(path.name + ".errors.csv"), encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def _scalar(engine: Engine, sql: str, **params: object) -> object:
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def _people(engine: Engine) -> dict[str, tuple]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT p.id_number, p.name, h.code, p.relation, a.name, p.phone, p.migrant "
            "FROM person p JOIN household h ON h.id = p.household_id JOIN area a ON a.id = p.area_id"
        )).all()
    return {r[0]: (*r[1:6], bool(r[6])) for r in rows}


def _categories(engine: Engine, number: str) -> set[str]:
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT c.category FROM category_membership c JOIN person p ON p.id = c.person_id WHERE p.id_number = :n"
        ), {"n": number}).all()
    return {r[0] for r in rows}


def test_imports_people_households_villages_and_categories(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, wuhe_people())
    report = import_roster(path, "wuhe", engine=engine)
    assert (report.inserted, report.updated, report.unchanged, report.bad) == (5, 0, 0, 0)
    assert report.errors_path is None and not (tmp_path / "roster.csv.errors.csv").exists()
    people = _people(engine)
    assert people[make_id(1, "19700305")] == ("张国强", "WH001", "户主", "东关村", "13800000001", False)
    # 城关 (no 镇) was matched to the task-table town; its villages were created under that town.
    assert people[make_id(4, "19550101")][3] == "西关村" and people[make_id(4, "19550101")][5] is True
    assert people[make_id(5, "19881212")][3] == "头铺镇"  # no village given: the town itself
    parent = _scalar(engine, "SELECT p.name FROM area v JOIN area p ON p.id = v.parent_id WHERE v.name = '西关村'")
    assert parent == "城关镇"
    assert _scalar(engine, "SELECT count(*) FROM household") == 3
    assert _categories(engine, make_id(4, "19550101")) == {"tekun", "disabled"}
    assert _categories(engine, make_id(2, "19720611")) == {"dibao"}
    born = _scalar(engine, "SELECT birth_date FROM person WHERE id_number = :n", n=make_id(3, "20100101"))
    assert str(born)[:10] == "2010-01-01"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_encodings_are_detected(engine: Engine, tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / f"roster-{encoding}.csv", ROSTER_HEADER, wuhe_people(), encoding=encoding)
    report = import_roster(path, "wuhe", engine=engine)
    assert report.inserted == 5 and report.bad == 0
    assert _people(engine)[make_id(2, "19720611")][0] == "李秀英"


def test_committed_gbk_fixture(engine: Engine) -> None:
    """A file saved by a Chinese-locale Excel: GBK bytes, CRLF line ends, English aliases mixed in."""
    path = Path(__file__).parent / "data" / "roster-gbk.csv"
    assert path.read_bytes().decode("gbk")  # really GBK
    report = import_roster(path, "wuhe", engine=engine)
    assert (report.inserted, report.bad) == (3, 0)
    assert "王桂兰" in {v[0] for v in _people(engine).values()}


def test_xlsx_with_title_row_and_numeric_cells(engine: Engine, tmp_path: Path) -> None:
    rows = [list(r) for r in wuhe_people()]
    rows[0][6] = 13800000001  # phone typed as a number
    path = write_xlsx(tmp_path / "roster.xlsx", ROSTER_HEADER, rows, title="五河县2024年度城乡居民医保花名册")
    report = import_roster(path, "wuhe", engine=engine)
    assert (report.inserted, report.bad) == (5, 0)
    assert _people(engine)[make_id(1, "19700305")][4] == "13800000001"


def test_header_variants_and_english_aliases(engine: Engine, tmp_path: Path) -> None:
    header = ["id_number", "Name", "household", "relation", "乡 镇", "村(社区)", "phone", "category", "migrant"]
    path = write_csv(tmp_path / "en.csv", header, wuhe_people())
    assert import_roster(path, "wuhe", engine=engine).inserted == 5


def test_missing_required_column_is_one_clear_error(engine: Engine, tmp_path: Path) -> None:
    header = [h for h in ROSTER_HEADER if h != "户号"]
    path = write_csv(tmp_path / "nohh.csv", header, [r[:2] + r[3:] for r in wuhe_people()])
    with pytest.raises(ImportFileError) as err:
        import_roster(path, "wuhe", engine=engine)
    assert "缺少必需的列" in err.value.message_zh and "户号" in err.value.message_zh
    assert _scalar(engine, "SELECT count(*) FROM person") == 0


def test_unknown_locality_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", ROSTER_HEADER, wuhe_people())
    with pytest.raises(ImportFileError, match="未知地区"):
        import_roster(path, "atlantis", engine=engine)


def test_every_bad_row_reason_is_reported_with_line_numbers(engine: Engine, tmp_path: Path) -> None:
    good = wuhe_people()
    legacy15 = make_id(7, "19650405")[:6] + make_id(7, "19650405")[8:17]  # 15-digit form of a 1965 number
    rows = [
        *good,                                                                    # lines 2-6
        [bad_check(make_id(8)), "错校验", "WH009", "户主", "城关镇", "", "", "", ""],       # 7 check digit
        ["34032219800101", "短号码", "WH009", "户主", "城关镇", "", "", "", ""],            # 8 length
        [make_id(9, "19801340"), "坏日期", "WH009", "户主", "城关镇", "", "", "", ""],      # 9 birth date
        [make_id(10), "外地人", "WH010", "户主", "北京镇", "", "", "", ""],                 # 10 town not in table
        [make_id(11), "错字", "WH011", "户主", "城官镇", "", "", "", ""],                   # 11 typo: suggestion only
        [make_id(12), "神仙", "WH012", "户主", "城关镇", "", "", "神仙", ""],               # 12 unknown category
        [make_id(13), "非本地", "WH013", "户主", "城关镇", "", "", "脱贫户", ""],           # 13 category not in wuhe
        [make_id(1, "19700305"), "张国张", "WH001", "户主", "城关镇", "东关村", "", "", ""],  # 14 same ID, other name
        [make_id(14), "无户号", "", "户主", "城关镇", "", "", "", ""],                     # 15 no household
        [make_id(15), "乱填", "WH015", "户主", "城关镇", "", "", "", "也许"],               # 16 migrant flag
        [legacy15, "老号码", "WH016", "户主", "头铺镇", "", "", "", ""],                    # 17 15 digits: converted
    ]
    path = write_csv(tmp_path / "bad.csv", ROSTER_HEADER, rows)
    report = import_roster(path, "wuhe", engine=engine)
    assert (report.inserted, report.bad) == (6, 10)
    errors = {int(e["行号"]): e for e in _errors(path)}
    assert sorted(errors) == [7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
    assert errors[7]["原因"] == ids.REASON_CHECK
    assert errors[8]["原因"].startswith("位数不对") and errors[8]["列"] == "身份证号"
    assert errors[9]["原因"] == ids.REASON_DATE
    assert "不在五河县的征缴任务表中" in errors[10]["原因"]
    assert "您是不是指：城关镇" in errors[11]["原因"]
    assert "神仙" in errors[12]["原因"] and "无法识别" in errors[12]["原因"]
    assert "不是五河县的资助类别" in errors[13]["原因"]
    assert "第 2 行" in errors[14]["原因"] and "张国强" in errors[14]["原因"]
    assert errors[15]["列"] == "户号"
    assert errors[16]["列"] == "外出务工"
    # IDs in the report are masked, never in full.
    body = (tmp_path / "bad.csv.errors.csv").read_text("utf-8-sig")
    for row in rows:
        assert str(row[0]) not in body or len(str(row[0])) < 15
    assert errors[7]["值"] == ids.mask(bad_check(make_id(8)))
    assert ids.validate(legacy15).number in _people(engine)


def test_same_id_with_other_name_than_database(engine: Engine, tmp_path: Path) -> None:
    import_roster(write_csv(tmp_path / "a.csv", ROSTER_HEADER, wuhe_people()), "wuhe", engine=engine)
    row = list(wuhe_people()[0])
    row[1] = "张国庆"
    path = write_csv(tmp_path / "b.csv", ROSTER_HEADER, [row])
    report = import_roster(path, "wuhe", engine=engine)
    assert (report.inserted, report.updated, report.bad) == (0, 0, 1)
    assert "已登记" in _errors(path)[0]["原因"] and "张国强" in _errors(path)[0]["原因"]
    assert _people(engine)[make_id(1, "19700305")][0] == "张国强"


def test_same_file_twice_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, wuhe_people())
    import_roster(path, "wuhe", engine=engine)
    before = (_people(engine), _scalar(engine, "SELECT count(*) FROM area"), _scalar(engine, "SELECT count(*) FROM household"))
    again = import_roster(path, "wuhe", engine=engine)
    assert (again.inserted, again.updated, again.unchanged, again.bad) == (0, 0, 5, 0)
    after = (_people(engine), _scalar(engine, "SELECT count(*) FROM area"), _scalar(engine, "SELECT count(*) FROM household"))
    assert after == before


def test_updated_roster_updates_rows(engine: Engine, tmp_path: Path) -> None:
    import_roster(write_csv(tmp_path / "v1.csv", ROSTER_HEADER, wuhe_people()), "wuhe", engine=engine)
    rows = [list(r) for r in wuhe_people()]
    rows[0][6] = "13900000009"       # new phone
    rows[1][7] = ""                  # no longer 低保
    rows[4][2], rows[4][4] = "WH001", "城关镇"  # moved into household WH001 in another town
    rows.append([make_id(20, "19900101"), "新成员", "WH003", "户主", "头铺镇", "", "", "重残", ""])
    path = write_csv(tmp_path / "v2.csv", ROSTER_HEADER, rows)
    report = import_roster(path, "wuhe", engine=engine)
    assert (report.inserted, report.updated, report.unchanged, report.bad) == (1, 3, 2, 0)
    people = _people(engine)
    assert people[make_id(1, "19700305")][4] == "13900000009"
    assert _categories(engine, make_id(2, "19720611")) == set()
    assert people[make_id(5, "19881212")][1:4] == ("WH001", "户主", "城关镇")
    assert _categories(engine, make_id(20, "19900101")) == {"disabled"}


def test_failure_mid_file_leaves_database_as_before(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = import_roster(write_csv(tmp_path / "v1.csv", ROSTER_HEADER, wuhe_people()[:2]), "wuhe", engine=engine)
    assert first.inserted == 2
    snapshot = (_people(engine), _scalar(engine, "SELECT count(*) FROM household"),
                _scalar(engine, "SELECT count(*) FROM area"), _scalar(engine, "SELECT count(*) FROM category_membership"))
    rows = [list(r) for r in wuhe_people()]
    rows[0][6] = "13700000000"  # an update in the first chunk
    path = write_csv(tmp_path / "v2.csv", ROSTER_HEADER, rows)
    calls = {"n": 0}
    real = {cls: cls.upsert_people for cls in (store_mod.SQLiteStore, store_mod.PostgresStore)}

    def boom(self: store_mod.Store, people: list, household_ids: dict, **kw: bool) -> None:
        calls["n"] += 1
        if calls["n"] == 2:  # the first chunk has been written; die in the second
            raise KeyboardInterrupt
        real[type(self)](self, people, household_ids, **kw)

    for cls in real:
        monkeypatch.setattr(cls, "upsert_people", boom)
    with pytest.raises(KeyboardInterrupt):
        import_roster(path, "wuhe", engine=engine, chunk_rows=2)
    assert calls["n"] == 2
    after = (_people(engine), _scalar(engine, "SELECT count(*) FROM household"),
             _scalar(engine, "SELECT count(*) FROM area"), _scalar(engine, "SELECT count(*) FROM category_membership"))
    assert after == snapshot
    assert not (tmp_path / "v2.csv.errors.csv").exists()
    monkeypatch.undo()
    assert import_roster(path, "wuhe", engine=engine).inserted == 3  # and the file still imports afterwards


def test_chunked_import_finds_duplicates_across_chunks(engine: Engine, tmp_path: Path) -> None:
    rows = [*wuhe_people(), [make_id(1, "19700305"), "别人", "WH001", "户主", "城关镇", "", "", "", ""]]
    path = write_csv(tmp_path / "r.csv", ROSTER_HEADER, rows)
    report = import_roster(path, "wuhe", engine=engine, chunk_rows=2)
    assert (report.inserted, report.bad) == (5, 1)
    assert _errors(path)[0]["行号"] == "7"


def test_village_level_task_table(engine: Engine, tmp_path: Path) -> None:
    """桃园镇's task table lists villages: the 村（社区） column is matched, 乡镇 may be absent."""
    header = ["身份证号", "姓名", "户号", "村（社区）"]
    rows = [
        [make_id(1, "19800101", "341302"), "甲", "TY1", "桃园"],
        [make_id(2, "19800101", "341302"), "乙", "TY2", "钱营"],
        [make_id(3, "19800101", "341302"), "丙", "TY3", "桃"],
    ]
    path = write_csv(tmp_path / "ty.csv", header, rows)
    report = import_roster(path, "taoyuan", engine=engine)
    assert (report.inserted, report.bad) == (2, 1)
    people = _people(engine)
    assert people[make_id(1, "19800101", "341302")][3] == "桃园村"
    assert people[make_id(2, "19800101", "341302")][3] == "钱营社区"
    assert _errors(path)[0]["列"] == "村（社区）"


def test_progress_is_reported(engine: Engine, tmp_path: Path) -> None:
    seen: list[tuple[int, int | None, int]] = []
    path = write_csv(tmp_path / "r.csv", ROSTER_HEADER, wuhe_people())
    import_roster(path, "wuhe", engine=engine, chunk_rows=2, progress=lambda d, t, n: seen.append((d, t, n)))
    size = path.stat().st_size
    assert seen and seen[-1] == (size, size, 5)
    assert all(0 < d <= size for d, _t, _n in seen)
    assert [n for _d, _t, n in seen] == [2, 4, 5]


def test_the_garbage_collector_is_back_on_after_an_import(engine: Engine, tmp_path: Path) -> None:
    """Imports pause the cyclic collector for speed (importers.common.gc_paused), never for good."""
    import gc

    assert gc.isenabled()
    import_roster(write_csv(tmp_path / "r.csv", ROSTER_HEADER, wuhe_people()), "wuhe", engine=engine)
    assert gc.isenabled()
    def fail(done: int, total: int | None, rows: int) -> None:
        assert not gc.isenabled()  # paused while the file is read
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError):
        import_roster(tmp_path / "r.csv", "wuhe", engine=engine, progress=fail)
    assert gc.isenabled()


@pytest.mark.postgres
def test_a_reader_holding_a_table_does_not_fail_a_new_localitys_import(
    pg_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new locality's first roster wants the bulk load's exclusive locks. While another session
    reads `household` in an open transaction it cannot have them: the import must neither wait into
    a deadlock (one run in twenty of the load test did) nor fail, but load the ordinary way."""
    from bot.registry import db

    engine = db.get_engine(pg_database)
    db.ensure_schema(engine)
    from .conftest import _truncate_pg

    _truncate_pg(engine)
    tried: list[bool] = []
    real = store_mod.PostgresStore._bulk_locks

    def spy(self: store_mod.PostgresStore, *args: object, **kw: object) -> bool:
        tried.append(got := real(self, *args, attempts=2))  # type: ignore[arg-type]
        return got

    monkeypatch.setattr(store_mod.PostgresStore, "_bulk_locks", spy)
    path = write_csv(tmp_path / "roster.csv", ROSTER_HEADER, wuhe_people())
    with engine.connect() as reader:
        reader.execute(text("SELECT count(*) FROM household")).scalar()  # AccessShare until rollback
        report = import_roster(path, "wuhe", engine=engine)
        reader.rollback()
    assert tried == [False]  # the bulk locks were refused, so the file loaded the ordinary way
    assert (report.inserted, report.bad) == (5, 0)
    assert len(_people(engine)) == 5
    # The indexes and keys the bulk mode would have dropped are all still there.
    assert _scalar(engine, "SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = 'person'::regclass") == 2
    # Alone, the same kind of import takes the bulk path.
    tried.clear()
    _truncate_pg(engine)
    import_roster(path, "wuhe", engine=engine)
    assert tried == [True]
    engine.dispose()
