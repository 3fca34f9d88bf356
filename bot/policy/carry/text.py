"""Find a cited sentence in another document, tolerant of whitespace and full-/half-width forms.

A new year's notice keeps most sentences and changes their figures. So a quote is turned into a
*shape*: its literal characters must match (after NFKC, whitespace anywhere), while every run of
digits is a wildcard that captures the new figure. A candidate whose figures equal the old ones is
the same sentence ("kept"); otherwise the sentence changed ("changed"). When a shape occurs more
than once (short quotes such as a bare date), the text around it picks the occurrence, because the
surrounding sentences of a notice rarely move.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import cached_property

FIGURE = re.compile(r"\d+(?:\.\d+)?")
_SPACE = re.compile(r"\s+")
CONTEXT_CHARS = 24  # characters of context compared on each side of a candidate
WEAK_LITERALS = 6  # a shape with fewer literal characters than this needs its context to agree
WEAK_MIN_SCORE = 0.5
TIE = 0.05  # candidates whose context scores differ less than this are equally good


@dataclass(frozen=True)
class Document:
    """A document's raw text and its NFKC form, with a map back to raw positions."""

    raw: str
    norm: str
    origin: tuple[int, ...]  # origin[i]: index in `raw` of norm character i

    @classmethod
    def of(cls, raw: str) -> Document:
        chars: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(raw):
            for out in unicodedata.normalize("NFKC", ch):
                chars.append(out)
                origin.append(i)
        return cls(raw, "".join(chars), tuple(origin))

    def raw_slice(self, start: int, end: int) -> str:
        """The raw text behind norm[start:end], whitespace runs shown as one space."""
        text = self.raw[self.origin[start] : self.origin[end - 1] + 1]
        return _SPACE.sub(" ", text).strip()

    def context(self, start: int, end: int) -> tuple[str, str]:
        before = _mask(_SPACE.sub("", self.norm[max(0, start - 4 * CONTEXT_CHARS) : start]))[-CONTEXT_CHARS:]
        after = _mask(_SPACE.sub("", self.norm[end : end + 4 * CONTEXT_CHARS]))[:CONTEXT_CHARS]
        return before, after


def _mask(text: str) -> str:
    return FIGURE.sub("#", text)


def norm(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def squash_norm(text: str) -> str:
    return _SPACE.sub("", norm(text))


@dataclass(frozen=True)
class Shape:
    """A quote with its figures as wildcards; `tails[i]` is the literal text after figure i."""

    quote: str
    figures: tuple[str, ...]
    heads: tuple[str, ...]  # heads[i]: literal text before figure i (whitespace removed)
    tails: tuple[str, ...]
    literal_chars: int
    pattern: re.Pattern[str]

    @classmethod
    def of(cls, quote: str) -> Shape:
        text = norm(quote).strip()
        parts: list[str] = []
        figures: list[str] = []
        literals: list[str] = [""]  # literal text between figures (squashed)
        prev_kind = ""  # "fig" | "lit"
        gap = False
        for m in re.finditer(r"\s+|\d+(?:\.\d+)?|.", text, re.S):
            tok = m.group()
            if tok.isspace():
                gap = True
                continue
            kind = "fig" if tok[0].isdigit() else "lit"
            if parts:
                parts.append(r"\s+" if (kind == prev_kind == "fig" and gap) else r"\s*")
            if kind == "fig":
                parts.append(r"(\d+(?:\.\d+)?)")
                figures.append(tok)
                literals.append("")
            else:
                parts.append(re.escape(tok))
                literals[-1] += tok
            prev_kind, gap = kind, False
        body = "".join(parts)
        if figures and text and text[0].isdigit():
            body = r"(?<![\d.])" + body
        if figures and text and text[-1].isdigit():
            body += r"(?![\d])"
        return cls(
            quote=quote,
            figures=tuple(figures),
            heads=tuple(literals[:-1]),
            tails=tuple(literals[1:]),
            literal_chars=sum(len(x) for x in literals),
            pattern=re.compile(body),
        )

    @property
    def weak(self) -> bool:
        return self.literal_chars < WEAK_LITERALS


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    figures: tuple[str, ...]
    score: float  # context agreement with the old occurrence, 0..1

    def same_figures(self, shape: Shape) -> bool:
        return all(_num(a) == _num(b) for a, b in zip(self.figures, shape.figures, strict=True))


def _num(text: str) -> str:
    return text.lstrip("0") or "0"


@dataclass(frozen=True)
class Found:
    """Where a quote's sentence is in the new document, or why it is not."""

    status: str  # "kept" | "changed" | "missing"
    candidate: Candidate | None = None
    new_quote: str | None = None  # raw text of the new document (loader-compatible)
    others: tuple[Candidate, ...] = ()  # equally good candidates with other figures (ambiguous)


class Matcher:
    """Looks up quotes of the old document in the new one."""

    def __init__(self, old_text: str, new_text: str) -> None:
        self.old = Document.of(old_text)
        self.new = Document.of(new_text)

    @cached_property
    def _new_squashed(self) -> str:
        return _SPACE.sub("", self.new.norm)

    def _old_context(self, shape: Shape) -> tuple[str, str] | None:
        for m in shape.pattern.finditer(self.old.norm):
            if tuple(_num(g) for g in m.groups()) == tuple(_num(f) for f in shape.figures):
                return self.old.context(m.start(), m.end())
        return None

    def find(self, quote: str) -> Found:
        shape = Shape.of(quote)
        old_ctx = self._old_context(shape)
        cands = []
        for m in shape.pattern.finditer(self.new.norm):
            score = 0.0
            if old_ctx is not None:
                score = _agreement(old_ctx, self.new.context(m.start(), m.end()))
            cands.append(Candidate(m.start(), m.end(), tuple(m.groups()), score))
        if not cands:
            return Found("missing")
        best = max(c.score for c in cands)
        top = [c for c in cands if c.score >= best - TIE]
        exact = [c for c in top if c.same_figures(shape)]
        if exact:
            chosen = max(exact, key=lambda c: c.score)
            return Found("kept", chosen, self.new.raw_slice(chosen.start, chosen.end))
        if shape.weak and (old_ctx is None or best < WEAK_MIN_SCORE):
            return Found("missing")  # a bare date or number elsewhere is not the same sentence
        chosen = max(top, key=lambda c: c.score)
        others = tuple(c for c in top if c is not chosen and c.figures != chosen.figures)
        return Found("changed", chosen, self.new.raw_slice(chosen.start, chosen.end), others)


def _agreement(old: tuple[str, str], new: tuple[str, str]) -> float:
    """How alike two contexts are; a side that is empty in the old document (its start or end) says nothing."""
    sides = [(a, b) for a, b in zip(old, new, strict=True) if a]
    if not sides:
        return 1.0
    return sum(difflib.SequenceMatcher(None, a, b, autojunk=False).ratio() for a, b in sides) / len(sides)


HINT_MIN_COVERAGE = 0.7
_SENTENCE_END = re.compile(r"[。；;!?！？\n]+")


def nearest_sentence(quote: str, doc: Document) -> str | None:
    """The sentence of `doc` that contains most of `quote` in order (a hint for a missing quote)."""
    want = squash_norm(quote)
    if not want:
        return None
    best: tuple[float, int, str] | None = None
    start = 0
    for m in [*_SENTENCE_END.finditer(doc.norm), None]:
        end = m.end() if m else len(doc.norm)
        chunk = _SPACE.sub("", doc.norm[start:end])
        if chunk:
            blocks = difflib.SequenceMatcher(None, want, chunk, autojunk=False).get_matching_blocks()
            coverage = sum(b.size for b in blocks) / len(want)
            key = (coverage, -len(chunk), doc.raw_slice(start, end))
            if best is None or key[:2] > best[:2]:
                best = key
        start = end
    if best is None or best[0] < HINT_MIN_COVERAGE:
        return None
    return best[2]
