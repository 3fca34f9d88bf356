"""Stream rows out of a CSV or XLSX file without loading it whole.

CSV encoding is detected from the first 64 KiB: a UTF-8 byte-order mark, else strict UTF-8, else
GB18030 (a superset of GBK, which Excel on Chinese Windows writes). XLSX goes through openpyxl in
read-only mode, which streams the sheet XML. The header row may sit below a title row or two
("XX镇2024年度花名册"), so the first ten rows are searched for it.

Limits, so that no file can exhaust memory or time (a zip bomb, one gigantic cell): a file whose
uncompressed size passes MAX_FILE_BYTES, a cell longer than MAX_CELL_CHARS, or an XLSX with more
than MAX_SHARED_STRINGS distinct texts is refused with one Chinese line. An XLSX is checked with a
streaming scan (expat, constant memory) before openpyxl loads anything, and its sheet is read
whatever its `<dimension>` tag claims (openpyxl's read-only mode would otherwise trust the tag and
silently stop there).

A CSV record that runs over several lines (a quote opened and not closed where it should be) is
handed to the importers as a `SpanningRecord`, which they report as one bad row naming the lines.

Speed (issue 13): a CSV is read in blocks of about 4 MB. A block without a quote character, a NUL or a
lone CR is split with `str.split` (C speed, no per-row Python work): for such text that is exactly
what the csv module returns. From the first block that has any of them on, the rest of the file goes
through the csv module as before. The importers get the rows in `Chunk`s that say which rows are
"clean" (printable, no space), so that their columnar checks can settle those rows at once and hand
every other row to the row-by-row checks.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path
from typing import Any

from bot.registry.importers.columns import Column, map_header, titles

SNIFF_BYTES = 64 * 1024
BLOCK_BYTES = 4 * 1024 * 1024  # one read of a CSV; about 45,000 rows of a county roster
HEADER_SEARCH_ROWS = 10
MAX_FILE_BYTES = 200 * 1024 * 1024  # uncompressed; the 1.3 M-row 滕州 roster is 113 MB of CSV
MAX_CELL_CHARS = 32_767  # Excel's own limit for one cell; the issue asked for about 32 KB
MAX_SHARED_STRINGS = 2_000_000  # ~200 MB of str objects at most; an XLSX sheet has <= 1,048,576 rows
_MB = 1024 * 1024


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


@dataclass(frozen=True)
class SpanningRecord:
    """A CSV record read across several physical lines: an unclosed quote swallowed the lines
    `first`..`last` into one record. Reported as one bad row, never imported."""

    first: int
    last: int
    start: str  # the first characters of the record, to help find it

    def reason_zh(self) -> str:
        return (
            f"第 {self.first} 行的引号没有闭合：第 {self.first}–{self.last} 行被读成了同一行（共 "
            f"{self.last - self.first + 1} 行），都没有导入。请检查第 {self.first} 行的引号（\"）是否成对，"
            "改正后重新导入。"
        )


@dataclass
class Block:
    """Consecutive body rows of a file.

    `plain`: every row is its physical line split on the delimiter (str cells, no quoting), with
    `lines` its line numbers. `clean` (plain blocks only) flags the rows whose line is printable and
    holds no space, so no cell needs stripping or holds a control character; None means all rows.
    Rows of other blocks are cell lists or `SpanningRecord`s, exactly as the csv module or openpyxl
    gave them."""

    lines: list[int]
    rows: list[Any]
    plain: bool = False
    clean: list[bool] | None = None


@dataclass
class Table:
    """An open input file: the header mapping, the body in blocks and progress in `unit`s."""

    path: Path
    columns: dict[str, int]
    blocks: Iterator[Block]
    total: int | None
    unit: str  # "bytes" | "rows"
    encoding: str = ""
    _position: Any = field(default=None, repr=False)

    def position(self) -> int:
        return int(self._position()) if self._position else 0

    @property
    def rows(self) -> Iterator[tuple[int, Any]]:
        """The body row by row: (line, cells)."""
        for block in self.blocks:
            yield from zip(block.lines, block.rows, strict=True)

    def chunks(self, size: int) -> Iterator[Block]:
        """The body in chunks of exactly `size` rows (the last one shorter); a chunk is plain only
        when all its rows are."""
        parts: list[Block] = []
        held = 0
        for block in self.blocks:
            start = 0
            while start < len(block.rows):
                take = min(size - held, len(block.rows) - start)
                parts.append(_slice(block, start, start + take) if take < len(block.rows) else block)
                held += take
                start += take
                if held == size:
                    yield _join(parts)
                    parts, held = [], 0
        if parts:
            yield _join(parts)


def _slice(block: Block, start: int, stop: int) -> Block:
    clean = block.clean[start:stop] if block.clean is not None else None
    return Block(block.lines[start:stop], block.rows[start:stop], block.plain, clean)


def _join(parts: list[Block]) -> Block:
    if len(parts) == 1:
        return parts[0]
    plain = all(p.plain for p in parts)
    clean = None
    if plain and any(p.clean is not None for p in parts):
        clean = [flag for p in parts for flag in (p.clean if p.clean is not None else [True] * len(p.rows))]
    return Block(
        [n for p in parts for n in p.lines], [r for p in parts for r in p.rows], plain, clean
    )


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


def _too_big(size: int) -> ImportFileError:
    return ImportFileError(
        f"文件太大：解压后约 {size / _MB:.0f} MB，超过了 {MAX_FILE_BYTES // _MB} MB 的上限。"
        "请按乡镇拆分成几个文件分别导入。"
    )


def _open_csv(path: Path, columns: tuple[Column, ...], required: tuple[str, ...]) -> Table:
    total = path.stat().st_size
    if total > MAX_FILE_BYTES:
        raise _too_big(total)
    raw = open(path, "rb")  # noqa: SIM115 - closed when the body has been read
    head = raw.read(SNIFF_BYTES)
    raw.seek(0)
    encoding = detect_encoding(head)
    first_line = head.split(b"\n", 1)[0]
    delimiter = "\t" if first_line.count(b"\t") > first_line.count(b",") else ","
    mapping, body = _after_header(_csv_blocks(raw, encoding, delimiter), columns, required)
    return Table(path, mapping, body, total, "bytes", encoding, lambda: total if raw.closed else raw.tell())


# Encodings in which the byte 0x0A only ever ends a line (never inside a multi-byte character).
_SPLITTABLE = ("utf-8", "utf-8-sig", "gb18030")


def _csv_blocks(raw: io.BufferedReader, encoding: str, delimiter: str) -> Iterator[Block]:
    """The file's rows in blocks: plain blocks split with str.split while the text allows it (see
    the module docstring), then the csv module from the first block that needs it."""
    # The csv module's field limit is process-wide: lowered only while this file is read.
    previous_limit = csv.field_size_limit(MAX_CELL_CHARS)
    line = offset = 0  # lines and bytes before the current block
    try:
        if encoding in _SPLITTABLE:
            carry = b""
            while True:
                fresh = raw.read(BLOCK_BYTES)
                data, at_end = carry + fresh, len(fresh) < BLOCK_BYTES
                if not data:
                    return
                cut = len(data) if at_end else data.rfind(b"\n") + 1
                piece = data[:cut]
                if not piece or b'"' in piece or b"\0" in piece or piece.count(b"\r") != piece.count(b"\r\n"):
                    break  # quoting, NUL, a lone CR or a line longer than a block: the csv module decides
                carry = data[cut:]
                block = _plain_block(piece, offset, line, encoding, delimiter)
                line += len(block.rows)
                offset += cut
                yield block
            raw.seek(offset)
        if offset and encoding == "utf-8-sig":
            encoding = "utf-8"  # the byte-order mark was in the first block
        yield from _module_blocks(raw, encoding, delimiter, line)
    finally:
        csv.field_size_limit(previous_limit)
        raw.close()


def _plain_block(piece: bytes, offset: int, line: int, encoding: str, delimiter: str) -> Block:
    """One block of whole lines without quoting: each line split on the delimiter."""
    try:
        text = piece.decode("utf-8" if offset and encoding == "utf-8-sig" else encoding)
    except UnicodeDecodeError as exc:
        raise _undecodable(line + piece[: exc.start].count(b"\n") + 1, encoding) from exc
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if max(map(len, lines), default=0) > MAX_CELL_CHARS:
        for number, content in enumerate(lines, start=line + 1):
            if any(len(cell) > MAX_CELL_CHARS for cell in content.split(delimiter)):
                raise _field_too_long(number)
    numbers = list(range(line + 1, line + 1 + len(lines)))
    rows = [content.split(delimiter) for content in lines]
    if "" in lines:  # the csv module reads an empty line as no cells at all
        for k, content in enumerate(lines):
            if not content:
                rows[k] = []
    printable = str.isprintable if delimiter == "," else _printable_but_tab
    clean: list[bool] | None = None
    if " " in text or not all(map(printable, lines)):
        clean = [printable(content) and " " not in content for content in lines]
    return Block(numbers, rows, True, clean)


def _printable_but_tab(line: str) -> bool:
    return line.replace("\t", "").isprintable()


def _undecodable(line: int, encoding: str) -> ImportFileError:
    return ImportFileError(
        f"文件第 {line} 行附近有无法按 {encoding.upper()} 读取的字符（文件可能混用了编码）。"
        "请用 Excel 或记事本把文件另存为 UTF-8 编码的 CSV 后重新导入。"
    )


def _field_too_long(line: int) -> ImportFileError:
    return ImportFileError(
        f"第 {line} 行起有一个超过 {MAX_CELL_CHARS:,} 个字符的格子，多半是这一行的引号（\"）"
        "没有闭合，把后面的行都读进了同一个格子。请检查这一行的引号是否成对，改正后重新导入。"
    )


MODULE_BLOCK_ROWS = 4096


def _module_blocks(raw: io.BufferedReader, encoding: str, delimiter: str, line: int) -> Iterator[Block]:
    """The rest of the file, from the current position, through the csv module (line numbers go on
    from `line`). A record spanning several lines becomes a SpanningRecord."""
    text = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="")
    reader = csv.reader(text, delimiter=delimiter)
    last = line
    lines: list[int] = []
    rows: list[Any] = []
    try:
        for cells in reader:
            first, last = last + 1, line + reader.line_num
            if last > first and any("\n" in c or "\r" in c for c in cells):
                lines.append(first)
                rows.append(SpanningRecord(first, last, ",".join(cells)[:30]))
            else:
                lines.append(last)
                rows.append(cells)
            if len(rows) >= MODULE_BLOCK_ROWS:
                yield Block(lines, rows)
                lines, rows = [], []
    except UnicodeDecodeError as exc:
        raise _undecodable(line + reader.line_num + 1, encoding) from exc
    except csv.Error as exc:
        if "field limit" in str(exc):
            raise _field_too_long(last + 1) from exc
        raise ImportFileError(
            f"CSV 格式错误（第 {line + reader.line_num} 行）：{exc}。请检查引号是否成对。"
        ) from exc
    finally:
        text.detach()
    if rows:
        yield Block(lines, rows)


def _broken_xlsx(exc: Exception) -> ImportFileError:
    return ImportFileError(f"无法打开 Excel 文件（{type(exc).__name__}）：文件可能已损坏或不是 .xlsx 格式。")


class _CellTooLong(Exception):
    def __init__(self, row: int) -> None:
        self.row = row


class _TooManyStrings(Exception):
    pass


def _scan_xml(stream: Any) -> int:
    """Stream one XML part of an XLSX through expat (constant memory): raise when a cell's text
    passes MAX_CELL_CHARS or the shared strings pass MAX_SHARED_STRINGS; return its <row> count."""
    from xml.parsers import expat

    state = {"rows": 0, "row": 0, "strings": 0, "chars": 0, "in_text": 0}

    def start(name: str, attrs: dict[str, str]) -> None:
        local = name.rpartition(" ")[2]
        if local in ("v", "t", "f"):
            state["in_text"] += 1
        elif local == "c":
            state["chars"] = 0
        elif local == "row":
            state["rows"] += 1
            r = attrs.get("r", "")
            state["row"] = int(r) if r.isdigit() else state["row"] + 1
        elif local == "si":
            state["chars"] = 0
            state["strings"] += 1
            if state["strings"] > MAX_SHARED_STRINGS:
                raise _TooManyStrings

    def end(name: str) -> None:
        if name.rpartition(" ")[2] in ("v", "t", "f"):
            state["in_text"] -= 1

    def text(data: str) -> None:
        if state["in_text"]:
            state["chars"] += len(data)
            if state["chars"] > MAX_CELL_CHARS:
                raise _CellTooLong(state["row"])

    parser = expat.ParserCreate(namespace_separator=" ")
    parser.buffer_text = False  # text arrives in pieces: a huge cell is never held whole
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.ParseFile(stream)
    return state["rows"]


def _check_xlsx(path: Path) -> dict[str, int]:
    """Refuse zip bombs and gigantic cells before openpyxl reads anything; worksheet part -> rows."""
    import zipfile
    from xml.parsers import expat

    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            size = sum(i.file_size for i in infos)
            if size > MAX_FILE_BYTES:
                raise _too_big(size)
            rows: dict[str, int] = {}
            for info in infos:
                name = info.filename
                if name == "xl/sharedStrings.xml" or (
                    name.startswith("xl/worksheets/") and name.endswith(".xml")
                ):
                    # ZipExtFile never yields more than the declared (checked) size.
                    with zf.open(info) as stream:
                        rows[name] = _scan_xml(stream)
            return rows
    except _CellTooLong as exc:
        where = f"第 {exc.row} 行" if exc.row else "文件中"
        raise ImportFileError(
            f"{where}有一个超过 {MAX_CELL_CHARS:,} 个字符的格子，不像是花名册或缴费记录的内容。"
            "请检查文件是否选对、内容是否完整后重新导入。"
        ) from None
    except _TooManyStrings:
        raise ImportFileError(
            f"Excel 文件中的不同文字超过 {MAX_SHARED_STRINGS:,} 个，超出了导入的上限。请按乡镇拆分成几个文件，"
            "或另存为 CSV 后再导入。"
        ) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, expat.ExpatError, EOFError, OSError, ValueError) as exc:
        raise _broken_xlsx(exc) from exc


def _open_xlsx(path: Path, columns: tuple[Column, ...], required: tuple[str, ...]) -> Table:
    import zipfile

    from openpyxl import load_workbook

    part_rows = _check_xlsx(path)
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise _broken_xlsx(exc) from exc
    ws = wb.active if wb.active is not None else wb.worksheets[0]
    # The <dimension> tag is the writer's claim, not a fact: read to the sheet's real end.
    ws.reset_dimensions()
    part = str(getattr(ws, "_worksheet_path", "")).lstrip("/")
    total = part_rows.get(part)
    counter = [0]

    def blocks() -> Iterator[Block]:
        try:
            lines: list[int] = []
            rows: list[Any] = []
            for number, cells in enumerate(ws.iter_rows(values_only=True), start=1):
                counter[0] = number
                lines.append(number)
                rows.append(list(cells))
                if len(rows) >= MODULE_BLOCK_ROWS:
                    yield Block(lines, rows)
                    lines, rows = [], []
            if rows:
                yield Block(lines, rows)
        finally:
            wb.close()

    mapping, body = _after_header(blocks(), columns, required)
    return Table(path, mapping, body, total, "rows", "xlsx", lambda: counter[0])


def _after_header(
    blocks: Iterator[Block], columns: tuple[Column, ...], required: tuple[str, ...]
) -> tuple[dict[str, int], Iterator[Block]]:
    """Find the header among the first rows (it may sit under a title row); the rest is the body."""
    held: list[Block] = []
    seen = 0
    for block in blocks:
        held.append(block)
        seen += len(block.rows)
        if seen >= HEADER_SEARCH_ROWS:
            break
    first = list(islice(((n, r) for b in held for n, r in zip(b.lines, b.rows, strict=True)), HEADER_SEARCH_ROWS))
    first = [(n, r) for n, r in first if not isinstance(r, SpanningRecord)]
    index, mapping = _find_header(first, columns, required)
    header_line = first[index][0]
    rest = [_after_line(b, header_line) for b in held]
    return mapping, chain((b for b in rest if b.rows), blocks)


def _after_line(block: Block, line: int) -> Block:
    """The rows of `block` after physical line `line`."""
    skip = 0
    while skip < len(block.lines) and block.lines[skip] <= line:
        skip += 1
    return block if skip == 0 else _slice(block, skip, len(block.rows))
