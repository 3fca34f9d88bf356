"""What the enrolment history costs a status lookup (issue 14).

    .venv/bin/python -m bench.status_history [--scale 0.05] [--n 20000]

Generates a 五河 demo registry in a temporary SQLite file, gives a third of the people three past
years of payments and a third three imported history rows, then times `lookup.status` (which now
also reads every payment year and the imported history, and derives the continuous run) against
the status lookup as it was before the history (person, one year's payments, categories, the
memoised benefit start), same file, same people, same process. Prints one table; nothing is
asserted (timings belong here, not in tests).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import shutil
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from rich.console import Console
from rich.table import Table


def _pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] * 1000


def _before(session, id_number: str, name: str, year: int):  # noqa: ANN001, ANN202
    """lookup.status before issue 14: the same driver SQL minus the history (kept here as the baseline)."""
    from bot.registry import ids, lookup

    check = ids.validate(id_number)
    conn = session.connection()
    cur = conn.connection.cursor()
    try:
        cur.execute(lookup._SQL_PERSON.format("?"), (check.number,))
        row = cur.fetchone()
        if row is None or not lookup.names_match(row[1], name):
            return None
        person_id, _n, _h, migrant, birth, locality_id = row
        cur.execute("SELECT MIN(paid_on), SUM(amount) FROM payment WHERE person_id = ? AND coverage_year = ?",
                    (person_id, year))
        pay = cur.fetchone()
        cur.execute(lookup._SQL_CATEGORIES.format("?"), (person_id,))
        categories = tuple(sorted(r[0] for r in cur.fetchall()))
    finally:
        cur.close()
    paid_on = lookup._as_date(pay[0]) if pay else None
    if paid_on is not None:
        lookup._benefit(locality_id, paid_on, categories, bool(migrant), lookup._as_date(birth))
    return person_id


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=0.05)
    ap.add_argument("--n", type=int, default=20000)
    args = ap.parse_args()
    os.environ.setdefault("YIBAO_TODAY", "2023-11-20")

    from sqlalchemy import text
    from sqlmodel import Session

    from bot.registry import db, lookup
    from bot.registry.demo import generate
    from bot.registry.models import Payment

    tmp = Path(tempfile.mkdtemp(prefix="yibao-bench-"))
    engine = db.get_engine(f"sqlite:///{tmp / 'registry.db'}")
    db.ensure_schema(engine)
    t0 = time.perf_counter()
    with db.session_scope(engine) as session:
        generate(session, "wuhe", scale=args.scale, seed=0)
    with db.session_scope(engine) as session:
        people = session.execute(text("SELECT id, id_number, name FROM person")).all()
        rows = []
        for i, (pid, _num, _name) in enumerate(people):
            if i % 3 == 0:
                for year in (2021, 2022, 2023):
                    session.add(Payment(person_id=pid, coverage_year=year, paid_on=dt.date(year - 1, 11, 1),
                                        amount=Decimal("350"), channel="微信", source_file="bench"))
            elif i % 3 == 1:
                rows += [{"p": pid, "y": y, "i": y != 2022, "z": None} for y in (2020, 2021, 2022)]
        session.execute(text("INSERT INTO enrolment_history (person_id, coverage_year, insured, scheme, zero_claim, "
                             "source_file) VALUES (:p, :y, :i, 'resident', :z, 'bench')"), rows)
    built = time.perf_counter() - t0
    rng = random.Random(1)
    sample = [people[rng.randrange(len(people))] for _ in range(args.n)]
    year = 2024
    results = {}
    with Session(engine) as session:
        for _pid, number, name in sample[:300]:  # warm both paths (packs, statement caches)
            lookup.status(session, number, name, year)
            _before(session, number, name, year)
        for label, call in (("before (no history)", _before), ("lookup.status (with history)", lookup.status)):
            lat = []
            t0 = time.perf_counter()
            for _pid, number, name in sample:
                s = time.perf_counter()
                call(session, number, name, year)
                lat.append(time.perf_counter() - s)
            results[label] = (args.n / (time.perf_counter() - t0), _pct(lat, 0.5), _pct(lat, 0.99))
    table = Table(title=f"Status lookups with enrolment history: 五河 demo, {len(people):,} people "
                        f"(built in {built:.1f} s), {args.n:,} lookups, 1 core")
    for col in ("path", "lookups/s", "p50 ms", "p99 ms"):
        table.add_column(col)
    for label, (rate, p50, p99) in results.items():
        table.add_row(label, f"{rate:,.0f}", f"{p50:.3f}", f"{p99:.3f}")
    base, new = results["before (no history)"][0], results["lookup.status (with history)"][0]
    table.add_row("ratio (with / before)", f"{new / base:.2f}", "", "")
    Console().print(table)
    Console().print(f"load: {os.getloadavg()}, cores: {os.cpu_count()}")
    engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
