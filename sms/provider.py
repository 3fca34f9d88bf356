"""The SMS provider seam: `send(phone, params) -> SmsResult`, one approved template, one signature.

The kept provider is Tencent Cloud SMS (`tencentcloud-sdk-python-sms`, API 2021-01-11 SendSms): its
SDK is small and imported only here, when an SMS is sent (about 0.1 s, mostly `requests`). It is
synchronous: callers run `send` in a worker thread. SMS_ENDPOINT/SMS_PROTOCOL point it at the fake
provider in tests (sms.fake).

Provider answers used by the sender (scheduler.channels.sms): "Ok"; opted-out numbers
(FailedOperation.PhoneNumberInBlacklist: the number replied TD or is on the carrier's do-not-send
list); the per-number caps (LimitExceeded.PhoneNumberDailyLimit, ...ThirtySecondLimit,
...OneHourLimit); the account's rate limits (RequestLimitExceeded, LimitExceeded.DeliveryFrequencyLimit,
LimitExceeded.AppDailyLimit); InternalError.* (retry).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

from bot.settings import Settings

OK = "Ok"


@dataclass(frozen=True)
class SmsResult:
    code: str  # the provider's status code: "Ok", "FailedOperation.PhoneNumberInBlacklist", ...
    message: str = ""
    serial: str | None = None

    @property
    def ok(self) -> bool:
        return self.code == OK


class SmsProvider(Protocol):
    def send(self, phone: str, params: list[str]) -> SmsResult: ...


class SmsConfigError(ValueError):
    pass


def check(settings: Settings) -> None:
    """Raise SmsConfigError (a Chinese line) when SMS is on for some county but cannot be sent."""
    missing = [name for name, value in (
        ("SMS_SECRET_ID", settings.sms_secret_id), ("SMS_SECRET_KEY", settings.sms_secret_key),
        ("SMS_SDK_APP_ID", settings.sms_sdk_app_id), ("SMS_SIGN_NAME", settings.sms_sign_name),
        ("SMS_TEMPLATE_ID", settings.sms_template_id)) if not value]
    if missing:
        raise SmsConfigError(f"已为 {'、'.join(settings.sms_localities)} 开启短信提醒，但缺少设置：{'、'.join(missing)}。")


class TencentSms:
    """Tencent Cloud SMS through its SDK (one client per thread: the SDK keeps connection state)."""

    def __init__(self, settings: Settings) -> None:
        check(settings)
        self.settings = settings
        self._local = threading.local()

    def _client(self) -> Any:
        client = getattr(self._local, "client", None)
        if client is None:
            from tencentcloud.common import credential
            from tencentcloud.common.profile.client_profile import ClientProfile
            from tencentcloud.common.profile.http_profile import HttpProfile
            from tencentcloud.sms.v20210111 import sms_client

            s = self.settings
            http = HttpProfile(protocol=s.sms_protocol, endpoint=s.sms_endpoint, reqTimeout=10)
            cred = credential.Credential(s.sms_secret_id, s.sms_secret_key)
            client = self._local.client = sms_client.SmsClient(cred, s.sms_region, ClientProfile(httpProfile=http))
        return client

    def send(self, phone: str, params: list[str]) -> SmsResult:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
        from tencentcloud.sms.v20210111 import models

        s = self.settings
        req = models.SendSmsRequest()
        req.PhoneNumberSet = [f"+86{phone}"]
        req.SmsSdkAppId, req.SignName, req.TemplateId = s.sms_sdk_app_id, s.sms_sign_name, s.sms_template_id
        req.TemplateParamSet = list(params)
        try:
            resp = self._client().SendSms(req)
        except TencentCloudSDKException as e:  # the whole request refused (rate limit, auth, network)
            return SmsResult(e.get_code() or "InternalError", e.get_message() or "")
        status = (resp.SendStatusSet or [None])[0]
        if status is None:
            return SmsResult("InternalError", "no send status in the answer")
        return SmsResult(status.Code or "InternalError", status.Message or "", status.SerialNo)
