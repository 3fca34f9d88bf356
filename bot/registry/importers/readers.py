"""Stream rows out of a CSV or XLSX file without loading it whole.

CSV encoding is detected from the first 64 KiB: a UTF-8 byte-order mark, else strict UTF-8, else
GB18030 (a superset of GBK, which Excel on Chinese Windows writes). XLSX goes through openpyxl in
read-only mode, which streams the sheet XML. The header row may sit below a title row or two
("XX镇2024年度花名册"), so the first ten rows are searched for it.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.registry.importers.columns import Column, map_header, titles

SNIFF_BYTES = 64 * 1024
HEADER_SEARCH_ROWS = 10


class ImportFileError(Exception):
    """The file as a whole cannot be imported; `message_zh` says what is wrong and what to do."""

    def __init__(self, message_zh: str) -> None:
        super().__init__(message_zh)
        self.message_zh = message_zh


def detect_encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # final=False: a multi-byte character cut by the 64 KiB boundary is not an error.
        codecs.getincrementaldecoder("utf-8")("strict").decode(head, final=False)
        return "utf-8"
    except UnicodeDecodeError:
        return "gb18030"


@dataclass
class Table:
    """An open input file: the header mapping, a row iterator and progress in `unit`s."""

    path: Path
    columns: dict[str, int]
    rows: Iterator[tuple[int, list[Any]]]
    total: int | None
    unit: str  # "bytes" | "rows"
    encoding: str = ""
    _position: Any = field(default=None, repr=False)

    def position(self) -> int:
        return int(self._position()) if self._position else 0


def open_table(path: Path, columns: tuple[Column, ...], required: tuple[str, ...]) -> Table:
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"找不到文件：{path}。请检查路径是否正确。")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _open_xlsx(path, columns, required)
    if suffix == ".xls":
        raise ImportFileError("不支持旧版 Excel（.xls）文件：请在 Excel 中“另存为” .xlsx 或 CSV 后再导入。")
    return _open_csv(path, columns, required)


def _find_header(
    first_rows: list[tuple[int, list[Any]]], columns: tuple[Column, ...], required: tuple[str, ...]
) -> tuple[int, dict[str, int]]:
    best: tuple[int, dict[str, int]] | None = None
    for index, (_line, cells) in enumerate(first_rows):
        mapping = map_header(cells, columns)
        if "id_number" in mapping and (best is None or len(mapping) > len(best[1])):
            best = (index, mapping)
            if all(k in mapping for k in required):
                break
    if best is None:
        shown = next((c for _l, c in first_rows if any(str(x or "").strip() for x in c)), [])
        raise ImportFileError(
            "找不到表头：前 10 行中没有“身份证号”列。"
            f"需要的列：{titles(columns, required)}。文件第一行是：{'、'.join(str(c) for c in shown[:12]) or '（空）'}。"
            "请确认选择了正确的文件，并保留表头行。"
        )
    missing = [k for k in required if k not in best[1]]
    if missing:
        raise ImportFileError(
            f"缺少必需的列：{titles(columns, tuple(missing))}。请在表头中补上这些列（列名见 docs/import-formats.md）后重新导入。"
        )
    return best


def _open_csv(path: Path, columns: tuple[Column, ...], required: tuple[str, ...]) -> Table:
    raw = open(path, "rb")  # noqa: SIM115 - closed when the row iterator finishes
    head = raw.read(SNIFF_BYTES)
    raw.seek(0)
    encoding = detect_encoding(head)
    first_line = head.split(b"\n", 1)[0]
    delimiter = "\t" if first_line.count(b"\t") > first_line.count(b",") else ","
    text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    total = path.stat().st_size

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        try:
            for cells in reader:
                yield reader.line_num, cells
        except UnicodeDecodeError as exc:
            raise ImportFileError(
                f"文件第 {reader.line_num + 1} 行附近有无法按 {encoding.upper()} 读取的字符（文件可能混用了编码）。"
                "请用 Excel 或记事本把文件另存为 UTF-8 编码的 CSV 后重新导入。"
            ) from exc
        except csv.Error as exc:
            raise ImportFileError(
                f"CSV 格式错误（第 {reader.line_num} 行）：{exc}。请检查引号是否成对。"
            ) from exc
        finally:
            text.close()

    mapping, body = _after_header(numbered(), columns, required)
    return Table(
        path,
        mapping,
        body,
        total,
        "bytes",
        encoding,
        lambda: total if raw.closed else raw.tell(),
    )


def _open_xlsx(path: Path, columns: tuple[Column, ...], required: tuple[str, ...]) -> Table:
    import zipfile

    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(
            f"无法打开 Excel 文件（{type(exc).__name__}）：文件可能已损坏或不是 .xlsx 格式。"
        ) from exc
    ws = wb.active if wb.active is not None else wb.worksheets[0]
    total = ws.max_row
    counter = [0]

    def numbered() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, cells in enumerate(ws.iter_rows(values_only=True), start=1):
                counter[0] = number
                yield number, list(cells)
        finally:
            wb.close()

    mapping, body = _after_header(numbered(), columns, required)
    return Table(path, mapping, body, total, "rows", "xlsx", lambda: counter[0])


def _after_header(
    rows: Iterator[tuple[int, list[Any]]], columns: tuple[Column, ...], required: tuple[str, ...]
) -> tuple[dict[str, int], Iterator[tuple[int, list[Any]]]]:
    """Find the header among the first rows (it may sit under a title row); the rest is the body."""
    first: list[tuple[int, list[Any]]] = []
    for item in rows:
        first.append(item)
        if len(first) >= HEADER_SEARCH_ROWS:
            break
    index, mapping = _find_header(first, columns, required)
    return mapping, _chain(first[index + 1 :], rows)


def _chain(
    buffered: list[tuple[int, list[Any]]], rest: Iterator[tuple[int, list[Any]]]
) -> Iterator[tuple[int, list[Any]]]:
    yield from buffered
    yield from rest
