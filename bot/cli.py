"""`yibao` command line: one root typer app; each subsystem registers its commands.

Subsystem modules live in `bot/commands/` and expose `register(root)`, so the root stays small
and imports stay lazy enough that `yibao policy ...` does not import aiogram.
"""

from __future__ import annotations

import typer

from bot.commands import bot_cmds, import_cmds, policy_cmds, registry_cmds, staff_cmds

app = typer.Typer(
    name="yibao",
    help="yibao-bot: 城乡居民医保征缴助手 (policy engine, registry, Telegram bot, reminders).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)



@app.command("version")
def version() -> None:
    """Print the version."""
    from importlib.metadata import version as _v

    typer.echo(_v("yibao-bot"))


for module in (policy_cmds, registry_cmds, import_cmds, bot_cmds, staff_cmds):
    module.register(app)
__import__("bot.commands.scheduler_cmds", fromlist=["register"]).register(app)  # scheduler, campaign, outbox
__import__("bot.commands.channel_cmds", fromlist=["register"]).register(app)  # wechat, fake-wechat, fake-sms


if __name__ == "__main__":
    app()
