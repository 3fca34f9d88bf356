"""A fake of Tencent Cloud SMS (SendSms, API 2021-01-11) on loopback, for tests and demos.

The real SDK talks to it unchanged: SMS_ENDPOINT=127.0.0.1:PORT, SMS_PROTOCOL=http. It checks that
the request is a signed TC3 SendSms call from the configured SecretId, records each text (number,
sign, template, parameters) and answers like the provider: "Ok", or an opted-out number
(FailedOperation.PhoneNumberInBlacklist), a number over its daily cap
(LimitExceeded.PhoneNumberDailyLimit), or any code queued with `fail_next`.

    fake = FakeSms(daily_limit=10)
    endpoint = await fake.start()        # "127.0.0.1:PORT"
    fake.opt_out("13800000000")
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Text:
    seq: int
    phone: str
    sign: str
    template_id: str
    params: list[str]
    code: str
    at: float = field(default_factory=time.time)


class FakeSms:
    def __init__(self, *, secret_id: str | None = None, daily_limit: int = 10) -> None:
        self.secret_id, self.daily_limit = secret_id, daily_limit
        self.texts: list[Text] = []
        self.opted_out: set[str] = set()
        self.failures: list[str] = []  # codes the next sends answer with
        self.requests = 0
        self._per_number: Counter[str] = Counter()
        self._seq = itertools.count(1)
        self._runner: web.AppRunner | None = None

    def opt_out(self, phone: str) -> None:
        self.opted_out.add(phone)

    def fail_next(self, *codes: str) -> None:
        self.failures.extend(codes)

    def delivered(self) -> list[Text]:
        return [t for t in self.texts if t.code == "Ok"]

    async def start(self, port: int = 0, host: str = "127.0.0.1") -> str:
        app = web.Application()
        app.router.add_post("/", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return f"{host}:{bound}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @staticmethod
    def _error(code: str, message: str) -> web.Response:
        return web.json_response({"Response": {"Error": {"Code": code, "Message": message},
                                               "RequestId": str(uuid.uuid4())}})

    async def _api(self, request: web.Request) -> web.Response:
        self.requests += 1
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("TC3-HMAC-SHA256 Credential="):
            return self._error("AuthFailure.SignatureFailure", "request is not signed")
        if self.secret_id is not None and not auth.startswith(f"TC3-HMAC-SHA256 Credential={self.secret_id}/"):
            return self._error("AuthFailure.SecretIdNotFound", "unknown SecretId")
        if request.headers.get("X-TC-Action") != "SendSms":
            return self._error("InvalidAction", "only SendSms is faked")
        body: dict[str, Any] = json.loads(await request.read())
        statuses = []
        for number in body.get("PhoneNumberSet") or []:
            phone = number.removeprefix("+86")
            code = self._code(phone)
            self.texts.append(Text(next(self._seq), phone, body.get("SignName", ""), body.get("TemplateId", ""),
                                   list(body.get("TemplateParamSet") or []), code))
            statuses.append({"SerialNo": f"fake-{uuid.uuid4().hex[:12]}", "PhoneNumber": number, "Fee": 1,
                             "SessionContext": "", "Code": code, "Message": "send success" if code == "Ok" else code,
                             "IsoCode": "CN"})
        return web.json_response({"Response": {"SendStatusSet": statuses, "RequestId": str(uuid.uuid4())}})

    def _code(self, phone: str) -> str:
        if self.failures:
            return self.failures.pop(0)
        if phone in self.opted_out:
            return "FailedOperation.PhoneNumberInBlacklist"
        if self._per_number[phone] >= self.daily_limit:
            return "LimitExceeded.PhoneNumberDailyLimit"
        self._per_number[phone] += 1
        return "Ok"
