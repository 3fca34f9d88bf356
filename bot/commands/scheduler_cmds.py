"""`yibao scheduler`, `yibao campaign ...` and `yibao outbox send`: reminder campaigns and their sender."""

from __future__ import annotations

import asyncio
import contextlib

import typer

campaign_app = typer.Typer(help="提醒活动：查看、暂停、恢复 (reminder campaigns)", no_args_is_help=True)
outbox_app = typer.Typer(help="发件箱：发送排队的消息 (outbox sender)", no_args_is_help=True)


def _setup_logging() -> None:
    from bot.logs import setup_logging
    from bot.settings import get_settings

    setup_logging(get_settings().log_level)


def run_scheduler(sender: bool = typer.Option(True, "--sender/--no-sender", help="同时运行发件箱发送")) -> None:
    """Run the scheduler (jobs + outbox sender) as its own process; exits 2 if one already runs."""
    from bot.settings import get_settings
    from scheduler.service import EmbeddedScheduler, SchedulerLocked

    _setup_logging()

    async def main() -> None:
        service = EmbeddedScheduler(get_settings(), with_sender=sender)
        await service.start(raise_if_locked=True)
        try:
            if service.sender is not None:
                await service.wait()
            else:
                await asyncio.Event().wait()
        finally:
            await service.shutdown()

    try:
        asyncio.run(main())
    except SchedulerLocked as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


@outbox_app.command("send")
def outbox_send(
    until_empty: bool = typer.Option(False, "--until-empty", help="发完即退出"),
    rate: float | None = typer.Option(None, "--rate", help="每秒条数（默认取配置）"),
    lease_seconds: float = typer.Option(30.0, "--lease-seconds", help="“发送中”超过此秒数视为中断，重新发送"),
) -> None:
    """Run only the outbox sender (several may run against PostgreSQL)."""
    from bot.registry.db import open_db
    from bot.settings import get_settings
    from scheduler.sender import OutboxSender, make_bot

    _setup_logging()
    settings = get_settings()

    async def main() -> None:
        bot = make_bot(settings)
        try:
            sender = OutboxSender(open_db(settings), bot, settings=settings, rate=rate, lease_seconds=lease_seconds)
            await sender.run(until_empty=until_empty)
        finally:
            await bot.session.close()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())


@campaign_app.command("list")
def campaign_list(locality: str | None = typer.Option(None, "--locality", help="地区 id，例如 wuhe")) -> None:
    """List campaigns (planning them first from the policy packs)."""
    from bot.commands.common import require_locality
    from bot.policy import all_packs

    if locality:
        locality = require_locality(locality)
    from bot.registry.db import read_scope, session_scope
    from scheduler import campaigns

    # Planning writes (a short write scope, committed before anything is shown); listing only reads.
    with session_scope() as session:
        for loc in sorted({p.locality.id for p in all_packs()} if not locality else {locality}):
            campaigns.plan(session, loc)
    with read_scope() as session:
        rows = campaigns.campaigns_of(session, locality)
    if not rows:
        typer.echo("暂无提醒活动。" + (f"（没有“{locality}”的政策包）" if locality else ""))
    for c in rows:
        typer.echo(f"{c.id}\t{c.locality_id}\t{c.coverage_year}\t{c.kind}\t{c.offset_label}\t{c.send_on}"
                   f"\t{c.status}\t{'已生成' if c.built_at else '未生成'}\t{c.recipients}")


def _get(session, campaign_id: int):  # noqa: ANN001, ANN202
    from scheduler.models import Campaign

    c = session.get(Campaign, campaign_id)
    if c is None:
        typer.echo(f"没有编号为 {campaign_id} 的提醒活动。请先用 yibao campaign list 查看编号。", err=True)
        raise typer.Exit(2)
    return c


@campaign_app.command("show")
def campaign_show(campaign_id: int = typer.Argument(..., help="活动编号")) -> None:
    """One campaign and its outbox counts (sent / pending / failed / skipped)."""
    from bot.registry.db import read_scope
    from scheduler import outbox

    with read_scope() as session:
        c = _get(session, campaign_id)
        n = outbox.counts(session, c.id)
        typer.echo(f"活动 {c.id}：{c.locality_id} {c.coverage_year}年度 {c.kind} {c.offset_label}")
        typer.echo(f"发送日期 {c.send_on}，截止 {c.deadline or '按新生儿各自计算'}，状态 {c.status}")
        typer.echo(f"生成时间 {c.built_at or '未生成'}（UTC），提醒 {c.recipients} 条，已全部缴费未提醒 {c.excluded_paid} 户")
        typer.echo(f"已发送 {n['sent']}，待发送 {n['pending']}，发送中 {n['sending']}，失败 {n['failed']}，"
                   f"跳过 {n['skipped']}")
        if c.note:
            typer.echo(f"备注：{c.note}")


def _set(campaign_id: int, status: str, done_zh: str) -> None:
    from bot.registry.db import session_scope
    from scheduler import campaigns

    with session_scope() as session:
        c = _get(session, campaign_id)
        if c.status == "done" and status == "paused":
            typer.echo(f"活动 {campaign_id} 已结束，无需暂停。")
            return
        campaigns.set_status(session, campaign_id, status)
    typer.echo(f"活动 {campaign_id} 已{done_zh}。")  # only once the change is committed


@campaign_app.command("pause")
def campaign_pause(campaign_id: int = typer.Argument(..., help="活动编号")) -> None:
    """Stop sending a campaign's queued messages until resumed."""
    _set(campaign_id, "paused", "暂停，排队的消息暂不发送")


@campaign_app.command("resume")
def campaign_resume(campaign_id: int = typer.Argument(..., help="活动编号")) -> None:
    """Resume a paused campaign."""
    _set(campaign_id, "active", "恢复")


@campaign_app.command("run")
def campaign_run(locality: str = typer.Argument(..., help="地区 id，例如 wuhe")) -> None:
    """Build today's due waves for a locality now (what the 09:00 job does)."""
    from bot.policy import get_pack
    from bot.registry.db import session_scope
    from scheduler import campaigns

    if get_pack(locality) is None:
        typer.echo(f"没有“{locality}”的政策包。可用：yibao policy list", err=True)
        raise typer.Exit(2)
    with session_scope() as session:
        results = campaigns.run_due(session, locality)
    typer.echo(f"生成 {len(results)} 个提醒批次，排队 {sum(r.queued for r in results)} 条消息。")


def register(root: typer.Typer) -> None:
    root.command("scheduler")(run_scheduler)
    root.add_typer(campaign_app, name="campaign")
    root.add_typer(outbox_app, name="outbox")
