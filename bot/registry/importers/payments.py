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
import unicodedata
from decimal import Decimal
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
from bot.registry.importers.readers import Block, ImportFileError, SpanningRecord, open_table
from bot.registry.importers.report import ErrorSink, ImportReport
from bot.registry.importers.roster_checks import WHOLE_ROW_ZH, bad_date_reason
from bot.registry.importers.store import PayTarget, Store, _as_date, store_for
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
        # The engine's answers for this file. `engine.amount` answers "what the person pays for
        # the coverage year that `on` falls in" (its contract): with the age given, the date only
        # picks the coverage year. So its answers are kept per (locality, categories, age,
        # migrant, whether the pack covers the date), as the engine's own select_pack decides:
        # a few hundred engine calls per county instead of one per distinct payment date (51,416
        # at 1.1 M rows, 3.6 s). tests/registry/test_import_payments.py checks this against the
        # engine, date by date, so a change of that contract fails there and not silently here.
        self._expected: dict[tuple[Any, ...], tuple[Decimal | None, Decimal]] = {}
        self._covers: dict[tuple[str, dt.date], bool] = {}
        self.answers: dict[tuple[Any, ...], str] = {}  # check_for's answers, keyed on its arguments

    def expected(
        self, locality_id: str, categories: tuple[str, ...], age: int, migrant: bool, on: dt.date
    ) -> tuple[Decimal | None, Decimal]:
        covers = self._covers.get((locality_id, on))
        if covers is None:
            from bot.policy.engine.common import select_pack

            covers = self._covers[(locality_id, on)] = select_pack(self.pack(locality_id), on) is self.pack(locality_id)
        key = (locality_id, categories, age, migrant, covers)
        got = self._expected.get(key)
        if got is None:
            got = self._expected[key] = _expected(self.pack(locality_id), categories, age, migrant, on)
        return got

    def pack(self, locality_id: str) -> Any:
        if locality_id not in self._packs:
            from bot.policy import get_pack

            self._packs[locality_id] = get_pack(locality_id, self.year)
        return self._packs[locality_id]

    def check(self, target: PayTarget, locality_id: str, paid_on: dt.date, amount: Decimal) -> str:
        """'' when the amount fits, else the Chinese reason."""
        age = (
            paid_on.year
            - target.birth_date.year
            - ((paid_on.month, paid_on.day) < (target.birth_date.month, target.birth_date.day))
        )
        return self.check_for(target.categories, age, target.migrant, locality_id, paid_on, amount)

    def check_for(
        self, categories: tuple[str, ...], age: int, migrant: bool, locality_id: str, paid_on: dt.date,
        amount: Decimal,
    ) -> str:
        """`check` for a person described by what the rule reads: categories, age on the payment
        date and migrant status (callers cache the answer on exactly these arguments)."""
        if amount < 0:
            return f"缴费金额 {_yuan(amount)} 元是负数：请填写实际缴纳的金额（政府全额代缴的填 0）。"
        pack = self.pack(locality_id)
        if pack is None:
            return (
                ""
                if amount > 0
                else "缴费金额为 0：没有该年度的政策包，无法确认此人是否由政府全额代缴，请核对。"
            )
        personal, standard = self.expected(pack.locality.id, categories, age, migrant, paid_on)
        if amount == standard or (personal is not None and amount == personal):
            return ""
        if categories:
            plain, _ = self.expected(pack.locality.id, (), age, migrant, paid_on)
            if plain is not None and amount == plain:
                return ""
        if personal is None and 0 < amount <= standard:
            return ""
        who = f"（资助类别：{'、'.join(_names(pack, categories))}）" if categories else ""
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


def _expected(
    pack: Any, categories: tuple[str, ...], age: int, migrant: bool, on: dt.date
) -> tuple[Decimal | None, Decimal]:
    """(what the engine says this person pays, or None when it cannot say; the full standard)."""
    from bot.policy import engine
    from bot.policy.engine import Person

    answer = engine.amount(pack, Person(categories=categories, age=age, migrant=migrant), on=on)
    personal = answer.personal if answer.ok else None
    return personal, pack.financing.personal.value


# A payment row that passed the checks of the file alone: (line, ID number, name, date, amount, channel).
Parsed = tuple[int, str, str, dt.date, Decimal, str]
# A refused row: (line, column title, value shown, reason, value is an ID number).
BadRow = tuple[int, str, Any, str, bool]


class _RowChecks:
    """The checks a payment row passes on its own (before anyone is looked up), with per-value
    caches: `fast(chunk)` settles the clean rows of a plain chunk column by column, `row(line,
    cells)` checks any other row; `fast` leaves every row it cannot settle (None) to `row`."""

    def __init__(self, columns: dict[str, int], year: int) -> None:
        self.col = columns
        self.width = max(columns.values()) + 1
        self.year = year
        self.earliest, self.latest = dt.date(year - 1, 1, 1), min(dt.date(year, 12, 31), clock.today())
        self.checker = IdChecker()
        self.dates: dict[str, dt.date | None] = {}  # raw -> date within the campaign, else None
        self.amounts: dict[str, Decimal | None] = {}  # raw -> amount below the limit, else None
        self.channels: dict[str, str | None] = {}  # raw -> stored channel, None if it holds a control

    def _date(self, raw: str) -> dt.date | None:
        if raw not in self.dates:
            on = parse_date(raw)
            self.dates[raw] = on if on is not None and self.earliest <= on <= self.latest else None
        return self.dates[raw]

    def _amount(self, raw: str) -> Decimal | None:
        if raw not in self.amounts:
            amount = parse_amount(raw)
            self.amounts[raw] = amount if amount is not None and not amount_too_large(amount) else None
        return self.amounts[raw]

    def _channel(self, raw: str) -> str | None:
        if raw not in self.channels:
            channel = cell([raw], 0)[:32]
            self.channels[raw] = None if has_control(channel) else channel
        return self.channels[raw]

    def fast(self, chunk: Block) -> list[Parsed | None]:
        rows, n, col = chunk.rows, len(chunk.rows), self.col
        out: list[Parsed | None] = [None] * n
        picked = [k for k in range(n) if (chunk.clean is None or chunk.clean[k]) and len(rows[k]) >= self.width]
        if not picked:
            return out
        cols = list(zip(*(rows[k] for k in picked), strict=False))
        numbers, names = cols[col["id_number"]], cols[col["name"]]
        ok = self.checker.certainly_valid(list(numbers)).tolist()
        if not unicodedata.is_normalized("NFKC", "\n".join(names)):
            # cell() gives non-ASCII text NFKC-normalised; a name that changes is checked row by row.
            ok = [good and (n.isascii() or unicodedata.is_normalized("NFKC", n)) for good, n in zip(ok, names, strict=True)]
        dates = [self._date(d) for d in cols[col["paid_on"]]]
        amounts = [self._amount(a) for a in cols[col["amount"]]]
        i_channel = col.get("channel")
        channels = [self._channel(c) for c in cols[i_channel]] if i_channel is not None else [""] * len(picked)
        lines = chunk.lines
        for j, k in enumerate(picked):
            on, amount, channel = dates[j], amounts[j], channels[j]
            if ok[j] and on is not None and amount is not None and channel is not None:
                out[k] = (lines[k], numbers[j], names[j], on, amount, channel)
        return out

    def row(self, line: int, cells: Any) -> Parsed | BadRow | None:
        """The row's values, the reason it is refused, or None for a blank row."""
        col = self.col
        i_id, i_name, i_date, i_amount, i_channel = (
            col["id_number"], col["name"], col["paid_on"], col["amount"], col.get("channel")
        )
        if cells.__class__ is SpanningRecord:
            return (line, WHOLE_ROW_ZH, cells.start, cells.reason_zh(), False)
        if row_is_blank(cells):
            return None
        raw_id = cell(cells, i_id)
        number, reason = self.checker.check(raw_id)
        if reason:
            return (line, COLUMN_ZH["id_number"], raw_id, reason, True)
        raw_date = cells[i_date] if i_date < len(cells) else None
        paid_on = parse_date(raw_date if not isinstance(raw_date, str) else raw_date.strip())
        if paid_on is None:
            return (line, COLUMN_ZH["paid_on"], cell(cells, i_date), bad_date_reason(cell(cells, i_date)), False)
        if not self.earliest <= paid_on <= self.latest:
            return (
                line,
                COLUMN_ZH["paid_on"],
                paid_on.isoformat(),
                f"缴费日期 {paid_on.isoformat()} 不在 {self.year} 年度的缴费时间内"
                f"（{self.earliest.isoformat()} 至 {self.latest.isoformat()}）：请核对日期或 --year。",
                False,
            )
        raw_amount = cells[i_amount] if i_amount < len(cells) else None
        amount = parse_amount(raw_amount)
        if amount is None:
            return (
                line,
                COLUMN_ZH["amount"],
                cell(cells, i_amount),
                f"缴费金额“{cell(cells, i_amount)}”不是数字：请填写金额，例如 380 或 380.00。",
                False,
            )
        if amount_too_large(amount):
            return (
                line,
                COLUMN_ZH["amount"],
                cell(cells, i_amount),
                f"缴费金额“{cell(cells, i_amount)}”大得不合常理（个人缴费不会达到 "
                f"{_yuan(AMOUNT_LIMIT)} 元）：请核对是否多写了位数。",
                False,
            )
        name, channel = cell(cells, i_name).replace(" ", ""), cell(cells, i_channel)[:32]
        if has_control(name) or has_control(channel):
            column = "name" if has_control(name) else "channel"
            return (line, COLUMN_ZH[column], cell(cells, col[column]), control_reason(COLUMN_ZH[column]), False)
        return (line, number, name, paid_on, amount, channel)


def _parse_chunk(chunk: Block, checks: _RowChecks, sink: ErrorSink) -> list[Parsed]:
    fast = checks.fast(chunk) if chunk.plain else [None] * len(chunk.rows)
    if all(p is not None for p in fast):
        return fast  # type: ignore[return-value]
    parsed: list[Parsed] = []
    for k, settled in enumerate(fast):
        got = settled if settled is not None else checks.row(chunk.lines[k], chunk.rows[k])
        if got is None:
            continue
        if len(got) == 5:
            line, column, value, reason, is_id = got  # type: ignore[misc]
            sink.add(line, column, value, reason, is_id=is_id)
        else:
            parsed.append(got)  # type: ignore[arg-type]
    return parsed


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
    checks = _RowChecks(table.columns, year)
    source = path.name[-255:]
    try:
        with gc_paused(), engine.begin() as conn:
            store = store_for(conn)
            for chunk in chunks_with_progress(table, chunk_rows, progress):
                parsed = _parse_chunk(chunk, checks, sink)
                rows = _match(parsed, store, rule, locality_id, year, source, sink)
                if rows:
                    inserted = store.insert_payments(rows)
                    report.inserted += inserted
                    report.unchanged += len(rows) - inserted
            store.finish()
    except BaseException:
        sink.discard()
        raise
    return report.close(sink, started)


def _match(
    parsed: list[Parsed], store: Store, rule: AmountRule, locality_id: str | None, year: int, source: str,
    sink: ErrorSink,
) -> list[tuple[int, int, dt.date, Decimal, str, str]]:
    """Payment rows for the people the parsed rows name, in line order; refusals go to the sink."""
    if not parsed:
        return []
    people = store.pay_people(sorted({p[1] for p in parsed}))
    # The full standard of the year fits everyone (先缴后补): most rows need no engine call at all.
    standards: dict[str, Decimal | None] = {}
    categories: dict[int, tuple[str, ...]] | None = None
    births: dict[Any, dt.date] = {}
    rows: list[tuple[int, int, dt.date, Decimal, str, str]] = []
    for line, number, name, paid_on, amount, channel in parsed:
        person = people.get(number)
        if person is None or (locality_id and person[4] != locality_id):
            where = "该地区" if locality_id else ""
            sink.add(
                line,
                COLUMN_ZH["id_number"],
                number,
                f"{where}花名册中没有这个身份证号：请先导入包含此人的花名册，或核对身份证号。",
                is_id=True,
            )
            continue
        person_id, registered_name, birth, migrant, person_locality = person
        if name != registered_name:
            sink.add(
                line,
                COLUMN_ZH["name"],
                name,
                f"姓名与花名册不一致（花名册中为“{registered_name}”）：请核对是否为同一人。",
            )
            continue
        where = person_locality or ""
        if where not in standards:
            pack = rule.pack(where)
            standards[where] = pack.financing.personal.value if pack is not None else None
        standard = standards[where]
        if standard is None or amount != standard:
            if categories is None:
                categories = store.categories_of([p[0] for p in people.values()])
            born = births.get(birth)
            if born is None:
                born = births[birth] = _as_date(birth)
            age = paid_on.year - born.year - ((paid_on.month, paid_on.day) < (born.month, born.day))
            key = (categories.get(person_id, ()), age, bool(migrant), where, paid_on, amount)
            reason = rule.answers.get(key)
            if reason is None:
                reason = rule.answers[key] = rule.check_for(*key)
            if reason:
                sink.add(line, COLUMN_ZH["amount"], _yuan(amount), reason)
                continue
        rows.append((person_id, year, paid_on, amount, channel, source))
    return rows
