"""Time helpers: every scheduler timestamp comes from `bot.clock` and is stored as naive UTC."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from bot import clock


def utcnow() -> datetime:
    """Now (from `bot.clock`, so tests can pin it) as naive UTC for the database."""
    return clock.now().astimezone(UTC).replace(tzinfo=None)


def to_utc_naive(moment: datetime) -> datetime:
    """An aware moment (naive = Asia/Shanghai) as naive UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=clock.TZ)
    return moment.astimezone(UTC).replace(tzinfo=None)


def parse_hhmm(text: str) -> time:
    hour, minute = text.strip().split(":")
    return time(int(hour), int(minute))


def in_quiet_hours(moment: datetime, start: str, end: str) -> bool:
    """True when `moment` (aware, or naive UTC) falls in [start, end) local time; the span may wrap midnight."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(clock.TZ).time()
    s, e = parse_hhmm(start), parse_hhmm(end)
    if s == e:
        return False
    return (s <= local < e) if s < e else (local >= s or local < e)


def after_quiet_hours(moment: datetime, start: str, end: str) -> datetime:
    """`moment` itself, or the end of the quiet hours it falls in (naive UTC in, naive UTC out)."""
    if not in_quiet_hours(moment, start, end):
        return moment
    local = moment.replace(tzinfo=UTC).astimezone(clock.TZ)
    e = parse_hhmm(end)
    end_local = local.replace(hour=e.hour, minute=e.minute, second=0, microsecond=0)
    if end_local <= local:
        end_local += timedelta(days=1)
    return end_local.astimezone(UTC).replace(tzinfo=None)
