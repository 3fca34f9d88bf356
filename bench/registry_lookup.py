"""Lookup benchmark on the registry bench.registry_import built (run that first).

    .venv/bin/python -m bench.registry_lookup [--n 20000]

One process, one core: `lookup.status` by ID number + name for random people (goal >= 5,000/s,
p99 <= 2 ms) against a bare indexed SELECT by primary key on the same file (the baseline);
`unpaid_by_household` for the largest village (goal <= 200 ms) and `completion` for every town of
the county (goal <= 2 s).
"""

from __future__ import annotations

import argparse
import csv
import random
import sqlite3
import statistics
import time
from itertools import islice

from rich.console import Console
from rich.table import Table

from bench.registry_import import bench_dir


def _percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--locality", default="tengzhou")
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()

    from sqlmodel import Session

    from bot.policy import get_pack
    from bot.registry import db, lookup

    db_path = bench_dir() / "registry.db"
    roster = bench_dir() / f"{args.locality}-{args.scale:g}-0" / "roster.csv"
    year = get_pack(args.locality).coverage_year
    rng = random.Random(1)
    with open(roster, encoding="utf-8-sig", newline="") as fh:
        people = [(r[0], r[1]) for r in islice(csv.reader(fh), 1, None)]
    sample = [people[rng.randrange(len(people))] for _ in range(args.n)]

    raw = sqlite3.connect(db_path)
    max_id = raw.execute("SELECT max(id) FROM person").fetchone()[0]
    keys = [rng.randint(1, max_id) for _ in range(args.n)]
    base_lat: list[float] = []
    t0 = time.perf_counter()
    for k in keys:
        s = time.perf_counter()
        raw.execute("SELECT * FROM person WHERE id = ?", (k,)).fetchone()
        base_lat.append(time.perf_counter() - s)
    base_rate = args.n / (time.perf_counter() - t0)

    engine = db.get_engine(f"sqlite:///{db_path}")
    lat: list[float] = []
    found = 0
    with Session(engine) as session:
        for number, name in sample[:200]:  # warm the caches (policy packs, statement cache)
            lookup.status(session, number, name, year)
        t0 = time.perf_counter()
        for number, name in sample:
            s = time.perf_counter()
            found += lookup.status(session, number, name, year).found
            lat.append(time.perf_counter() - s)
        rate = args.n / (time.perf_counter() - t0)

        largest = raw.execute(
            "SELECT a.id, a.name, count(*) c FROM person p JOIN area a ON a.id = p.area_id "
            "WHERE a.level = 'village' GROUP BY a.id ORDER BY c DESC LIMIT 1"
        ).fetchone()
        t0 = time.perf_counter()
        unpaid = lookup.unpaid_by_household(session, largest[0], year)
        unpaid_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        towns = lookup.completion(session, args.locality, year)
        completion_s = time.perf_counter() - t0

    p99 = _percentile(lat, 0.99) * 1000
    table = Table(title=f"Registry lookups: {args.locality}, {len(people):,} people, {args.n:,} status lookups")
    for col in ("measure", "value", "baseline", "goal", "pass"):
        table.add_column(col)
    table.add_row("status lookups/s (1 core)", f"{rate:,.0f}", f"bare PK SELECT {base_rate:,.0f}/s", ">= 5,000/s",
                  "yes" if rate >= 5000 else "NO")
    table.add_row("status p50 / p99", f"{_percentile(lat, 0.5) * 1000:.2f} / {p99:.2f} ms",
                  f"{_percentile(base_lat, 0.5) * 1000:.3f} / {_percentile(base_lat, 0.99) * 1000:.3f} ms",
                  "p99 <= 2 ms", "yes" if p99 <= 2 else "NO")
    table.add_row("  found", f"{found:,} of {args.n:,}", "", "all", "yes" if found == args.n else "NO")
    table.add_row(f"unpaid list, largest village ({largest[1]}, {largest[2]:,} people)",
                  f"{unpaid_s * 1000:.0f} ms ({len(unpaid):,} households)", "", "<= 200 ms",
                  "yes" if unpaid_s <= 0.2 else "NO")
    table.add_row(f"completion, every town ({len(towns)})", f"{completion_s * 1000:.0f} ms", "", "<= 2 s",
                  "yes" if completion_s <= 2 else "NO")
    Console().print(table)


if __name__ == "__main__":
    main()
