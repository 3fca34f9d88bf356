"""A person's enrolment by year: derived from payments, completed by an imported history file.

Payments show the years the registry holds. The insurance system's export adds earlier years, years
insured under the employee scheme (which count as insured: moving between schemes is not a break)
and whether the fund reimbursed anything in a year (the zero-claim incentive). A payment always
wins over an imported "not insured" for the same year. The result is a `bot.policy.engine.History`,
which the engine's waiting-period and incentive answers take, and an `Enrolment` summary (years,
the current continuous run, the last break) for `yibao status` and the bot's status reply.

History file (CSV or XLSX, header row within the first ten rows; see docs/import-formats.md):
身份证号, 参保年度 (required); 姓名 (checked against the roster when present); 是否参保 (是/否,
blank = 是); 险种 (居民/职工, blank = 居民); 当年报销 (有/无, blank = unknown).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, text
from sqlmodel import Session

from bot import clock
from bot.policy.engine.continuity import History
from bot.registry.importers.columns import Column

if TYPE_CHECKING:
    from bot.registry.importers.report import ErrorSink, ImportReport
    from bot.registry.lookup import StatusResult


# ---------------------------------------------------------------- deriving


@dataclass(frozen=True)
class Enrolment:
    """What `yibao status` shows: years enrolled, the current continuous run, the last break."""

    years: tuple[int, ...]
    continuous_years: int  # the run ending with `through`
    through: int | None  # the year the run ends: the year asked about if paid, else the year before
    last_break: int | None  # the latest year without insurance before the run (within the records)
    known_from: int | None


def history_from_rows(payment_years: Iterable[int], records: Sequence[tuple[int, bool, bool | None]]) -> History:
    """Merge payment years with imported (year, insured, zero_claim) rows."""
    paid = {int(y) for y in payment_years}
    if not records:  # the common case (no imported history): skip the merging, status is a hot path
        return History(frozenset(paid), min(paid) if paid else None, frozenset())
    rows = [(int(y), bool(ins), zc) for y, ins, zc in records]
    insured = paid | {y for y, ins, _zc in rows if ins}
    known = paid | {y for y, _ins, _zc in rows}
    zero = {y for y, _ins, zc in rows if zc}
    return History.of(insured, known_from=min(known) if known else None, zero_claim=zero)


def summarize(history: History, year: int) -> Enrolment:
    through = year if year in history.insured else year - 1
    run = history.run_until(through)
    return Enrolment(
        years=tuple(sorted(history.insured)),
        continuous_years=run,
        through=through if run else None,
        last_break=history.last_break(through - run + 1) if history.known_from is not None else None,
        known_from=history.known_from,
    )


def _year_ranges(years: tuple[int, ...]) -> str:
    """2019, 2020, 2021, 2023 -> 2019—2021、2023."""
    parts: list[str] = []
    run: list[int] = []
    for y in sorted(years):
        if run and y != run[-1] + 1:
            parts.append(f"{run[0]}—{run[-1]}" if len(run) > 1 else str(run[0]))
            run = []
        run.append(y)
    if run:
        parts.append(f"{run[0]}—{run[-1]}" if len(run) > 1 else str(run[0]))
    return "、".join(parts)


def continuity_zh(result: StatusResult) -> list[str]:
    """The enrolment-history lines of a status answer: continuous years, the years on record, the
    last break. One home for `yibao status` and the bot's status reply."""
    n, through = result.continuous_years, result.continuous_through
    if n and through is not None:
        out = [f"连续参保：{n} 年（{through - n + 1}—{through} 年度）"]
    else:
        out = [f"连续参保：无（{result.year} 年度及上一年度都没有参保记录）"]
    if result.enrolled_years:
        out.append(f"有参保记录的年度：{_year_ranges(result.enrolled_years)}")
    if result.last_break is not None:
        out.append(f"最近一次断保：{result.last_break} 年度")
    return out


RECORDS_SQL = "SELECT coverage_year, insured, zero_claim FROM enrolment_history WHERE person_id = {0}"
PAYMENT_YEARS_SQL = "SELECT DISTINCT coverage_year FROM payment WHERE person_id = {0}"


def history_for(session: Session, person_id: int) -> History:
    """The person's history from the session's database."""
    pay = session.execute(text(PAYMENT_YEARS_SQL.format(":p")), {"p": person_id}).scalars().all()
    rec = session.execute(text(RECORDS_SQL.format(":p")), {"p": person_id}).all()
    return history_from_rows(pay, [(r[0], r[1], r[2]) for r in rec])


def benefit_with_history(locality_id: str, paid_on: dt.date, categories: tuple[str, ...], migrant: bool,
                         birth_date: dt.date | None, history: History) -> tuple[dt.date | None, str | None] | None:
    """Benefit start under the 2025 waiting rules when the pack answering for `paid_on` has them;
    None when it does not (the caller keeps the pack's older rules)."""
    if not _has_waiting(locality_id, paid_on):
        return None
    from bot.policy.engine import Person, benefit_start_with_history

    answer = benefit_start_with_history(
        locality_id, Person(categories=categories, birth_date=birth_date, migrant=migrant), paid_on, history)
    return (answer.benefit_start, answer.rule) if answer.ok else (None, answer.refusal)


@lru_cache(maxsize=4096)
def _has_waiting(locality_id: str, paid_on: dt.date) -> bool:
    # Packs are loaded once per process, so this cannot change while we run (status is a hot path).
    from bot.policy.engine.common import select_pack

    pack = select_pack(locality_id, paid_on)
    return not isinstance(pack, str) and pack.continuity is not None and pack.continuity.waiting is not None


# ---------------------------------------------------------------- importing


HISTORY_COLUMNS: tuple[Column, ...] = (
    Column("id_number", "身份证号", ("身份证号码", "公民身份号码", "证件号码", "身份证", "id")),
    Column("name", "姓名", ("参保人姓名",)),
    Column("year", "参保年度", ("年度", "缴费年度", "待遇年度", "year")),
    Column("insured", "是否参保", ("参保状态", "参保", "insured")),
    Column("scheme", "险种", ("参保险种", "险种类型", "scheme")),
    Column("claims", "当年报销", ("是否报销", "医保报销", "报销", "claims")),
)
COLUMN_ZH = {c.key: c.title for c in HISTORY_COLUMNS}
_YES = {"是", "参保", "已参保", "正常", "y", "yes", "1", "√", "true"}
_NO = {"否", "未参保", "断保", "停保", "n", "no", "0", "×", "false"}
_SCHEMES = {"居民": "resident", "城乡居民": "resident", "居民医保": "resident", "城乡居民医保": "resident",
            "resident": "resident", "职工": "employee", "职工医保": "employee", "employee": "employee"}
_CLAIMED = {"有", "是", "已报销", "有报销", "1", "y", "yes"}
_NO_CLAIM = {"无", "否", "未报销", "零报销", "无报销", "0", "n", "no"}
CHUNK = 5000


def _yes_no(value: str, yes: set[str], no: set[str]) -> bool | None:
    v = value.strip().lower()
    return True if v in yes else False if v in no else None


def import_history(path: Path, *, engine: Engine | None = None) -> ImportReport:
    """Import a history file; bad rows go to `<file>.errors.csv` with their reason, good rows are
    inserted or updated (one transaction for the file). Raises ImportFileError for a bad file."""
    import time

    from bot.registry.importers.common import cell, prepare_engine, row_is_blank
    from bot.registry.importers.readers import open_table
    from bot.registry.importers.report import ErrorSink, ImportReport
    from bot.registry.importers.values import IdChecker

    started = time.perf_counter()
    engine = prepare_engine(engine)
    table = open_table(Path(path), HISTORY_COLUMNS, ("id_number", "year"))
    report = ImportReport(kind="history", path=Path(path), encoding=table.encoding)
    sink = ErrorSink(Path(path))
    checker = IdChecker()
    last_year = clock.today().year + 1
    cols = table.columns
    parsed: list[tuple[int, str, str, int, bool, str, bool | None]] = []
    for line, cells in table.rows:
        if row_is_blank(cells):
            continue
        raw_id = cell(cells, cols.get("id_number"))
        number, why = checker.check(raw_id)
        if not number:
            sink.add(line, COLUMN_ZH["id_number"], raw_id, why, is_id=True)
            continue
        raw_year = cell(cells, cols.get("year")).removesuffix("年度").removesuffix("年")
        if not raw_year.isdigit() or not 1990 <= int(raw_year) <= last_year:
            sink.add(line, COLUMN_ZH["year"], raw_year, f"参保年度应是 1990 到 {last_year} 之间的年份，例如 2023")
            continue
        insured = _yes_no(cell(cells, cols.get("insured")) or "是", _YES, _NO)
        if insured is None:
            sink.add(line, COLUMN_ZH["insured"], cell(cells, cols.get("insured")), "是否参保应填“是”或“否”")
            continue
        raw_scheme = cell(cells, cols.get("scheme")) or "居民"
        scheme = _SCHEMES.get(raw_scheme.strip().lower())
        if scheme is None:
            sink.add(line, COLUMN_ZH["scheme"], raw_scheme, "险种应填“居民”或“职工”")
            continue
        raw_claims = cell(cells, cols.get("claims"))
        claimed = _yes_no(raw_claims, _CLAIMED, _NO_CLAIM) if raw_claims else None
        if raw_claims and claimed is None:
            sink.add(line, COLUMN_ZH["claims"], raw_claims, "当年报销应填“有”或“无”（不知道就留空）")
            continue
        zero = None if claimed is None else (not claimed and insured)
        parsed.append((line, number, cell(cells, cols.get("name")), int(raw_year), insured, scheme, zero))
    try:
        with engine.begin() as conn:
            for start in range(0, len(parsed), CHUNK):
                _store(conn, parsed[start:start + CHUNK], report, sink, Path(path).name)
    except BaseException:
        sink.discard()
        raise
    return report.close(sink, started)


def _store(conn, rows, report: ImportReport, sink: ErrorSink, source: str) -> None:  # noqa: ANN001
    from bot.registry.lookup import names_match

    numbers = sorted({r[1] for r in rows})
    people = {
        number: (pid, name)
        for pid, number, name in conn.execute(
            text("SELECT id, id_number, name FROM person WHERE id_number IN :n").bindparams(
                _expanding("n")), {"n": numbers})
    }
    ids = sorted({p[0] for p in people.values()})
    existing = {
        (pid, year): (bool(ins), scheme, zc)
        for pid, year, ins, scheme, zc in conn.execute(
            text("SELECT person_id, coverage_year, insured, scheme, zero_claim FROM enrolment_history "
                 "WHERE person_id IN :p").bindparams(_expanding("p")), {"p": ids or [-1]})
    }
    inserts, updates = [], []
    for line, number, name, year, insured, scheme, zero in rows:
        person = people.get(number)
        if person is None:
            sink.add(line, COLUMN_ZH["id_number"], number, "花名册中没有这个身份证号：请先导入花名册", is_id=True)
            continue
        if name and not names_match(person[1], name):
            sink.add(line, COLUMN_ZH["name"], name, "姓名与花名册不一致，请核对")
            continue
        values = {"p": person[0], "y": year, "i": insured, "s": scheme, "z": zero, "f": source}
        old = existing.get((person[0], year))
        if old is None:
            inserts.append(values)
            existing[(person[0], year)] = (insured, scheme, zero)
            report.inserted += 1
        elif old == (insured, scheme, zero):
            report.unchanged += 1
        else:
            updates.append(values)
            existing[(person[0], year)] = (insured, scheme, zero)
            report.updated += 1
    if inserts:
        conn.execute(text("INSERT INTO enrolment_history (person_id, coverage_year, insured, scheme, zero_claim, "
                          "source_file) VALUES (:p, :y, :i, :s, :z, :f)"), inserts)
    if updates:
        conn.execute(text("UPDATE enrolment_history SET insured = :i, scheme = :s, zero_claim = :z, "
                          "source_file = :f WHERE person_id = :p AND coverage_year = :y"), updates)


def _expanding(name: str):  # noqa: ANN202
    from sqlalchemy import bindparam

    return bindparam(name, expanding=True)
