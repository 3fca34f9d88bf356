"""A pack's `source` names a seed file in bot/policy/sources/ and nothing else: the loader never
reads a file a pack points at with `../`, an absolute path or a symlink out of the folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.policy.loader import check_pack_file, is_plain_source_name, source_text

PACK = Path(__file__).resolve().parents[2] / "bot" / "policy" / "packs" / "wuhe-2024.yaml"
SEED = "001_eed7a0ad29b0fb7e.txt"


@pytest.mark.parametrize("name", ["../x.txt", "..", ".", "/etc/passwd", "a/b.txt", "a\\b.txt", "C:x.txt",
                                  "..\\..\\x.txt", "x\0.txt", ""])
def test_only_plain_file_names(name: str) -> None:
    assert not is_plain_source_name(name)
    with pytest.raises(ValueError):
        source_text(name)


def test_plain_names_still_read() -> None:
    assert is_plain_source_name(SEED) and "五河" in source_text(SEED)


def test_checked_folder_cannot_be_left_by_a_symlink(tmp_path: Path) -> None:
    """`policy check` with a sources folder (staff checking a new pack beside its seed): a seed
    name that is a symlink to a file elsewhere is not followed out of the folder."""
    outside = tmp_path / "outside.txt"
    outside.write_text("居民个人缴费标准为每人380元", encoding="utf-8")
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "link.txt").symlink_to(outside)
    pack = tmp_path / "wuhe-2024.yaml"
    pack.write_text(PACK.read_text("utf-8").replace(f"source: {SEED}", "source: link.txt"), encoding="utf-8")
    errors = check_pack_file(pack, sources_dir=sources)
    assert errors and any("link.txt" in e for e in errors), errors
