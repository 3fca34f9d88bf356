"""Configuration from the environment or a `.env` file (pydantic-settings).

Every subsystem reads its settings from here; add fields rather than reading os.environ.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB = Path("var") / "yibao.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    # Telegram
    bot_token: str | None = Field(default=None, description="Bot API token from @BotFather")
    telegram_api_base: str | None = Field(
        default=None, description="Base URL of a Bot API server; the bot calls {base}/bot{token}/{method}"
    )
    webhook_host: str = "127.0.0.1"
    webhook_port: int = Field(default=8080, ge=1, le=65535)
    webhook_path: str = "/webhook"
    webhook_secret: str | None = None

    # Storage
    database_url: str = Field(default=f"sqlite:///{DEFAULT_DB}")
    redis_url: str | None = None

    # Time: read through bot.clock, kept here so `.env` can pin it too
    yibao_today: str | None = None

    # Optional county enrollment service answering status lookups over HTTP
    status_api_url: str | None = None
    status_api_timeout: float = 3.0

    # Resident protections
    lookup_limit: int = 5
    lookup_window_seconds: int = 600

    # Broadcasts (scheduler outbox)
    quiet_hours_start: str = "21:00"
    quiet_hours_end: str = "08:00"
    send_rate_per_second: float = 25.0
    allow_paid_broadcast: bool = False
    paid_broadcast_rate_per_second: float = 1000.0

    log_level: str = "INFO"

    # Where staff reports (XLSX lists, PNG charts) are written before they are sent
    reports_dir: Path = Path("var") / "reports"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
