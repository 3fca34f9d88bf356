"""Roster import benchmark: our importer vs the database's own bulk loader, in one run.

    .venv/bin/python -m bench.registry_import [--scale 1.0] [--locality tengzhou]

Generates the locality's roster and payments with `bot.registry.demo` (cached in
$YIBAO_BENCH_DIR, default /tmp/yibao-bench), then measures:
  * `yibao`'s import into a fresh SQLite file vs the sqlite3 shell's `.import` of the same CSV into
    a bare table (goal: <= 60 s and <= 2.5x the shell); peak memory of the importing child
    process (goal: <= 400 MB);
  * the same into PostgreSQL vs `psql \\copy` (when DATABASE_URL_PG is set);
  * the payments import (no goal; reported).
The SQLite registry it builds is what bench.registry_lookup measures.
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


def sqlite_shell_import(csv_path: Path) -> float:
    target = bench_dir() / "shell-baseline.db"
    target.unlink(missing_ok=True)
    seconds = timed(["sqlite3", str(target), "-cmd", ".mode csv", f".import {csv_path} roster"])
    target.unlink(missing_ok=True)
    return seconds


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


def psql_copy(libpq: str, csv_path: Path) -> float:
    psql = shutil.which("psql") or "/usr/bin/psql"
    cols = ", ".join(f"c{i} text" for i in range(9))
    subprocess.run([psql, libpq, "-q", "-c", f"DROP TABLE IF EXISTS roster_bare; CREATE TABLE roster_bare ({cols})"],
                   check=True, capture_output=True)
    seconds = timed([psql, libpq, "-q", "-c", f"\\copy roster_bare FROM '{csv_path}' WITH (FORMAT csv, HEADER true)"])
    subprocess.run([psql, libpq, "-q", "-c", "DROP TABLE roster_bare"], check=True, capture_output=True)
    return seconds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--locality", default="tengzhou")
    ap.add_argument("--child", nargs=5, metavar=("KIND", "URL", "PATH", "LOCALITY", "YEAR"))
    args = ap.parse_args()
    if args.child:
        kind, url, path, locality, year = args.child
        child(kind, url, path, locality, int(year))
        return

    from bot.policy import get_pack

    console = Console()
    pack = get_pack(args.locality)
    year = pack.coverage_year
    t0 = time.perf_counter()
    roster, payments = generate(args.locality, args.scale)
    with open(roster, "rb") as fh:
        rows = sum(1 for _ in fh) - 1
    console.print(f"data: {rows:,} roster rows ({roster}), generated/cached in {time.perf_counter() - t0:.1f}s")

    db_path = bench_dir() / "registry.db"
    for p in bench_dir().glob("registry.db*"):
        p.unlink()
    url = f"sqlite:///{db_path}"
    # Schema and locality seeding happen once, outside the timed import, as after `yibao` first runs.
    subprocess.run([PY, "-c", f"from bot.registry import db; from bot.registry.importers.common import prepare_engine; "
                    f"prepare_engine(db.get_engine({url!r}))"], cwd=ROOT, check=True)
    shell = sqlite_shell_import(roster)
    ours = run_child("roster", url, roster, args.locality, year)
    pays = run_child("payments", url, payments, args.locality, year)

    table = Table(title=f"Registry import: {args.locality}, {rows:,} roster rows")
    for col in ("measure", "value", "baseline", "ratio", "goal", "pass"):
        table.add_column(col)
    ratio = ours["import_seconds"] / shell
    ok_time = ours["import_seconds"] <= 60 * max(args.scale, 1e-9)
    table.add_row("SQLite roster import", f"{ours['import_seconds']:.1f} s", f"sqlite3 .import {shell:.1f} s",
                  f"{ratio:.2f}x", "<= 60 s, <= 2.5x", "yes" if ok_time and ratio <= 2.5 else "NO")
    table.add_row("  rows/s", f"{ours['rows'] / ours['import_seconds']:,.0f}", f"{rows / shell:,.0f}", "", "", "")
    table.add_row("  peak memory (child maxrss)", f"{ours['maxrss_mb']:.0f} MB", "", "", "<= 400 MB",
                  "yes" if ours["maxrss_mb"] <= 400 else "NO")
    table.add_row("SQLite payments import", f"{pays['import_seconds']:.1f} s ({pays['rows']:,} rows, {pays['bad']} bad)",
                  "", "", "", "")

    base = os.environ.get("DATABASE_URL_PG")
    if base:
        name = "yibao_bench"
        pg_recreate(base, name)
        sqla, libpq = pg_urls(base, name)
        subprocess.run([PY, "-c", f"from bot.registry import db; from bot.registry.importers.common import prepare_engine; "
                        f"prepare_engine(db.get_engine({sqla!r}))"], cwd=ROOT, check=True)
        copy = psql_copy(libpq, roster)
        pg = run_child("roster", sqla, roster, args.locality, year)
        pg_ratio = pg["import_seconds"] / copy
        table.add_row("PostgreSQL roster import", f"{pg['import_seconds']:.1f} s", f"psql \\copy {copy:.1f} s",
                      f"{pg_ratio:.2f}x", "(same goals)",
                      "yes" if pg["import_seconds"] <= 60 and pg_ratio <= 2.5 else "NO")
        table.add_row("  peak memory (child maxrss)", f"{pg['maxrss_mb']:.0f} MB", "", "", "<= 400 MB",
                      "yes" if pg["maxrss_mb"] <= 400 else "NO")
    else:
        table.add_row("PostgreSQL", "skipped: DATABASE_URL_PG not set", "", "", "", "")
    console.print(table)
    console.print(f"SQLite registry for bench.registry_lookup: {db_path}")


if __name__ == "__main__":
    main()
