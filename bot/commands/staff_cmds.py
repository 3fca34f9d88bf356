"""`yibao staff ...`: invite codes for staff and the list of bound posts (run by the county admin)."""

from __future__ import annotations

import typer

staff_app = typer.Typer(help="工作人员：邀请码与绑定名单 (staff invites and posts)", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(2)


def _locality_for_area(session, name: str, level: str | None) -> str:  # noqa: ANN001
    """The locality owning a uniquely named area (a village name alone usually identifies it)."""
    from bot.policy import all_packs
    from bot.registry import access

    hits: list[str] = []
    for pack in all_packs():
        try:
            access.find_area(session, pack.locality.id, name, level=level)
            hits.append(pack.locality.id)
        except access.AccessError:
            continue
    if len(hits) != 1:
        _fail(f"无法确定“{name}”属于哪个地区，请加 --locality。" if hits else f"没有找到“{name}”。")
    return hits[0]


@staff_app.command("invite")
def invite(
    role: str = typer.Option(..., "--role", help="county-admin | town-official | cadre"),
    locality: str | None = typer.Option(None, "--locality", help="地区 id，例如 wuhe"),
    town: str | None = typer.Option(None, "--town", help="乡镇（街道）名称，乡镇干部必填"),
    village: str | None = typer.Option(None, "--village", help="村（社区）名称，村干部必填"),
) -> None:
    """Create a one-time invite code (valid 7 days); the staff member sends /bind CODE to the bot."""
    from bot.registry import access
    from bot.registry.db import session_scope

    try:
        role_code = access.normalize_role(role)
    except access.AccessError as e:
        _fail(e.message_zh)
    from bot.commands.common import require_locality

    if locality:
        locality = require_locality(locality)
    place = village or town
    if role_code != access.COUNTY_ADMIN and not place:
        _fail("乡镇干部请加 --town 名称，村干部请加 --village 名称。")
    if role_code == access.COUNTY_ADMIN and not locality:
        _fail("县级管理员请加 --locality，例如 --locality wuhe。")
    with session_scope() as session:
        level = access.ROLE_LEVEL.get(role_code)
        loc = locality or _locality_for_area(session, place or "", level)
        try:
            area_id = None
            if role_code != access.COUNTY_ADMIN:
                area_id = access.find_area(session, loc, place or "", level=level).id
            code = access.create_invite(session, role_code, loc, area_id)
        except access.AccessError as e:
            _fail(e.message_zh)
        typer.echo(f"邀请码 {code.code}  （{access.ROLE_ZH[role_code]}，{loc}{' ' + place if place else ''}，7天内有效）")
        typer.echo(f"请对方在机器人中发送：/bind {code.code}")


@staff_app.command("list")
def list_staff(locality: str | None = typer.Option(None, "--locality")) -> None:
    """List bound staff posts (Telegram user ids are shown; names are not stored)."""
    from sqlmodel import select

    from bot.commands.common import require_locality
    from bot.registry import access
    from bot.registry.db import session_scope
    from bot.registry.models import Area, Staff

    if locality:
        locality = require_locality(locality)
    with session_scope() as session:
        q = select(Staff)
        if locality:
            q = q.where(Staff.locality_id == locality)
        names = {a.id: a.name for a in session.exec(select(Area))}
        rows = list(session.exec(q))
        if not rows:
            typer.echo("暂无绑定的工作人员。")
        for s in rows:
            typer.echo(f"{s.user_id}\t{access.ROLE_ZH[s.role]}\t{s.locality_id}\t{names.get(s.area_id, '全辖区')}")


def register(root: typer.Typer) -> None:
    root.add_typer(staff_app, name="staff")
