"""Roster import benchmark: our importer vs the database's own bulk loader, in one run.

    .venv/bin/python -m bench.registry_import [--scale 1.0] [--locality tengzhou] [--repeat 3]

Generates the locality's roster and payments with `bot.registry.demo` (cached in
$YIBAO_BENCH_DIR, default /tmp/yibao-bench), then measures, each against the database's own bulk
loader on the same file in the same run (issue 13):
  * roster and payments import into a fresh SQLite file vs the sqlite3 shell's `.import` of the
    same CSV into a bare table (goal: <= 2.5x);
  * the same into PostgreSQL vs `psql \\copy` into a bare table (goal: <= 2x; needs DATABASE_URL_PG);
  * peak memory of each importing child process (goal: <= 400 MB).
A second baseline puts each loader's figure for the same file into a bare table that carries a unique
index like ours (the ID number; for payments the dedupe key's columns): the database's own floor for
a table that must refuse duplicates, which the bare-table goal does not include. A second table
("the floor under the goal") adds, per file, the loader into a table with our keys (PostgreSQL: the
serial primary key as well) and the thinnest importer Python allows (split each line, hand the
fields to the driver, nothing checked), both as ratios to the bare loader: where those are above the
goal, no importer that reads the fields in Python and writes our tables can meet it.
The machine's load (`uptime`) and core count are printed with the table: the machine is shared, so
the ratio, not the absolute time, is the figure to compare. The SQLite registry it builds is what
bench.registry_lookup measures.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def bench_dir() -> Path:
    path = Path(os.environ.get("YIBAO_BENCH_DIR", "/tmp/yibao-bench"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def generate(locality: str, scale: float, seed: int = 0) -> tuple[Path, Path]:
    out = bench_dir() / f"{locality}-{scale:g}-{seed}"
    roster, payments = out / "roster.csv", out / "payments.csv"
    if roster.exists() and payments.exists():
        return roster, payments
    from bot.registry import db, demo

    out.mkdir(parents=True, exist_ok=True)
    scratch = out / "generate.db"
    scratch.unlink(missing_ok=True)
    engine = db.get_engine(f"sqlite:///{scratch}")
    db.ensure_schema(engine)
    with db.session_scope(engine) as session:
        db.seed_localities(session)
        demo.generate(session, locality, scale=scale, seed=seed, out_dir=out)
    engine.dispose()
    for p in out.glob("generate.db*"):
        p.unlink()
    return roster, payments


def child(kind: str, url: str, path: str, locality: str, year: int) -> None:
    """Run one import in this (child) process and print its figures as JSON."""
    from bot.registry import db
    from bot.registry.importers import import_payments, import_roster

    started = time.perf_counter()
    engine = db.get_engine(url)
    if kind == "roster":
        report = import_roster(path, locality, engine=engine)
    else:
        report = import_payments(path, year, engine=engine)
    print(json.dumps({
        "seconds": time.perf_counter() - started, "import_seconds": report.seconds, "rows": report.rows,
        "inserted": report.inserted, "bad": report.bad,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


def run_child(kind: str, url: str, path: Path, locality: str, year: int) -> dict:
    started = time.perf_counter()
    out = subprocess.run(
        [PY, "-m", "bench.registry_import", "--child", kind, url, str(path), locality, str(year)],
        cwd=ROOT, check=True, capture_output=True, text=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["wall"] = time.perf_counter() - started
    return result


def timed(cmd: list[str], **kw: object) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True, **kw)  # type: ignore[call-overload]
    return time.perf_counter() - started


def _width(csv_path: Path) -> int:
    with open(csv_path, encoding="utf-8-sig") as fh:
        return fh.readline().count(",") + 1


def _text_columns(csv_path: Path) -> tuple[list[str], str]:
    """The file's columns as c0, c1, ... and their DDL as text columns (the loaders' bare table)."""
    names = [f"c{i}" for i in range(_width(csv_path))]
    return names, ", ".join(f"{n} text" for n in names)


def _unique_key(csv_path: Path) -> str:
    """The columns a unique index covers in our schema: the ID number (roster), or the payment
    dedupe key's file columns (ID number, date, amount, channel)."""
    return "c0" if _width(csv_path) > 5 else "c0, c2, c3, c4"


def sqlite_shell_import(csv_path: Path, unique: bool = False) -> float:
    """sqlite3 `.import` of the file into a bare table of text columns (optionally with a unique index)."""
    target = bench_dir() / "shell-baseline.db"
    target.unlink(missing_ok=True)
    if unique:
        _names, cols = _text_columns(csv_path)
        subprocess.run(["sqlite3", str(target), f"CREATE TABLE bare ({cols}, UNIQUE ({_unique_key(csv_path)}))"],
                       check=True, capture_output=True)
        seconds = timed(["sqlite3", str(target), "-cmd", ".mode csv", f".import --skip 1 {csv_path} bare"])
    else:
        seconds = timed(["sqlite3", str(target), "-cmd", ".mode csv", f".import {csv_path} bare"])
    target.unlink(missing_ok=True)
    return seconds


def load() -> str:
    """The machine's load average and core count, recorded with every run."""
    return f"load average {os.getloadavg()[0]:.2f} / {os.getloadavg()[1]:.2f} (1/5 min), nproc {os.cpu_count()}"


def pg_urls(base: str, name: str) -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    url = make_url(base).set(database=name)
    sqla = url.render_as_string(hide_password=False)
    libpq = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return sqla, libpq


def pg_recreate(base: str, name: str) -> None:
    from bot.registry import db

    admin = db.get_engine(base).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()


def psql_copy(libpq: str, csv_path: Path, unique: bool = False, keyed: bool = False) -> float:
    """psql `\\copy` of the file into a bare table of text columns (optionally with a unique index;
    `keyed`: also our tables' serial primary key, i.e. the keys of person or payment)."""
    psql = shutil.which("psql") or "psql"
    names, cols = _text_columns(csv_path)
    if unique or keyed:
        cols += f", UNIQUE ({_unique_key(csv_path)})"
    if keyed:
        cols = f"id serial PRIMARY KEY, {cols}"
    subprocess.run([psql, libpq, "-q", "-c", f"DROP TABLE IF EXISTS roster_bare; CREATE TABLE roster_bare ({cols})"],
                   check=True, capture_output=True)
    seconds = timed([psql, libpq, "-q", "-c", f"\\copy roster_bare ({', '.join(names)}) FROM '{csv_path}' "
                     "WITH (FORMAT csv, HEADER true)"])
    subprocess.run([psql, libpq, "-q", "-c", "DROP TABLE roster_bare"], check=True, capture_output=True)
    return seconds


def thinnest(backend: str, target: str, csv_path: Path) -> float:
    """The thinnest Python importer, in a child process: split each line on commas (no quoting, no
    checks, no households) and hand the fields to the driver (sqlite3 `executemany`, psycopg COPY
    `write_row`), into a table with our keys (row id + the unique key). No importer written in
    Python that looks at the fields can be faster than this on the same file."""
    out = subprocess.run([PY, "-m", "bench.registry_import", "--thinnest", backend, target, str(csv_path)],
                         cwd=ROOT, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def thinnest_child(backend: str, target: str, csv_path: str) -> None:
    names, cols = _text_columns(Path(csv_path))
    cols += f", UNIQUE ({_unique_key(Path(csv_path))})"
    target_cols = f"thin ({', '.join(names)})"
    if backend == "sqlite":
        import sqlite3

        Path(target).unlink(missing_ok=True)
        con = sqlite3.connect(target, isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute(f"CREATE TABLE thin (id INTEGER PRIMARY KEY, {cols})")
        started = time.perf_counter()
        with open(csv_path, encoding="utf-8-sig") as fh:
            next(fh)
            con.execute("BEGIN")
            con.executemany(f"INSERT INTO {target_cols} VALUES ({', '.join('?' * len(names))})",
                            (line.rstrip("\n").split(",") for line in fh))
            con.execute("COMMIT")
        seconds = time.perf_counter() - started
        con.close()
        for p in Path(target).parent.glob(Path(target).name + "*"):
            p.unlink()
    else:
        import psycopg

        with psycopg.connect(target) as con:
            con.execute(f"DROP TABLE IF EXISTS thin; CREATE TABLE thin (id serial PRIMARY KEY, {cols})")
            con.commit()
            started = time.perf_counter()
            with open(csv_path, encoding="utf-8-sig") as fh, con.cursor() as cur:
                next(fh)
                with cur.copy(f"COPY {target_cols} FROM STDIN") as copy:
                    for line in fh:
                        copy.write_row(line.rstrip("\n").split(","))
            con.commit()
            seconds = time.perf_counter() - started
            con.execute("DROP TABLE thin")
    print(seconds)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--locality", default="tengzhou")
    ap.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite, postgresql")
    ap.add_argument("--repeat", type=int, default=1, help="rounds; the table shows the fastest of each figure")
    ap.add_argument("--child", nargs=5, metavar=("KIND", "URL", "PATH", "LOCALITY", "YEAR"))
    ap.add_argument("--thinnest", nargs=3, metavar=("BACKEND", "TARGET", "PATH"))
    args = ap.parse_args()
    if args.thinnest:
        thinnest_child(*args.thinnest)
        return
    if args.child:
        kind, url, path, locality, year = args.child
        child(kind, url, path, locality, int(year))
        return

    from bot.policy import get_pack

    console = Console()
    backends = set(args.backends.split(","))
    base = os.environ.get("DATABASE_URL_PG")
    # The baselines are the databases' own loaders; without them there is nothing to compare with.
    # (PostgreSQL is measured only with DATABASE_URL_PG, so only then is psql needed.)
    missing = [tool for tool, needed in (("sqlite3", "sqlite" in backends),
                                         ("psql", bool(base) and "postgresql" in backends))
               if needed and shutil.which(tool) is None]
    if missing:
        sys.exit(f"bench.registry_import needs {' and '.join(missing)} on PATH for its baselines: "
                 "apt-get install sqlite3 postgresql-client (scripts/services.sh installs them as root).")
    pack = get_pack(args.locality)
    year = pack.coverage_year
    t0 = time.perf_counter()
    roster, payments = generate(args.locality, args.scale)
    with open(roster, "rb") as fh:
        rows = sum(1 for _ in fh) - 1
    with open(payments, "rb") as fh:
        pay_rows = sum(1 for _ in fh) - 1
    console.print(f"data: {rows:,} roster rows ({roster}), {pay_rows:,} payments, generated/cached in "
                  f"{time.perf_counter() - t0:.1f}s")
    console.print(f"start: {load()}")

    title = f"Registry import: {args.locality}, {rows:,} roster rows, {pay_rows:,} payments"
    if args.repeat > 1:
        title += f", best of {args.repeat} rounds"
    table = Table(title=title)
    for col in ("measure", "ours", "loader, bare table (same run)", "ratio", "goal", "pass",
                "loader, unique index", "ratio to that", "peak MB"):
        table.add_column(col)

    # Each round measures every loader and every import once, in the same order; with --repeat N the
    # table shows the fastest of the N figures of each (the run least disturbed by other work on a
    # shared machine), and the peak memory of the largest.
    results: dict[str, list[tuple[dict, float, float]]] = {}
    # label -> rounds of (the loader into a table with our keys, the thinnest Python importer).
    floors: dict[str, list[tuple[float, float]]] = {}

    def measure(label: str, ours: dict, loader: float, floor: float, keyed: float, thin: float) -> None:
        results.setdefault(label, []).append((ours, loader, floor))
        floors.setdefault(label, []).append((keyed, thin))

    under = Table(title="The floor under the goal: the same file into a table with our keys (row id + unique key)")
    for col in ("measure", "loader, bare", "loader, our keys", "ratio", "thinnest Python importer", "ratio",
                "ours", "goal"):
        under.add_column(col)

    def add_floor(label: str, goal: float) -> None:
        loader = min(r[1] for r in results[label])
        keyed, thin = (min(r[k] for r in floors[label]) for k in (0, 1))
        ours = min(r[0]["import_seconds"] for r in results[label])
        under.add_row(label, f"{loader:.2f} s", f"{keyed:.2f} s", f"{keyed / loader:.2f}x", f"{thin:.2f} s",
                      f"{thin / loader:.2f}x", f"{ours / loader:.2f}x", f"<= {goal}x")

    def add(label: str, loader_label: str, goal: float) -> None:
        rounds = results[label]
        ours = min((r[0] for r in rounds), key=lambda o: o["import_seconds"])
        loader, floor = min(r[1] for r in rounds), min(r[2] for r in rounds)
        peak = max(r[0]["maxrss_mb"] for r in rounds)
        ratio = ours["import_seconds"] / loader
        table.add_row(
            label, f"{ours['import_seconds']:.2f} s ({ours['rows'] / ours['import_seconds']:,.0f} rows/s, "
            f"{ours['bad']} bad)", f"{loader_label} {loader:.2f} s", f"{ratio:.2f}x", f"<= {goal}x",
            "yes" if ratio <= goal and peak <= 400 else "NO", f"{floor:.2f} s",
            f"{ours['import_seconds'] / floor:.2f}x", f"{peak:.0f}",
        )

    db_path = bench_dir() / "registry.db"
    for _round in range(args.repeat):
        if "sqlite" in backends:
            for p in bench_dir().glob("registry.db*"):
                p.unlink()
            url = f"sqlite:///{db_path}"
            # Schema and locality seeding happen once, outside the timed import, as after `yibao` first runs.
            subprocess.run([PY, "-c", "from bot.registry import db; from bot.registry.importers.common import "
                            f"prepare_engine; prepare_engine(db.get_engine({url!r}))"], cwd=ROOT, check=True)
            # (A SQLite table's row id is its primary key: the unique-index table already has our keys.)
            thin_db = str(bench_dir() / "thinnest.db")
            shell, floor = sqlite_shell_import(roster), sqlite_shell_import(roster, unique=True)
            measure("SQLite roster", run_child("roster", url, roster, args.locality, year), shell, floor,
                    floor, thinnest("sqlite", thin_db, roster))
            shell, floor = sqlite_shell_import(payments), sqlite_shell_import(payments, unique=True)
            measure("SQLite payments", run_child("payments", url, payments, args.locality, year), shell, floor,
                    floor, thinnest("sqlite", thin_db, payments))
        if base and "postgresql" in backends:
            name = "yibao_bench"
            pg_recreate(base, name)
            sqla, libpq = pg_urls(base, name)
            subprocess.run([PY, "-c", "from bot.registry import db; from bot.registry.importers.common import "
                            f"prepare_engine; prepare_engine(db.get_engine({sqla!r}))"], cwd=ROOT, check=True)
            for label, kind, path in (("PostgreSQL roster", "roster", roster),
                                      ("PostgreSQL payments", "payments", payments)):
                copy, floor = psql_copy(libpq, path), psql_copy(libpq, path, unique=True)
                measure(label, run_child(kind, sqla, path, args.locality, year), copy, floor,
                        psql_copy(libpq, path, keyed=True), thinnest("postgresql", libpq, path))
    if "sqlite" in backends:
        for label in ("SQLite roster", "SQLite payments"):
            add(label, "sqlite3 .import", 2.5)
            add_floor(label, 2.5)
    if base and "postgresql" in backends:
        for label in ("PostgreSQL roster", "PostgreSQL payments"):
            add(label, "psql \\copy", 2)
            add_floor(label, 2)
    elif "postgresql" in backends:
        table.add_row("PostgreSQL", "skipped: DATABASE_URL_PG not set", "", "", "", "", "", "", "")
    console.print(table)
    console.print(under)
    console.print(f"end: {load()}")
    if "sqlite" in backends:
        console.print(f"SQLite registry for bench.registry_lookup: {db_path}")


if __name__ == "__main__":
    main()
