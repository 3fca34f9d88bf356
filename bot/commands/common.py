"""Helpers shared by the CLI modules: one clear line and exit code 2 for bad input."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any, NoReturn

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


def bind_error(e: OSError, port: int | None) -> NoReturn:
    fail(f"无法监听端口 {port}：{e.strerror or e}。请换一个端口（--port）或先停止占用它的程序。")


def serve_fake(make: Callable[[], Any], port: int, host: str, banner: Callable[[str], str]) -> None:
    """Run an in-repo fake server (Bot API, WeChat, SMS) until Ctrl-C: `make()` builds it inside the event
    loop, its `start(port=, host=)` address goes through `banner` to stderr; a busy port is one line."""

    async def serve() -> None:
        server = make()
        address = await server.start(port=port, host=host)
        typer.echo(banner(address), err=True)
        try:
            await asyncio.Event().wait()
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        try:
            asyncio.run(serve())
        except OSError as e:
            bind_error(e, port)
