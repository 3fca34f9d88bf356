"""Find a font that can draw Chinese labels, so charts never show empty boxes.

Debian's fonts-wqy-zenhei (installed by scripts/services.sh) is the expected one; Noto CJK and a few
others are accepted too. matplotlib's font cache may predate the font's installation, so known file
paths are registered directly as a fallback.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from matplotlib import font_manager

# matplotlib logs a harmless "weight normal" fallback for WQY fonts on every chart; keep logs useful.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

PREFERRED = ("WenQuanYi Zen Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "SimHei")
KNOWN_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
)


class NoCJKFont(RuntimeError):
    """No installed font covers Chinese characters."""


@lru_cache(maxsize=1)
def cjk_font_name() -> str:
    names = {f.name for f in font_manager.fontManager.ttflist}
    for name in PREFERRED:
        if name in names:
            return name
    for path in KNOWN_FILES:
        if Path(path).exists():
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
    raise NoCJKFont("no CJK font found: install fonts-wqy-zenhei (scripts/services.sh does)")


def font_covers(text: str, name: str | None = None) -> bool:
    """True when the chosen font has a glyph for every character of text."""
    from matplotlib.ft2font import FT2Font

    path = font_manager.findfont(font_manager.FontProperties(family=name or cjk_font_name()))
    font = FT2Font(path)
    return all(font.get_char_index(ord(ch)) != 0 for ch in text if not ch.isspace())
