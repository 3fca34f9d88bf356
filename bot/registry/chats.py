"""Who a chat is: a channel and an address on it.

Telegram chat ids, WeChat openids and phone numbers all name "a chat": the registry keys profiles,
subscriptions, audit rows and outbox rows by (channel, address). Telegram rows keep their numeric
`chat_id` too (the Bot API needs it), and code written before the channels may still pass a plain
int: `Chat.of(42)` is Telegram chat 42.

    chat = Chat("wechat", "oXyz…")          # or Chat.telegram(42), or Chat.of(42)
    select(ChatLink).where(*chat.match(ChatLink))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

TELEGRAM, WECHAT, SMS = "telegram", "wechat", "sms"
CHANNELS = (TELEGRAM, WECHAT, SMS)
MAX_ADDRESS = 64

# How a resident stops reminders on each channel, as our texts tell them: Telegram has the command;
# on WeChat "退订" is read as the unsubscribe intent (the menu's 取消提醒 sends the command for them);
# an SMS is answered with TD (sms.replies), as the carriers have it.
# (The command keeps a space before the Chinese that follows it, as commands are written.)
_STOP = {TELEGRAM: "发 /unsubscribe ", WECHAT: "回复“退订”", SMS: "回复TD"}


def stop_hint(channel: str | None) -> str:
    """The words that tell a resident how to stop reminders on their channel ("回复“退订”"), to be
    followed by "可取消" or the like."""
    return _STOP.get(channel or TELEGRAM, _STOP[TELEGRAM])


@dataclass(frozen=True)
class Chat:
    channel: str
    address: str

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")
        if not self.address or len(self.address) > MAX_ADDRESS:
            raise ValueError("a chat address is 1-64 characters")
        if self.channel == TELEGRAM and not self.address.lstrip("-").isdigit():
            raise ValueError("a Telegram chat address is its numeric chat id")

    @classmethod
    def telegram(cls, chat_id: int) -> Chat:
        return cls(TELEGRAM, str(int(chat_id)))

    @classmethod
    def of(cls, value: Chat | int | str | None) -> Chat | None:
        """A Chat from a Chat, a Telegram chat id (int, or its digits), or None."""
        if value is None or isinstance(value, Chat):
            return value
        return cls.telegram(int(value))

    @property
    def chat_id(self) -> int | None:
        """The numeric Telegram chat id (None on other channels)."""
        return int(self.address) if self.channel == TELEGRAM else None

    @property
    def key(self) -> str:
        """A short unique text for outbox keys: the bare chat id on Telegram (the keys it always had)."""
        return self.address if self.channel == TELEGRAM else f"{self.channel}:{self.address}"

    def columns(self) -> dict[str, Any]:
        """Values for a row keyed by this chat."""
        return {"channel": self.channel, "address": self.address, "chat_id": self.chat_id}

    def match(self, model: Any) -> tuple[Any, ...]:
        """WHERE clauses selecting this chat's rows of a table with channel and address columns."""
        return (model.channel == self.channel, model.address == self.address)

    def masked(self) -> str:
        """For logs: a phone is personal data (last four digits only); openids are shortened."""
        if self.channel == SMS:
            return f"sms:***{self.address[-4:]}"
        if self.channel == WECHAT:
            return f"wechat:{self.address[:6]}…"
        return f"telegram:{self.address}"
