"""`yibao policy ...`: ask the policy engine from the command line, and validate staff-edited packs.

Every command takes --json and then prints exactly one JSON object (the engine answer's to_json()).
Bad input (unknown category, malformed date) prints one clear line and exits with code 2.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from bot.policy.carry import CarryResult

policy_app = typer.Typer(
    name="policy",
    help="政策包与政策引擎：查询缴费金额、截止日期、待遇开始日期，校验政策包文件。",
    no_args_is_help=True,
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object.")]
OnOpt = Annotated[str | None, typer.Option("--on", help="The date asked about (YYYY-MM-DD); default today.")]


def _fail(message: str, as_json: bool, code: int = 2) -> None:
    if as_json:
        typer.echo(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
    else:
        typer.echo(message, err=True)
    raise typer.Exit(code)


def _date(value: str | None, flag: str, as_json: bool) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        _fail(f"{flag} 的日期“{value}”格式不对，请写成 YYYY-MM-DD，例如 2023-11-20。", as_json)
    return None


def _on(value: str | None, as_json: bool) -> dt.date:
    from bot import clock

    return _date(value, "--on", as_json) or clock.today()


def _locality(loc: str, as_json: bool) -> str:
    from bot.policy import get_pack

    if get_pack(loc) is None:
        from bot.policy import all_packs

        known = "、".join(sorted({f"{p.locality.id}({p.locality.name_zh})" for p in all_packs()}))
        _fail(f"没有“{loc}”的政策包。已有：{known}。", as_json)
    return loc


def _categories(words: list[str], loc: str, as_json: bool) -> tuple[str, ...]:
    from bot.policy import resolve_category

    codes = []
    for word in words:
        code = resolve_category(word, loc)
        if code is None:
            _fail(f"不认识的类别“{word}”。可以写代码（如 dibao）、名称或常用说法（如 低保户）。", as_json)
        codes.append(code)
    return tuple(codes)


def _amount_on(loc: str, on: str | None, as_json: bool) -> tuple[dt.date, str | None]:
    """The date for `amount`: --on, else today; when no pack covers today, the newest pack's opening day.

    Amounts do not change within a coverage year, so answering from the newest pack is useful when
    today is outside every pack (e.g. before next year's pack is added) -- but it is said, never silent.
    """
    from bot.policy import get_pack
    from bot.policy.engine.common import opens, select_pack

    day = _on(on, as_json)
    if on is not None or not isinstance(select_pack(loc, day), str):
        return day, None
    pack = get_pack(loc)
    assert pack is not None
    asked = opens(pack)
    note = (
        f"今天（{day.isoformat()}）不在已收录的任何年度内，以下按最新收录的{pack.coverage_year}年度政策回答"
        f"（按 {asked.isoformat()} 计算）。"
    )
    return asked, note


def _emit(answer: Any, as_json: bool, note: str | None = None) -> None:
    if as_json:
        data = answer.to_json()
        if note:
            data["note"] = note
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    data = answer.to_json()
    if note:
        typer.echo(note)
    typer.echo(answer.explanation_zh if answer.ok else f"无法回答：{answer.refusal}")
    skip = {"question", "ok", "refusal", "explanation", "citations", "trace", "locality"}
    for key, value in data.items():
        if key not in skip and value not in (None, [], ""):
            typer.echo(f"  {key}: {json.dumps(value, ensure_ascii=False)}")
    for c in answer.citations:
        typer.echo(f"  依据 {c.document} {c.locator}：{c.quote}")


@policy_app.command("list")
def list_packs(as_json: JsonOpt = False) -> None:
    """List the policy packs (locality, coverage year, document)."""
    from bot.policy import all_packs

    rows = [
        {
            "locality": p.locality.id,
            "name_zh": p.locality.name_zh,
            "level": p.locality.level,
            "division_code": p.locality.division_code,
            "coverage_year": p.coverage_year,
            "document": p.main_document.number.value,
            "issued": p.main_document.issued.value.isoformat(),
        }
        for p in all_packs()
    ]
    if as_json:
        typer.echo(json.dumps({"ok": True, "packs": rows}, ensure_ascii=False))
        return
    for r in rows:
        typer.echo(
            f"{r['locality']:<10} {r['name_zh']:<6} {r['coverage_year']}年度  {r['division_code']}  "
            f"{r['document']}（{r['issued']}）"
        )


@policy_app.command("show")
def show(
    locality: str,
    year: Annotated[int | None, typer.Option("--year", help="Coverage year; default the newest.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Show a locality's pack: identity, money, categories, dates."""
    from bot.policy import get_pack

    pack = get_pack(locality, year)
    if pack is None:
        _fail(f"没有“{locality}”{f'{year}年度' if year else ''}的政策包。", as_json)
    assert pack is not None
    if as_json:
        typer.echo(json.dumps({"ok": True, "pack": pack.model_dump(mode="json")}, ensure_ascii=False))
        return
    loc, fin, d = pack.locality, pack.financing, pack.dates
    doc = pack.main_document
    typer.echo(
        f"{loc.name_zh}（{loc.id}，{loc.province}{loc.city}，区划代码 {loc.division_code}）{pack.coverage_year}年度"
    )
    typer.echo(f"文件：{doc.number.value}《{doc.title.value}》{doc.issued.value}")
    total = fin.total.value if fin.total else f"{fin.government.value + fin.personal.value}（文件未写，推算）"
    typer.echo(f"筹资：总额 {total}，财政 {fin.government.value}，个人 {fin.personal.value}")
    for cat in pack.categories:
        h = cat.help
        amount = h.subsidy.value if h.subsidy else (f"{h.percent}%" if h.percent else "")
        typer.echo(f"  类别 {cat.code:<15} {cat.name_zh}：{h.kind} {amount}（{h.basis.locator}）")
    if pack.age_rules:
        for rule in pack.age_rules.rules:
            typer.echo(f"  年龄 {rule.id:<15} {rule.name_zh}：{rule.help.kind}（{rule.help.basis.locator}）")
    for p in d.periods:
        typer.echo(f"缴费期 {p.label_zh}：{p.start or '未写'} — {p.end}（{p.locator}）")
    typer.echo(f"待遇期：{d.benefit.start} — {d.benefit.end}")
    if d.migrant_extension:
        typer.echo(f"务工人员延至：{d.migrant_extension.end}")
    typer.echo(
        f"任务表：{len(pack.task_table.entries)} 个{'镇街' if pack.task_table.level == 'town' else '村居'}，合计 {pack.task_table.total.value}"
    )
    for item in pack.not_modelled:
        typer.echo(f"未编码 {item.locator}：{item.reason}")


def _person(
    loc: str,
    categories: list[str],
    age: int | None,
    birth_date: str | None,
    migrant: bool,
    newborn_birth: str | None,
    as_json: bool,
    **extra: Any,
) -> Any:
    from bot.policy.engine import Person

    if age is not None and birth_date is not None:
        _fail("--age 和 --birth-date 只能给一个。", as_json)
    if newborn_birth and birth_date:
        _fail("--newborn-birth 和 --birth-date 只能给一个。", as_json)
    birth = _date(
        newborn_birth or birth_date, "--newborn-birth" if newborn_birth else "--birth-date", as_json
    )
    return Person(
        categories=_categories(categories, loc, as_json),
        birth_date=birth,
        age=age,
        migrant=migrant,
        newborn=newborn_birth is not None,
        **extra,
    )


SPECIAL_REASONS = ("new_aid", "veteran", "released", "cross_system", "mental", "aid_break")

CatOpt = Annotated[
    list[str] | None, typer.Option("--category", "-c", help="Category: code, name or synonym.")
]
AgeOpt = Annotated[int | None, typer.Option("--age", min=0, max=150, help="Age in whole years.")]
BirthOpt = Annotated[str | None, typer.Option("--birth-date", help="Birth date YYYY-MM-DD.")]
MigrantOpt = Annotated[bool, typer.Option("--migrant", help="Rural migrant worker back for Spring Festival.")]
NewbornOpt = Annotated[
    str | None, typer.Option("--newborn-birth", help="The person is a newborn born on this date.")
]


@policy_app.command("amount")
def amount_cmd(
    locality: str,
    category: CatOpt = None,
    age: AgeOpt = None,
    birth_date: BirthOpt = None,
    on: OnOpt = None,
    recognised_on: Annotated[
        str | None, typer.Option("--recognised-on", help="Date the category was recognised.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """What the person pays (personal), the total, the subsidy and who pays it."""
    from bot.policy import engine

    loc = _locality(locality, as_json)
    person = _person(
        loc,
        category or [],
        age,
        birth_date,
        False,
        None,
        as_json,
        category_recognised_on=_date(recognised_on, "--recognised-on", as_json),
    )
    day, note = _amount_on(loc, on, as_json)
    if person.birth_date is not None and person.birth_date > day:
        _fail(f"出生日期 {person.birth_date} 晚于所问的日期 {day}，请核对 --birth-date 或 --on。", as_json)
    _emit(engine.amount(loc, person, day), as_json, note)


@policy_app.command("deadline")
def deadline_cmd(
    locality: str,
    migrant: MigrantOpt = False,
    newborn_birth: NewbornOpt = None,
    on: OnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The payment deadline that applies, days left, and what happens if it is missed."""
    from bot.policy import engine

    loc = _locality(locality, as_json)
    person = _person(loc, [], None, None, migrant, newborn_birth, as_json)
    _emit(engine.deadline(loc, person, _on(on, as_json)), as_json)


@policy_app.command("benefit-start")
def benefit_start_cmd(
    locality: str,
    paid: Annotated[str, typer.Option("--paid", help="Payment date YYYY-MM-DD.")],
    migrant: MigrantOpt = False,
    newborn_birth: NewbornOpt = None,
    special: Annotated[
        str | None, typer.Option("--special", help="new_aid|veteran|released|cross_system|mental|aid_break")
    ] = None,
    break_months: Annotated[
        int | None, typer.Option("--break-months", min=0, help="Months coverage lapsed.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """From a payment date, the day benefits start and the rule that set it."""
    from bot.policy import engine

    loc = _locality(locality, as_json)
    paid_on = _date(paid, "--paid", as_json)
    if special is not None and special not in SPECIAL_REASONS:
        _fail(f"不认识的 --special “{special}”。可选：{'、'.join(SPECIAL_REASONS)}", as_json)
    person = _person(
        loc,
        [],
        None,
        None,
        migrant,
        newborn_birth,
        as_json,
        special_late_reason=special,
        coverage_break_months=break_months,
    )
    _emit(engine.benefit_start(loc, person, paid_on), as_json)


@policy_app.command("eligibility")
def eligibility_cmd(
    locality: str,
    nonlocal_hukou: Annotated[
        bool, typer.Option("--nonlocal", help="No local household registration.")
    ] = False,
    residence_permit: Annotated[bool, typer.Option("--residence-permit")] = False,
    student: Annotated[str | None, typer.Option("--student", help="university|vocational|school")] = None,
    employee: Annotated[bool, typer.Option("--employee", help="Covered by employee insurance.")] = False,
    category: CatOpt = None,
    on: OnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """May this person enroll here, under which group, or where instead."""
    from bot.policy import engine

    loc = _locality(locality, as_json)
    if student not in (None, "university", "vocational", "school"):
        _fail("--student 只能是 university、vocational 或 school。", as_json)
    person = _person(
        loc,
        category or [],
        None,
        None,
        False,
        None,
        as_json,
        hukou_local=False if nonlocal_hukou else None,
        residence_permit=residence_permit,
        student=student,
        employee_insured=employee,
    )
    _emit(engine.eligibility(loc, person, _on(on, as_json)), as_json)


@policy_app.command("refund")
def refund_cmd(
    locality: str,
    reason: Annotated[
        str, typer.Option("--reason", help="death|duplicate|employee_insurance|other_city|new_aid")
    ],
    on: OnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Whether a refund is possible on a date for a reason."""
    from bot.policy import engine

    loc = _locality(locality, as_json)
    if reason not in engine.REFUND_REASONS:
        _fail(f"不认识的退费原因 “{reason}”。可选：{'、'.join(engine.REFUND_REASONS)}", as_json)
    person = _person(loc, [], None, None, False, None, as_json)
    _emit(engine.refund(loc, person, _on(on, as_json), reason), as_json)


@policy_app.command("check")
def check(file: Path, as_json: JsonOpt = False) -> None:
    """Validate a pack file: every problem on one line (file: field: problem).

    Sources are looked up next to the file first (a draft from `policy new` sits beside its new
    document), then in bot/policy/sources/.
    """
    from bot.policy.loader import check_pack_file

    errors = check_pack_file(file, sources_dir=file.parent)
    open_items = sum(1 for line in errors if ": review[" in line)
    if as_json:
        typer.echo(json.dumps({"ok": not errors, "file": str(file), "open_review": open_items, "errors": errors},
                              ensure_ascii=False))
    elif errors:
        if open_items:
            typer.echo(f"{file.name} 是未核对完的草稿：还有 {open_items} 项待核对（下面以 review[...] 开头的各行）。"
                       "逐项核对并从 review 中删去后再检查。", err=True)
        for line in errors:
            typer.echo(line, err=True)
    else:
        typer.echo(f"{file.name}: OK")
    if errors:
        raise typer.Exit(1)


def _read_notice(path: Path, as_json: bool) -> str:
    if not path.is_file():
        _fail(f"找不到新文件：{path}。请检查 --source 的路径。", as_json)
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        _fail(f"新文件 {path.name} 不是文本文件（既不是 UTF-8 也不是 GBK）。请另存为 UTF-8 纯文本（.txt）后再试。", as_json)
    if "\x00" in text or sum(not (c.isprintable() or c.isspace()) for c in text) > len(text) // 100:
        _fail(f"新文件 {path.name} 不是文本文件（含有大量控制字符）。请另存为 UTF-8 纯文本（.txt）后再试。", as_json)
    if not text.strip():
        _fail(f"新文件 {path.name} 是空的。请放入通知全文（纯文本）。", as_json)
    return text


def _draft_path(out: Path | None, loc_id: str, year: int, as_json: bool) -> Path:
    from importlib import resources

    name = f"{loc_id}-{year}.yaml"
    if out is None:
        path = Path("var") / "policy-drafts" / name
    else:  # a folder (existing, or any path not ending in .yaml) gets the file name added
        path = out / name if out.is_dir() or out.suffix.lower() not in (".yaml", ".yml") else out
    packs_dir = Path(str(resources.files("bot.policy").joinpath("packs"))).resolve()
    if path.resolve().parent == packs_dir:
        _fail("草稿不能直接写进 bot/policy/packs/：未核对完的草稿会让机器人拒绝启动。"
              "请用 --out 写到别处，policy check 通过后再移进去。", as_json)
    if path.exists():
        from bot.policy.carry.draft import is_untouched_draft

        # A draft nobody has edited yet may be written again; one with a person's work in it may not.
        if not is_untouched_draft(path.read_text("utf-8", errors="replace")):
            _fail(f"{path} 已经存在，而且已经改动过。为免覆盖已经做过的核对，请先移走或删除它，或换一个 --out。", as_json)
    return path


@policy_app.command("new")
def new_cmd(
    locality: str,
    year: Annotated[int, typer.Option("--year", help="Coverage year of the new notice, e.g. 2025.")],
    source: Annotated[Path, typer.Option("--source", help="The new notice as plain text (UTF-8 or GBK).")],
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Draft file or folder (default var/policy-drafts/<locality>-<year>.yaml)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Carry the locality's newest pack forward to a new notice: a draft plus a checklist to resolve."""
    from importlib import resources

    import yaml

    from bot import clock
    from bot.policy import get_pack
    from bot.policy.carry import carry_forward, dump_draft
    from bot.policy.loader import source_text

    pack = get_pack(_locality(locality, as_json))
    assert pack is not None
    loc = pack.locality
    if year <= pack.coverage_year:
        _fail(f"{loc.name_zh}最新的政策包已是{pack.coverage_year}年度；--year 应晚于它，例如 {pack.coverage_year + 1}。",
              as_json)
    if year > pack.coverage_year + 5:
        _fail(f"--year {year} 比最新的{pack.coverage_year}年度晚太多，请核对年度（例如 {pack.coverage_year + 1}）。",
              as_json)
    if source.name == pack.main_document.source:
        _fail(f"新文件与{pack.coverage_year}年度的文件同名（{source.name}），请给新文件另起一个名字。", as_json)
    new_text = _read_notice(source, as_json)
    draft_path = _draft_path(out, loc.id, year, as_json)
    copy_path = draft_path.parent / source.name
    if (copy_path.exists() and copy_path.resolve() != source.resolve()
            and copy_path.read_text("utf-8", errors="replace") != new_text):
        _fail(f"{copy_path} 已存在且内容不同，请把新文件改个名字，或换一个 --out。", as_json)
    raw_file = resources.files("bot.policy").joinpath("packs", f"{loc.id}-{pack.coverage_year}.yaml")
    raw = yaml.safe_load(raw_file.read_text("utf-8"))
    result = carry_forward(raw, source_text(pack.main_document.source), new_text, year=year,
                           source_name=source.name)
    try:
        draft_path.parent.mkdir(parents=True, exist_ok=True)
        if not copy_path.exists():
            copy_path.write_text(new_text, "utf-8")
        draft_path.write_text(dump_draft(result, source_name=source.name, made_on=clock.today()), "utf-8")
    except OSError as err:
        _fail(f"无法写入 {draft_path.parent}：{err.strerror or err}。请换一个 --out。", as_json)
    want = f"{loc.id}-{year}.yaml"
    rename = None if draft_path.name == want else f"移入 bot/policy/packs/ 时请命名为 {want}（policy check 按文件名核对地区和年度）。"
    _report_carry(result, draft_path, copy_path, as_json, rename)


def _report_carry(result: CarryResult, draft: Path, copy: Path, as_json: bool, rename: str | None) -> None:
    from bot.policy.carry import plain

    if as_json:
        data = {
            "ok": True,
            "draft": str(draft),
            **({"note": rename} if rename else {}),
            "source": str(copy),
            "from": result.from_pack,
            "kept": result.kept,
            "changed": [
                {"field": c.field, "old": plain(c.old), "new": plain(c.new), "quote": c.quote,
                 **({"derived_from": c.derived_from} if c.derived_from else {}),
                 **({"note": c.note} if c.note else {})}
                for c in result.changed
            ],
            "missing": [
                {"field": m.field, "old_quote": m.old_quote, **({"hint": m.hint} if m.hint else {})}
                for m in result.missing
            ],
            "review": [
                {"field": r.field, "old": plain(r.old), "note": r.note,
                 **({"suggested": plain(r.suggested)} if r.suggested is not None else {})}
                for r in result.review
            ],
        }
        typer.echo(json.dumps(data, ensure_ascii=False))
        return
    echo = typer.echo
    echo(f"已写出草稿：{draft}（由 {result.from_pack} 结转；新文件已放在 {copy}）")
    echo(f"原样找到：{result.kept} 项引文，值不变。")
    if result.changed:
        echo(f"有变化：{len(result.changed)} 项，已按新文件填入草稿，请逐项核对：")
        for c in result.changed:
            extra = f"（{c.note}）" if c.note else ""
            new = "（删去）" if c.new is None else plain(c.new)
            echo(f"  {c.field}：{plain(c.old)} → {new}{extra}")
    if result.missing:
        echo(f"找不到：{len(result.missing)} 项，新文件中没有同样的句子，草稿里仍是旧值：")
        for m in result.missing:
            hint = f"\n      最接近的句子：{m.hint}" if m.hint else ""
            echo(f"  {m.field}：原句“{m.old_quote}”{hint}")
    if result.review:
        echo(f"需人工核对：{len(result.review)} 项：")
        for r in result.review:
            echo(f"  {r.field}：{r.note}")
    total = len(result.changed) + len(result.missing) + len(result.review)
    echo(f"以上 {total} 项都记在草稿末尾的 review 中。核对一项，删去一项；全部删去后运行：")
    echo(f"  yibao policy check {draft}")
    if rename:
        echo(rename)


@policy_app.command("status")
def status_cmd(
    on: OnOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Each locality, its newest pack, and whether that pack covers the campaign running today."""
    from bot.policy import all_packs
    from bot.policy.freshness import currency

    day = _on(on, as_json)
    newest: dict[str, Any] = {}
    for pack in all_packs():
        newest[pack.locality.id] = pack  # all_packs is sorted by locality then year
    rows = []
    for loc_id, pack in sorted(newest.items()):
        cur = currency(pack, day)
        rows.append({
            "locality": loc_id,
            "name_zh": pack.locality.name_zh,
            "newest_year": pack.coverage_year,
            "document": pack.main_document.number.value,
            "running_year": cur.running_year,
            "covers_now": cur.covers_now,
        })
    if as_json:
        typer.echo(json.dumps({"ok": True, "today": day.isoformat(), "localities": rows}, ensure_ascii=False))
        return
    typer.echo(f"{day.isoformat()} 各地政策包：")
    for r in rows:
        state = ("覆盖当前征缴" if r["covers_now"]
                 else f"⚠ 未覆盖：正在征缴的应是{r['running_year']}年度，请导入新通知（yibao policy new {r['locality']} "
                      f"--year {r['running_year']} --source 新通知.txt）")
        typer.echo(f"  {r['locality']:<10} {r['name_zh']:<6} 最新 {r['newest_year']}年度（{r['document']}）  {state}")


def register(root: typer.Typer) -> None:
    """Attach `yibao policy ...` to the root app."""
    root.add_typer(policy_app, name="policy")
