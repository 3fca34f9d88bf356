"""Generated demo registry: realistic, deterministic, fast. Generated test data, not personal data.

`generate(session, "tengzhou")` fills the registry of one locality from its policy pack:
- every task-table area sized from its target × scale; for a county whose table lists towns, each
  town gets 3–12 named villages (the roster level below the table);
- households of 1–7 sharing an address (户号 and village), built from family templates (head,
  spouse, children, grandchildren, parents), so ages run from newborns to over 90;
- valid ID numbers: the locality's region code for ~90 %, nearby codes of the same city for the rest,
  correct check digits, the order code's parity matching the sex;
- plausible names (weighted common surnames, gendered given-name characters), phones;
- ~10 % in subsidy categories the pack knows (5 % of those recognised after the payment period),
  ~15 % migrant workers (working age);
- 80–95 % paid (a rate per village) on dates spread over the collection period (up to today when
  today falls inside it), the amount from the policy engine for the person's categories and age on
  the payment date (a category recognised after the payment counts as not yet held).

Deterministic for (locality, scale, seed) and, when today falls inside the collection period, today.
Speed: numpy draws, ID check digits vectorised, rows bulk-inserted per town (executemany on SQLite,
COPY on PostgreSQL) inside the caller's transaction, so a failure leaves nothing behind.
With out_dir, roster.csv and payments.csv (UTF-8, the Chinese headers of docs/import-formats.md)
hold the same data for the importers' benchmarks.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
import zlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlmodel import Session

from bot import clock
from bot.registry.models import Area, Household, Locality, Person

ROSTER_HEADER = ["身份证号", "姓名", "户号", "与户主关系", "乡镇", "村（社区）", "联系电话", "资助类别", "外出务工"]
PAYMENTS_HEADER = ["身份证号", "姓名", "缴费日期", "缴费金额", "缴费渠道"]
DEMO_SOURCE = "demo"
SUBSIDISED_CHANNEL = "政府代缴"

# Common surnames, most frequent first (weights fall off roughly like the national ranking).
SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石"
    "廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME_W = 1.0 / np.arange(1, len(SURNAMES) + 1) ** 0.9
SURNAME_P = _SURNAME_W / _SURNAME_W.sum()
MALE_CHARS = list("伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宇浩凯健俊帆帅旭宁龙林阳建国志文德祥永福海东兵成亮忠玉春山峰良发")
FEMALE_CHARS = list("芳娜敏静丽艳娟霞秀英华玲桂兰萍红梅琳燕雪慧婷倩颖琴云莉洁琪欣悦晶丹妍彤瑶佳月凤荣翠珍淑爱")
VILLAGE_STEMS = list("庄集楼湖圩店营寨桥庙岗洼沟湾河台园岭铺坊")
VILLAGE_PREFIX = list("东西南北前后上下大小新")

# Relations and their offsets from the head's age, by role.
H, SP, SON, DAU, GS, GD, FA, MO, DIL = range(9)
RELATION = ["户主", "配偶", "子", "女", "孙子", "孙女", "父亲", "母亲", "儿媳"]
C, G, P = -1, -2, -3  # template wildcards: son/daughter, grandson/granddaughter, father/mother
# (roles, head age low, head age high, weight) per household size
TEMPLATES: dict[int, list[tuple[tuple[int, ...], int, int, float]]] = {
    1: [((H,), 22, 92, 1.0)],
    2: [((H, SP), 24, 88, 0.8), ((H, C), 40, 80, 0.2)],
    3: [((H, SP, C), 25, 62, 0.85), ((H, C, G), 50, 80, 0.15)],
    4: [((H, SP, C, C), 27, 60, 0.7), ((H, SP, C, P), 28, 55, 0.3)],
    5: [((H, SP, C, C, P), 28, 58, 0.5), ((H, SP, C, DIL, G), 48, 72, 0.5)],
    6: [((H, SP, C, DIL, G, G), 50, 75, 0.6), ((H, SP, C, C, P, P), 30, 55, 0.4)],
    7: [((H, SP, C, DIL, G, G, P), 45, 62, 1.0)],
}
SIZE_P = np.array([0.12, 0.24, 0.22, 0.19, 0.12, 0.07, 0.04])
# Category weights (codes missing from a pack are dropped and the rest renormalised).
CATEGORY_WEIGHTS = {
    "dibao": 30, "tuopin": 20, "jiance": 12, "disabled": 10, "fanpin": 5, "dibao_edge": 5, "tekun": 5,
    "youfu": 3, "jisheng_special": 3, "two_daughters": 3, "one_daughter": 2, "orphan": 1, "kunjing_child": 1,
}
CATEGORY_SHARE = 0.10
LATE_RECOGNISED_SHARE = 0.05
MIGRANT_SHARE = 0.15
PHONE_PREFIXES = ["130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155",
                  "157", "158", "159", "166", "177", "180", "181", "186", "187", "188", "189", "199"]
_ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK_CHARS = np.array(list("10X98765432"))
_EPOCH = np.datetime64("1970-01-01", "D")
_POW10 = 10 ** np.arange(16, -1, -1, dtype=np.int64)


class DemoError(ValueError):
    """Demo generation refused; message_zh says why and what to do."""

    def __init__(self, message_zh: str) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh


@dataclass
class DemoSummary:
    locality_id: str
    coverage_year: int
    persons: int = 0
    households: int = 0
    payments: int = 0
    categories: int = 0
    villages_created: int = 0
    seconds: float = 0.0
    samples: list[tuple[str, str, bool]] = field(default_factory=list)  # (id_number, name, paid)
    files: list[Path] = field(default_factory=list)


def check_digits(bodies: np.ndarray) -> np.ndarray:
    """GB 11643 check characters for many 17-digit bodies (int64) at once."""
    digits = (bodies[:, None] // _POW10) % 10
    return _CHECK_CHARS[(digits @ _ID_WEIGHTS) % 11]


class SeqCounter:
    """Order codes already used per (region, birth day, sex), as one small array (days since 1900)."""

    FIRST_DAY = -25567  # 1900-01-01
    DAYS = 60000  # to 2064

    def __init__(self, n_regions: int) -> None:
        self.used = np.zeros(n_regions * self.DAYS * 2, dtype=np.int32)

    def take(self, region_idx: np.ndarray, birth: np.ndarray, male: np.ndarray) -> np.ndarray:
        """The k-th free slot for each person (k ≥ 0), unique within and across calls."""
        key = (region_idx * self.DAYS + (birth - self.FIRST_DAY)) * 2 + male.astype(np.int64)
        order = np.argsort(key, kind="stable")
        sorted_key = key[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
        rank_sorted = np.arange(len(key)) - np.repeat(starts, np.diff(np.r_[starts, len(key)]))
        rank = np.empty_like(rank_sorted)
        rank[order] = rank_sorted
        k = self.used[key] + rank
        np.add.at(self.used, key, 1)
        return k


def _id_numbers(region_idx: np.ndarray, birth: np.ndarray, male: np.ndarray, regions: list[str],
                seq: SeqCounter) -> list[str]:
    """Valid 18-digit numbers: region, birth date, order code (odd for men), check digit."""
    k = seq.take(region_idx, birth, male)
    if len(k) and int(k.max()) >= 500:  # 500 people of one sex born the same day in one county
        raise DemoError("生成的人数超出了身份证顺序码的容量，请减小 --scale。")
    order_code = k * 2 + male.astype(np.int64)
    by, bm, bd = _ymd(birth)
    region_num = np.array([int(r) for r in regions], dtype=np.int64)[region_idx]
    bodies = region_num * 10**11 + (by * 10000 + bm * 100 + bd) * 1000 + order_code
    checks = check_digits(bodies).tolist()
    return [f"{b:017d}{c}" for b, c in zip(bodies.tolist(), checks, strict=True)]


def _ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = _EPOCH + days.astype("timedelta64[D]")
    years = d.astype("datetime64[Y]").astype(np.int64) + 1970
    months = d.astype("datetime64[M]").astype(np.int64) % 12 + 1
    mdays = (d - d.astype("datetime64[M]")).astype(np.int64) + 1
    return years, months, mdays


def _age_on(birth: np.ndarray, on: np.ndarray) -> np.ndarray:
    by, bm, bd = _ymd(birth)
    oy, om, od = _ymd(on)
    return oy - by - ((om * 100 + od) < (bm * 100 + bd))


@cache
def _iso_day(day: int) -> str:
    """Day number (since 1970-01-01) → 'YYYY-MM-DD', memoised (only tens of thousands of distinct days)."""
    return (dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat()


def _day(d: dt.date) -> int:
    return (d - dt.date(1970, 1, 1)).days


def _nearby_codes(division: str) -> list[str]:
    """Other county codes of the same city (people move; the card shows where it was issued)."""
    base = int(division[4:])
    return [f"{division[:4]}{c:02d}" for c in (base - 2, base - 1, base + 1, base + 2) if 1 <= c <= 99]


def _split(total: int, parts: int, rng: np.random.Generator) -> np.ndarray:
    """Split total into `parts` uneven non-negative integers (largest remainder)."""
    share = rng.dirichlet(np.full(parts, 12.0)) * total
    counts = np.floor(share).astype(np.int64)
    rest = total - counts.sum()
    if rest:
        counts[np.argsort(-(share - counts))[:rest]] += 1
    return counts


def _village_names(rng: np.random.Generator, k: int) -> list[str]:
    names: list[str] = []
    while len(names) < k:
        if rng.random() < 0.3:
            name = VILLAGE_PREFIX[rng.integers(len(VILLAGE_PREFIX))] + VILLAGE_STEMS[rng.integers(len(VILLAGE_STEMS))]
        else:
            name = SURNAMES[rng.integers(40)] + VILLAGE_STEMS[rng.integers(len(VILLAGE_STEMS))]
        name += "社区" if not names and rng.random() < 0.5 else "村"
        if name not in names:
            names.append(name)
    return names


class _Amounts:
    """Personal contribution from the policy engine, cached by what it depends on here."""

    def __init__(self, pack: Any) -> None:
        from bot.policy import engine

        self.engine, self.pack = engine, pack
        self.cache: dict[tuple[str | None, int, bool], Decimal | None] = {}
        self.text: dict[tuple[str | None, int, bool], str] = {}  # the same, formatted, for known amounts

    def __call__(self, category: str | None, age: int, migrant: bool, on_day: int) -> Decimal | None:
        key = (category, min(age, 120), migrant)
        if key not in self.cache:
            from bot.policy.engine import Person as PolicyPerson

            cats = (category,) if category else ()
            on = dt.date(1970, 1, 1) + dt.timedelta(days=on_day)
            answer = self.engine.amount(self.pack, PolicyPerson(categories=cats, age=key[1], migrant=migrant), on=on)
            if not answer.ok or answer.personal is None:
                # The document does not state this category's amount: the person paid the standard.
                answer = self.engine.amount(self.pack, PolicyPerson(age=key[1], migrant=migrant), on=on)
            self.cache[key] = answer.personal if answer.ok else None
            if self.cache[key] is not None:
                self.text[key] = f"{self.cache[key]:.2f}"
        return self.cache[key]


def _bulk_insert(session: Session, table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    if not rows:
        return
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


# Secondary (non-unique) indexes rebuilt after a SQLite bulk load: building one by sorting is much
# cheaper than updating it row by row. Inside the caller's transaction, so a failure restores them.
_DEFERRABLE_INDEXES = {
    "ix_person_area": "CREATE INDEX ix_person_area ON person (area_id)",
    "ix_person_household": "CREATE INDEX ix_person_household ON person (household_id)",
    "ix_household_area": "CREATE INDEX ix_household_area ON household (area_id)",
}


def _defer_indexes(session: Session) -> list[str]:
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return []
    present = set(conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'index'").scalars())
    dropped = [name for name in _DEFERRABLE_INDEXES if name in present]
    for name in dropped:
        conn.exec_driver_sql(f"DROP INDEX {name}")
    return dropped


def _restore_indexes(session: Session, dropped: list[str]) -> None:
    conn = session.connection()
    for name in dropped:
        conn.exec_driver_sql(_DEFERRABLE_INDEXES[name])


def _next_id(session: Session, model: Any) -> int:
    return (session.execute(select(func.max(model.id))).scalar() or 0) + 1


def _fix_sequences(session: Session, tables: Iterable[str]) -> None:
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE((SELECT MAX(id) FROM {table}), 1))"
        )


@dataclass
class _Place:
    area_id: Any  # int once villages are flushed
    town_name: str
    village_name: str
    size: int
    paid_rate: float


def generate(session: Session, locality_id: str, scale: float = 1.0, seed: int = 0,
             out_dir: Path | str | None = None) -> DemoSummary:
    """Fill the registry of `locality_id` with generated residents; see the module docstring.

    Refuses (DemoError) when the locality has no policy pack or already has residents. Does not
    commit: the caller's session_scope does, so nothing is half-written on failure.
    """
    from bot.policy import all_packs, get_pack
    from bot.registry.db import seed_localities

    started = time.perf_counter()
    pack = get_pack(locality_id)
    if pack is None:
        known = "、".join(sorted({p.locality.id for p in all_packs()}))
        raise DemoError(f"没有找到地区“{locality_id}”的政策包。可用的地区：{known}。")
    if not scale > 0:
        raise DemoError("规模（--scale）必须大于 0，例如 1.0 表示按任务数全量生成，0.01 表示 1%。")
    seed_localities(session, [pack])
    session.flush()
    existing = session.execute(
        select(func.count()).select_from(Household).where(Household.locality_id == locality_id)
    ).scalar_one()
    if existing:
        raise DemoError(f"{pack.locality.name_zh}的登记库里已有 {existing} 户数据；演示数据只能生成到空库。"
                        "请换一个数据库（DATABASE_URL）后再试。")
    loc = session.get(Locality, locality_id)
    assert loc is not None
    division = pack.locality.division_code
    regions = [division, *_nearby_codes(division)]
    period = pack.dates.collection
    pay_start = period.start or (period.end - dt.timedelta(days=90))
    today = clock.today()
    pay_end = min(period.end, today) if pay_start <= today else period.end
    ref_day = _day(pay_start)  # ages are built relative to the period start (births never after it)
    categories = [c.code for c in pack.categories if c.code in CATEGORY_WEIGHTS]
    cat_p = np.array([CATEGORY_WEIGHTS[c] for c in categories], dtype=float)
    cat_p = cat_p / cat_p.sum() if len(cat_p) else cat_p
    cat_name = {c.code: c.name_zh for c in pack.categories}
    channels = [c.name for c in pack.payment.channels]
    amounts = _Amounts(pack)
    summary = DemoSummary(locality_id=locality_id, coverage_year=pack.coverage_year)
    base_rng = np.random.default_rng([seed, zlib.crc32(locality_id.encode())])

    # Places: top-level task-table areas, with generated villages below towns.
    top = {a.name: a for a in session.execute(
        select(Area).where(Area.locality_id == locality_id, Area.parent_id.is_(None))).scalars()}
    places: list[_Place] = []
    for entry in pack.task_table.entries:
        area = top[entry.name]
        size = int(round(entry.target * scale))
        if pack.task_table.level == "village":
            town_name = pack.locality.name_zh
            places.append(_Place(area.id, town_name, entry.name, size, float(base_rng.uniform(0.80, 0.95))))
            continue
        # 3–12 villages, more for bigger towns (about 8,000 people each at full scale), so no
        # generated village is implausibly large.
        k = int(np.clip(round(size / 8000) + int(base_rng.integers(-1, 2)), 3, 12))
        for name, n in zip(_village_names(base_rng, k), _split(size, k, base_rng), strict=True):
            village = Area(locality_id=locality_id, level="village", name=name, parent_id=area.id)
            session.add(village)
            places.append(_Place(village, entry.name, name, int(n), float(base_rng.uniform(0.80, 0.95))))
            summary.villages_created += 1
    session.flush()  # one flush assigns every new village its id
    for place in places:
        if isinstance(place.area_id, Area):
            place.area_id = place.area_id.id

    roster_out = payments_out = None
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        summary.files = [out / "roster.csv", out / "payments.csv"]
        roster_f = summary.files[0].open("w", encoding="utf-8", newline="")
        payments_f = summary.files[1].open("w", encoding="utf-8", newline="")
        roster_out, payments_out = csv.writer(roster_f), csv.writer(payments_f)
        roster_out.writerow(ROSTER_HEADER)
        payments_out.writerow(PAYMENTS_HEADER)

    next_hh, next_person = _next_id(session, Household), _next_id(session, Person)
    deferred = _defer_indexes(session)
    seq_used = SeqCounter(len(regions))
    try:
        ids_next = {"household": next_hh, "person": next_person}

        def produce(index: int, place: _Place) -> _Batch:
            # Runs in one worker thread, places strictly in order: ids, order codes and the amount
            # cache are only touched here, so the result is the same as a sequential run.
            batch = _generate_place(
                np.random.default_rng([seed, zlib.crc32(locality_id.encode()), index]), place,
                regions=regions, ref_day=ref_day, pay_start=_day(pay_start), pay_end=_day(pay_end),
                categories=categories, cat_p=cat_p, channels=channels, amounts=amounts, seq_used=seq_used,
                first_household=ids_next["household"], first_person=ids_next["person"], division=division,
                locality_id=locality_id, coverage_year=pack.coverage_year, period_end=_day(period.end),
                cat_name=cat_name, with_files=out_dir is not None,
            )
            ids_next["household"] += len(batch.households)
            ids_next["person"] += len(batch.persons)
            return batch

        work = [(index, place) for index, place in enumerate(places) if place.size > 0]
        # Generate the next place while this one is inserted (numpy and SQLite release the GIL).
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="demo-gen") as pool:
            pending = pool.submit(produce, *work[0]) if work else None
            for k in range(len(work)):
                assert pending is not None
                batch = pending.result()
                pending = pool.submit(produce, *work[k + 1]) if k + 1 < len(work) else None
                _bulk_insert(session, "household", ("id", "locality_id", "code", "area_id"), batch.households)
                _bulk_insert(session, "person", ("id", "id_number", "name", "household_id", "relation", "area_id",
                                                 "phone", "migrant", "birth_date"), batch.persons)
                _bulk_insert(session, "category_membership", ("person_id", "category", "recognised_on"), batch.categories)
                _bulk_insert(session, "payment", ("person_id", "coverage_year", "paid_on", "amount", "channel",
                                                  "source_file"), batch.payments)
                summary.households += len(batch.households)
                summary.persons += len(batch.persons)
                summary.categories += len(batch.categories)
                summary.payments += len(batch.payments)
                if len(summary.samples) < 3:
                    summary.samples.extend(batch.samples[: 3 - len(summary.samples)])
                if roster_out is not None and payments_out is not None:
                    _write_files(roster_out, payments_out, batch)
        _fix_sequences(session, ("household", "person"))
        _restore_indexes(session, deferred)
    finally:
        if out_dir is not None:
            roster_f.close()
            payments_f.close()
    session.expire_all()
    summary.seconds = time.perf_counter() - started
    return summary


@dataclass
class _Batch:
    households: list[tuple]
    persons: list[tuple]
    categories: list[tuple]
    payments: list[tuple]
    samples: list[tuple[str, str, bool]]
    roster_rows: list[tuple]  # CSV rows in household order (empty without out_dir)
    paid_rows: list[tuple[str, str, str, str, str]]


def _generate_place(rng: np.random.Generator, place: _Place, *, regions: list[str], ref_day: int, pay_start: int,
                    pay_end: int, categories: list[str], cat_p: np.ndarray, channels: list[str], amounts: _Amounts,
                    seq_used: SeqCounter, first_household: int, first_person: int,
                    division: str, locality_id: str, coverage_year: int, period_end: int,
                    cat_name: dict[str, str], with_files: bool) -> _Batch:
    n = place.size
    # Household sizes until n persons (the last household is cut to fit).
    sizes = rng.choice(np.arange(1, 8), size=n // 2 + 8, p=SIZE_P)
    ends = np.cumsum(sizes)
    n_hh = int(np.searchsorted(ends, n) + 1)
    sizes = sizes[:n_hh].copy()
    sizes[-1] -= int(ends[n_hh - 1] - n)
    # Templates (by size), head ages, roles in household order.
    pick_by_hh = np.zeros(n_hh, dtype=np.int64)
    head_age = np.empty(n_hh)
    for size in range(1, 8):
        idx = np.nonzero(sizes == size)[0]
        if not len(idx):
            continue
        options = TEMPLATES[size]
        weights = np.array([o[3] for o in options])
        pick = rng.choice(len(options), size=len(idx), p=weights / weights.sum())
        pick_by_hh[idx] = pick
        head_age[idx] = rng.uniform(np.array([o[1] for o in options])[pick], np.array([o[2] for o in options])[pick])
    roles = np.fromiter(
        (r for size, p in zip(sizes.tolist(), pick_by_hh.tolist(), strict=True) for r in TEMPLATES[size][p][0]),
        dtype=np.int64, count=int(sizes.sum()),
    )
    hh_of = np.repeat(np.arange(n_hh), sizes)
    # Resolve wildcards.
    coin = rng.random(n) < 0.5
    roles = np.where(roles == C, np.where(coin, SON, DAU), roles)
    roles = np.where(roles == G, np.where(coin, GS, GD), roles)
    roles = np.where(roles == P, np.where(coin, FA, MO), roles)
    # Ages from the head's.
    head = head_age[hh_of]
    offset = np.zeros(n)
    offset[roles == SP] = rng.normal(-1.5, 3.0, size=int((roles == SP).sum()))
    for rset, lo, hi in (((SON, DAU), -36, -22), ((DIL,), -34, -20), ((GS, GD), -62, -44), ((FA, MO), 22, 34)):
        mask = np.isin(roles, rset)
        offset[mask] = rng.uniform(lo, hi, size=int(mask.sum()))
    age = head + offset
    age = np.where(age < 0, rng.uniform(0, 1.5, size=n), age)
    age = np.minimum(age, rng.uniform(96, 103, size=n))
    birth = ref_day - np.floor(age * 365.2425).astype(np.int64)
    # Sex: heads mostly male, spouses opposite.
    head_male = rng.random(n_hh) < 0.85
    male = np.isin(roles, (SON, GS, FA))
    male |= (roles == H) & head_male[hh_of]
    male |= (roles == SP) & ~head_male[hh_of]
    # ID numbers: region, birth date, order code unique per (region, date, sex), check digit.
    region_idx = np.where(rng.random(n) < 0.9, 0, rng.integers(1, len(regions), size=n)) if len(regions) > 1 \
        else np.zeros(n, dtype=np.int64)
    id_numbers = _id_numbers(region_idx, birth, male, regions, seq_used)
    # Names.
    hh_surname = rng.choice(len(SURNAMES), size=n_hh, p=SURNAME_P)
    own_surname = rng.choice(len(SURNAMES), size=n, p=SURNAME_P)
    inherits = np.isin(roles, (H, SON, DAU, GS, GD, FA))
    surname = np.where(inherits, hh_surname[hh_of], own_surname)
    two_chars = rng.random(n) < 0.7
    g1m, g2m = rng.integers(len(MALE_CHARS), size=n), rng.integers(len(MALE_CHARS), size=n)
    g1f, g2f = rng.integers(len(FEMALE_CHARS), size=n), rng.integers(len(FEMALE_CHARS), size=n)
    names = [
        SURNAMES[s] + (MALE_CHARS[a] + (MALE_CHARS[b] if two else "") if is_m
                       else FEMALE_CHARS[c] + (FEMALE_CHARS[d] if two else ""))
        for s, is_m, two, a, b, c, d in zip(surname.tolist(), male.tolist(), two_chars.tolist(), g1m.tolist(),
                                            g2m.tolist(), g1f.tolist(), g2f.tolist(), strict=True)
    ]
    # Phones: every head, most adults.
    adult = age >= 18
    has_phone = (roles == H) | (adult & (rng.random(n) < 0.5))
    prefixes = rng.integers(len(PHONE_PREFIXES), size=n)
    tails = rng.integers(0, 100_000_000, size=n)
    phones = [PHONE_PREFIXES[p] + f"{t:08d}" if has else None
              for p, t, has in zip(prefixes.tolist(), tails.tolist(), has_phone.tolist(), strict=True)]
    # Migrant workers among working ages, scaled so about MIGRANT_SHARE of everyone.
    working = (age >= 18) & (age < 60)
    p_migrant = min(1.0, MIGRANT_SHARE * n / max(int(working.sum()), 1))
    migrant = working & (rng.random(n) < p_migrant)
    # Categories.
    cat_idx = np.full(n, -1)
    if len(categories):
        chosen = rng.random(n) < CATEGORY_SHARE
        cat_idx[chosen] = rng.choice(len(categories), size=int(chosen.sum()), p=cat_p)
    late = rng.random(n) < LATE_RECOGNISED_SHARE
    recognised = np.where(late, period_end + rng.integers(1, 60, size=n), pay_start - rng.integers(30, 900, size=n))
    # Payments: households pay together on one day; migrants in a paying household sometimes not yet.
    paid_hh = rng.random(n_hh) < place.paid_rate
    paid = paid_hh[hh_of] & ~(migrant & (rng.random(n) < 0.3))
    span = max(pay_end - pay_start, 0)
    hh_day = pay_start + np.floor(rng.beta(1.3, 1.6, size=n_hh) * (span + 1)).astype(np.int64).clip(0, span)
    pay_day = hh_day[hh_of]
    age_at_pay = _age_on(birth, pay_day)
    channel_idx = rng.integers(len(channels), size=n_hh)[hh_of]
    births_after_pay = birth > pay_day
    paid &= ~births_after_pay

    codes = [f"{division}{first_household + i:08d}" for i in range(n_hh)]
    households = [(first_household + i, locality_id, codes[i], place.area_id) for i in range(n_hh)]
    # Plain Python lists from here: indexing numpy arrays element by element is slow.
    iso = _iso_day
    area_id = place.area_id
    # Person ids follow the ID-number order, so the unique ID-number index and the table grow
    # together (in-order B-tree inserts instead of random ones: several times faster at 1M rows).
    order = sorted(range(n), key=id_numbers.__getitem__)
    pid_of = [0] * n
    for rank, i in enumerate(order):
        pid_of[i] = first_person + rank
    pids = pid_of
    hh_of_l = hh_of.tolist()
    hh_ids = [first_household + h for h in hh_of_l]
    relations = [RELATION[r] for r in roles.tolist()]
    migrants = migrant.tolist()
    births = birth.tolist()
    persons = [(pid_of[i], id_numbers[i], names[i], hh_ids[i], relations[i], area_id, phones[i], migrants[i],
                iso(births[i])) for i in order]
    cat_list = cat_idx.tolist()
    person_category = [categories[c] if c >= 0 else None for c in cat_list]
    recognised_l, pay_day_l, age_l = recognised.tolist(), pay_day.tolist(), age_at_pay.tolist()
    channel_l, paid_l = channel_idx.tolist(), paid.tolist()
    cat_rows = [(pid, code, iso(rec)) for pid, code, rec in zip(pids, person_category, recognised_l, strict=True)
                if code is not None]
    pay_rows, paid_csv = [], []
    known = amounts.text  # (category, age, migrant) -> "380.00"; filled through amounts() on a miss
    for i in np.flatnonzero(paid).tolist():
        code, day = person_category[i], pay_day_l[i]
        held = code if (code is not None and recognised_l[i] <= day) else None
        key = (held, min(age_l[i], 120), migrants[i])
        amount_text = known.get(key)
        if amount_text is None:
            if amounts(held, age_l[i], migrants[i], day) is None:
                continue
            amount_text = known[key]
        channel = SUBSIDISED_CHANNEL if amount_text == "0.00" else channels[channel_l[i]]
        day_text = iso(day)
        pay_rows.append((pid_of[i], coverage_year, day_text, amount_text, channel, DEMO_SOURCE))
        if with_files:
            paid_csv.append((id_numbers[i], names[i], day_text, amount_text, channel))
    pay_rows.sort()
    cat_rows.sort()
    roster_rows = [
        (id_numbers[i], names[i], codes[hh_of_l[i]], relations[i], place.town_name, place.village_name,
         phones[i] or "", cat_name.get(person_category[i], "") if person_category[i] else "",
         "是" if migrants[i] else "否")
        for i in range(n)
    ] if with_files else []
    # Samples: a paid head, an unpaid head, a head with a category.
    paid_pids = {row[0] for row in pay_rows}
    heads = np.flatnonzero(roles == H).tolist()
    samples: list[tuple[str, str, bool]] = []
    for want in (True, False):
        i = next((i for i in heads if (pid_of[i] in paid_pids) == want), None)
        if i is not None:
            samples.append((id_numbers[i], names[i], want))
    i = next((i for i in heads if cat_list[i] >= 0), None)
    if i is not None:
        samples.append((id_numbers[i], names[i], pid_of[i] in paid_pids))
    del paid_l
    return _Batch(households, persons, cat_rows, pay_rows, samples, roster_rows, paid_csv)


def _write_files(roster: Any, payments: Any, batch: _Batch) -> None:
    roster.writerows(batch.roster_rows)
    payments.writerows(batch.paid_rows)
