"""A roster import killed with SIGKILL part-way leaves the database exactly as it was, on SQLite and
on PostgreSQL (issue 13), both for a locality's first roster (loaded without plain indexes and
foreign keys, rebuilt before commit) and for an update of a registered locality."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from bot.registry.importers import import_roster
from bot.registry.importers.common import prepare_engine

from .data.builders import ROSTER_HEADER, make_id, write_csv, wuhe_people
from .test_import_equivalence import _digest

CHILD = """
import os, sys, time
from pathlib import Path
from bot.registry import db
from bot.registry.importers import import_roster
marker = Path(sys.argv[3])

def progress(done, total, rows):
    marker.write_text(str(rows))
    time.sleep(120)  # killed here: the first chunk is written, the transaction still open

import_roster(sys.argv[2], "wuhe", engine=db.get_engine(sys.argv[1]), progress=progress, chunk_rows=1500)
"""


def _big_roster(path: Path) -> Path:
    towns = ["城关镇", "头铺镇", "朱顶镇", "小溪镇"]
    rows = [[make_id(i % 1000, f"19{50 + i // 1000:02d}0101"), f"居民{i}", f"K{i // 3:05d}", "户主" if i % 3 == 0 else "子",
             towns[i % 4], f"{towns[i % 4][:2]}{i % 7}村", "", "低保" if i % 10 == 0 else "", ""] for i in range(4000)]
    return write_csv(path, ROSTER_HEADER, rows)


@pytest.mark.parametrize("registered", [False, True], ids=["first-roster", "update"])
def test_a_killed_import_leaves_the_database_as_before(
    engine: Engine, tmp_path: Path, pinned_today: dt.date, registered: bool
) -> None:
    prepare_engine(engine)  # seeds the localities' areas, as every `yibao` command does before importing
    if registered:
        import_roster(write_csv(tmp_path / "v1.csv", ROSTER_HEADER, wuhe_people()), "wuhe", engine=engine)
    before = _digest(engine)
    roster = _big_roster(tmp_path / "big.csv")
    marker = tmp_path / "first-chunk-written"
    url = engine.url.render_as_string(hide_password=False)
    env = {**os.environ, "YIBAO_TODAY": pinned_today.isoformat()}
    child = subprocess.Popen([sys.executable, "-c", CHILD, url, str(roster), str(marker)], env=env)
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the import ended before it could be killed"
            assert time.monotonic() < deadline, "the first chunk was never written"
            time.sleep(0.05)
        assert int(marker.read_text() or 0) == 1500
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    engine.dispose()  # PostgreSQL: the server rolls the dead client's transaction back on its own
    assert _digest(engine) == before
    assert not (tmp_path / "big.csv.errors.csv").exists()
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            names = {r[0] for r in conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename = 'person'"))}
            assert {"ix_person_area", "ix_person_household"} <= names
    report = import_roster(roster, "wuhe", engine=engine)
    assert (report.inserted, report.bad) == (4000, 0)
