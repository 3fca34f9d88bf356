"""What an import did (counts) and the bad-row report written beside the input file."""

from __future__ import annotations

import csv
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from bot.registry import ids
from bot.reports.cells import csv_cell

# Start of the reason for one ID in two households (roster import); the summary line counts these.
CONFLICT_KEY = "同一身份证号出现在两个户中"


@dataclass
class ImportReport:
    """Counts for one file. Every data row is exactly one of inserted/updated/unchanged/bad."""

    kind: str  # "roster" | "payments"
    path: Path
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: int = 0
    errors_path: Path | None = None
    areas_created: int = 0
    households_written: int = 0
    seconds: float = 0.0
    encoding: str = ""
    reasons: dict[str, int] = field(default_factory=dict)  # first part of each reason -> rows

    def close(self, sink: ErrorSink, started: float) -> ImportReport:
        """Take the bad-row counts from the sink, write its report file and stamp the duration."""
        self.bad = sink.count
        self.reasons = dict(sink.reasons)
        self.errors_path = sink.close()
        self.seconds = time.perf_counter() - started
        return self

    @property
    def rows(self) -> int:
        return self.inserted + self.updated + self.unchanged + self.bad

    def summary_zh(self) -> str:
        what = "花名册" if self.kind == "roster" else "缴费记录"
        text = (
            f"{what}导入完成：共 {self.rows} 行，新增 {self.inserted}，更新 {self.updated}，"
            f"未变 {self.unchanged}，有问题 {self.bad}。"
        )
        if self.seconds > 0:
            text += f"用时 {self.seconds:.1f} 秒（每秒 {self.rows / self.seconds:,.0f} 行）。"
        conflicts = self.reasons.get(CONFLICT_KEY, 0)
        if conflicts:
            text += f"其中 {conflicts} 行是{CONFLICT_KEY}（冲突，未导入，也没有改动已登记的户）。"
        if self.errors_path:
            text += f"有问题的行及原因见：{self.errors_path}"
        return text


def errors_path_for(path: Path) -> Path:
    return path.with_name(path.name + ".errors.csv")


class ErrorSink:
    """Collects bad rows and writes `<input>.errors.csv` (UTF-8 with BOM so Excel shows Chinese).

    Cells go through `bot.reports.cells.csv_cell`: a value such as `=1+2` taken from the input is
    written as text, never as a formula, and control characters are shown as `\\xNN`.

    Rows stream to a temporary file that replaces the report at the end, so a stale report of an
    earlier run is removed when this run has no bad rows, and never half-written.
    """

    HEADER = ("行号", "列", "值", "原因")

    def __init__(self, input_path: Path) -> None:
        self.path = errors_path_for(input_path)
        self._tmp = self.path.with_name(self.path.name + ".tmp")
        self._fh = None
        self._writer = None
        self.count = 0
        self.reasons: dict[str, int] = {}

    def add(self, line: int, column: str, value: object, reason: str, *, is_id: bool = False) -> None:
        if self._writer is None:
            self._fh = open(self._tmp, "w", encoding="utf-8-sig", newline="")  # noqa: SIM115
            self._writer = csv.writer(self._fh)
            self._writer.writerow(self.HEADER)
        shown = "" if value is None else str(value)
        # Never a full ID number in a report: the ID column is masked, other cells scrubbed.
        shown = ids.mask(shown) if is_id else ids.mask_in_text(shown)
        self._writer.writerow((line, csv_cell(column), csv_cell(shown), csv_cell(reason)))
        self.count += 1
        key = reason.split("：", 1)[0].split("，", 1)[0]
        self.reasons[key] = self.reasons.get(key, 0) + 1

    def close(self) -> Path | None:
        if self._fh is not None:
            self._fh.close()
            os.replace(self._tmp, self.path)
            return self.path
        if self.path.exists():
            self.path.unlink()
        return None

    def discard(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._tmp.unlink(missing_ok=True)
