"""`yibao wechat` (the service account's callback server) and the fakes of WeChat and the SMS provider."""

from __future__ import annotations

import asyncio
import contextlib

import typer


def wechat(
    host: str = typer.Option("127.0.0.1", "--host", help="listen address"),
    port: int = typer.Option(8090, "--port", min=1, max=65535, help="listen port"),
    set_menu: bool = typer.Option(False, "--set-menu", help="先设置公众号自定义菜单（需要 AppID 和 AppSecret）"),
) -> None:
    """Serve the WeChat service account's callback (GET URL check, POST messages) at WECHAT_PATH."""
    from bot.commands.bot_cmds import _settings_or_exit
    from bot.commands.common import bind_error, fail
    from wechat.run import ConfigError, check, serve

    settings = _settings_or_exit()
    try:
        check(settings)
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(serve(settings, host, port, set_menu=set_menu))
    except ConfigError as e:
        fail(e.message)
    except OSError as e:
        bind_error(e, port)


def fake_wechat(
    port: int = typer.Option(8091, "--port", min=0, max=65535),
    host: str = typer.Option("127.0.0.1", "--host"),
    callback: str | None = typer.Option(None, "--callback", help="our callback URL to push user messages to"),
) -> None:
    """Run the fake WeChat platform (API + callback pusher) with WECHAT_TOKEN/APP_ID/APP_SECRET/AES_KEY."""
    from bot.commands.bot_cmds import _settings_or_exit
    from bot.commands.common import fail, serve_fake
    from wechat.fake import FakeWeChat

    settings = _settings_or_exit()
    if not (settings.wechat_token and settings.wechat_app_id):
        fail("假微信平台需要 WECHAT_TOKEN 和 WECHAT_APP_ID（与 yibao wechat 相同的配置）。")

    serve_fake(
        lambda: FakeWeChat(token=settings.wechat_token or "", app_id=settings.wechat_app_id or "",
                           app_secret=settings.wechat_app_secret or "fake-secret", aes_key=settings.wechat_aes_key,
                           callback_url=callback),
        port, host,
        lambda base: f"fake WeChat at {base} (WECHAT_API_BASE={base}); POST {base}/_fake/push {{openid, text}}")


def fake_sms(
    port: int = typer.Option(8092, "--port", min=0, max=65535),
    host: str = typer.Option("127.0.0.1", "--host"),
) -> None:
    """Run the fake SMS provider (Tencent Cloud SendSms); point SMS_ENDPOINT at it with SMS_PROTOCOL=http."""
    from bot.commands.common import serve_fake
    from sms.fake import FakeSms

    serve_fake(FakeSms, port, host,
               lambda endpoint: f"fake SMS provider at http://{endpoint} (SMS_ENDPOINT={endpoint} SMS_PROTOCOL=http)")


def register(root: typer.Typer) -> None:
    root.command("wechat")(wechat)
    root.command("fake-wechat")(fake_wechat)
    root.command("fake-sms")(fake_sms)
