"""Payment list (缴费清册 / 缴费流水) import for one coverage year.

Each row must name a person already in the roster (by ID number, with the same name), a readable
payment date within the campaign (1 January of the year before the coverage year up to the end
of the coverage year, and not after today), and an amount that fits the policy:

* exactly what the policy engine says this person pays on that date (their categories, their age
  on the payment date, migrant status), or
* exactly the full individual standard of the coverage year (people who pay first and are
  reimbursed later, 先缴后补), or
* exactly what the engine says the person pays without their categories (the category was
  recognised after they paid, e.g. a 65-year-old in 滕州 who paid the age rate before becoming 低保).

When the engine cannot name a figure for the person (the document gives no amount for a category)
any amount between 0.01 and the full standard is accepted. 0 is accepted only where the engine
says the person pays nothing (政府全额代缴). When there is no policy pack for the coverage year at
all, amounts are only checked to be positive.

Payments are deduplicated on (person, coverage year, date, amount, channel): the same file twice
inserts nothing the second time. One file is one transaction, as for rosters.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bot import clock
from bot.registry.importers.columns import PAYMENT_COLUMNS
from bot.registry.importers.common import (
    DEFAULT_CHUNK_ROWS,
    Progress,
    cell,
    chunks_with_progress,
    gc_paused,
    pack_for,
    prepare_engine,
    row_is_blank,
)
from bot.registry.importers.readers import ImportFileError, SpanningRecord, open_table
from bot.registry.importers.report import ErrorSink, ImportReport
from bot.registry.importers.roster import WHOLE_ROW_ZH, _bad_date
from bot.registry.importers.store import PayTarget, store_for
from bot.registry.importers.values import (
    AMOUNT_LIMIT,
    IdChecker,
    amount_too_large,
    control_reason,
    parse_amount,
    parse_date,
)
from bot.reports.cells import has_control

COLUMN_ZH = {c.key: c.title for c in PAYMENT_COLUMNS}


class AmountRule:
    """Which amounts fit the policy for a person on a date (see module docstring)."""

    def __init__(self, year: int) -> None:
        self.year = year
        self._packs: dict[str, Any] = {}

    def pack(self, locality_id: str) -> Any:
        if locality_id not in self._packs:
            from bot.policy import get_pack

            self._packs[locality_id] = get_pack(locality_id, self.year)
        return self._packs[locality_id]

    def check(self, target: PayTarget, locality_id: str, paid_on: dt.date, amount: Decimal) -> str:
        """'' when the amount fits, else the Chinese reason."""
        if amount < 0:
            return f"缴费金额 {_yuan(amount)} 元是负数：请填写实际缴纳的金额（政府全额代缴的填 0）。"
        pack = self.pack(locality_id)
        if pack is None:
            return (
                ""
                if amount > 0
                else "缴费金额为 0：没有该年度的政策包，无法确认此人是否由政府全额代缴，请核对。"
            )
        age = (
            paid_on.year
            - target.birth_date.year
            - ((paid_on.month, paid_on.day) < (target.birth_date.month, target.birth_date.day))
        )
        personal, standard = _expected(
            pack.locality.id, self.year, target.categories, age, target.migrant, paid_on
        )
        if amount == standard or (personal is not None and amount == personal):
            return ""
        if target.categories:
            plain, _ = _expected(pack.locality.id, self.year, (), age, target.migrant, paid_on)
            if plain is not None and amount == plain:
                return ""
        if personal is None and 0 < amount <= standard:
            return ""
        who = f"（资助类别：{'、'.join(_names(pack, target.categories))}）" if target.categories else ""
        expected = f"{_yuan(personal)} 元" if personal is not None and personal != standard else ""
        options = "或".join(x for x in (expected, f"全额 {_yuan(standard)} 元") if x)
        return (
            f"缴费金额 {_yuan(amount)} 元与政策不符：按{pack.locality.name_zh}{self.year}年度政策，此人{who}"
            f"在 {paid_on.isoformat()} 应缴 {options}。请核对金额，或先在花名册中更正资助类别。"
        )


def _yuan(value: Decimal) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _names(pack: Any, codes: tuple[str, ...]) -> list[str]:
    out = []
    for code in codes:
        cat = pack.category(code)
        out.append(cat.name_zh if cat else code)
    return out


@lru_cache(maxsize=65536)
def _expected(
    locality_id: str, year: int, categories: tuple[str, ...], age: int, migrant: bool, on: dt.date
) -> tuple[Decimal | None, Decimal]:
    """(what the engine says this person pays, or None when it cannot say; the full standard)."""
    from bot.policy import engine, get_pack
    from bot.policy.engine import Person

    pack = get_pack(locality_id, year)
    answer = engine.amount(pack, Person(categories=categories, age=age, migrant=migrant), on=on)
    personal = answer.personal if answer.ok else None
    return personal, pack.financing.personal.value


def import_payments(
    path: str | Path,
    year: int,
    *,
    locality: str | None = None,
    engine: Engine | None = None,
    progress: Progress | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> ImportReport:
    """Import a payment list for coverage year `year`. With `locality`, every person must belong to
    it (and its policy checks the amounts); otherwise each person's own locality is used."""
    started = time.perf_counter()
    path = Path(path)
    if not 2000 <= year <= 2100:
        raise ImportFileError(f"年度“{year}”不对：请用 --year 指定参保年度，例如 --year 2024。")
    locality_id = pack_for(locality, year).locality.id if locality else None
    engine = prepare_engine(engine)
    table = open_table(path, PAYMENT_COLUMNS, ("id_number", "name", "paid_on", "amount"))
    report = ImportReport("payments", path, encoding=table.encoding)
    sink = ErrorSink(path)
    rule = AmountRule(year)
    earliest, latest = dt.date(year - 1, 1, 1), min(dt.date(year, 12, 31), clock.today())
    col = table.columns
    i_id, i_name, i_date, i_amount, i_channel = (
        col["id_number"],
        col["name"],
        col["paid_on"],
        col["amount"],
        col.get("channel"),
    )
    source = path.name[-255:]
    try:
        with gc_paused(), engine.begin() as conn:
            store = store_for(conn)
            checker = IdChecker()
            for chunk in chunks_with_progress(table, chunk_rows, progress):
                parsed: list[tuple[int, str, str, dt.date, Decimal, str]] = []
                for line, cells in zip(chunk.lines, chunk.rows, strict=True):
                    if cells.__class__ is SpanningRecord:
                        sink.add(line, WHOLE_ROW_ZH, cells.start, cells.reason_zh())
                        continue
                    if row_is_blank(cells):
                        continue
                    raw_id = cell(cells, i_id)
                    number, reason = checker.check(raw_id)
                    if reason:
                        sink.add(line, COLUMN_ZH["id_number"], raw_id, reason, is_id=True)
                        continue
                    raw_date = cells[i_date] if i_date < len(cells) else None
                    paid_on = parse_date(raw_date if not isinstance(raw_date, str) else raw_date.strip())
                    if paid_on is None:
                        sink.add(
                            line, COLUMN_ZH["paid_on"], cell(cells, i_date), _bad_date(cell(cells, i_date))
                        )
                        continue
                    if not earliest <= paid_on <= latest:
                        sink.add(
                            line,
                            COLUMN_ZH["paid_on"],
                            paid_on.isoformat(),
                            f"缴费日期 {paid_on.isoformat()} 不在 {year} 年度的缴费时间内"
                            f"（{earliest.isoformat()} 至 {latest.isoformat()}）：请核对日期或 --year。",
                        )
                        continue
                    raw_amount = cells[i_amount] if i_amount < len(cells) else None
                    amount = parse_amount(raw_amount)
                    if amount is None:
                        sink.add(
                            line,
                            COLUMN_ZH["amount"],
                            cell(cells, i_amount),
                            f"缴费金额“{cell(cells, i_amount)}”不是数字：请填写金额，例如 380 或 380.00。",
                        )
                        continue
                    if amount_too_large(amount):
                        sink.add(
                            line,
                            COLUMN_ZH["amount"],
                            cell(cells, i_amount),
                            f"缴费金额“{cell(cells, i_amount)}”大得不合常理（个人缴费不会达到 "
                            f"{_yuan(AMOUNT_LIMIT)} 元）：请核对是否多写了位数。",
                        )
                        continue
                    name, channel = cell(cells, i_name).replace(" ", ""), cell(cells, i_channel)[:32]
                    if has_control(name) or has_control(channel):
                        column = "name" if has_control(name) else "channel"
                        sink.add(line, COLUMN_ZH[column], cell(cells, col[column]), control_reason(COLUMN_ZH[column]))
                        continue
                    parsed.append((line, number, name, paid_on, amount, channel))
                targets = store.pay_targets(sorted({p[1] for p in parsed}))
                rows: list[tuple[int, int, dt.date, Decimal, str, str]] = []
                for line, number, name, paid_on, amount, channel in parsed:
                    target = targets.get(number)
                    if target is None or (locality_id and target.locality_id != locality_id):
                        where = "该地区" if locality_id else ""
                        sink.add(
                            line,
                            COLUMN_ZH["id_number"],
                            number,
                            f"{where}花名册中没有这个身份证号：请先导入包含此人的花名册，或核对身份证号。",
                            is_id=True,
                        )
                        continue
                    if name != target.name:
                        sink.add(
                            line,
                            COLUMN_ZH["name"],
                            name,
                            f"姓名与花名册不一致（花名册中为“{target.name}”）：请核对是否为同一人。",
                        )
                        continue
                    reason = rule.check(target, target.locality_id or "", paid_on, amount)
                    if reason:
                        sink.add(line, COLUMN_ZH["amount"], _yuan(amount), reason)
                        continue
                    rows.append((target.person_id, year, paid_on, amount, channel, source))
                if rows:
                    inserted = store.insert_payments(rows)
                    report.inserted += inserted
                    report.unchanged += len(rows) - inserted
            store.finish()
    except BaseException:
        sink.discard()
        raise
    return report.close(sink, started)
