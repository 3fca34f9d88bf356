"""Every cited value in every pack quotes its seed document verbatim (whitespace aside)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.policy import all_packs
from bot.policy.loader import source_text
from bot.policy.schema import iter_cited

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
PACKS = all_packs()


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.mark.parametrize("pack", PACKS, ids=[f"{p.locality.id}-{p.coverage_year}" for p in PACKS])
def test_every_quote_occurs_in_its_seed(pack) -> None:
    cited = iter_cited(pack)
    assert len(cited) > 50, "a pack cites each value; far fewer citations means fields went missing"
    texts = {key: _squash(source_text(doc.source)) for key, doc in pack.documents.items()}
    missing = [f"{path}: {c.quote[:30]}" for path, c in cited if _squash(c.quote) not in texts[c.doc]]
    assert not missing, "quotes not found in the seed:\n" + "\n".join(missing)


@pytest.mark.parametrize("pack", PACKS, ids=[p.locality.id for p in PACKS])
def test_shipped_source_is_the_seed(pack) -> None:
    seed = SEEDS / pack.main_document.source
    if not seed.exists():
        pytest.skip(f"seed folder not present next to the repo ({SEEDS})")
    assert source_text(pack.main_document.source) == seed.read_text("utf-8")


def test_every_money_figure_appears_in_its_quote() -> None:
    """A figure must be printed in the sentence that cites it (catches a quote pasted from elsewhere)."""
    from bot.policy.schema import GovShare, Money

    for pack in PACKS:
        for path, c in iter_cited(pack):
            if isinstance(c, (Money, GovShare)):
                assert str(int(c.value)) in _squash(c.quote), (
                    f"{pack.locality.id} {path}: {c.value} not in quote"
                )
