"""`yibao run`, `yibao webhook`, `yibao chat` and `yibao fake-api`: the Telegram bot's commands."""

from __future__ import annotations

import asyncio
import contextlib

import typer


def fake_api(
    port: int = typer.Option(8081, "--port", help="TCP port on 127.0.0.1 (0 = any free port)"),
    host: str = typer.Option("127.0.0.1", "--host"),
    rate_limit: float | None = typer.Option(None, "--rate-limit", help="global messages per second; 429 above"),
    per_chat_limit: float | None = typer.Option(None, "--per-chat-limit", help="messages per second per chat"),
) -> None:
    """Run the in-repo fake Telegram Bot API (for tests, demos and benchmarks)."""
    from bot.fakeapi import FakeBotAPI

    async def serve() -> None:
        api = FakeBotAPI(rate_limit=rate_limit, per_chat_limit=per_chat_limit)
        base = await api.start(port=port, host=host)
        typer.echo(f"fake Bot API at {base} (TELEGRAM_API_BASE={base}); controls under {base}/_fake/", err=True)
        try:
            await asyncio.Event().wait()
        finally:
            await api.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())


def register(root: typer.Typer) -> None:
    """Attach this subsystem's commands to the root app."""
    root.command("fake-api")(fake_api)
