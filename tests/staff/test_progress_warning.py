"""/progress warns staff when the newest pack does not cover the campaign now running."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session

from bot.reports.staff_views import progress_view

TODAY = date(2023, 11, 20)


def test_no_warning_while_the_pack_covers_the_campaign(session: Session, world: dict) -> None:
    view = progress_view(session, world["staff"]["admin"], TODAY)
    assert view.warning is None and "⚠" not in view.text


def test_warning_line_when_the_year_has_moved_on(session: Session, world: dict) -> None:
    view = progress_view(session, world["staff"]["town"], date(2026, 11, 30))
    lines = view.text.splitlines()
    assert view.warning is not None and lines[1] == view.warning
    assert "五河县2024年度" in view.warning and "2027年度征缴" in view.warning
    # the figures below are still the 2024 campaign's, and say so in the title
    assert "2024年度参保进度" in lines[0] and "东村" in view.text
