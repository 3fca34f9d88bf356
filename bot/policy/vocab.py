"""The shared category vocabulary (vocabulary.yaml) and whitespace-insensitive text matching.

Kept apart from the loader so the schema can check category codes without importing the loader.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from importlib import resources

import yaml
from pydantic import BaseModel, ConfigDict


class VocabEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name_zh: str
    synonyms: tuple[str, ...] = ()


@functools.cache
def vocabulary() -> dict[str, VocabEntry]:
    """Canonical category code -> its Chinese name and the words people use for it."""
    raw = yaml.safe_load(resources.files("bot.policy").joinpath("vocabulary.yaml").read_text("utf-8"))
    return {code: VocabEntry.model_validate(entry) for code, entry in raw.items()}


_SPACE = re.compile(r"\s+")


def squash(text: str) -> str:
    """Drop every whitespace character: the seeds break lines and pad numbers with spaces at random."""
    return _SPACE.sub("", text)


def norm_word(text: str) -> str:
    """Normalise a word a person typed: NFKC (full-width to half-width) and no whitespace."""
    return squash(unicodedata.normalize("NFKC", text))
