"""`yibao import roster|payments`: load the offices' files into the registry (docs/import-formats.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

import_app = typer.Typer(help="导入花名册或缴费记录（CSV 或 XLSX）。", no_args_is_help=True)


@contextmanager
def _progress_bar(path: Path, quiet: bool) -> Iterator[Callable[[int, int | None, int], None] | None]:
    """On a terminal: a bar with rows read, rows/s and the time left (from the share of the file
    read). Elsewhere (a log, a pipe, cron): nothing while it runs; the summary line says it all."""
    from rich.console import Console

    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield None
        return
    import time

    from rich.progress import (
        BarColumn,
        Progress,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TaskProgressColumn(),
        TextColumn("{task.fields[rows]:,} 行"), TextColumn("{task.fields[rate]:,.0f} 行/秒"),
        TimeElapsedColumn(), TextColumn("剩余"), TimeRemainingColumn(), console=console, transient=False,
    )
    started = time.perf_counter()
    with bar:
        task = bar.add_task(path.name, total=None, rows=0, rate=0.0)

        def update(done: int, total: int | None, rows: int) -> None:
            rate = rows / max(time.perf_counter() - started, 1e-6)
            bar.update(task, completed=done, total=total, rows=rows, rate=rate)

        yield update


def _run(kind: str, path: Path, quiet: bool, call: Callable[..., object]) -> None:
    from bot.registry.importers import ImportFileError

    try:
        with _progress_bar(path, quiet) as progress:
            report = call(progress=progress)
    except ImportFileError as exc:
        typer.secho(f"导入失败：{exc.message_zh}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        typer.secho("已中断：本文件的导入已全部撤销，数据库保持导入前的状态。", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(130) from None
    typer.echo(report.summary_zh())  # type: ignore[attr-defined]
    if report.bad:  # type: ignore[attr-defined]
        raise typer.Exit(1)


@import_app.command("roster")
def roster(
    file: Annotated[Path, typer.Argument(help="花名册文件（.csv 或 .xlsx）")],
    locality: Annotated[str, typer.Option("--locality", "-l", help="地区，如 wuhe、tengzhou 或 五河县")],
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="不显示进度条")] = False,
) -> None:
    """导入花名册（身份证号、姓名、户号、乡镇、村（社区）…）。同一文件重复导入不会重复记录。"""
    from bot.registry.importers import import_roster

    _run("roster", file, quiet, lambda progress: import_roster(file, locality, progress=progress))


@import_app.command("payments")
def payments(
    file: Annotated[Path, typer.Argument(help="缴费记录文件（.csv 或 .xlsx）")],
    year: Annotated[int, typer.Option("--year", "-y", help="参保年度，如 2024")],
    locality: Annotated[str | None, typer.Option("--locality", "-l", help="只接受该地区花名册中的人")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="不显示进度条")] = False,
) -> None:
    """导入缴费记录（身份证号、姓名、缴费日期、缴费金额、缴费渠道）。金额按政策核对。"""
    from bot.registry.importers import import_payments

    _run("payments", file, quiet,
         lambda progress: import_payments(file, year, locality=locality, progress=progress))


def register(root: typer.Typer) -> None:
    root.add_typer(import_app, name="import")
