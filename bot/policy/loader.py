"""Load, validate and cache the policy packs shipped in bot/policy/packs/<locality>-<year>.yaml.

A pack is checked twice: by the strict schema (shape, figures that must add up, known category codes)
and against its seed text (every cited quote must occur in the source document). Errors come back as
one line each, "file: field: problem", so a staff member who edited a pack sees what to fix.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.events import AliasEvent

from bot.policy.schema import PolicyPack, iter_cited
from bot.policy.vocab import norm_word, squash, vocabulary

__all__ = [
    "PackError",
    "Place",
    "all_packs",
    "check_pack_file",
    "gazetteer",
    "get_pack",
    "load_pack_file",
    "resolve_category",
    "source_text",
    "vocabulary",
]


class PackError(ValueError):
    """A pack file is malformed; `errors` holds one "file: field: problem" line per problem."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("\n".join(errors))


# Packs are tens of kilobytes; anything far larger is not a pack (and is not read into memory).
MAX_PACK_BYTES = 1_000_000
# The shipped packs nest 6 levels deep; 50,000 nested brackets would exhaust the YAML composer's
# recursion, so deeper nesting is refused with its line.
MAX_DEPTH = 40
# The largest figure in a pack is a population of eight digits; a 5,000-digit integer is refused
# before Python's int() conversion limit turns it into a ValueError.
MAX_INT_DIGITS = 30


def is_plain_source_name(name: str) -> bool:
    """A seed file name with no path in it: a pack's `source` may only name a file directly in
    bot/policy/sources/ (or the checked folder), never reach elsewhere with `../` or `/etc/...`."""
    return (
        bool(name)
        and name not in (".", "..")
        and not any(ch in name for ch in "/\\\0:")
        and PurePosixPath(name).name == name
        and PureWindowsPath(name).name == name
    )


def _source_in(folder: Path, name: str) -> Path | None:
    """folder/name when `name` is plain and the resolved file (symlinks followed) stays in folder."""
    if not is_plain_source_name(name):
        return None
    path = (folder / name).resolve()
    return path if path.parent == folder.resolve() else None


@functools.cache
def source_text(name: str) -> str:
    """The seed document a pack cites, shipped in bot/policy/sources/. Only plain file names in that
    folder are read (ValueError otherwise)."""
    if not is_plain_source_name(name):
        raise ValueError(f"not a plain seed file name: {name!r}")
    return resources.files("bot.policy").joinpath("sources", name).read_text("utf-8")


class _LimitError(yaml.YAMLError):
    """A pack file past one of the limits above; `problem` is Chinese, `problem_mark` its place."""

    def __init__(self, problem: str, mark: Any) -> None:
        super().__init__(problem)
        self.problem, self.problem_mark = problem, mark


class _PackLoader(yaml.SafeLoader):
    """PyYAML's safe loader with limits for files staff edit by hand: no anchors/aliases (the packs
    use none, and alias chains can expand exponentially), bounded nesting and integer length."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(AliasEvent) or getattr(self.peek_event(), "anchor", None) is not None:
            raise _LimitError("政策包里不能用锚点和别名（& 和 *），请把内容直接写出来", self.peek_event().start_mark)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _LimitError(f"嵌套超过 {MAX_DEPTH} 层，不是政策包的结构", self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node: Any) -> int:
        digits = sum(ch.isdigit() for ch in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise _LimitError(f"数字太长（{digits} 位，最多 {MAX_INT_DIGITS} 位）", node.start_mark)
        return super().construct_yaml_int(node)


_PackLoader.add_constructor("tag:yaml.org,2002:int", _PackLoader.construct_yaml_int)


def _parse_yaml(text: str) -> Any:
    return yaml.load(text, Loader=_PackLoader)  # noqa: S506 - a SafeLoader subclass


def _field(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "<root>"


def _validate(raw: Any, label: str, sources_dir: Path | None = None) -> PolicyPack:
    if not isinstance(raw, dict):
        raise PackError([f"{label}: <root>: expected a mapping of pack fields, got {type(raw).__name__}"])
    try:
        pack = PolicyPack.model_validate(raw)
    except ArithmeticError:  # decimal Overflow/InvalidOperation in a check that adds figures up
        raise PackError([f"{label}: <file>: 有的数字太大或太小（如 1e999999），无法计算，请核对金额和人数"]) from None
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            msg = err["msg"].removeprefix("Value error, ")
            got = err.get("input")
            shown = "" if isinstance(got, (dict, list)) or err["type"] == "missing" else f" (got {got!r})"
            lines.append(f"{label}: {_field(err['loc'])}: {msg}{shown}")
        raise PackError(lines) from None
    errors = _quote_errors(pack, label, sources_dir)
    if errors:
        raise PackError(errors)
    return pack


def _quote_errors(pack: PolicyPack, label: str, sources_dir: Path | None) -> list[str]:
    errors: list[str] = []
    texts: dict[str, str] = {}
    for key, doc in pack.documents.items():
        if not is_plain_source_name(doc.source):
            errors.append(
                f"{label}: documents.{key}.source: 只能写 bot/policy/sources/ 里的文件名，不能带路径"
                f"（不能含 / \\ 或 ..）：{doc.source[:60]!r}"
            )
            continue
        try:
            local = _source_in(sources_dir, doc.source) if sources_dir is not None else None
            if local is not None and local.exists():
                texts[key] = squash(local.read_text("utf-8"))
            else:
                texts[key] = squash(source_text(doc.source))
        except (OSError, UnicodeDecodeError, ValueError):
            errors.append(f"{label}: documents.{key}.source: source file {doc.source!r} not found")
    for path, cited in iter_cited(pack):
        text = texts.get(cited.doc)
        if text is not None and squash(cited.quote) not in text:
            errors.append(
                f"{label}: {path}.quote: quote not found in {pack.documents[cited.doc].source}: "
                f"{cited.quote[:40]!r}"
            )
    return errors


def load_pack_file(path: str | Path, sources_dir: Path | None = None) -> PolicyPack:
    """Load one pack file; raises PackError listing every problem."""
    path = Path(path)
    label = path.name
    text = _read_pack_text(path, label)
    try:
        raw = _parse_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "<file>"
        if isinstance(exc, _LimitError):
            raise PackError([f"{label}: {where}: {exc.problem}"]) from None
        raise PackError([f"{label}: {where}: YAML 格式错误 / not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    except RecursionError:  # a nesting the depth limit did not see (e.g. inside one flow scalar)
        raise PackError([f"{label}: <file>: 嵌套太深，不是政策包（最多 {MAX_DEPTH} 层）"]) from None
    return _validate(raw, label, sources_dir)


def _read_pack_text(path: Path, label: str) -> str:
    """The file's text, or PackError with one Chinese line: missing, unreadable, too big, not UTF-8."""
    try:
        size = path.stat().st_size
        if size > MAX_PACK_BYTES:
            raise PackError([f"{label}: <file>: 文件太大（{size:,} 字节），政策包不超过 {MAX_PACK_BYTES:,} 字节"])
        data = path.read_bytes()
    except FileNotFoundError:
        raise PackError([f"{label}: <file>: file not found"]) from None
    except OSError as exc:
        raise PackError([f"{label}: <file>: 无法读取文件（{exc.strerror or type(exc).__name__}）"]) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PackError([
            f"{label}: line {line}: 文件不是 UTF-8 编码（可能是 GBK）。请用编辑器“另存为 UTF-8”，"
            f"或运行 iconv -f GBK -t UTF-8 {label} > 新文件名.yaml 后再检查"
        ]) from None


def _clip(line: str, limit: int = 300) -> str:
    """A problem line stays readable when the file holds a huge value (a 5,000-digit figure)."""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def check_pack_file(path: str | Path, sources_dir: Path | None = None) -> list[str]:
    """Problems in a pack file, one line each; empty when it is valid."""
    try:
        pack = load_pack_file(path, sources_dir)
    except PackError as exc:
        return [_clip(line) for line in exc.errors]
    except Exception as exc:  # noqa: BLE001 - a checker reports, it does not crash on odd files
        return [f"{Path(path).name}: <file>: 无法检查这个文件（{type(exc).__name__}），请确认它是政策包 YAML"]
    stem = Path(path).stem
    want = f"{pack.locality.id}-{pack.coverage_year}"
    if stem != want:
        return [f"{Path(path).name}: <file>: file name should be {want}.yaml (locality id and coverage year)"]
    return []


@functools.cache
def all_packs() -> tuple[PolicyPack, ...]:
    """Every shipped pack, validated once per process, sorted by locality then year."""
    folder = resources.files("bot.policy").joinpath("packs")
    packs = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            packs.append(_validate(_parse_yaml(entry.read_text("utf-8")), entry.name))
    return tuple(sorted(packs, key=lambda p: (p.locality.id, p.coverage_year)))


def _locality_id(name: str) -> str | None:
    word = norm_word(name)
    for pack in all_packs():
        loc = pack.locality
        if word in (loc.id, norm_word(loc.name_zh), *(norm_word(a) for a in loc.aliases)):
            return loc.id
    return None


def get_pack(locality: str, year: int | None = None) -> PolicyPack | None:
    """The pack for a locality (id, Chinese name or alias) and coverage year; newest when year is None."""
    loc_id = _locality_id(locality)
    found = [p for p in all_packs() if p.locality.id == loc_id and (year is None or p.coverage_year == year)]
    return found[-1] if found else None


def packs_for(locality_id: str) -> list[PolicyPack]:
    return [p for p in all_packs() if p.locality.id == locality_id]


@functools.cache
def _category_words() -> dict[str, str]:
    words: dict[str, str] = {}
    for code, entry in vocabulary().items():
        for word in (code, entry.name_zh, *entry.synonyms):
            words.setdefault(norm_word(word), code)
    return words


def resolve_category(text: str, locality: str | None = None) -> str | None:
    """Canonical category code for a code, a Chinese name or a synonym; None when unknown.

    With a locality, that place's own names for its categories are tried first
    (e.g. 滕州's 防止返贫监测帮扶对象 is its name for `jiance`).
    """
    word = norm_word(text or "")
    if not word:
        return None
    packs = [get_pack(locality)] if locality else list(all_packs())
    for pack in packs:
        for cat in pack.categories if pack else ():
            if word in (norm_word(cat.name_zh), *(norm_word(s) for s in cat.synonyms)):
                return cat.code
    return _category_words().get(word) or _category_words().get(word.lower())


@dataclass(frozen=True)
class Place:
    name: str
    locality_id: str
    kind: str  # "locality" | "town" | "village"
    canonical: str  # the task-table (or locality) name this name stands for


@functools.cache
def gazetteer() -> tuple[Place, ...]:
    """Every place name (locality, its aliases, task-table towns/villages and their aliases)."""
    places: dict[tuple[str, str], Place] = {}
    for pack in all_packs():
        loc = pack.locality
        for name in (loc.name_zh, *loc.aliases):
            places.setdefault((name, loc.id), Place(name, loc.id, "locality", loc.name_zh))
        for entry in pack.task_table.entries:
            for name in (entry.name, *entry.aliases):
                places.setdefault((name, loc.id), Place(name, loc.id, pack.task_table.level, entry.name))
    return tuple(places.values())
