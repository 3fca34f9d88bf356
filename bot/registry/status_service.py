"""Status lookups from the local registry, or from a county's own enrollment service over HTTP.

When ``STATUS_API_URL`` (settings.status_api_url) is set, `check_status` asks that service instead
of the local database. A slow or failing service gives `ServiceUnavailable` ("try later"), never a
guessed answer.

HTTP contract (what the county service must speak)
--------------------------------------------------
Request: ``POST {STATUS_API_URL}`` with a JSON body::

    {"id_number": "<18 digits, normalised>", "name": "<name as typed>", "year": 2024}

``year`` is omitted when the caller did not ask for one (the service picks its current year).

Response ``200`` with a JSON object::

    {
      "found": true,                 # false when unknown OR the name does not match (no other keys needed)
      "enrolled": true,              # paid / enrolled for the coverage year
      "year": 2024,                  # coverage year answered
      "locality_id": "wuhe",         # optional: our locality id, used to compute benefit start
      "paid_on": "2023-11-02",       # optional ISO date of payment
      "amount": "380.00",            # optional, yuan (string or number)
      "categories": ["dibao"],       # optional, vocabulary codes
      "migrant": false,              # optional
      "benefit_start": "2024-01-01", # optional ISO date; computed from the policy pack when absent
      "benefit_rule": "..."          # optional text
    }

``404`` is read as not found. Timeouts, connection errors and ``5xx`` are retried with exponential
backoff (0.25 s, 0.5 s, ...); after the last attempt, or on any other status or a malformed body,
`ServiceUnavailable` is raised. Only masked ID numbers are ever logged.

`check_status` is synchronous: the dialogue core runs in a worker thread, and a lookup must not hold a
database transaction while it waits on the county service, so the local lookup opens its own short
read session and the HTTP path opens none.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx
from sqlalchemy import Engine

from bot.registry import ids, lookup
from bot.registry.lookup import StatusResult
from bot.settings import Settings, get_settings

log = logging.getLogger(__name__)

ATTEMPTS = 3
BACKOFF_SECONDS = 0.25


class ServiceUnavailable(Exception):
    """The status service cannot answer now; message_zh is shown to the resident."""

    message_zh = "查询服务暂时不可用，请稍后再试"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.message_zh)
        self.detail = detail


def check_status(id_number: str, name: str, year: int | None = None, settings: Settings | None = None, *,
                 engine: Engine | None = None) -> StatusResult:
    """Local lookup (`lookup.status` in a short session of `engine`, default the configured database),
    or the county HTTP service when settings.status_api_url is set. Blocking: call it from a worker
    thread (asyncio.to_thread) in async code."""
    settings = settings or get_settings()
    if not settings.status_api_url:
        from bot.registry.db import read_scope

        with read_scope(engine) as session:  # a read: it takes no write lock
            return lookup.status(session, id_number, name, year)
    check = ids.validate(id_number)
    if not check.ok:
        return StatusResult(found=False, masked_id=ids.mask(id_number), year=year)
    body: dict[str, Any] = {"id_number": check.number, "name": name}
    if year is not None:
        body["year"] = year
    data = _post_with_retries(settings.status_api_url, body, settings.status_api_timeout,
                                    ids.mask(check.number))
    if data is None:
        return StatusResult(found=False, masked_id=ids.mask(check.number), year=year)
    try:
        return _from_json(data, check.number, name, year)
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        log.warning("status service answered a malformed body for %s: %s", ids.mask(check.number),
                    type(exc).__name__)
        raise ServiceUnavailable("malformed response") from None


def _post_with_retries(url: str, body: dict[str, Any], timeout: float, masked: str,
                             attempts: int = ATTEMPTS, backoff: float = BACKOFF_SECONDS) -> dict[str, Any] | None:
    """POST and return the JSON object, None for 404; ServiceUnavailable when it cannot answer."""
    last = ""
    with httpx.Client(timeout=httpx.Timeout(timeout)) as client:
        for attempt in range(attempts):
            if attempt:
                time.sleep(backoff * 2 ** (attempt - 1))
            try:
                response = client.post(url, json=body)
            except httpx.TransportError as exc:  # timeouts, refused connections, resets
                last = type(exc).__name__
                log.warning("status service attempt %d/%d for %s failed: %s", attempt + 1, attempts, masked, last)
                continue
            if response.status_code >= 500:
                last = f"HTTP {response.status_code}"
                log.warning("status service attempt %d/%d for %s: %s", attempt + 1, attempts, masked, last)
                continue
            if response.status_code == 404:
                return None
            if response.status_code != 200:
                log.warning("status service refused the request for %s: HTTP %d", masked, response.status_code)
                raise ServiceUnavailable(f"HTTP {response.status_code}")
            try:
                data = response.json()
            except ValueError:
                raise ServiceUnavailable("response is not JSON") from None
            if not isinstance(data, dict):
                raise ServiceUnavailable("response is not a JSON object")
            return data
    raise ServiceUnavailable(last)


def _date(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _from_json(data: dict[str, Any], number: str, name: str, year: int | None) -> StatusResult:
    masked = ids.mask(number)
    if not data.get("found"):
        return StatusResult(found=False, masked_id=masked, year=year)
    answered_year = int(data.get("year") or year or lookup.default_year(data.get("locality_id")))
    paid_on = _date(data.get("paid_on"))
    amount = data.get("amount")
    categories = tuple(str(c) for c in data.get("categories") or ())
    migrant = bool(data.get("migrant", False))
    locality_id = data.get("locality_id")
    benefit_start, benefit_rule = _date(data.get("benefit_start")), data.get("benefit_rule")
    if benefit_start is None and paid_on is not None and locality_id:
        benefit_start, benefit_rule = lookup.benefit_for(locality_id, paid_on, list(categories),
                                                       ids.birth_date(number), migrant)
    return StatusResult(
        found=True,
        masked_id=masked,
        name=data.get("name") or name,
        locality_id=locality_id,
        year=answered_year,
        enrolled=bool(data.get("enrolled", paid_on is not None)),
        paid_on=paid_on,
        amount=Decimal(str(amount)).quantize(Decimal("0.01")) if amount is not None else None,
        categories=categories,
        migrant=migrant,
        benefit_start=benefit_start,
        benefit_rule=benefit_rule,
    )
