"""Reminders by SMS, through the provider seam (sms.provider).

Right before each text: the number must not have opted out (TD, or the provider's do-not-send list),
and must have had fewer than SMS_DAILY_LIMIT_PER_NUMBER texts today (counted from the outbox, so it
holds across processes); past it, the row waits for tomorrow's end of quiet hours. The text is the
approved template (SMS_TEMPLATE_ID, with SMS_SIGN_NAME) filled from the reminder's values by
SMS_TEMPLATE_PARAMS.

Provider answers: opted out -> blocked (recorded in channel_opt_out); a number's cap -> later; the
account's rate limits -> every SMS sender pauses; InternalError and network errors -> retry.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

from sqlalchemy import func, select

from bot import clock
from bot.settings import Settings
from scheduler.channels.base import BLOCKED, FAILED, LATER, PAUSE, RETRY, Outcome, Row
from scheduler.channels.reminders import TemplateError, fill_list
from scheduler.timeutil import after_quiet_hours, to_utc_naive

OPTED_OUT = frozenset({"FailedOperation.PhoneNumberInBlacklist", "FailedOperation.PhoneNumberOptOut"})
NUMBER_CAPS = {
    "LimitExceeded.PhoneNumberDailyLimit": None,  # None: tomorrow
    "LimitExceeded.PhoneNumberOneHourLimit": 3600.0,
    "LimitExceeded.PhoneNumberThirtySecondLimit": 60.0,
    "LimitExceeded.PhoneNumberSameContentDailyLimit": None,
}
ACCOUNT_LIMITS = {
    "RequestLimitExceeded": 5.0,
    "LimitExceeded.DeliveryFrequencyLimit": 60.0,
    "LimitExceeded.AppDailyLimit": 3600.0,
    "LimitExceeded.AppGlobalDailyLimit": 3600.0,
}
TRANSIENT = ("InternalError", "ClientNetworkError", "ServerNetworkError")


class SmsDelivery:
    channel = "sms"

    def __init__(self, settings: Settings, engine: Any, provider: Any | None = None) -> None:
        self.settings, self.engine = settings, engine
        if provider is None:
            from sms.provider import TencentSms

            provider = TencentSms(settings)
        self.provider = provider
        self.rate = settings.sms_send_rate_per_second

    async def close(self) -> None:
        return None

    def _tomorrow_morning(self) -> dt.datetime:
        """Naive UTC: tomorrow (local) when the quiet hours end."""
        start, end = self.settings.quiet_hours_start, self.settings.quiet_hours_end
        hour, minute = (int(x) for x in end.split(":"))
        local = dt.datetime.combine(clock.today() + dt.timedelta(days=1), dt.time(hour, minute), tzinfo=clock.TZ)
        return after_quiet_hours(to_utc_naive(local), start, end)

    def _texts_today(self, phone: str) -> int:
        from sqlmodel import Session

        from scheduler.models import OutboxMessage as O  # noqa: N814

        midnight = to_utc_naive(dt.datetime.combine(clock.today(), dt.time(0), tzinfo=clock.TZ))
        with Session(self.engine) as session:
            return int(session.execute(select(func.count()).select_from(O).where(
                O.channel == self.channel, O.address == phone, O.status == "sent", O.sent_at >= midnight)).scalar_one())

    def _checks(self, row: Row) -> Outcome | None:
        from bot.registry import optouts

        if optouts.opted_out(row.chat, engine=self.engine):
            return Outcome(BLOCKED, "opted out (TD)")
        if self._texts_today(row.address) >= self.settings.sms_daily_limit_per_number:
            return Outcome(LATER, "daily limit for this number reached", until=self._tomorrow_morning())
        return None

    async def send(self, row: Row) -> Outcome:
        refused = await asyncio.to_thread(self._checks, row)
        if refused is not None:
            return refused
        if not row.params:
            return Outcome(FAILED, "an SMS is sent from template values and this message has none")
        try:
            params = fill_list(self.settings.sms_template_params, row.params)
        except TemplateError as e:
            return Outcome(FAILED, f"SMS_TEMPLATE_PARAMS: {e}")
        result = await asyncio.to_thread(self.provider.send, row.address, params)
        return self._outcome(result)

    def _outcome(self, result: Any) -> Outcome:
        code = result.code
        detail = f"{code} {result.message}".strip()
        if result.ok:
            return Outcome.sent(result.serial or "")
        if code in OPTED_OUT:
            return Outcome(BLOCKED, detail)
        if code in NUMBER_CAPS:
            wait = NUMBER_CAPS[code]
            until = (self._tomorrow_morning() if wait is None
                     else to_utc_naive(clock.now()) + dt.timedelta(seconds=wait))
            return Outcome(LATER, detail, until=until)
        if code in ACCOUNT_LIMITS:
            return Outcome(PAUSE, detail, seconds=ACCOUNT_LIMITS[code])
        if code.startswith(TRANSIENT):
            return Outcome(RETRY, detail)
        return Outcome(FAILED, detail)
