"""WeChat's XML messages: the callbacks we receive and the passive replies we answer with.

Only the flat `<xml><Field>value</Field>...</xml>` shape WeChat uses is read; a document declaring a
DOCTYPE or entities is refused before parsing (no entity expansion from untrusted input).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

MAX_BODY = 64 * 1024  # WeChat's messages are a few hundred bytes


class BadMessage(ValueError):
    """Not a WeChat message we can read."""


@dataclass(frozen=True)
class Inbound:
    """One callback: a message or an event from a user (FromUserName is their openid)."""

    to_user: str  # our account's original id (gh_...)
    from_user: str  # the user's openid
    create_time: int
    msg_type: str  # text | voice | image | event | ...
    content: str | None = None  # text messages
    msg_id: str | None = None
    event: str | None = None  # subscribe | unsubscribe | CLICK | VIEW | ...
    event_key: str | None = None
    recognition: str | None = None  # voice messages, when speech recognition is on

    @property
    def dedupe_key(self) -> str:
        """WeChat retries a callback it got no answer to; MsgId (events: user + time) names it."""
        return self.msg_id or f"{self.from_user}:{self.create_time}:{self.event or ''}"


def parse_fields(body: bytes | str) -> dict[str, str]:
    """The flat fields of a WeChat XML document."""
    raw = body.encode() if isinstance(body, str) else body
    if len(raw) > MAX_BODY:
        raise BadMessage("message too large")
    upper = raw.upper()
    if b"<!DOCTYPE" in upper or b"<!ENTITY" in upper:
        raise BadMessage("DOCTYPE and entities are not accepted")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as e:
        raise BadMessage(f"not XML: {e}") from e
    if root.tag != "xml":
        raise BadMessage("root element is not <xml>")
    return {child.tag: (child.text or "").strip() for child in root}


def inbound(fields: dict[str, str]) -> Inbound:
    try:
        create_time = int(fields.get("CreateTime") or 0)
    except ValueError as e:
        raise BadMessage("CreateTime is not a number") from e
    if not fields.get("FromUserName") or not fields.get("MsgType"):
        raise BadMessage("FromUserName and MsgType are required")
    return Inbound(
        to_user=fields.get("ToUserName", ""), from_user=fields["FromUserName"], create_time=create_time,
        msg_type=fields["MsgType"].lower(), content=fields.get("Content"), msg_id=fields.get("MsgId") or None,
        event=fields.get("Event") or None, event_key=fields.get("EventKey") or None,
        recognition=fields.get("Recognition") or None,
    )


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build(fields: dict[str, str | int]) -> str:
    """A flat XML document; strings as CDATA, numbers bare (as WeChat writes them)."""
    inner = "".join(f"<{k}>{v if isinstance(v, int) else cdata(str(v))}</{k}>" for k, v in fields.items())
    return f"<xml>{inner}</xml>"


def text_reply(to_user: str, from_user: str, content: str, create_time: int) -> str:
    return build({"ToUserName": to_user, "FromUserName": from_user, "CreateTime": create_time,
                  "MsgType": "text", "Content": content})


def encrypted_envelope(encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> str:
    return build({"Encrypt": encrypt, "MsgSignature": msg_signature, "TimeStamp": int(timestamp), "Nonce": nonce})
