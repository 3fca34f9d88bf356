"""Scheduled jobs: module-level functions with primitive arguments only.

APScheduler's SQLAlchemy job store keeps a reference to the function ("scheduler.jobs:campaign_tick")
and its arguments, so nothing here may take a bot, a session or a message object. Every job is
idempotent (outbox keys are unique per wave and chat, or per report and day/week), so a misfired run
executed on start can never send twice. Jobs run in APScheduler's thread pool: the database work here
is synchronous and must not block the bot's event loop.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.registry.db import session_scope

log = logging.getLogger(__name__)

# (job id template, function, cron fields) — times are Asia/Shanghai.
SCHEDULE: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("campaigns:{loc}", "scheduler.jobs:campaign_tick", {"hour": 9, "minute": 0}),
    ("weekly-ranking:{loc}", "scheduler.jobs:weekly_ranking", {"day_of_week": "mon", "hour": 8, "minute": 30}),
    ("daily-unpaid:{loc}", "scheduler.jobs:daily_unpaid", {"hour": 8, "minute": 0}),
)
MISFIRE_GRACE_SECONDS = 6 * 3600  # a run missed by less than this (restart, outage) still runs, once


def campaign_tick(locality_id: str) -> int:
    """Plan the locality's reminder waves and queue whatever is due today; returns messages queued."""
    from scheduler import campaigns

    with session_scope() as session:
        results = campaigns.run_due(session, locality_id)
    queued = sum(r.queued for r in results)
    log.info("campaign tick %s: %d waves built, %d reminders queued", locality_id, len(results), queued)
    return queued


def weekly_ranking(locality_id: str) -> int:
    from scheduler import staff_reports

    return staff_reports.weekly_ranking(locality_id)


def daily_unpaid(locality_id: str) -> int:
    from scheduler import staff_reports

    return staff_reports.daily_unpaid(locality_id)


def register_jobs(scheduler: Any, locality_ids: list[str]) -> list[str]:
    """Add (or replace) every job for every locality; returns the job ids."""
    from apscheduler.triggers.cron import CronTrigger

    from bot import clock

    ids = []
    for loc in locality_ids:
        for template, func, cron in SCHEDULE:
            job_id = template.format(loc=loc)
            scheduler.add_job(func, CronTrigger(timezone=clock.TZ, **cron), args=[loc], id=job_id,
                              name=job_id, replace_existing=True, coalesce=True,
                              misfire_grace_time=MISFIRE_GRACE_SECONDS, max_instances=1)
            ids.append(job_id)
    return ids
