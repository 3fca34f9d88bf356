"""In-repo fake Telegram Bot API server for end-to-end tests and benchmarks.

    api = FakeBotAPI(rate_limit=30)
    base = await api.start()            # give the bot TELEGRAM_API_BASE=base
    api.push_text(42, "五河县低保户交多少钱")
    [reply] = await api.wait_messages(42)

Over HTTP (for tests driving another process): POST /_fake/update, GET /_fake/sent,
POST /_fake/block, /_fake/fail_next, /_fake/config, /_fake/webhooks, /_fake/reset, GET /_fake/stats.
`FakeAPIClient` wraps them.
"""

from bot.fakeapi.client import FakeAPIClient
from bot.fakeapi.ratelimit import TokenBucket
from bot.fakeapi.server import SENDING_METHODS, FakeBotAPI, SentCall, StoredFile

__all__ = ["FakeAPIClient", "FakeBotAPI", "SENDING_METHODS", "SentCall", "StoredFile", "TokenBucket"]
