"""Registry CLI: `yibao demo-data` (generated registry) and `yibao status ID NAME` (enrollment status).

Both open the database through `bot.registry.db.open_db`, which creates or migrates the schema on
first use. Status output masks the ID number; demo-data prints a few full generated numbers (test
data, not personal data) so that `yibao status` can be tried at once.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer


def _category_names(locality_id: str | None, codes: tuple[str, ...]) -> list[str]:
    from bot.policy import get_pack, vocabulary

    names = []
    pack = get_pack(locality_id) if locality_id else None
    vocab = vocabulary()
    for code in codes:
        cat = pack.category(code) if pack is not None else None
        names.append(cat.name_zh if cat is not None else (vocab[code].name_zh if code in vocab else code))
    return names


def register(root: typer.Typer) -> None:
    """Attach this subsystem's commands to the root app."""

    @root.command("demo-data")
    def demo_data(
        locality: str = typer.Option(..., "--locality", "-l", help="地区 id，例如 wuhe、tengzhou"),
        scale: float = typer.Option(1.0, "--scale", help="规模：1.0 = 按任务表人数全量，0.01 = 1%"),
        seed: int = typer.Option(0, "--seed", help="随机种子（同一种子生成相同数据）"),
        out: str | None = typer.Option(None, "--out", help="同时把花名册和缴费清册写成 CSV 到此目录"),
    ) -> None:
        """Generate a realistic registry for a locality (generated test data, not real people)."""
        from bot.registry import db
        from bot.registry.demo import DemoError, generate

        engine = db.open_db()
        try:
            with db.session_scope(engine) as session:
                summary = generate(session, locality, scale=scale, seed=seed, out_dir=Path(out) if out else None)
        except DemoError as err:
            typer.echo(err.message_zh, err=True)
            raise typer.Exit(2) from None
        typer.echo(
            f"已生成 {locality} {summary.coverage_year} 年度演示数据：{summary.persons} 人，{summary.households} 户，"
            f"{summary.payments} 笔缴费，{summary.categories} 人有资助类别，新建村（社区）{summary.villages_created} 个，"
            f"用时 {summary.seconds:.1f} 秒。"
        )
        for path in summary.files:
            typer.echo(f"已写出：{path}")
        typer.echo("以下为程序生成的测试身份证号（不是真实个人信息），可用来试查询：")
        for number, name, paid in summary.samples:
            typer.echo(f"  yibao status {number} {name}    # {'已缴费' if paid else '未缴费'}")

    @root.command("status")
    def status_cmd(
        id_number: str = typer.Argument(..., help="身份证号（18 位，或 15 位旧号码）"),
        name: str = typer.Argument(..., help="姓名"),
        year: int | None = typer.Option(None, "--year", help="参保年度（默认为当前征缴年度）"),
        as_json: bool = typer.Option(False, "--json", help="输出 JSON"),
    ) -> None:
        """Enrollment status by ID number and name (the ID is shown masked)."""
        from bot.registry import audit, db, ids
        from bot.registry.history import continuity_zh
        from bot.registry.status_service import ServiceUnavailable, check_status

        check = ids.validate(id_number)
        if not check.ok:
            typer.echo(f"身份证号有误（{ids.mask(id_number)}）：{check.reason_zh}", err=True)
            raise typer.Exit(2)
        if check.note_zh and not as_json:
            typer.echo(check.note_zh)
        try:
            result = check_status(check.number, name, year)
        except ServiceUnavailable as err:
            with db.session_scope() as session:
                audit.record(session, chat_id=None, actor="cli", action="status", id_number=check.number,
                             outcome="unavailable")
            typer.echo(err.message_zh, err=True)
            raise typer.Exit(3) from None
        with db.session_scope() as session:
            audit.record(session, chat_id=None, actor="cli", action="status", id_number=check.number,
                         outcome="found" if result.found else "not_found")
        if as_json:
            typer.echo(json.dumps(result.to_json(), ensure_ascii=False))
            raise typer.Exit(0 if result.found else 1)
        if not result.found:
            typer.echo(f"未查到身份证号 {result.masked_id} 与该姓名对应的参保登记。"
                       "请核对身份证号和姓名；如确已缴费，请联系所在村（社区）或乡镇医保经办人员。")
            raise typer.Exit(1)
        lines = [f"身份证号：{result.masked_id}", f"姓名：{result.name}"]
        if result.enrolled:
            paid = f"缴费日期 {result.paid_on.isoformat()}" if result.paid_on else ""
            amount = f"，个人缴费 {result.amount} 元" if result.amount is not None else ""
            lines.append(f"{result.year} 年度：已参保缴费（{paid}{amount}）")
        else:
            lines.append(f"{result.year} 年度：未查到缴费记录")
        if result.categories:
            lines.append("资助类别：" + "、".join(_category_names(result.locality_id, result.categories)))
        if result.migrant:
            lines.append("外出务工：是")
        if result.benefit_start:
            lines.append(f"待遇享受开始：{result.benefit_start.isoformat()}")
        lines += continuity_zh(result)
        typer.echo("\n".join(lines))

    history_app = typer.Typer(name="history", help="参保历史：导入医保系统导出的历年参保记录。", no_args_is_help=True)
    root.add_typer(history_app, name="history")

    @history_app.command("import")
    def history_import(
        file: Annotated[Path, typer.Argument(help="历年参保记录（CSV 或 XLSX）：身份证号、参保年度，可选 姓名、是否参保、险种、当年报销")],
    ) -> None:
        """Import enrolment history by year (years before the registry's payments, employee-scheme years)."""
        from bot.registry.history import import_history
        from bot.registry.importers.readers import ImportFileError

        try:
            report = import_history(file)
        except ImportFileError as err:
            typer.echo(err.message_zh, err=True)
            raise typer.Exit(2) from None
        text = (f"参保历史导入完成：共 {report.rows} 行，新增 {report.inserted}，更新 {report.updated}，"
                f"未变 {report.unchanged}，有问题 {report.bad}。")
        if report.errors_path:
            text += f"有问题的行及原因见：{report.errors_path}"
        typer.echo(text)
        if report.bad:
            raise typer.Exit(1)
