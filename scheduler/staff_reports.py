"""Scheduled staff reports: weekly ranking to officials, daily unpaid lists to cadres near the deadline.

Job functions take only primitive arguments (APScheduler stores them); each builds the same views as
the /progress and /unpaid commands and puts messages in the outbox, keyed so a rerun of the same job
for the same day or week never sends twice.
"""

from __future__ import annotations

import logging
from datetime import date

from sqlmodel import Session, select

from bot import clock
from bot.policy import engine, get_pack
from bot.policy.engine import Person
from bot.registry import access
from bot.registry.db import session_scope
from bot.registry.models import Staff
from bot.reports.staff_views import progress_view, render_chart, unpaid_view, write_unpaid_file
from bot.settings import get_settings
from scheduler import outbox

log = logging.getLogger(__name__)
UNPAID_DAYS_BEFORE_DEADLINE = 14


def _staff(session: Session, locality_id: str, roles: tuple[str, ...]) -> list[Staff]:
    # Staff are bound to their Telegram user; reports go to the user's private chat, whose chat id
    # is the user id (never to a group).
    return list(session.exec(select(Staff).where(Staff.locality_id == locality_id, Staff.role.in_(roles))))


def weekly_ranking(locality_id: str) -> int:
    """Monday 08:30: each county admin and town official gets the ranking of the areas below them."""
    today = clock.today()
    week = today.isocalendar()
    out_dir = get_settings().reports_dir
    queued = 0
    with session_scope() as session:
        for staff in _staff(session, locality_id, (access.COUNTY_ADMIN, access.TOWN_OFFICIAL)):
            view = progress_view(session, staff, today)
            key = f"weekly-ranking:{locality_id}:{week.year}-W{week.week:02d}:{staff.user_id}"
            chart = render_chart(view, out_dir / f"weekly-{locality_id}-{staff.user_id}-{today}.png")
            if chart is not None:
                queued += outbox.enqueue(session, key=key, chat_id=staff.user_id, text=view.text[:1000],
                                         kind="photo", file_path=str(chart))
            else:
                queued += outbox.enqueue(session, key=key, chat_id=staff.user_id, text=view.text)
    log.info("weekly ranking %s: %d messages queued", locality_id, queued)
    return queued


def in_unpaid_window(locality_id: str, today: date) -> bool:
    """True in the last UNPAID_DAYS_BEFORE_DEADLINE days up to the ordinary payment deadline."""
    answer = engine.deadline(locality_id, Person(), today)
    if not answer.ok or answer.deadline is None:
        return False
    return 0 <= (answer.deadline - today).days <= UNPAID_DAYS_BEFORE_DEADLINE - 1


def daily_unpaid(locality_id: str) -> int:
    """Every morning of the last two weeks before the deadline: each cadre gets their village's list."""
    today = clock.today()
    if get_pack(locality_id) is None or not in_unpaid_window(locality_id, today):
        return 0
    out_dir = get_settings().reports_dir
    queued = 0
    with session_scope() as session:
        for staff in _staff(session, locality_id, (access.VILLAGE_CADRE,)):
            view = unpaid_view(session, staff)
            key = f"daily-unpaid:{locality_id}:{today.isoformat()}:{staff.user_id}"
            path = write_unpaid_file(view, out_dir / f"daily-unpaid-{staff.user_id}-{today}.xlsx")
            if path is None:
                continue  # everyone paid: nothing to chase, no message
            queued += outbox.enqueue(session, key=key, chat_id=staff.user_id, text=view.text[:1000],
                                     kind="document", file_path=str(path))
    log.info("daily unpaid %s: %d messages queued", locality_id, queued)
    return queued
