"""Load, validate and cache the policy packs shipped in bot/policy/packs/<locality>-<year>.yaml.

A pack is checked twice: by the strict schema (shape, figures that must add up, known category codes)
and against its seed text (every cited quote must occur in the source document). Errors come back as
one line each, "file: field: problem", so a staff member who edited a pack sees what to fix.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

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


@functools.cache
def source_text(name: str) -> str:
    """The seed document a pack cites, shipped in bot/policy/sources/."""
    return resources.files("bot.policy").joinpath("sources", name).read_text("utf-8")


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
        try:
            if sources_dir is not None and (sources_dir / doc.source).exists():
                texts[key] = squash((sources_dir / doc.source).read_text("utf-8"))
            else:
                texts[key] = squash(source_text(doc.source))
        except (FileNotFoundError, OSError):
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
    try:
        raw = yaml.safe_load(path.read_text("utf-8"))
    except FileNotFoundError:
        raise PackError([f"{label}: <file>: file not found"]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "<file>"
        raise PackError([f"{label}: {where}: not valid YAML ({getattr(exc, 'problem', exc)})"]) from None
    return _validate(raw, label, sources_dir)


def check_pack_file(path: str | Path, sources_dir: Path | None = None) -> list[str]:
    """Problems in a pack file, one line each; empty when it is valid."""
    try:
        pack = load_pack_file(path, sources_dir)
    except PackError as exc:
        return exc.errors
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
            packs.append(_validate(yaml.safe_load(entry.read_text("utf-8")), entry.name))
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
