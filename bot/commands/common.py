"""Helpers shared by the CLI modules: one clear line and exit code 2 for bad input."""

from __future__ import annotations

from typing import NoReturn

import typer


def fail(message: str, code: int = 2) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(code)


def require_locality(locality: str) -> str:
    """The pack's locality id for an id, Chinese name or alias; exits 2 with the choices otherwise."""
    from bot.policy import all_packs, get_pack

    pack = get_pack(locality)
    if pack is None:
        known = "、".join(sorted({p.locality.id for p in all_packs()}))
        fail(f"没有“{locality}”这个地区的政策资料。可选：{known}（yibao policy list 查看）")
    return pack.locality.id
