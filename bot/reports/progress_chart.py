"""Progress bar chart (PNG) for staff: completion per area against the task table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # headless: the bot and the scheduler have no screen

import matplotlib.pyplot as plt  # noqa: E402

from bot.reports.fonts import cjk_font_name  # noqa: E402


@dataclass(frozen=True)
class ChartRow:
    name: str
    rate: float  # paid / target, 0..1+ (may exceed 1 when more paid than the target)


def render_progress_png(
    rows: Sequence[ChartRow], path: str | Path, title: str, mark: float | None = None
) -> Path:
    """Draw ranked horizontal bars (best at the top); `mark` draws a target line (e.g. 唐河's 96 %)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    font = cjk_font_name()
    ordered = sorted(rows, key=lambda r: r.rate)  # barh draws bottom-up, so the best ends on top
    height = max(2.5, 0.38 * len(ordered) + 1.2)
    with plt.rc_context({"font.family": font, "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(7.5, height), dpi=110)
        try:
            names = [r.name for r in ordered]
            values = [r.rate * 100 for r in ordered]
            colors = ["#2e7d32" if (mark is None or r.rate >= mark) else "#c62828" for r in ordered]
            bars = ax.barh(names, values, color=colors)
            for bar, value in zip(bars, values, strict=True):
                ax.text(bar.get_width() + 0.8, bar.get_y() + bar.get_height() / 2, f"{value:.1f}%",
                        va="center", fontsize=8)
            if mark is not None:
                ax.axvline(mark * 100, color="#555555", linestyle="--", linewidth=1)
                ax.text(mark * 100, len(ordered) - 0.4, f"目标线 {mark * 100:.0f}%", fontsize=8,
                        ha="right", color="#555555")
            ax.set_xlim(0, max([105.0, *[v + 12 for v in values]]))
            ax.set_xlabel("参保完成率（%）")
            ax.set_title(title)
            fig.tight_layout()
            fig.savefig(path, format="png")
        finally:
            plt.close(fig)
    return path
