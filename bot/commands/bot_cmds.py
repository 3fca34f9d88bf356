"""`yibao run`, `yibao webhook`, `yibao chat` and `yibao fake-api`: the Telegram bot's commands."""

from __future__ import annotations

import asyncio
import contextlib

import typer

from bot.commands.common import bind_error, serve_fake


def _settings_or_exit():  # noqa: ANN202
    from pydantic import ValidationError

    from bot.commands.common import fail
    from bot.logs import setup_logging
    from bot.settings import get_settings

    try:
        settings = get_settings()
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])).upper()}: {err['msg']}" for err in e.errors())
        fail(f"配置有误（环境变量或 .env）：{problems}")
    setup_logging(settings.log_level)
    return settings


def _token_or_exit(settings) -> None:  # noqa: ANN001
    """Check BOT_TOKEN before touching the network or the database: one clear line, exit code 2."""
    from bot.app import TokenError, check_token

    try:
        check_token(settings.bot_token)
    except TokenError as e:
        typer.echo(e.message, err=True)
        raise typer.Exit(2) from None


def _webhook_secret_or_exit(settings) -> None:  # noqa: ANN001
    """A webhook without a secret accepts forged updates: refuse to start, with one clear line."""
    from bot.app import WebhookSecretError, check_webhook_secret

    try:
        check_webhook_secret(settings.webhook_secret)
    except WebhookSecretError as e:
        typer.echo(e.message, err=True)
        raise typer.Exit(2) from None


def run(
    no_scheduler: bool = typer.Option(False, "--no-scheduler", help="不在本进程运行提醒调度（另用 yibao scheduler）"),
) -> None:
    """Run the bot with long polling (one process: SQLite, in-memory FSM, in-process scheduler)."""
    from bot.app import run_polling

    settings = _settings_or_exit()
    _token_or_exit(settings)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_polling(settings, with_scheduler=not no_scheduler))


def webhook(
    host: str | None = typer.Option(None, "--host", help="listen address (default WEBHOOK_HOST)"),
    port: int | None = typer.Option(None, "--port", min=1, max=65535, help="listen port (default WEBHOOK_PORT)"),
    path: str | None = typer.Option(None, "--path", help="URL path (default WEBHOOK_PATH)"),
    set_webhook: str | None = typer.Option(
        None, "--set-webhook", help="public HTTPS URL to register with Telegram (only one process should)"
    ),
) -> None:
    """Serve the bot over a webhook (aiohttp); with REDIS_URL several processes share FSM state."""
    from bot.app import run_webhook

    settings = _settings_or_exit()
    updates = {k: v for k, v in (("webhook_host", host), ("webhook_port", port), ("webhook_path", path)) if v}
    if updates:
        settings = settings.model_copy(update=updates)
    _token_or_exit(settings)
    _webhook_secret_or_exit(settings)
    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(run_webhook(settings, set_webhook_url=set_webhook))
        except OSError as e:
            bind_error(e, settings.webhook_port)


def chat(
    locality: str | None = typer.Option(None, "--locality", help="预设地区，例如 wuhe、taoyuan、tengzhou、tanghe"),
    staff: str | None = typer.Option(
        None, "--staff", help="以工作人员身份试用：county-admin | town-official | village-cadre"
    ),
    area: str | None = typer.Option(None, "--area", help="工作人员所在乡镇或村的名称（默认取第一个）"),
    user_id: int = typer.Option(10001, "--user-id", help="终端用户的聊天 id"),
    channel: str = typer.Option("telegram", "--channel", help="按哪个渠道显示：telegram（按钮）| wechat（公众号：数字选项）"),
) -> None:
    """Talk to the bot in this terminal (no token needed); demo data is generated on first use."""
    import logging

    from bot.commands.common import fail, require_locality
    from bot.terminal import TerminalError, run_terminal

    if channel not in ("telegram", "wechat"):
        fail(f"不支持的渠道“{channel}”。可选：telegram、wechat")
    if locality:
        locality = require_locality(locality)
    if channel == "wechat":
        if staff:
            fail("工作人员功能只在 Telegram 渠道提供；试用公众号请去掉 --staff。")
        _chat_wechat(locality)
        return
    if staff:
        from bot.commands.common import fail
        from bot.registry.access import AccessError, normalize_role

        try:
            normalize_role(staff)  # refuse bad staff options before any demo data is generated
        except AccessError as e:
            fail(e.message_zh)
        if not locality:
            fail("以工作人员身份试用时请同时指定 --locality，例如 --staff county-admin --locality wuhe")
    settings = _settings_or_exit()
    if settings.log_level.upper() not in ("DEBUG",):
        # The terminal is the conversation: keep routine log lines (migrations, update timings) out of it.
        logging.getLogger().setLevel(logging.WARNING)
    try:
        asyncio.run(run_terminal(settings, locality=locality, staff_role=staff, area=area, user_id=user_id))
    except TerminalError as e:
        typer.echo(e.message, err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


def _chat_wechat(locality: str | None) -> None:
    import logging

    from wechat.terminal import run_terminal

    settings = _settings_or_exit()
    if settings.log_level.upper() not in ("DEBUG",):
        logging.getLogger().setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_terminal(settings, locality=locality))


def fake_api(
    port: int = typer.Option(8081, "--port", min=0, max=65535, help="TCP port on 127.0.0.1 (0 = any free port)"),
    host: str = typer.Option("127.0.0.1", "--host"),
    rate_limit: float | None = typer.Option(None, "--rate-limit", help="global messages per second; 429 above"),
    per_chat_limit: float | None = typer.Option(None, "--per-chat-limit", help="messages per second per chat"),
) -> None:
    """Run the in-repo fake Telegram Bot API (for tests, demos and benchmarks)."""
    from bot.fakeapi import FakeBotAPI

    serve_fake(lambda: FakeBotAPI(rate_limit=rate_limit, per_chat_limit=per_chat_limit), port, host,
               lambda base: f"fake Bot API at {base} (TELEGRAM_API_BASE={base}); controls under {base}/_fake/")


def register(root: typer.Typer) -> None:
    """Attach this subsystem's commands to the root app."""
    root.command("run")(run)
    root.command("webhook")(webhook)
    root.command("chat")(chat)
    root.command("fake-api")(fake_api)
